//! The command line: clap derive, where the doc comments are the help text.

use crate::probes::LanguageChoice;
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
  coldstart run --runtime process,lambda:local-emulator   Lambda's Runtime API, locally
  coldstart run --runtime lambda:x86_64-512mb --cold 20 --warm 100   AWS (after `coldstart lambda deploy`)
  coldstart run --runtime process,vm:minimal-tcg,vm:full-tcg   VMs under QEMU (full: scripts/build-vm-image.sh)
  coldstart runtimes                               what can run on this host, and why not

Exit codes:
  0    success: every sample valid (run), no regression flagged (compare)
  1    the run has failed or invalid samples, a failed teardown or an abandoned
       variant (all in the results), or compare flagged a regression
  2    bad input: a flag, a file, a runtime named that cannot run; nothing measured
  3    an internal or environment failure, e.g. the results could not be written
  130  interrupted (Ctrl-C); the results hold what was measured";

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
    Run(Box<RunArgs>),
    /// List the runtimes this build measures, whether each can run here, and why not
    Runtimes(RuntimesArgs),
    /// Judge the article's claims against a result file, with the run's tables and plots
    #[command(
        after_help = "Examples:\n  coldstart report results.json\n  coldstart report results.json --format html -o report.html"
    )]
    Report(ReportArgs),
    /// Compare a baseline with a candidate group by group (each a result file or a
    /// directory of runs); exit code 1 on a flagged regression
    #[command(after_help = compare_help())]
    Compare(CompareArgs),
    /// The trend of each group's p50/p99 across the result files under a directory
    #[command(
        after_help = "Examples:\n  coldstart history results/\n  coldstart history results/ --format html -o history.html"
    )]
    History(HistoryArgs),
    /// Merge result files: histograms of matching groups are added
    #[command(after_help = "Example:\n  coldstart merge results/2026/*.json -o merged.json")]
    Merge(MergeArgs),
    /// Create, update or remove the probe's functions in AWS Lambda
    #[command(subcommand)]
    Lambda(LambdaCommand),
}

#[derive(Debug, Subcommand)]
pub enum LambdaCommand {
    /// Build the zip of the stripped static `bootstrap` and create or update one
    /// function per architecture and memory size (`<prefix>-<arch>-<memory>mb`)
    #[command(
        after_help = "Examples:\n  coldstart lambda deploy --role arn:aws:iam::123456789012:role/coldstart-lambda\n  coldstart lambda deploy --role $ROLE --arch x86_64 --memory 512 --region eu-west-1\n  coldstart lambda deploy --role $ROLE --zip-only coldstart-probe.zip   just write the zip"
    )]
    Deploy(DeployArgs),
    /// Delete the functions `deploy` made (only those it tagged `coldstart=managed`)
    #[command(
        after_help = "Example:\n  coldstart lambda destroy --arch x86_64,arm64 --memory 128,512,1024"
    )]
    Destroy(DestroyArgs),
}

/// The functions `deploy` and `destroy` work on.
#[derive(Debug, Args)]
pub struct FunctionSet {
    /// Architectures, comma-separated: x86_64, arm64
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "x86_64,arm64",
        value_name = "LIST"
    )]
    pub arch: Vec<String>,
    /// Memory sizes in MB, comma-separated
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "128,512,1024",
        value_name = "LIST"
    )]
    pub memory: Vec<i32>,
    #[command(flatten)]
    pub lambda: LambdaArgs,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The execution role the functions run as (an IAM role Lambda can assume)
    #[arg(long, value_name = "ARN", required_unless_present = "zip_only")]
    pub role: Option<String>,
    /// Extra environment variables of the functions (KEY=VALUE, repeatable); the
    /// harness keeps them when it updates the environment to force cold starts
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Function timeout, seconds
    #[arg(long, default_value_t = 30, value_name = "S")]
    pub timeout_s: i32,
    /// Only write the zip(s) here (`<path>` for x86_64, `<path>-arm64.zip` for arm64); no AWS call
    #[arg(long, value_name = "PATH")]
    pub zip_only: Option<PathBuf>,
    #[command(flatten)]
    pub functions: FunctionSet,
    #[command(flatten)]
    pub probes: ProbesArgs,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub functions: FunctionSet,
}

