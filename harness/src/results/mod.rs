//! The result file: what a run publishes, raw samples first, statistics derived.
//!
//! Schema version 3; `results/schema.json` is its JSON Schema, and a test validates
//! real output against it. snake_case everywhere, units in the field names. Changes
//! add fields; a change that breaks readers bumps [`SCHEMA_VERSION`]. 64-bit ids,
//! nonces and checksums are written as 16 hex digits, since JSON numbers above 2^53
//! do not survive most JSON readers.
//!
//! Version 2 (per-invocation nonces): every request carries a fresh nonce and its
//! answer's checksum depends on it, so the one `parameters.expected_checksum` of
//! version 1 became a `nonce` and `expected_checksum` per sample. Version 1 files
//! are still read (for compare, merge and history); the fields they lack read as
//! their version-1 meaning (order `interleave`, no nonces).
//!
//! Version 3 (languages): every row says the language of the probe it ran
//! (`runtimes[].language`; a sample says it too unless it is `rust`) and the
//! parameters the languages asked for, so a row is a runtime, a variant and a
//! language. A reader of version 2 would take a Python row for the Rust probe's,
//! hence the bump. Files of versions 1 and 2 read as all Rust.
//!
//! Added within version 2: `instance_nonce` per sample (the start's nonce that keys
//! the instance's init state); absent in older files, whose `expected_checksum`s
//! come from the workload before it (the same work, unkeyed: the checksums differ,
//! the timings compare).

pub mod density;
pub mod journal;
pub mod load;
pub mod merge;
mod sample;
mod values;

pub use density::{Burst, Density, DensityRound, Spread};
pub use sample::{Mode, Outcome, Sample};

use crate::host::Host;
use crate::probes::Language;
use crate::stats::{self, Summary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The version of this file format.
pub const SCHEMA_VERSION: u32 = 3;

/// The oldest version this coldstart still reads.
pub const OLDEST_READABLE_SCHEMA: u32 = 1;

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResultFile {
    /// Version of this format; readers refuse versions they do not know.
    pub schema_version: u32,
    /// The program that wrote the file.
    pub tool: Tool,
    /// Random id of this run (16 hex digits); labels what the run started.
    pub run_id: String,
    /// Seed of the shuffled work order; the same seed gives the same order.
    pub seed: u64,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// When the run ended; null while it is running.
    pub finished_at: Option<String>,
    /// `running` (the file is rewritten as the run goes), `complete` or `interrupted`.
    pub status: RunStatus,
    /// Wall time of the measurement so far, ns.
    pub wall_time_ns: u64,
    /// The machine the run was on.
    pub host: Host,
    /// What was asked for.
    pub parameters: Parameters,
    /// One entry per runtime and variant, measured or skipped.
    pub runtimes: Vec<RuntimeResult>,
    /// Every sample taken, in the order taken, valid or not.
    pub samples: Vec<Sample>,
    /// The cold starts of bursts (`--burst`), each with its `concurrency` and
    /// `round`: apart from `samples`, so no cold histogram mixes them in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub burst_samples: Vec<Sample>,
    /// For a file made by `coldstart merge`: the runs it holds (absent otherwise).
    /// Its statistics are sums of their histograms, its samples theirs in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<Vec<MergedRun>>,
    /// The loop's waits after work that leaves work behind (`--settle`, then a
    /// quiet host): absent where none was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settles: Option<Settles>,
}

/// What the run's settles cost: how many, how long in all, and how each ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settles {
    pub count: u64,
    /// Their wall time in all, `--settle` included, ns.
    pub waited_ns: u64,
    /// Ended at the 1 s cap with the host still busy.
    pub not_quiet: u64,
    /// Only `--settle` was waited: the host's CPU time could not be read.
    pub unreadable: u64,
}

