//! Runners: one per compute model, behind one trait.
//!
//! A [`Runner`] knows how to make a **cold** instance of the probe (a new instance,
//! from the request for it until its first invocation's response is received) and
//! which phases it can see on the way; the [`Instance`] it returns knows how to take
//! a **warm** invocation (one round trip on a live instance) and how to tear itself
//! down. Everything a runner needs prepared (compiling a module for `pre`, building an
//! image) happens when it is built, outside every timed region.
//!
//! Runners time themselves with [`crate::phase::Stopwatch`], because only a runner
//! knows where its phase boundaries are; they never verify responses, which is done
//! by [`crate::measure::verify`] for all of them alike. A new compute model is one new file
//! here plus a line in [`RuntimeKind`].

pub mod container;
pub mod footprint;
pub mod lambda;
pub mod launch_gate;
pub mod line_protocol;
pub mod mock;
pub mod process;
pub mod select;
pub mod vm;
pub mod wasm;

use crate::phase::PhaseTimes;
use crate::probes::{Language, ProbeArtifacts};
pub use crate::results::RunnerKey;
use crate::results::{Counts, RuntimeResult};
use async_trait::async_trait;
pub use launch_gate::{LaunchGate, Ticket};
use probe_core::InitParams;
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// The compute models coldstart can measure (those compiled into this build).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuntimeKind {
    /// The probe as a native process: the floor every other model adds to.
    Process,
    /// The probe as a Wasm module in wasmtime, embedded in the harness.
    Wasm,
    /// The probe in a FROM-scratch container image, through Docker's Engine API.
    Docker,
    /// The same image and runner, through Podman's Docker-compatible service.
    Podman,
    /// The probe as an AWS Lambda function (or under a local Runtime API emulator).
    Lambda,
    /// The probe in a QEMU virtual machine: as a minimal kernel's init, or as a
    /// systemd service of a full Debian guest.
    Vm,
}

impl RuntimeKind {
    /// Every runtime this build knows, in report order.
    pub const ALL: [RuntimeKind; 6] = [
        RuntimeKind::Process,
        RuntimeKind::Wasm,
        RuntimeKind::Docker,
        RuntimeKind::Podman,
        RuntimeKind::Lambda,
        RuntimeKind::Vm,
    ];

    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            RuntimeKind::Process => "process",
            RuntimeKind::Wasm => "wasm",
            RuntimeKind::Docker => "docker",
            RuntimeKind::Podman => "podman",
            RuntimeKind::Lambda => "lambda",
            RuntimeKind::Vm => "vm",
        }
    }

    /// Why this runtime cannot run `language`'s probe in this build; `None` when it can.
    pub fn language_unsupported(self, language: Language) -> Option<String> {
        let why = match (self, language) {
            (_, Language::Rust) | (RuntimeKind::Process | RuntimeKind::Lambda, _) => return None,
            (RuntimeKind::Docker | RuntimeKind::Podman, Language::Go) => return None,
            (RuntimeKind::Wasm, Language::Go) => {
                "Go's wasip1 port has no exports (`//go:wasmexport` is Go 1.24; Debian has 1.19, \
                 bookworm-backports 1.23), and the wasm runner calls the probe's exports"
            }
            (RuntimeKind::Wasm, _) => {
                "the wasm runner runs modules compiled to wasm32-wasip1; this language's \
                 runtime has no such build in Debian"
            }
            (RuntimeKind::Docker | RuntimeKind::Podman, _) => {
                "this coldstart builds FROM-scratch images of the static probes only (Rust, \
                 Go); the interpreters' Debian rootfs images are not built yet"
            }
            (RuntimeKind::Vm, _) => {
                "this coldstart's guest images hold the Rust probe only (the other \
                 languages are not in them yet)"
            }
        };
        Some(format!("{self} cannot run the {language} probe: {why}"))
    }

    /// The variants this runtime measures, each its own row of results.
    pub fn variants(self) -> &'static [&'static str] {
        match self {
            RuntimeKind::Process => process::VARIANTS,
            RuntimeKind::Wasm => wasm::VARIANTS,
            RuntimeKind::Docker => container::DOCKER_VARIANTS,
            RuntimeKind::Podman => container::PODMAN_VARIANTS,
            RuntimeKind::Lambda => lambda::VARIANTS,
            RuntimeKind::Vm => vm::VARIANTS,
        }
    }
}

