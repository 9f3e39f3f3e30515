//! The `lambda` runner: the probe's Lambda `bootstrap` (lambda_runtime, provided.al2023)
//! invoked through aws-sdk-lambda, in AWS or against a local stand-in.
//!
//! Variants `<arch>-<memory>mb` ([`aws`]) measure a function in AWS, one per
//! architecture and memory size, named `<prefix>-<variant>` and made by
//! `coldstart lambda deploy` ([`crate::command::lambda`]):
//! * **cold**: a new execution environment is forced the way lambda-perf and SeBS
//!   do it, outside the timed region (read the configuration, update it with the
//!   merged environment plus a fresh nonce variable, wait until the update is
//!   `Successful`); then one `Invoke` (RequestResponse, LogType=Tail) is timed by our
//!   stopwatch: phase `invoke`, the client's round trip. Lambda's own REPORT figures
//!   (Init Duration, Duration, Billed Duration, Max Memory Used) are another clock:
//!   they are kept in the sample's `reported` and summarized apart, never mixed into
//!   our phases. A "cold" call whose REPORT has no Init Duration was served by an
//!   environment made ahead of it and is counted invalid, never as a zero init.
//! * **warm**: one `Invoke` of the run's own published version, whose environment
//!   lives through the cold starts (they update `$LATEST` only).
//!
//! Variant `local-emulator` ([`emulator`]) runs the same `bootstrap` on this machine
//! under cargo-lambda's Runtime API emulator, started by the harness: **cold** is
//! from spawning a new `bootstrap` process (phase `spawn`) until the response of its
//! first `Invoke` through the emulator (`first_response`); **warm** is an `Invoke`
//! of a live one. Its figures are local: they say what the Runtime API round trip
//! adds, never what AWS costs.
//!
//! Both use the same [`invoke`] path through the SDK with its retries off (one
//! attempt per timed call, so a handler error never runs three times); throttling
//! (429) is retried after a bounded backoff outside the timed region (the clock
//! restarts with each attempt) and the sample records its `attempts`.

pub mod aws;
pub mod emulator;
pub mod invoke;
pub mod report;
pub mod sdk;

use super::{Availability, Built, RunContext, RuntimeKind};
use crate::probes::ProbeArtifacts;
use std::collections::BTreeMap;

/// The local stand-in's variant name.
pub const LOCAL: &str = "local-emulator";

/// Every variant: the local stand-in, then AWS by architecture and memory size.
pub const VARIANTS: &[&str] = &[
    LOCAL,
    "x86_64-128mb",
    "x86_64-512mb",
    "x86_64-1024mb",
    "arm64-128mb",
    "arm64-512mb",
    "arm64-1024mb",
];

/// Lambda in AWS: every variant after the first. (`--runtime lambda` names all of
/// them; the local stand-in's figures are labelled `location: local` and never
/// judged as AWS's.)
pub fn aws_variants() -> &'static [&'static str] {
    &VARIANTS[1..]
}

/// The environment variable whose fresh value forces a new execution environment.
pub const NONCE_VAR: &str = "COLDSTART_NONCE";

/// Where and what to measure, from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Functions are named `<prefix>-<variant>`.
    pub function_prefix: String,
    /// Overrides the region of the AWS config chain.
    pub region: Option<String>,
    /// Control-plane endpoint (GetFunctionConfiguration, UpdateFunctionConfiguration).
    pub endpoint: Option<String>,
    /// Invoke endpoint.
    pub invoke_endpoint: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            function_prefix: "coldstart-probe".into(),
            region: None,
            endpoint: None,
            invoke_endpoint: None,
        }
    }
}

/// A Lambda architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Arm64,
}

impl Arch {
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The file in the probes directory holding this architecture's `bootstrap`.
    pub fn bootstrap_file(self) -> &'static str {
        match self {
            Arch::X86_64 => "bootstrap",
            Arch::Arm64 => "bootstrap-arm64",
        }
    }
}

/// `x86_64-512mb` -> (x86_64, 512); `None` for `local-emulator`.
pub fn parse_variant(variant: &str) -> Option<(Arch, i32)> {
    let (arch, memory) = variant.split_once('-')?;
    let arch = match arch {
        "x86_64" => Arch::X86_64,
        "arm64" => Arch::Arm64,
        _ => return None,
    };
    let memory = memory.strip_suffix("mb")?.parse().ok()?;
    Some((arch, memory))
}

