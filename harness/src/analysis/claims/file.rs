//! The claims file's schema: what tests each claim of the article, the claimed range,
//! and how many valid samples a judged figure needs. Parsing fills in the file's
//! default `min_samples` so the judging code reads one number per claim.

use crate::probes::Language;
use crate::results::Mode;
use serde::Deserialize;

/// The claims shipped with coldstart (fixtures/claims.toml).
pub const BUILTIN: &str = include_str!("../../../../fixtures/claims.toml");

/// Valid samples a judged figure needs unless the claims file says otherwise.
pub const DEFAULT_MIN_SAMPLES: u64 = 30;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimsFile {
    /// Valid samples every side of a judged time needs (default 30).
    min_samples: Option<u64>,
    claim: Vec<Claim>,
}

/// One claim of the article.
#[derive(Debug, Clone, Deserialize)]
pub struct Claim {
    pub id: String,
    /// The article's sentence, verbatim.
    pub quote: String,
    /// Its line in the article's text.
    pub line: u32,
    /// How the test relates to the claim, when it is not the claim's own subject.
    pub note: Option<String>,
    pub measure: Measure,
    pub range: Range,
    /// Valid samples each judged side needs; set from the file's `min_samples` (or
    /// [`DEFAULT_MIN_SAMPLES`]) when the claim has none of its own.
    pub min_samples: Option<u64>,
}

/// What tests a claim.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Measure {
    Latency(Target),
    Ratio {
        numerator: Target,
        denominator: Target,
    },
    Size(SizeTarget),
    SizeRatio {
        numerator: SizeTarget,
        denominator: SizeTarget,
    },
    /// `inside / outside - 1` of two p50s of the same run: the cost of a layer
    /// (a hypervisor), judged only on hardware-virtualized rows and only when the
    /// invocation is CPU-bound enough (`min_invoke_iters`) that the transport's round
    /// trip does not dominate.
    Overhead {
        inside: Target,
        outside: Target,
        min_invoke_iters: u64,
    },
    /// Memory per live instance (`--density`), read in one view; judged on the
    /// median over the rounds.
    Memory(MemoryTarget),
    /// numerator's memory per instance / denominator's, both in the same view.
    MemoryRatio {
        numerator: MemoryTarget,
        denominator: MemoryTarget,
    },
    /// numerator language's p50 / denominator language's, on every runtime variant
    /// where both ran (`process:native:java / process:native:python`): the same
    /// compute model, the same workload, another language.
    LanguageRatio {
        numerator: Language,
        denominator: Language,
        mode: Mode,
        phase: String,
        /// Runtimes never judged against this claim.
        #[serde(default)]
        exclude_runtimes: Vec<String>,
    },
    Unmeasured {
        what: String,
    },
}

/// Memory per live instance of a runtime, in one view.
#[derive(Debug, Clone, Deserialize)]
pub struct MemoryTarget {
    pub runtime: String,
    pub variant: Option<String>,
    /// The probe's language (default `rust`).
    #[serde(default)]
    pub language: Language,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub view: MemoryView,
}

/// How memory per instance was read (see `density`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemoryView {
    /// MemAvailable before minus with the instances live, per instance.
    Host,
    /// PSS of the instances' processes (or the harness's growth), per instance.
    Pss,
}

impl MemoryView {
    pub(super) fn words(self) -> &'static str {
        match self {
            MemoryView::Host => "host view: MemAvailable drop per live instance",
            MemoryView::Pss => {
                "PSS view: what each instance holds (its processes' PSS; for Wasm the \
                 larger of the harness's growth and its linear memory's resident pages)"
            }
        }
    }
}

/// A phase time of a runtime (every measured variant when `variant` is absent).
#[derive(Debug, Clone, Deserialize)]
pub struct Target {
    pub runtime: String,
    pub variant: Option<String>,
    /// The probe's language (default `rust`: a claim about a compute model reads
    /// the Rust probe's rows, its floor).
    #[serde(default)]
    pub language: Language,
    /// Variants never judged against this claim (`local-emulator`: local figures
    /// are not the cloud's).
    #[serde(default)]
    pub exclude: Vec<String>,
    pub mode: Mode,
    pub phase: String,
}

/// The artifact size of a runtime.
#[derive(Debug, Clone, Deserialize)]
pub struct SizeTarget {
    pub runtime: String,
    pub variant: Option<String>,
    /// The probe's language (default `rust`).
    #[serde(default)]
    pub language: Language,
    /// Variants never judged against this claim.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// The claimed range; a missing bound is open.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Range {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// Parses a claims file.
pub fn parse(text: &str) -> Result<Vec<Claim>, String> {
    let file = toml::from_str::<ClaimsFile>(text).map_err(|e| format!("not a claims file: {e}"))?;
    let default = file.min_samples.unwrap_or(DEFAULT_MIN_SAMPLES);
    let mut claims = file.claim;
    for c in &mut claims {
        let min = *c.min_samples.get_or_insert(default);
        if min == 0 {
            return Err(format!(
                "claim {}: min_samples 0 would judge a figure of no sample (e.g. 30)",
                c.id
            ));
        }
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_claims_parse_and_cover_the_article() {
        let claims = parse(BUILTIN).unwrap();
        let ids: Vec<&str> = claims.iter().map(|c| c.id.as_str()).collect();
        for id in [
            "vm-boot",
            "container-startup",
            "faas-cold-start",
            "faas-sub-100ms",
            "wasm-startup-microseconds",
            "wasm-vs-container-startup",
            "workers-sub-millisecond",
            "wasm-module-size",
            "image-vs-module-size",
            "container-density",
            "hypervisor-overhead",
            "java-slower-than-python",
            "java-slower-than-node",
            "go-faster-than-python",
            "go-faster-than-node",
            "go-faster-than-java",
            "graalvm-native-image",
            "wasm-near-native-rust",
            "wasm-near-native-go",
        ] {
            assert!(ids.contains(&id), "{id} missing");
        }
        let article = include_str!("../../../../fixtures/article.txt");
        for c in &claims {
            let line = article.lines().nth(c.line as usize - 1).unwrap();
            assert!(
                line.contains(c.quote.trim_start_matches("Smaller footprint — ")),
                "{}: line {} is {line:?}",
                c.id,
                c.line
            );
        }
    }
}