impl fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A runtime named on the command line, with an unknown name.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    #[error("unknown runtime {0:?}: this coldstart measures {known} (see `coldstart runtimes`)", known = known_names())]
    UnknownRuntime(String),
    #[error("runtime {runtime} has no variant {variant:?}: its variants are {}", known.join(", "))]
    UnknownVariant {
        runtime: RuntimeKind,
        variant: String,
        known: &'static [&'static str],
    },
}

fn known_names() -> String {
    RuntimeKind::ALL.map(|k| k.name()).join(", ")
}

/// One `--runtime` entry: a runtime, or one variant of it (`wasm:pre`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub runtime: RuntimeKind,
    pub variant: Option<&'static str>,
}

impl std::str::FromStr for Selector {
    type Err = SelectError;

    fn from_str(text: &str) -> Result<Self, SelectError> {
        let (name, variant) = match text.split_once(':') {
            Some((name, variant)) => (name, Some(variant)),
            None => (text, None),
        };
        let runtime = RuntimeKind::ALL
            .into_iter()
            .find(|k| k.name() == name.trim())
            .ok_or_else(|| SelectError::UnknownRuntime(name.to_string()))?;
        let variant = match variant {
            None => None,
            Some(v) => Some(
                runtime
                    .variants()
                    .iter()
                    .copied()
                    .find(|known| *known == v.trim())
                    .ok_or_else(|| SelectError::UnknownVariant {
                        runtime,
                        variant: v.to_string(),
                        known: runtime.variants(),
                    })?,
            ),
        };
        Ok(Selector { runtime, variant })
    }
}

impl Selector {
    /// Whether this entry names the row `key`: its runtime, and its variant if given.
    pub fn selects(&self, key: &RunnerKey) -> bool {
        key.runtime == self.runtime.name() && self.variant.is_none_or(|v| v == key.variant)
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.variant {
            Some(v) => write!(f, "{}:{v}", self.runtime),
            None => write!(f, "{}", self.runtime),
        }
    }
}

/// What every runner is given: the probe, its parameters, the per-sample timeout.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub probes: ProbeArtifacts,
    pub params: InitParams,
    pub timeout: Duration,
    /// Whether `timeout` was asked for (flag or suite); runtimes with their own
    /// default timeout (slow VMs) use it only then.
    pub timeout_given: bool,
    /// The run's id: labels whatever the run creates outside this process.
    pub run_id: String,
    /// Settings of the container engines (Docker and Podman alike).
    pub engine: container::Settings,
    pub lambda: lambda::Settings,
    pub vm: vm::Settings,
    /// The most instances of one variant the run holds alive at once (density's N,
    /// the largest burst): what pools are sized for. 0 when neither is asked for.
    pub most_live: u64,
    /// `COLDSTART_TEST_SLEEP` of the harness's environment, passed on to every probe
    /// (tests only: see `probe_core::test_sleep`); `None` in any normal run.
    pub test_sleep: Option<String>,
    /// The language of the probe these runners start.
    pub language: Language,
}

impl RunContext {
    /// The probe's environment variables that come from the harness's own
    /// environment (only the test-only sleep).
    pub fn passed_env(&self) -> Vec<(String, String)> {
        self.test_sleep
            .iter()
            .map(|v| (probe_core::test_sleep::VAR.to_string(), v.clone()))
            .collect()
    }
}

/// One invocation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Unique within the run; a runner that carries it checks the answer echoes it.
    pub seq: u64,
    /// A fresh random value the probe mixes into its checksum, so an answer verifies
    /// only for its own request (a cached or replayed one does not).
    pub nonce: u64,
    /// Hash rounds of the invocation's work.
    pub iters: u64,
}

