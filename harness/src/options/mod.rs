//! The options of `coldstart run`: command-line flags over a suite file
//! ([`suite`]) over the defaults, resolved once into [`RunOptions`], then checked
//! ([`validate`]). Also the runner settings the `runtimes` and `lambda` commands
//! read from their flags.

pub mod suite;
mod validate;

pub use validate::validate;

use crate::cli::{LambdaArgs, RunArgs, VmArgs};
use crate::error::UsageError;
use crate::probes::{Language, LanguageChoice};
use crate::results::{Counts, Order, Parameters};
use crate::runner::select::Selection;
use crate::runner::{lambda, vm, RuntimeKind, Selector};
use std::path::PathBuf;
use std::time::Duration;
use suite::{Loaded, VmSuite};

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

/// Timed round trips of a runtime's network baseline (Lambda's DryRun invokes).
pub const BASELINE_SAMPLES: u64 = 20;

/// Sample counts given on the command line (`--cold`, `--warm`, `--warmup`): they
/// override a runtime's own counts (VMs), where the suite's do not.
#[derive(Debug, Clone, Copy, Default)]
pub struct CommandLineCounts {
    pub cold: Option<u64>,
    pub warm: Option<u64>,
    pub warmup: Option<u64>,
}

impl CommandLineCounts {
    /// A runtime's own counts with the command line's over them.
    pub fn over(self, own: Counts) -> Counts {
        Counts {
            cold: self.cold.unwrap_or(own.cold),
            warm: self.warm.unwrap_or(own.warm),
            warmup: self.warmup.unwrap_or(own.warmup),
        }
    }
}

/// What a run does, once flags, suite and defaults are resolved.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub runtime: Vec<Selector>,
    /// The probe's languages, in the order named, each once.
    pub languages: Vec<Language>,
    /// Whether `--language` named them (not `all`, not the default): then one that
    /// cannot run here is bad input.
    pub languages_named: bool,
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
    /// The variants whose density is measured (empty: every variant).
    pub density_runtimes: Vec<Selector>,
    pub burst: Vec<u64>,
    pub burst_rounds: u64,
    pub time_unit: Option<crate::format::TimeUnit>,
    pub probes_dir: Option<PathBuf>,
    pub suite: Option<PathBuf>,
    pub lambda: crate::runner::lambda::Settings,
    pub vm: crate::runner::vm::Settings,
    /// Whether `--timeout` was given on the command line (a runtime with its own
    /// timeout, a VM, uses it only then).
    pub timeout_given: bool,
    /// Counts given on the command line: they override a runtime's own counts.
    pub command_line_counts: CommandLineCounts,
}

impl RunOptions {
    /// The runtimes and variants to measure: as named, or all of them.
    pub fn selection(&self) -> Vec<Selection> {
        let explicit = self.explicit();
        let mut picked: Vec<Selection> = Vec::new();
        if !explicit {
            for kind in RuntimeKind::ALL {
                picked.push(Selection {
                    kind,
                    variants: kind.variants().to_vec(),
                    explicit,
                    bare: false,
                    named_variants: Vec::new(),
                });
            }
            return picked;
        }
        for sel in &self.runtime {
            let variants: Vec<&'static str> = match sel.variant {
                Some(v) => vec![v],
                None => sel.runtime.variants().to_vec(),
            };
            let have = match picked.iter().position(|p| p.kind == sel.runtime) {
                Some(i) => &mut picked[i],
                None => {
                    picked.push(Selection {
                        kind: sel.runtime,
                        variants: Vec::new(),
                        explicit,
                        bare: false,
                        named_variants: Vec::new(),
                    });
                    picked.last_mut().expect("just pushed")
                }
            };
            for v in variants {
                if !have.variants.contains(&v) {
                    have.variants.push(v);
                }
            }
            match sel.variant {
                Some(v) if !have.named_variants.contains(&v) => have.named_variants.push(v),
                Some(_) => {}
                None => have.bare = true,
            }
        }
        picked
    }

    /// Whether runtimes were named (`--runtime` or the suite's `runtimes`): then a
    /// named runtime or variant that cannot run is bad input, not a skip.
    pub fn explicit(&self) -> bool {
        !self.runtime.is_empty()
    }

    /// The run's parameters as the result file records them (a runtime's own counts
    /// are added once its runner is built).
    pub fn parameters(&self) -> Parameters {
        Parameters {
            cold_samples: self.cold,
            warm_samples: self.warm,
            warmup: self.warmup,
            init_kib: self.init_kib,
            init_iters: self.init_iters,
            invoke_iters: self.invoke_iters,
            timeout_ns: crate::phase::nanos(self.timeout),
            expected_checksum: None,
            variant_counts: Default::default(),
            order: self.order,
            block_size: (self.order == Order::Blocks).then_some(self.block_size),
            settle_ns: crate::phase::nanos(self.settle),
            max_consecutive_failures: self.max_consecutive_failures,
            suite: self.suite.as_ref().map(|p| p.display().to_string()),
            density: self.density,
            density_rounds: self.density.map(|_| self.density_rounds),
            density_runtimes: (self.density.is_some() && !self.density_runtimes.is_empty()).then(
                || {
                    self.density_runtimes
                        .iter()
                        .map(Selector::to_string)
                        .collect()
                },
            ),
            burst: self.burst.clone(),
            burst_rounds: (!self.burst.is_empty()).then_some(self.burst_rounds),
            languages: self.languages.iter().map(|l| l.to_string()).collect(),
            runtimes: if self.explicit() {
                self.runtime
                    .iter()
                    .map(|s| match s.variant {
                        Some(v) => format!("{}:{v}", s.runtime),
                        None => s.runtime.to_string(),
                    })
                    .collect()
            } else {
                vec!["all available".into()]
            },
        }
    }
}

