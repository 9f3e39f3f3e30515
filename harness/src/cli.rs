//! The command line: clap derive, where the doc comments are the help text.

use crate::runner::Selector;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

const EXAMPLES: &str = "\
Examples:
  coldstart run                                    default suite, every runtime available here
  coldstart run --runtime process,wasm:pre --cold 200 --warm 5000 --export-json out.json
  coldstart run --runtime docker:runc-none,docker:crun-none --cold 50 --warm 500
  coldstart run --init-kib 65536 --init-iters 1000000   heavy init: see what it adds to cold
  coldstart run --suite fixtures/suite-default.toml --cold 10   a suite file, one setting overridden
  coldstart runtimes                               what can run on this host, and why not";

/// Measures the real startup overhead of compute models, side by side, on one probe workload.
///
/// A cold start is timed from the request for a new instance until its first
/// invocation's response is received and verified; a warm start is one invocation
/// round trip on a live instance that has already answered. See README.md.
#[derive(Debug, Parser)]
#[command(name = "coldstart", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure cold and warm starts and print a summary
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// List the runtimes this build measures, whether each can run here, and why not
    Runtimes(RuntimesArgs),
    /// Judge the article's claims against a result file, with the run's tables and plots
    #[command(
        after_help = "Examples:\n  coldstart report results.json\n  coldstart report results.json --format html -o report.html"
    )]
    Report(ReportArgs),
    /// Compare two result files group by group; exit code 1 on a flagged regression
    #[command(
        after_help = "Examples:\n  coldstart compare results/latest.json new.json\n  coldstart compare base.json cand.json --threshold 5% --format markdown"
    )]
    Compare(CompareArgs),
    /// The trend of each group's p50/p99 across the result files under a directory
    #[command(
        after_help = "Examples:\n  coldstart history results/\n  coldstart history results/ --format html -o history.html"
    )]
    History(HistoryArgs),
    /// Merge result files: histograms of matching groups are added
    #[command(after_help = "Example:\n  coldstart merge results/2026/*.json -o merged.json")]
    Merge(MergeArgs),
}

/// Output format of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Markdown,
    Html,
}

/// Output format of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    Text,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A result file of `coldstart run` (or `merge`)
    pub results: PathBuf,
    /// text (a terminal table), markdown, or html (one self-contained page with plots)
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write the report here instead of stdout
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Claims to judge (default: the article's, fixtures/claims.toml)
    #[arg(long, value_name = "FILE")]
    pub claims: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    pub baseline: PathBuf,
    pub candidate: PathBuf,
    /// Smallest change of a median that counts (e.g. 10%, 0.5%)
    #[arg(long, default_value = "10%", value_parser = parse_percent, value_name = "PERCENT")]
    pub threshold: f64,
    /// Significance level of the permutation test
    #[arg(long, default_value_t = 0.05, value_name = "P")]
    pub alpha: f64,
    #[arg(long, value_enum, default_value_t = CompareFormat::Text)]
    pub format: CompareFormat,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// A directory of published result files (searched recursively)
    pub dir: PathBuf,
    #[arg(long, value_enum, default_value_t = HistoryFormat::Markdown)]
    pub format: HistoryFormat,
    /// Write it here instead of stdout
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

/// Output format of `history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HistoryFormat {
    Markdown,
    Html,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Result files to merge, oldest first
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where to write the merged file
    #[arg(long, short, value_name = "PATH")]
    pub output: PathBuf,
}

/// "10%" or "10" -> 0.10.
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<f64>() {
        Ok(p) if p >= 0.0 && p.is_finite() => Ok(p / 100.0),
        _ => Err(format!("{text:?} is not a percentage like 10% or 2.5%")),
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Runtimes to measure, comma-separated; `runtime:variant` picks one variant
    /// (e.g. `process,wasm:pre`). Default: every runtime available on this host.
    #[arg(long, short, value_delimiter = ',', value_name = "LIST")]
    pub runtime: Vec<Selector>,

    /// Recorded cold starts per runtime variant [default: 100]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub cold: Option<u64>,

    /// Recorded warm invocations per runtime variant [default: 1000]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub warm: Option<u64>,

    /// Unrecorded cold starts and warm invocations per variant before measuring [default: 3]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub warmup: Option<u64>,

    /// Seed of the shuffled work order (default: random, recorded in the results)
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub seed: Option<u64>,

    /// Memory the probe allocates and touches during init, KiB [default: 4]
    #[arg(long, value_name = "KIB", allow_negative_numbers = true)]
    pub init_kib: Option<u64>,

    /// Hash rounds the probe runs during init [default: 100]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub init_iters: Option<u64>,

    /// Hash rounds per invocation [default: 50]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub invoke_iters: Option<u64>,

    /// Per-sample timeout: a probe that takes longer is a failed sample (e.g. 10s, 500ms) [default: 10s]
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,

    /// Read runtimes, counts and probe parameters from a suite file (TOML); flags win
    #[arg(long, value_name = "FILE")]
    pub suite: Option<PathBuf>,

    /// Write the result JSON here (`-` for stdout); rewritten as the run goes
    #[arg(long, value_name = "PATH")]
    pub export_json: Option<PathBuf>,

    /// Write a markdown report here
    #[arg(long, value_name = "PATH")]
    pub export_markdown: Option<PathBuf>,

    /// Memory limit of each Docker container, MiB [default: 256]
    #[arg(long, value_name = "MIB", allow_negative_numbers = true)]
    pub docker_memory_mib: Option<u64>,

    /// Run Docker containers without the hardening (read-only root filesystem, all
    /// capabilities dropped, no-new-privileges)
    #[arg(long)]
    pub docker_unhardened: bool,

    #[command(flatten)]
    pub probes: ProbesArgs,
}

#[derive(Debug, Args)]
pub struct RuntimesArgs {
    #[command(flatten)]
    pub probes: ProbesArgs,
}

#[derive(Debug, Args)]
pub struct ProbesArgs {
    /// Directory holding the built probes (default: probes/out of this source tree)
    #[arg(long, env = "COLDSTART_PROBES_DIR", value_name = "DIR")]
    pub probes_dir: Option<PathBuf>,
}