/// The name of the function a variant measures.
pub fn function_name(prefix: &str, variant: &str) -> String {
    format!("{prefix}-{variant}")
}

/// The AWS variants for the given architectures and memory sizes (as `deploy` takes them).
pub fn variant_name(arch: Arch, memory_mb: i32) -> String {
    format!("{}-{memory_mb}mb", arch.name())
}

/// The environment the probe's init reads, for the run's parameters.
pub fn probe_env(ctx: &RunContext) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "COLDSTART_INIT_KIB".to_string(),
            ctx.params.init_kib.to_string(),
        ),
        (
            "COLDSTART_INIT_ITERS".to_string(),
            ctx.params.init_iters.to_string(),
        ),
    ])
}

/// The x86_64 `bootstrap` of the probes directory.
fn bootstrap(probes: &ProbeArtifacts) -> std::path::PathBuf {
    probes.dir.join(Arch::X86_64.bootstrap_file())
}

/// Whether each variant can run here: the emulator needs cargo-lambda and the
/// bootstrap; AWS needs a region and credentials (checked, never recorded).
pub async fn detect(probes: &Result<ProbeArtifacts, String>, settings: &Settings) -> Availability {
    let mut versions = sdk::sdk_versions();
    let mut unavailable_variants = Vec::new();
    let probes = match probes {
        Ok(p) => p,
        Err(e) => {
            return Availability {
                runtime: RuntimeKind::Lambda,
                variants: VARIANTS,
                versions,
                unavailable: Some(e.clone()),
                unavailable_variants,
            }
        }
    };
    let bootstrap = bootstrap(probes);
    if !bootstrap.is_file() {
        return Availability {
            runtime: RuntimeKind::Lambda,
            variants: VARIANTS,
            versions,
            unavailable: Some(format!(
                "the Lambda probe {} is missing: build the probes with scripts/build-probes.sh",
                bootstrap.display()
            )),
            unavailable_variants,
        };
    }
    match emulator::cargo_lambda_version().await {
        Ok(version) => {
            versions.insert("cargo-lambda".into(), version);
        }
        Err(reason) => unavailable_variants.push((LOCAL, reason)),
    }
    if let Err(reason) = sdk::access(settings).await {
        for variant in aws_variants() {
            unavailable_variants.push((*variant, reason.clone()));
        }
    }
    Availability {
        runtime: RuntimeKind::Lambda,
        variants: VARIANTS,
        versions,
        unavailable: None,
        unavailable_variants,
    }
}

/// Builds one runner per selected variant; a variant that cannot run here (no
/// cargo-lambda, no credentials, no such function) is skipped with the reason.
/// [`detect`] has already been asked whether the runtime can run at all; each
/// variant's own check (cargo-lambda, the credential chain) is made once, here.
pub async fn build(variants: &[&'static str], ctx: &RunContext) -> anyhow::Result<Vec<Built>> {
    let mut built = Vec::new();
    if variants.contains(&LOCAL) {
        built.push(match emulator::build(ctx).await {
            Ok(runner) => Built::Ready(runner),
            Err(e) => Built::Skipped {
                variant: LOCAL,
                reason: format!("{e:#}"),
            },
        });
    }
    let in_aws: Vec<&'static str> = variants.iter().copied().filter(|v| *v != LOCAL).collect();
    if !in_aws.is_empty() {
        built.extend(aws::build(&in_aws, ctx).await);
    }
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_name_architecture_and_memory() {
        assert_eq!(parse_variant("x86_64-512mb"), Some((Arch::X86_64, 512)));
        assert_eq!(parse_variant("arm64-1024mb"), Some((Arch::Arm64, 1024)));
        assert_eq!(parse_variant(LOCAL), None);
        assert_eq!(VARIANTS[0], LOCAL);
        for v in aws_variants() {
            let (arch, mb) = parse_variant(v).unwrap();
            assert_eq!(variant_name(arch, mb), *v);
            assert!(VARIANTS.contains(v));
        }
        assert_eq!(
            function_name("coldstart-probe", "arm64-128mb"),
            "coldstart-probe-arm64-128mb"
        );
    }
}