/// Flags over the suite over the defaults.
pub fn resolve(args: RunArgs) -> Result<RunOptions, UsageError> {
    let Loaded {
        suite,
        runtimes: suite_runtimes,
        density_runtimes,
        timeout: suite_timeout,
        settle: suite_settle,
    } = match &args.suite {
        Some(path) => suite::load(path)?,
        None => Default::default(),
    };
    let docker = suite.docker.unwrap_or_default();
    let vm = vm_settings(&args.vm, &suite.vm.clone().unwrap_or_default());
    let timeout_given = args.timeout.is_some();
    let command_line_counts = CommandLineCounts {
        cold: args.cold,
        warm: args.warm,
        warmup: args.warmup,
    };
    let defaults = probe_core::InitParams::DEFAULT;
    let density = args
        .density
        .or(suite.density.as_ref().and_then(|d| d.instances));
    if let (Some(path), Some(_), None) = (&args.suite, &suite.density, density) {
        return Err(UsageError(format!(
            "suite {}: [density] has no instances: give `instances = N` there (or --density N)",
            path.display()
        )));
    }
    let (languages, languages_named) = languages(&args.language);
    Ok(RunOptions {
        languages,
        languages_named,
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
        density,
        density_rounds: args
            .density_rounds
            .or(suite.density.as_ref().and_then(|d| d.rounds))
            .unwrap_or(DEFAULT_DENSITY_ROUNDS),
        density_runtimes,
        burst: args.burst,
        burst_rounds: args.burst_rounds.unwrap_or(DEFAULT_BURST_ROUNDS),
        time_unit: args.time_unit,
        probes_dir: args.probes.probes_dir,
        suite: args.suite,
        lambda: lambda_settings(&args.lambda),
        vm,
        timeout_given,
        command_line_counts,
    })
}

/// The languages of `--language`: each once, in order; `all` is every one; none
/// given is Rust. The flag is whether they were named one by one.
fn languages(choices: &[LanguageChoice]) -> (Vec<Language>, bool) {
    if choices.is_empty() {
        return (vec![Language::Rust], false);
    }
    if choices.contains(&LanguageChoice::All) {
        return (Language::ALL.to_vec(), false);
    }
    let mut languages = Vec::new();
    for choice in choices {
        if let LanguageChoice::One(l) = choice {
            if !languages.contains(l) {
                languages.push(*l);
            }
        }
    }
    (languages, true)
}

/// The Lambda runner's settings from its flags.
pub fn lambda_settings(args: &LambdaArgs) -> lambda::Settings {
    lambda::Settings {
        function_prefix: args.lambda_prefix.clone(),
        region: args.lambda_region.clone(),
        endpoint: args.lambda_endpoint.clone(),
        invoke_endpoint: args.lambda_invoke_endpoint.clone(),
        // Read from the SDK's configuration when the runners are built.
        configured_endpoint: None,
    }
}

/// The vm runner's settings: the flags over the suite's `[vm]` over the defaults.
pub fn vm_settings(args: &VmArgs, suite: &VmSuite) -> vm::Settings {
    let defaults = vm::Settings::default();
    vm::Settings {
        kernel: args.vm_kernel.clone().or(suite.kernel.clone()),
        initrd: args.vm_initrd.clone(),
        image: args.vm_image.clone(),
        memory_mib: args
            .vm_memory_mib
            .or(suite.memory_mib)
            .unwrap_or(defaults.memory_mib),
        cpus: args.vm_cpus.or(suite.cpus).unwrap_or(defaults.cpus),
        accel: args.vm_accel.or(suite.accel).unwrap_or(defaults.accel),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn resolved(suite: &str, flags: &[&str]) -> RunOptions {
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

    #[test]
    fn named_runtimes_merge_in_order_and_say_how_they_were_named() {
        let named = resolved("", &["--runtime", "wasm:pre,process,wasm:jit,wasm:pre"]).selection();
        let kinds: Vec<RuntimeKind> = named.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [RuntimeKind::Wasm, RuntimeKind::Process]);
        assert_eq!(named[0].variants, ["pre", "jit"]);
        assert_eq!(named[0].named_variants, ["pre", "jit"]);
        assert!(named[0].explicit && !named[0].bare);
        assert_eq!(named[1].variants, RuntimeKind::Process.variants());
        assert!(named[1].explicit && named[1].bare && named[1].named_variants.is_empty());

        let all = resolved("", &[]).selection();
        assert_eq!(all.len(), RuntimeKind::ALL.len());
        assert!(all
            .iter()
            .all(|s| !s.explicit && !s.bare && s.named_variants.is_empty()));
        assert!(all.iter().all(|s| s.variants == s.kind.variants()));
    }
}