/// Where Lambda is reached; the AWS config chain gives credentials and region.
#[derive(Debug, Clone, Args)]
pub struct LambdaArgs {
    /// Functions are named `<prefix>-<arch>-<memory>mb`
    #[arg(long, default_value = "coldstart-probe", value_name = "PREFIX")]
    pub lambda_prefix: String,
    /// AWS region (default: AWS_REGION or the profile's)
    #[arg(long, value_name = "REGION")]
    pub lambda_region: Option<String>,
    /// Control-plane endpoint (GetFunctionConfiguration, UpdateFunctionConfiguration,
    /// CreateFunction...) [default: the region's]
    #[arg(long, value_name = "URL")]
    pub lambda_endpoint: Option<String>,
    /// Invoke endpoint [default: the region's]
    #[arg(long, value_name = "URL")]
    pub lambda_invoke_endpoint: Option<String>,
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
    /// Machine-readable: each group's ratio, CI, p, corrected p, n and decision
    Json,
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
    /// Unit of the times in the run's tables [default: each time in the unit that suits it]
    #[arg(long, value_enum, value_name = "UNIT")]
    pub time_unit: Option<crate::format::TimeUnit>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// A result file, or a directory of result files (one run each, searched recursively)
    pub baseline: PathBuf,
    /// A result file, or a directory of result files (one run each)
    pub candidate: PathBuf,
    /// Smallest change of a median that counts (e.g. 10%, 0.5%)
    #[arg(long, default_value = "10%", value_parser = parse_percent, value_name = "PERCENT")]
    pub threshold: f64,
    /// Family-wise significance level of the gate (Holm over the gated groups), up to 0.5
    #[arg(long, default_value_t = 0.05, value_name = "P")]
    pub alpha: f64,
    /// Gate on every phase too, not only on the total of each mode
    #[arg(long)]
    pub phases: bool,
    /// Earlier runs (a directory): each group's run-to-run spread, for --gate-single-run
    #[arg(long, value_name = "DIR")]
    pub noise_from: Option<PathBuf>,
    /// Gate a side of fewer than 3 runs on the run-to-run spread of --noise-from (a
    /// prediction bound for a new run; not calibrated, see the README); without it such
    /// groups are advisory (exit 0)
    #[arg(long, requires = "noise_from")]
    pub gate_single_run: bool,
    /// Compare even when the two sides ran different probe workloads (init memory,
    /// init or invocation rounds); without it that is refused (exit 2)
    #[arg(long)]
    pub force: bool,
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
    /// Merge runs of different hosts (CPU, memory, kernel, OS) into one distribution;
    /// without it that is refused (exit 2)
    #[arg(long)]
    pub allow_mixed_hosts: bool,
}