impl Settles {
    /// Both runs' settles together.
    pub fn plus(self, other: Settles) -> Settles {
        Settles {
            count: self.count + other.count,
            waited_ns: self.waited_ns + other.waited_ns,
            not_quiet: self.not_quiet + other.not_quiet,
            unreadable: self.unreadable + other.unreadable,
        }
    }
}

/// One run inside a merged file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedRun {
    pub run_id: String,
    pub started_at: String,
    /// The file it was read from.
    pub source: String,
    /// The host it ran on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Host>,
    /// Each measured variant's setup in this run (`runtime:variant`): the merged row
    /// keeps only the versions and details every run agrees on.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub setups: BTreeMap<String, Setup>,
}

/// How one run had a variant set up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setup {
    pub versions: BTreeMap<String, String>,
    pub details: BTreeMap<String, serde_json::Value>,
    pub artifact_bytes: Option<u64>,
}

/// The program that wrote a result file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    /// Always `coldstart`.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl Tool {
    pub fn this() -> Tool {
        Tool {
            name: "coldstart".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Complete,
    Interrupted,
}

/// The parameters of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameters {
    /// Recorded cold starts per runtime variant.
    pub cold_samples: u64,
    /// Recorded warm invocations per runtime variant.
    pub warm_samples: u64,
    /// Unrecorded cold starts and warm invocations per variant before measuring.
    pub warmup: u64,
    /// Probe init memory, KiB.
    pub init_kib: u64,
    /// Probe init hash rounds.
    pub init_iters: u64,
    /// Hash rounds per invocation.
    pub invoke_iters: u64,
    /// Per-sample timeout, ns.
    pub timeout_ns: u64,
    /// Schema 1 only: the one checksum every valid response carried. Since schema 2
    /// each request has its own nonce, and each sample its own `expected_checksum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_checksum: Option<String>,
    /// How the work was ordered: `blocks`, `interleave` or `sequential` (see
    /// `coldstart run --help`). Schema 1 files were always `interleave`.
    #[serde(default = "Order::v1")]
    pub order: Order,
    /// Items per block with order `blocks` (the first of each block is unrecorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_size: Option<u64>,
    /// Pause after a block that tore instances down, once they are gone, ns; a
    /// quiet host is waited for after it (`settles`).
    #[serde(default)]
    pub settle_ns: u64,
    /// Failed or invalid cold starts in a row after which a variant is abandoned
    /// (0: never; schema 1 files had no such limit).
    #[serde(default)]
    pub max_consecutive_failures: u64,
    /// Variants that took counts of their own instead of `cold_samples`,
    /// `warm_samples` and `warmup` (slow runtimes, VMs), keyed `runtime:variant`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variant_counts: BTreeMap<String, Counts>,
    /// The runtimes asked for (`runtime` or `runtime:variant`).
    pub runtimes: Vec<String>,
    /// The probe's languages asked for (`rust` in files before schema 3).
    #[serde(default = "rust_only")]
    pub languages: Vec<String>,
    /// Live instances per density round (`--density`); absent when not asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density: Option<u64>,
    /// Density rounds per variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density_rounds: Option<u64>,
    /// The variants a suite's `[density] runtimes` named: density is measured for
    /// those the run measures; absent: for every variant measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density_runtimes: Option<Vec<String>>,
    /// Burst concurrency levels (`--burst`); empty when not asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub burst: Vec<u64>,
    /// Burst rounds per level and variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst_rounds: Option<u64>,
    /// The suite file the run read, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
}

/// Sample counts of one variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub cold: u64,
    pub warm: u64,
    pub warmup: u64,
}

/// The order in which the samples of all variants are taken.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Each variant's cold and warm items cut into blocks, the blocks of all variants
    /// shuffled; before each block the previous block's instances are gone (and after
    /// cold starts the machine has settled), and the block's first item is unrecorded. Protects fast
    /// runtimes from a slow one's leftover work and still spreads slow drifts of
    /// the machine over every variant.
    #[default]
    Blocks,
    /// Every sample of every variant shuffled together: the best defence against
    /// drift, but a µs-scale sample may run in the shadow of a container start.
    Interleave,
    /// Variant after variant, cold then warm (hyperfine's order): no shadow, but a
    /// drift of the machine lands on whichever variant runs at the time.
    Sequential,
}

