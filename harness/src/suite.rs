//! Suite files: what a scheduled run measures, kept in the repository so runs are
//! reproducible and the same in CI and locally. `coldstart run --suite FILE` reads one;
//! a flag given on the command line wins over the file, the file over the defaults.
//!
//! ```toml
//! runtimes = ["process", "wasm", "docker:runc-none"]   # as --runtime; absent: all available
//! cold = 100
//! warm = 1000
//! warmup = 3
//! seed = 1                  # absent: random (recorded)
//! timeout = "10s"
//! order = "blocks"          # blocks, interleave or sequential
//! block_size = 10
//! settle = "20ms"
//! max_consecutive_failures = 5
//! init_kib = 4
//! init_iters = 100
//! invoke_iters = 50
//! [docker]
//! memory_mib = 256
//! hardened = true
//! [vm]
//! memory_mib = 256
//! cpus = 1
//! accel = "auto"            # auto, kvm or tcg
//! ```
//!
//! `cold`, `warm` and `warmup` of a suite apply to every runtime without counts of its
//! own; VMs have their own counts and timeouts (see `runner::vm`), which only
//! command-line flags override.

use crate::cli::RunArgs;
use crate::results::Order;
use crate::runner::Selector;
use crate::UsageError;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_COLD: u64 = 100;
pub const DEFAULT_WARM: u64 = 1000;
pub const DEFAULT_WARMUP: u64 = 3;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_DOCKER_MEMORY_MIB: u64 = 256;
pub const DEFAULT_BLOCK_SIZE: u64 = 10;
pub const DEFAULT_SETTLE: Duration = Duration::from_millis(20);
pub const DEFAULT_MAX_CONSECUTIVE_FAILURES: u64 = 5;
pub const DEFAULT_DENSITY_ROUNDS: u64 = 3;
pub const DEFAULT_BURST_ROUNDS: u64 = 5;

/// A suite file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    pub runtimes: Option<Vec<String>>,
    pub cold: Option<u64>,
    pub warm: Option<u64>,
    pub warmup: Option<u64>,
    pub seed: Option<u64>,
    pub timeout: Option<String>,
    pub order: Option<Order>,
    pub block_size: Option<u64>,
    pub settle: Option<String>,
    pub max_consecutive_failures: Option<u64>,
    pub init_kib: Option<u64>,
    pub init_iters: Option<u64>,
    pub invoke_iters: Option<u64>,
    pub docker: Option<DockerSuite>,
    pub vm: Option<VmSuite>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmSuite {
    pub kernel: Option<PathBuf>,
    pub memory_mib: Option<u64>,
    pub cpus: Option<u64>,
    pub accel: Option<crate::runner::vm::AccelChoice>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockerSuite {
    pub memory_mib: Option<u64>,
    pub hardened: Option<bool>,
}

/// What a run does, once flags, suite and defaults are resolved.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub runtime: Vec<Selector>,
    pub cold: u64,
    pub warm: u64,
    pub warmup: u64,
    pub seed: Option<u64>,
    pub init_kib: u64,
    pub init_iters: u64,
    pub invoke_iters: u64,
    pub timeout: Duration,
    pub order: Order,
    pub block_size: u64,
    pub settle: Duration,
    pub max_consecutive_failures: u64,
    pub docker_memory_mib: u64,
    pub docker_unhardened: bool,
    pub podman_host: Option<String>,
    pub export_json: Option<PathBuf>,
    pub export_markdown: Option<PathBuf>,
    pub export_csv: Option<PathBuf>,
    pub density: Option<u64>,
    pub density_rounds: u64,
    pub burst: Vec<u64>,
    pub burst_rounds: u64,
    pub time_unit: Option<crate::export::TimeUnit>,
    pub probes_dir: Option<PathBuf>,
    pub suite: Option<PathBuf>,
    pub lambda: crate::runner::lambda::Settings,
    pub vm: crate::runner::vm::Settings,
    /// Whether `--timeout` was given on the command line (a runtime with its own
    /// timeout, a VM, uses it only then).
    pub timeout_given: bool,
    /// Counts given on the command line: they override a runtime's own counts.
    pub cli_counts: (Option<u64>, Option<u64>, Option<u64>),
}

/// A suite file, checked: its runtimes parsed, its durations read.
#[derive(Debug, Default)]
pub struct Loaded {
    pub suite: Suite,
    pub runtimes: Vec<Selector>,
    pub timeout: Option<Duration>,
    pub settle: Option<Duration>,
}