/// `compare --help`'s epilogue: the rule and examples.
fn compare_help() -> String {
    format!(
        "Rule: {}.\n\nExamples:\n  coldstart compare base/ cand/                       \
         five runs a side: sees the variation between runs\n  \
         coldstart compare base/ cand/ --format json\n  \
         coldstart compare results/latest.json new.json      one run a side: advisory, exit 0\n  \
         coldstart compare base/ new.json --gate-single-run --noise-from base/\n  \
         coldstart compare base/ cand/ --threshold 5% --phases --format markdown",
        crate::analysis::compare::RULE
    )
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

    /// Languages of the probe, comma-separated: rust, python, node, java, go, or
    /// `all` (every one whose toolchain is here; the others are skipped, said why).
    /// Each runs on every selected runtime that can run it [default: rust]
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub language: Vec<LanguageChoice>,

    /// Recorded cold starts per runtime variant [default: 100; VMs: their own, see README]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub cold: Option<u64>,

    /// Recorded warm invocations per runtime variant [default: 1000; VMs: their own]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub warm: Option<u64>,

    /// Unrecorded cold starts and warm invocations per variant before measuring [default: 3; VMs: 0]
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

    /// Per-sample timeout: a probe that takes longer is a failed sample (e.g. 10s, 500ms)
    /// [default: 10s; VMs: 60s minimal, 180s full under TCG]
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,

    /// Order of the samples [default: blocks]. `blocks`: each variant's items in
    /// blocks, the blocks of all variants shuffled, each block after the previous
    /// one's instances are gone (and a settle after cold starts), its first item unrecorded (fast
    /// runtimes are not measured in a slow one's shadow). `interleave`: single items
    /// shuffled. `sequential`: variant after variant, as hyperfine does
    #[arg(long, value_enum, value_name = "ORDER")]
    pub order: Option<crate::results::Order>,

    /// Items per block with `--order blocks` [default: 10]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub block_size: Option<u64>,

    /// Pause after each block that tore instances down (its cold starts, or its
    /// warm instance), once they are gone, before waiting for a quiet host (its
    /// CPUs ≤ 10% busy over 40 ms, at most 1 s in all); 0s turns both off (e.g.
    /// 20ms, 0s) [default: 20ms]
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub settle: Option<Duration>,

    /// Abandon a variant after this many failed or invalid cold starts in a row; its
    /// remaining items are skipped (0: never) [default: 5]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_consecutive_failures: Option<u64>,

    /// Also hold N live instances of each variant at once, each verified, and read
    /// memory per instance: the host's MemAvailable and the instances' PSS (README: Density)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub density: Option<u64>,

    /// Rounds of --density per variant [default: 3]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub density_rounds: Option<u64>,

    /// Also launch bursts of cold starts at these concurrency levels, each burst's
    /// starts at one instant (e.g. 1,10,50; README: Bursts)
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "LEVELS",
        allow_negative_numbers = true
    )]
    pub burst: Vec<u64>,

    /// Rounds per burst level and variant [default: 5]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub burst_rounds: Option<u64>,

    /// Read runtimes, counts and probe parameters from a suite file (TOML); flags win
    #[arg(long, value_name = "FILE")]
    pub suite: Option<PathBuf>,

    /// Write the result JSON here (`-` for stdout); rewritten as the run goes
    #[arg(long, value_name = "PATH")]
    pub export_json: Option<PathBuf>,

    /// Write a markdown report here
    #[arg(long, value_name = "PATH")]
    pub export_markdown: Option<PathBuf>,

    /// Write every raw sample here as CSV (seq, runtime, variant, language, mode, ok, outcome,
    /// total_ns, each phase's ns, teardown_ns, error)
    #[arg(long, value_name = "PATH")]
    pub export_csv: Option<PathBuf>,

    /// Unit of the times in the summary table and the markdown export [default: each
    /// time in the unit that suits it]
    #[arg(long, value_enum, value_name = "UNIT")]
    pub time_unit: Option<crate::format::TimeUnit>,

    /// Memory limit of each container (Docker and Podman), MiB, at most the host's memory (Docker refuses under 6) [default: 256]
    #[arg(long, value_name = "MIB", allow_negative_numbers = true)]
    pub docker_memory_mib: Option<u64>,

    /// Run Docker containers without the hardening (read-only root filesystem, all
    /// capabilities dropped, no-new-privileges)
    #[arg(long, conflicts_with = "docker_hardened")]
    pub docker_unhardened: bool,

    /// Run Docker containers hardened even when the suite file says `hardened = false`
    /// (the default without a suite)
    #[arg(long)]
    pub docker_hardened: bool,

    /// Podman's service endpoint [default: unix:///run/podman/podman.sock, the rootful
    /// socket of `podman system service`]
    #[arg(long, env = "CONTAINER_HOST", value_name = "URL")]
    pub podman_host: Option<String>,

    #[command(flatten)]
    pub lambda: LambdaArgs,

    #[command(flatten)]
    pub vm: VmArgs,

    #[command(flatten)]
    pub probes: ProbesArgs,
}

/// How the `vm` runtime boots its guests.
#[derive(Debug, Clone, Args)]
pub struct VmArgs {
    /// Guest kernel [default: the newest /boot/vmlinuz-*, e.g. Debian's linux-image-cloud-amd64]
    #[arg(long, value_name = "PATH")]
    pub vm_kernel: Option<PathBuf>,
    /// Initramfs of the vm:full guests [default: the kernel's /boot/initrd.img-*]
    #[arg(long, value_name = "PATH")]
    pub vm_initrd: Option<PathBuf>,
    /// Disk image of the vm:full guests [default: <probes dir>/vm-full.img, made by scripts/build-vm-image.sh]
    #[arg(long, value_name = "PATH")]
    pub vm_image: Option<PathBuf>,
    /// Guest memory, MiB [default: 256]
    #[arg(long, value_name = "MIB", allow_negative_numbers = true)]
    pub vm_memory_mib: Option<u64>,
    /// Guest vCPUs [default: 1]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub vm_cpus: Option<u64>,
    /// Accelerators: auto (KVM variants where a preflight guest answers, TCG always),
    /// kvm or tcg [default: auto]
    #[arg(long, value_enum, value_name = "ACCEL")]
    pub vm_accel: Option<crate::runner::vm::AccelChoice>,
}

#[derive(Debug, Args)]
pub struct RuntimesArgs {
    /// Podman's service endpoint [default: unix:///run/podman/podman.sock]
    #[arg(long, env = "CONTAINER_HOST", value_name = "URL")]
    pub podman_host: Option<String>,

    #[command(flatten)]
    pub lambda: LambdaArgs,

    #[command(flatten)]
    pub vm: VmArgs,

    #[command(flatten)]
    pub probes: ProbesArgs,
}

#[derive(Debug, Args)]
pub struct ProbesArgs {
    /// Directory holding the built probes (default: probes/out of this source tree)
    #[arg(long, env = "COLDSTART_PROBES_DIR", value_name = "DIR")]
    pub probes_dir: Option<PathBuf>,
}