impl Order {
    fn v1() -> Order {
        Order::Interleave
    }

    pub fn name(self) -> &'static str {
        match self {
            Order::Blocks => "blocks",
            Order::Interleave => "interleave",
            Order::Sequential => "sequential",
        }
    }
}

/// Names one row of results: a runtime, one of its variants, and the language of
/// the probe it runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunnerKey {
    pub runtime: String,
    pub variant: String,
    pub language: Language,
}

impl RunnerKey {
    /// A row of the Rust probe, the default language.
    pub fn new(runtime: impl Into<String>, variant: impl Into<String>) -> RunnerKey {
        RunnerKey {
            runtime: runtime.into(),
            variant: variant.into(),
            language: Language::Rust,
        }
    }

    /// The same runtime and variant running another language's probe.
    pub fn in_language(self, language: Language) -> RunnerKey {
        RunnerKey { language, ..self }
    }
}

/// `runtime:variant`, and `:language` unless it is Rust (rows of files written
/// before languages were an axis are Rust's and keep their labels).
impl fmt::Display for RunnerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.runtime, self.variant)?;
        if !self.language.is_rust() {
            write!(f, ":{}", self.language)?;
        }
        Ok(())
    }
}

/// One runtime variant: how it was set up and what it measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeResult {
    pub runtime: String,
    pub variant: String,
    /// The language of the probe it ran (`rust` in files before schema 3).
    #[serde(default)]
    pub language: Language,
    /// Whether it could run on this host.
    pub available: bool,
    /// Why it was not measured; null when it ran.
    pub skipped_reason: Option<String>,
    /// Versions of the measured components.
    pub versions: BTreeMap<String, String>,
    /// Size of what is started (binary, module, precompiled artifact, image), bytes.
    pub artifact_bytes: Option<u64>,
    /// Configuration that matters for reading the figures.
    pub details: BTreeMap<String, serde_json::Value>,
    /// The cold phases in the order they happen (`total` last).
    pub phase_order: Vec<String>,
    pub modes: Modes,
    /// Teardown times of the cold samples' instances, when any were taken.
    pub teardown: Option<Summary>,
    /// Every teardown that failed (a sample's, a retired warm instance's, an
    /// unrecorded one's) and every leftover the final sweep had to remove, by name:
    /// any entry makes the run's exit code 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teardown_errors: Vec<String>,
    /// Set when the variant was abandoned by the circuit breaker: why. Its items not
    /// yet taken then are counted as `skipped` in their mode, never attempted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandoned: Option<String>,
    /// Where the `reported` figures of this variant's samples and modes come from
    /// (e.g. Lambda's REPORT log line): the platform's clock, not ours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_source: Option<String>,
    /// The round trip of a request that runs no function code (Lambda: `Invoke`
    /// with `InvocationType=DryRun`), measured by our stopwatch next to cold and
    /// warm, so a reader can subtract the network. Phase-free.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_baseline: Option<Summary>,
    /// Memory per live instance (`--density`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density: Option<Density>,
    /// Cold starts under concurrency (`--burst`), one entry per level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bursts: Vec<Burst>,
    /// Why this variant took no part in bursts although they were asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst_skipped_reason: Option<String>,
}

/// Cold and warm results of one runtime variant.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Modes {
    pub cold: ModeResult,
    pub warm: ModeResult,
}

impl Modes {
    pub fn get(&self, mode: Mode) -> &ModeResult {
        match mode {
            Mode::Cold => &self.cold,
            Mode::Warm => &self.warm,
        }
    }

