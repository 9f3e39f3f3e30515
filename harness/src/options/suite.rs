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

use crate::error::UsageError;
use crate::results::Order;
use crate::runner::Selector;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