/// What a cold start is given: its instance nonce and its first request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartRequest {
    /// A fresh random value per start that the new instance keys its init state
    /// with (see `probe_core`), given before its init: so an instance whose init
    /// state was made for another start (restored, pre-initialised) does not verify.
    pub instance_nonce: u64,
    pub request: Request,
}

/// What an instance answered, before verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub instance_id: u64,
    pub index: u64,
    pub checksum: u64,
}

/// A sample that did not produce a response: it is counted as failed, with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error("probe crashed: {0}")]
    Crashed(String),
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("runtime error: {0}")]
    Runtime(String),
}

/// A cold start that produced its first response.
pub struct ColdStart {
    /// The live instance, for teardown (or for warm invocations).
    pub instance: Box<dyn Instance>,
    pub response: Response,
    /// The runner's phases, in order, and their total.
    pub times: PhaseTimes,
    /// Set by a runtime that gives an instance nonce per configuration, not per
    /// start (Lambda on AWS: every environment of one burst shares its update's,
    /// the warm samples' published version has its own): the one this instance was
    /// given. `None`: the start's own, which is what the harness verifies against.
    pub shared_instance_nonce: Option<u64>,
    /// Set when the runtime itself says this was not a cold start although a new
    /// instance answered (Lambda: a REPORT without `Init Duration`, i.e. an
    /// environment initialised ahead of the request). The sample is then invalid.
    pub not_cold: Option<String>,
}

/// How one runner variant is started: the trait every compute model implements.
#[async_trait(?Send)]
pub trait Runner {
    /// Which row of results this runner fills.
    fn key(&self) -> &RunnerKey;