    pub fn get_mut(&mut self, mode: Mode) -> &mut ModeResult {
        match mode {
            Mode::Cold => &mut self.cold,
            Mode::Warm => &mut self.warm,
        }
    }
}

/// The counts and statistics of one mode.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ModeResult {
    /// Valid samples.
    pub ok: u64,
    /// Answered but failed verification.
    pub invalid: u64,
    /// Did not answer.
    pub failed: u64,
    /// Never attempted: the variant was abandoned (see `abandoned`).
    #[serde(default)]
    pub skipped: u64,
    /// Unrecorded items (the first of each block) that answered but did not verify:
    /// in no histogram and no count above, but seen, and so said.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unrecorded_invalid: u64,
    /// Unrecorded items (the first of each block) that did not answer.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unrecorded_failed: u64,
    /// Phase name (including `total`) -> summary of the valid samples.
    pub phases: BTreeMap<String, Summary>,
    /// Figures the platform reported about the valid samples (`*_ns` fields of
    /// their `reported`), summarized apart from our phases: see `reported_source`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reported: BTreeMap<String, Summary>,
}

impl ModeResult {
    /// Samples taken in this mode, valid or not: 0 for a variant that takes none
    /// (the reports leave such a row out rather than show an empty one).
    pub fn taken(&self) -> u64 {
        self.ok + self.invalid + self.failed
    }

    /// Unrecorded items that failed or did not verify.
    pub fn unrecorded_problems(&self) -> u64 {
        self.unrecorded_invalid + self.unrecorded_failed
    }
}

