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
//! [density]                 # as --density and --density-rounds
//! instances = 20
//! rounds = 3
//! runtimes = ["process", "wasm:pre", "docker:runc-none"]   # absent: every variant
//! ```
//!
//! `[density] runtimes` picks the variants whose density is measured, whether its
//! instances come from the suite or from `--density`.
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
    pub density: Option<DensitySuite>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DensitySuite {
    pub instances: Option<u64>,
    pub rounds: Option<u64>,
    pub runtimes: Option<Vec<String>>,
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
    /// The variants `[density]` measures (empty: every variant).
    pub density_runtimes: Vec<Selector>,
    pub timeout: Option<Duration>,
    pub settle: Option<Duration>,
}

/// Reads and checks a suite file; the error names the file and the problem.
pub fn load(path: &Path) -> Result<Loaded, UsageError> {
    let bad = |problem: String| UsageError(format!("suite {}: {problem}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let suite: Suite =
        toml::from_str(&text).map_err(|e| bad(e.message().to_string() + &locate(&e, &text)))?;
    let parse = |names: Option<&Vec<String>>, key: &str| {
        names
            .into_iter()
            .flatten()
            .map(|r| {
                r.parse::<Selector>()
                    .map_err(|e| bad(format!("{key}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let selectors = parse(suite.runtimes.as_ref(), "runtimes")?;
    let density_runtimes = parse(
        suite.density.as_ref().and_then(|d| d.runtimes.as_ref()),
        "[density] runtimes",
    )?;
    if suite
        .density
        .as_ref()
        .is_some_and(|d| d.runtimes.as_ref().is_some_and(Vec::is_empty))
    {
        return Err(bad(
            "[density] runtimes is empty: name the variants, or leave it out for every variant"
                .into(),
        ));
    }
    let duration = |name: &str, text: Option<&str>| {
        text.map(|t| humantime::parse_duration(t).map_err(|e| bad(format!("{name} {t:?}: {e}"))))
            .transpose()
    };
    Ok(Loaded {
        timeout: duration("timeout", suite.timeout.as_deref())?,
        settle: duration("settle", suite.settle.as_deref())?,
        runtimes: selectors,
        density_runtimes,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_suites_load() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let default = load(&repo.join("fixtures/suite-default.toml")).unwrap();
        let density = default.suite.density.as_ref().unwrap();
        assert_eq!((density.instances, density.rounds), (Some(20), Some(3)));
        // The variants the memory claims read are among those measured.
        for wanted in ["wasm:pre", "docker:runc-none", "vm:minimal-tcg"] {
            assert!(
                default
                    .density_runtimes
                    .iter()
                    .any(|s| s.to_string() == wanted),
                "{wanted}"
            );
        }
        let test = load(&repo.join("fixtures/suite-test.toml")).unwrap();
        assert!(test.suite.density.is_none());
    }
}