/// Reads and checks a suite file; the error names the file and the problem.
pub fn load(path: &Path) -> Result<Loaded, UsageError> {
    let bad = |problem: String| UsageError(format!("suite {}: {problem}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let suite: Suite =
        toml::from_str(&text).map_err(|e| bad(e.message().to_string() + &locate(&e, &text)))?;
    let selectors = suite
        .runtimes
        .iter()
        .flatten()
        .map(|r| r.parse::<Selector>().map_err(|e| bad(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let duration = |name: &str, text: Option<&str>| {
        text.map(|t| humantime::parse_duration(t).map_err(|e| bad(format!("{name} {t:?}: {e}"))))
            .transpose()
    };
    Ok(Loaded {
        timeout: duration("timeout", suite.timeout.as_deref())?,
        settle: duration("settle", suite.settle.as_deref())?,
        runtimes: selectors,
        suite,
    })
}

fn locate(e: &toml::de::Error, text: &str) -> String {
    match e.span() {
        Some(span) => {
            let line = text[..span.start].lines().count().max(1);
            format!(" (line {line})")
        }
        None => String::new(),
    }
}

/// Flags over the suite over the defaults.
pub fn resolve(args: RunArgs) -> Result<Resolved, UsageError> {
    let Loaded {
        suite,
        runtimes: suite_runtimes,
        timeout: suite_timeout,
        settle: suite_settle,
    } = match &args.suite {
        Some(path) => load(path)?,
        None => Default::default(),
    };
    let docker = suite.docker.unwrap_or_default();
    let vm = args.vm.settings(&suite.vm.clone().unwrap_or_default());
    let timeout_given = args.timeout.is_some();
    let cli_counts = (args.cold, args.warm, args.warmup);
    let defaults = probe_core::InitParams::DEFAULT;
    Ok(Resolved {
        runtime: if args.runtime.is_empty() {
            suite_runtimes
        } else {
            args.runtime
        },
        cold: args.cold.or(suite.cold).unwrap_or(DEFAULT_COLD),
        warm: args.warm.or(suite.warm).unwrap_or(DEFAULT_WARM),
        warmup: args.warmup.or(suite.warmup).unwrap_or(DEFAULT_WARMUP),
        seed: args.seed.or(suite.seed),
        init_kib: args
            .init_kib
            .or(suite.init_kib)
            .unwrap_or(defaults.init_kib),
        init_iters: args
            .init_iters
            .or(suite.init_iters)
            .unwrap_or(defaults.init_iters),
        invoke_iters: args
            .invoke_iters
            .or(suite.invoke_iters)
            .unwrap_or(probe_core::DEFAULT_INVOKE_ITERS),
        timeout: args.timeout.or(suite_timeout).unwrap_or(DEFAULT_TIMEOUT),
        order: args.order.or(suite.order).unwrap_or_default(),
        block_size: args
            .block_size
            .or(suite.block_size)
            .unwrap_or(DEFAULT_BLOCK_SIZE),
        settle: args.settle.or(suite_settle).unwrap_or(DEFAULT_SETTLE),
        max_consecutive_failures: args
            .max_consecutive_failures
            .or(suite.max_consecutive_failures)
            .unwrap_or(DEFAULT_MAX_CONSECUTIVE_FAILURES),
        docker_memory_mib: args
            .docker_memory_mib
            .or(docker.memory_mib)
            .unwrap_or(DEFAULT_DOCKER_MEMORY_MIB),
        // Flags win in both directions: --docker-hardened over `hardened = false`.
        docker_unhardened: if args.docker_hardened {
            false
        } else {
            args.docker_unhardened || docker.hardened == Some(false)
        },
        podman_host: args.podman_host,
        export_json: args.export_json,
        export_markdown: args.export_markdown,
        export_csv: args.export_csv,
        density: args.density,
        density_rounds: args.density_rounds.unwrap_or(DEFAULT_DENSITY_ROUNDS),
        burst: args.burst,
        burst_rounds: args.burst_rounds.unwrap_or(DEFAULT_BURST_ROUNDS),
        time_unit: args.time_unit,
        probes_dir: args.probes.probes_dir,
        suite: args.suite,
        lambda: args.lambda.settings(),
        vm,
        timeout_given,
        cli_counts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn resolved(suite: &str, flags: &[&str]) -> Resolved {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suite.toml");
        std::fs::write(&path, suite).unwrap();
        let mut argv = vec!["coldstart", "run", "--suite", path.to_str().unwrap()];
        argv.extend_from_slice(flags);
        match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::Run(args) => resolve(*args).unwrap(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn hardening_flags_win_over_the_suite_in_both_directions() {
        let soft = "[docker]\nhardened = false\n";
        let hard = "[docker]\nhardened = true\n";
        assert!(resolved(soft, &[]).docker_unhardened);
        assert!(!resolved(soft, &["--docker-hardened"]).docker_unhardened);
        assert!(!resolved(hard, &[]).docker_unhardened);
        assert!(resolved(hard, &["--docker-unhardened"]).docker_unhardened);
        let both = crate::cli::Cli::try_parse_from([
            "coldstart",
            "run",
            "--docker-hardened",
            "--docker-unhardened",
        ]);
        assert!(both.is_err(), "the two flags contradict each other");
    }
}