fn rust_only() -> Vec<String> {
    vec![Language::Rust.to_string()]
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl RuntimeResult {
    /// The row's runtime, variant and language.
    pub fn key(&self) -> RunnerKey {
        RunnerKey {
            runtime: self.runtime.clone(),
            variant: self.variant.clone(),
            language: self.language,
        }
    }

    /// Whether this is the row `key` names.
    pub fn is(&self, key: &RunnerKey) -> bool {
        self.runtime == key.runtime && self.variant == key.variant && self.language == key.language
    }

    /// The row's name in tables and messages: `runtime:variant[:language]`.
    pub fn label(&self) -> String {
        self.key().to_string()
    }

    /// A runtime variant that was not measured, and why.
    pub fn skipped(key: &RunnerKey, reason: String) -> RuntimeResult {
        RuntimeResult {
            runtime: key.runtime.clone(),
            variant: key.variant.clone(),
            language: key.language,
            available: false,
            skipped_reason: Some(reason),
            versions: BTreeMap::new(),
            artifact_bytes: None,
            details: BTreeMap::new(),
            phase_order: Vec::new(),
            modes: Modes::default(),
            teardown: None,
            teardown_errors: Vec::new(),
            abandoned: None,
            reported_source: None,
            network_baseline: None,
            density: None,
            bursts: Vec::new(),
            burst_skipped_reason: None,
        }
    }
}

impl ResultFile {
    /// A run's file before anything is measured: its header, started now.
    pub fn new(run_id: String, seed: u64, host: Host, parameters: Parameters) -> ResultFile {
        ResultFile {
            schema_version: SCHEMA_VERSION,
            tool: Tool::this(),
            run_id,
            seed,
            started_at: now_rfc3339(),
            finished_at: None,
            status: RunStatus::Running,
            wall_time_ns: 0,
            host,
            parameters,
            runtimes: Vec::new(),
            samples: Vec::new(),
            burst_samples: Vec::new(),
            merged_from: None,
            settles: None,
        }
    }

    /// Marks the run finished: its status, end time and the host's load at the end.
    pub fn finish(&mut self, complete: bool) {
        self.status = if complete {
            RunStatus::Complete
        } else {
            RunStatus::Interrupted
        };
        self.finished_at = Some(now_rfc3339());
        self.host.load_average_end = crate::host::load_average();
    }

    /// Recomputes every measured runtime's counts and statistics from the samples.
    pub fn derive_statistics(&mut self) {
        for runtime in self.runtimes.iter_mut().filter(|r| r.available) {
            let mine: Vec<&Sample> = self
                .samples
                .iter()
                .filter(|s| s.is_of(&runtime.key()))
                .collect();
            for mode in [Mode::Cold, Mode::Warm] {
                let of_mode: Vec<&Sample> =
                    mine.iter().copied().filter(|s| s.mode == mode).collect();
                let count = |o: Outcome| of_mode.iter().filter(|s| s.outcome == o).count() as u64;
                let valid: Vec<&Sample> = of_mode
                    .iter()
                    .copied()
                    .filter(|s| s.outcome == Outcome::Ok)
                    .collect();
                let mut phases = BTreeMap::new();
                let names: Vec<&str> = match mode {
                    Mode::Cold => runtime.phase_order.iter().map(String::as_str).collect(),
                    Mode::Warm => vec![crate::phase::TOTAL],
                };
                for phase in names {
                    let values = valid.iter().filter_map(|s| {
                        if phase == crate::phase::TOTAL {
                            s.total_ns
                        } else {
                            s.phases_ns.get(phase).copied()
                        }
                    });
                    if let Some(summary) = stats::summarize(&stats::record(values)) {
                        phases.insert(phase.to_string(), summary);
                    }
                }
                // The platform's own figures: summarized apart, never as phases.
                let mut reported = BTreeMap::new();
                let names: std::collections::BTreeSet<&str> = valid
                    .iter()
                    .flat_map(|s| s.reported.keys())
                    .map(String::as_str)
                    .filter(|k| k.ends_with("_ns"))
                    .collect();
                for name in names {
                    let values = valid.iter().filter_map(|s| s.reported.get(name).copied());
                    if let Some(summary) = stats::summarize(&stats::record(values)) {
                        reported.insert(name.to_string(), summary);
                    }
                }
                let previous = runtime.modes.get_mut(mode);
                *previous = ModeResult {
                    ok: count(Outcome::Ok),
                    invalid: count(Outcome::Invalid),
                    failed: count(Outcome::Failed),
                    // Set by the measurement loop, not derivable from samples.
                    skipped: previous.skipped,
                    unrecorded_invalid: previous.unrecorded_invalid,
                    unrecorded_failed: previous.unrecorded_failed,
                    phases,
                    reported,
                };
            }
            runtime.teardown = stats::summarize(&stats::record(
                mine.iter().filter(|s| s.ok).filter_map(|s| s.teardown_ns),
            ));
        }
    }

    /// Samples that were invalid or failed, over all runtimes, bursts, density
    /// rounds and the unrecorded first items of blocks included.
    pub fn problem_count(&self) -> u64 {
        let unrecorded: u64 = self
            .runtimes
            .iter()
            .map(|r| r.modes.cold.unrecorded_problems() + r.modes.warm.unrecorded_problems())
            .sum();
        let density: u64 = self
            .runtimes
            .iter()
            .filter_map(|r| r.density.as_ref())
            .flat_map(|d| d.raw.iter().map(|round| round.failed))
            .sum();
        self.samples
            .iter()
            .chain(&self.burst_samples)
            .filter(|s| !s.ok)
            .count() as u64
            + density
            + unrecorded
    }

    /// Failed teardowns and leftovers, over all runtimes.
    pub fn teardown_error_count(&self) -> u64 {
        self.runtimes
            .iter()
            .map(|r| r.teardown_errors.len() as u64)
            .sum()
    }

    /// Items never attempted because their variant was abandoned.
    pub fn skipped_count(&self) -> u64 {
        self.runtimes
            .iter()
            .map(|r| r.modes.cold.skipped + r.modes.warm.skipped)
            .sum()
    }
}

/// Now, as RFC 3339 to the second (UTC).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// A 64-bit id or checksum as written in result files (16 hex digits).
pub fn hex(value: u64) -> String {
    format!("{value:016x}")
}