    /// The phases of a cold start, in order (`total` is implied).
    fn cold_phases(&self) -> &'static [&'static str];

    /// Versions, artifact size and configuration, recorded in the results.
    fn info(&self) -> RunnerInfo;

    /// Makes a new instance and sends it its first request, timing each phase.
    /// Takes `&self`: a burst runs many at once.
    async fn cold_start(&self, start: StartRequest) -> Result<ColdStart, SampleError>;

    /// A burst: one cold start per request, all launched at one instant (none waits
    /// for another's answer), each returned with the time from that instant to its own
    /// first response, in request order; or why this runtime takes no part in bursts.
    /// The runner takes the launch instant, after any untimed preparation.
    ///
    /// The default issues every cold start from the harness's one thread in a single
    /// poll (the runtime, a daemon or the kernel, serves them concurrently), each
    /// through [`Runner::gated_cold_start`] at one [`LaunchGate`]; a runner whose
    /// instances run on the harness's own threads (wasm) spreads them over a pool.
    async fn burst(&self, starts: &[StartRequest]) -> Result<BurstOutcomes, String> {
        let gate = LaunchGate::new(starts.len());
        let launch = Instant::now();
        let starts = starts.iter().map(|s| {
            let ticket = gate.ticket();
            async move {
                let cold = self.gated_cold_start(*s, ticket).await?;
                Ok::<_, SampleError>(BurstStart {
                    cold,
                    since_launch: launch.elapsed(),
                })
            }
        });
        Ok(futures_util::future::join_all(starts).await)
    }

    /// One cold start of a burst: as [`Runner::cold_start`], except that a runner
    /// with a synchronous spawn of its own (a fork/exec on the harness's thread)
    /// arrives at the round's gate right after it, and laps the time held there as
    /// `held`. The default has no such step (its work is I/O that a daemon serves,
    /// interleaved by the harness's one thread): it leaves the gate at once.
    ///
    /// The gate has no timeout of its own: a runner must arrive (or drop the
    /// ticket, as any early return does) before it awaits anything, so no start
    /// waits at the gate on another start's progress.
    async fn gated_cold_start(
        &self,
        start: StartRequest,
        ticket: Ticket<'_>,
    ) -> Result<ColdStart, SampleError> {
        drop(ticket);
        self.cold_start(start).await
    }

    /// How [`Runner::burst`] launches, for the results' details.
    fn burst_method(&self) -> String {
        "every cold start issued from the harness's one thread at one instant (async, \
         none waiting for another's answer); the runtime serves them concurrently"
            .into()
    }

    /// Starts the instance that takes the warm samples (unrecorded). Most runners
    /// make it like any cold start; one whose cold starts retire earlier instances
    /// (Lambda's configuration updates) starts it where they cannot reach it.
    async fn start_live(&mut self, start: StartRequest) -> Result<ColdStart, SampleError> {
        self.cold_start(start).await
    }

    /// Whether a live instance outlives its teardown and may answer the next
    /// `start_live` (an environment only the platform can end: Lambda's). Such an
    /// answer is verified as that instance's next warm answer (its id, the next
    /// index, the right checksum), not as a cold start.
    fn live_outlives_teardown(&self) -> bool {
        false
    }

    /// Sample counts of its own, for a runtime too slow for the run's (VMs): used
    /// for each count not given on the command line.
    fn own_counts(&self) -> Option<Counts> {
        None
    }

    /// Whether this variant takes warm samples (one that measures only a kind of
    /// cold start, like loading an image first, does not).
    fn supports_warm(&self) -> bool {
        true
    }

    /// The round trip of a request that runs no probe code, timed `count` times
    /// (Lambda: `Invoke` with `InvocationType=DryRun`), so readers can subtract the
    /// network. `None` for runtimes without such a request.
    async fn network_baseline(&mut self, _count: u64) -> Option<Result<Vec<u64>, String>> {
        None
    }

    /// Called once after measuring, also after an interruption: removes whatever
    /// the runner may have left outside this process. Returns what it had to clean;
    /// each entry is a leftover (named) and counts as a teardown error.
    async fn close(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// A live instance of the probe.
#[async_trait(?Send)]
pub trait Instance {
    /// One round trip: the whole of a warm sample.
    async fn invoke(&mut self, request: Request) -> Result<(Response, PhaseTimes), SampleError>;

    /// Stops and removes the instance; returns how long that took, or `None` where
    /// the runtime gives no way to stop an instance (Lambda), so nothing was timed.
    async fn teardown(self: Box<Self>) -> Result<Option<Duration>, SampleError>;

    /// What of the host's memory the live instance holds, for density: the processes
    /// it owns, its cgroup's charge, memory inside the harness process. Empty where
    /// the runtime shows none.
    async fn footprint(&self) -> Footprint {
        Footprint::default()
    }
}

/// A cold start of a burst that answered, and when, from the round's launch instant.
pub struct BurstStart {
    pub cold: ColdStart,
    /// From the round's launch instant to this start's first response.
    pub since_launch: Duration,
}

/// The outcome of each cold start of a burst, in request order.
pub type BurstOutcomes = Vec<Result<BurstStart, SampleError>>;

/// Where a live instance's memory can be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Host processes the instance owns (the probe, a container's processes and its
    /// shim, QEMU): their PSS is summed.
    pub pids: Vec<u32>,
    /// The instance's memory cgroup charge (`memory.current`, or v1's
    /// `memory.usage_in_bytes`), where readable.
    pub cgroup_bytes: Option<u64>,
    /// Memory the instance holds inside the harness process (the resident pages of
    /// a Wasm instance's linear memory), which no PSS of its own shows.
    pub in_harness_bytes: Option<u64>,
}

/// What a runner reports about itself.
#[derive(Debug, Clone, Default)]
pub struct RunnerInfo {
    /// Component versions, e.g. `wasmtime` -> `48.0.8`.
    pub versions: BTreeMap<String, String>,
    /// Size of what is started: a binary, a module, an image.
    pub artifact_bytes: Option<u64>,
    /// Configuration worth knowing when reading the figures.
    pub details: BTreeMap<String, serde_json::Value>,
    /// Where the samples' `reported` figures come from, if the runtime reports any.
    pub reported_source: Option<String>,
}

