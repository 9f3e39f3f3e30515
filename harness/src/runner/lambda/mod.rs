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
//!   stopwatch: phase `invoke`, the signed request's round trip (serializing and
//!   SigV4 signing are before the clock: [`invoke::TransmitClock`]). Lambda's own REPORT figures
//!   (Init Duration, Duration, Billed Duration, Max Memory Used) are another clock:
//!   they are kept in the sample's `reported` and summarized apart, never mixed into
//!   our phases. A "cold" call whose REPORT has no Init Duration was served by an
//!   environment made ahead of it and is counted invalid, never as a zero init.
//! * **warm**: one `Invoke` of the run's own published version, whose environment
//!   lives through the cold starts (they update `$LATEST` only).
//!
//! Variant `local-emulator` ([`emulator`]) runs the same `bootstrap` on this machine
//! under cargo-lambda's Runtime API emulator, started by the harness: **cold** is
//! from spawning a new `bootstrap` process (phase `spawn`), through building its
//! unsigned `Invoke` (`request`), until its response through the emulator
//! (`first_response`); **warm** is an `Invoke` of a live one. Its figures are local: they say what the Runtime API round trip
//! adds, never what AWS costs.
//!
//! Both use the same [`invoke`] path through the SDK with its retries off (one
//! attempt per timed call, so a handler error never runs three times); throttling
//! (429) is retried after a bounded backoff outside the timed window (the clock
//! restarts with each attempt; for the emulator's cold start the backoff would land
//! in `request`, on one contiguous clock; the emulator throttles none) and the
//! sample records its `attempts`.

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

/// The environment variable that gives a start its instance nonce (the probe keys
/// its init state with it); on AWS its fresh value is also what forces a new
/// execution environment.
pub use probe_core::protocol::INSTANCE_NONCE_VAR;

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
    /// The endpoint the SDK's own configuration sets (`AWS_ENDPOINT_URL_LAMBDA`,
    /// `AWS_ENDPOINT_URL`, a profile's `endpoint_url`), which the clients use where
    /// no flag is given: read when the runners are built.
    pub configured_endpoint: Option<String>,
}

impl Settings {
    /// `aws` when every endpoint is AWS's own (none overridden, or each override's
    /// host under `amazonaws.com`, `amazonaws.com.cn` or `api.aws`); otherwise
    /// `local (…)`, naming the stand-in: such a run is never judged as AWS.
    pub fn location(&self) -> String {
        let stand_ins: Vec<String> = self
            .endpoints()
            .into_iter()
            .filter(|(_, url)| !is_aws_host(endpoint_host(url)))
            .map(|(name, url)| format!("{name} {url}"))
            .collect();
        if stand_ins.is_empty() {
            "aws".into()
        } else {
            format!("local (a stand-in for AWS: {})", stand_ins.join(", "))
        }
    }

    /// The endpoints the clients use in place of AWS's own, by detail name (a flag,
    /// else the SDK's configured one), without any user name or password in them.
    pub fn endpoints(&self) -> Vec<(&'static str, String)> {
        [
            ("control_endpoint", &self.endpoint),
            ("invoke_endpoint", &self.invoke_endpoint),
        ]
        .into_iter()
        .filter_map(|(name, url)| {
            let url = url.as_deref().or(self.configured_endpoint.as_deref())?;
            Some((name, without_userinfo(url)))
        })
        .collect()
    }
}

/// `scheme://user:pass@host` → `scheme://host`.
fn without_userinfo(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let rest = match rest[..authority_end].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    if scheme.is_empty() {
        rest.to_string()
    } else {
        format!("{scheme}://{rest}")
    }
}

/// The host of an endpoint URL: no scheme, user, port or path.
fn endpoint_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

fn is_aws_host(host: String) -> bool {
    ["amazonaws.com", "amazonaws.com.cn", "api.aws"]
        .iter()
        .any(|domain| host == *domain || host.ends_with(&format!(".{domain}")))
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            function_prefix: "coldstart-probe".into(),
            region: None,
            endpoint: None,
            invoke_endpoint: None,
            configured_endpoint: None,
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
    if !ctx.language.is_rust() {
        // Only the emulator runs the other languages' own Runtime API loops so far.
        built.extend(in_aws.iter().map(|variant| Built::Skipped {
            variant,
            reason: format!(
                "`coldstart lambda deploy` deploys the Rust bootstrap only: the {} \
                 function (a managed runtime) is not deployed by this coldstart yet",
                ctx.language
            ),
        }));
    } else if !in_aws.is_empty() {
        built.extend(aws::build(&in_aws, ctx).await);
    }
    Ok(built)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_aws_hosts_make_an_aws_location() {
        let with = |endpoint: Option<&str>, invoke: Option<&str>| Settings {
            endpoint: endpoint.map(String::from),
            invoke_endpoint: invoke.map(String::from),
            ..Settings::default()
        };
        assert_eq!(with(None, None).location(), "aws");
        let aws = with(
            Some("https://lambda.eu-west-1.amazonaws.com"),
            Some("https://lambda-fips.us-gov-west-1.amazonaws.com:443/"),
        );
        assert_eq!(aws.location(), "aws");
        for stand_in in [
            "http://127.0.0.1:5000",
            "http://localhost:9001/",
            "http://[::1]:5000",
            "https://amazonaws.com.evil.example",
            "https://lambda.us-east-1.amazonaws.com@127.0.0.1:5000",
        ] {
            let location = with(None, Some(stand_in)).location();
            assert!(location.starts_with("local"), "{stand_in}: {location}");
            let location = with(Some(stand_in), None).location();
            assert!(location.starts_with("local"), "{stand_in}: {location}");
        }
        let leaky = with(Some("http://user:secret@127.0.0.1:5000/x"), None);
        assert_eq!(
            leaky.endpoints(),
            vec![("control_endpoint", "http://127.0.0.1:5000/x".to_string())]
        );
        assert!(!leaky.location().contains("secret"));
        // An endpoint from the SDK's own configuration counts where no flag is given.
        let configured = Settings {
            configured_endpoint: Some("http://127.0.0.1:4566".into()),
            ..with(None, Some("https://lambda.us-east-1.amazonaws.com"))
        };
        assert!(configured.location().starts_with("local"));
        assert_eq!(
            configured.endpoints()[0],
            ("control_endpoint", "http://127.0.0.1:4566".to_string())
        );
    }

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