/// Whether a runtime can run on this host, and why not.
#[derive(Debug, Clone)]
pub struct Availability {
    pub runtime: RuntimeKind,
    pub variants: &'static [&'static str],
    pub versions: BTreeMap<String, String>,
    /// `None` when it can run; otherwise what is missing and what to do.
    pub unavailable: Option<String>,
    /// Variants that cannot run although the runtime can, and why.
    pub unavailable_variants: Vec<(&'static str, String)>,
}

/// Checks each runtime without starting anything costly.
pub async fn detect(
    kind: RuntimeKind,
    probes: &Result<ProbeArtifacts, String>,
    settings: &lambda::Settings,
    engine: &container::Settings,
    vm_settings: &vm::Settings,
) -> Availability {
    match kind {
        RuntimeKind::Process => process::detect(probes),
        RuntimeKind::Wasm => wasm::detect(probes),
        RuntimeKind::Docker => container::detect(container::Engine::Docker, probes, engine).await,
        RuntimeKind::Podman => container::detect(container::Engine::Podman, probes, engine).await,
        RuntimeKind::Lambda => lambda::detect(probes, settings).await,
        RuntimeKind::Vm => vm::detect(probes, vm_settings),
    }
}

/// The result file's entry of a runner about to be measured: what it says of
/// itself, and its phases in order with `total` last.
pub fn result_row(runner: &dyn Runner) -> RuntimeResult {
    let info = runner.info();
    let key = runner.key();
    let mut phase_order: Vec<String> = runner.cold_phases().iter().map(|p| p.to_string()).collect();
    phase_order.push(crate::phase::TOTAL.into());
    RuntimeResult {
        available: true,
        skipped_reason: None,
        versions: info.versions,
        artifact_bytes: info.artifact_bytes,
        details: info.details,
        reported_source: info.reported_source,
        phase_order,
        ..RuntimeResult::skipped(key, String::new())
    }
}

/// A runner ready to measure, or a variant that cannot run here and why.
pub enum Built {
    Ready(Box<dyn Runner>),
    Skipped {
        variant: &'static str,
        reason: String,
    },
}

/// Builds the runners of one runtime (one per selected variant). Preparation that
/// must not be timed (compiling for `pre`, precompiling for `aot`, building an
/// image) happens here.
pub async fn build(
    kind: RuntimeKind,
    variants: &[&'static str],
    ctx: &RunContext,
) -> anyhow::Result<Vec<Built>> {
    let ready = |runners: Vec<Box<dyn Runner>>| runners.into_iter().map(Built::Ready).collect();
    match kind {
        RuntimeKind::Process => process::build(variants, ctx).map(ready),
        RuntimeKind::Wasm => wasm::build(variants, ctx).map(ready),
        RuntimeKind::Docker => container::build(container::Engine::Docker, variants, ctx).await,
        RuntimeKind::Podman => container::build(container::Engine::Podman, variants, ctx).await,
        RuntimeKind::Lambda => lambda::build(variants, ctx).await,
        RuntimeKind::Vm => vm::build(variants, ctx).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse() {
        let all: Selector = "wasm".parse().unwrap();
        assert_eq!(all.runtime, RuntimeKind::Wasm);
        assert_eq!(all.variant, None);
        let pre: Selector = "wasm:pre".parse().unwrap();
        assert_eq!(pre.variant, Some("pre"));
        let err = "kvm".parse::<Selector>().unwrap_err().to_string();
        assert!(err.contains("unknown runtime \"kvm\""), "{err}");
        assert!(
            err.contains("process, wasm, docker, podman, lambda, vm"),
            "{err}"
        );
        let err = "wasm:nope".parse::<Selector>().unwrap_err().to_string();
        assert!(err.contains("jit, aot, pre"), "{err}");
    }
}
