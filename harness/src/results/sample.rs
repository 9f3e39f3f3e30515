//! One raw sample as the result file keeps it: what was asked, what came back, our
//! stopwatch's phases, what the platform reported (apart), and the verdict.

use super::{hex, RunnerKey};
use crate::probes::Language;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A cold start or a warm invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Cold,
    Warm,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Cold => "cold",
            Mode::Warm => "warm",
        }
    }
}

/// What became of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered and verified: in the histograms.
    Ok,
    /// Answered, but failed verification: counted, not in the histograms.
    Invalid,
    /// No answer (crash, timeout, runtime error): counted, not in the histograms.
    Failed,
}

/// One raw sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Position in the run's work order (0-based).
    pub seq: u64,
    pub runtime: String,
    pub variant: String,
    /// The language of the probe that answered; absent for Rust.
    #[serde(default, skip_serializing_if = "Language::is_rust")]
    pub language: Language,
    pub mode: Mode,
    /// The answering instance (16 hex digits); null when there was no answer.
    pub instance_id: Option<String>,
    /// The instance's invocation counter in its answer (0 = first).
    pub invocation_index: Option<u64>,
    /// The checksum answered (16 hex digits).
    pub checksum: Option<String>,
    /// The request's nonce (16 hex digits): the checksum must depend on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The checksum a correct instance answers to this request (16 hex digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_checksum: Option<String>,
    /// The instance nonce the instance asked was started with (16 hex digits): its
    /// init state, and so `expected_checksum`, is keyed by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_nonce: Option<String>,
    /// The block the sample belongs to, with order `blocks` or `sequential`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<u64>,
    /// The whole cold start or round trip, ns; null when there was no answer.
    pub total_ns: Option<u64>,
    /// Each phase, ns (cold: the runner's phases; warm: none besides total).
    pub phases_ns: BTreeMap<String, u64>,
    /// Time to stop and remove the instance after a cold sample, ns (not part of cold).
    pub teardown_ns: Option<u64>,
    /// Why stopping or removing the sample's instance failed; the start itself was
    /// measured and stays valid, but the run's exit code is 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teardown_error: Option<String>,
    /// What the platform itself reported for the sample (Lambda's REPORT line:
    /// `init_duration_ns`, `duration_ns`, `billed_duration_ns`, `max_memory_used_mb`),
    /// raw: another clock than ours, never part of `phases_ns` or `total_ns`; absent
    /// for runtimes that report nothing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reported: BTreeMap<String, u64>,
    /// Attempts the answering request needed (a throttled call is retried outside
    /// the timed region, whose clock restarts with each attempt); absent when one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// Flags worth a reader's attention, e.g. a platform-reported time larger than
    /// our measured round trip.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A burst's cold start: how many were launched with it at one instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u64>,
    /// A burst's cold start: its round (0-based) at that concurrency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<u64>,
    /// True when the sample is valid and in the histograms.
    pub ok: bool,
    pub outcome: Outcome,
    /// Why the sample is invalid or failed; null when ok.
    pub error: Option<String>,
}

impl Sample {
    /// The row this sample belongs to.
    pub fn key(&self) -> RunnerKey {
        RunnerKey {
            runtime: self.runtime.clone(),
            variant: self.variant.clone(),
            language: self.language,
        }
    }

    /// Whether this sample belongs to the row `key` names.
    pub fn is_of(&self, key: &RunnerKey) -> bool {
        self.runtime == key.runtime && self.variant == key.variant && self.language == key.language
    }

    /// A sample of one request, before its answer: failed until one is recorded.
    pub fn unanswered(seq: u64, key: &RunnerKey, mode: Mode, nonce: u64) -> Sample {
        Sample {
            seq,
            runtime: key.runtime.clone(),
            variant: key.variant.clone(),
            language: key.language,
            mode,
            instance_id: None,
            invocation_index: None,
            checksum: None,
            nonce: Some(hex(nonce)),
            // Set once the answer came: nothing is computed in front of the call.
            expected_checksum: None,
            instance_nonce: None,
            block: None,
            total_ns: None,
            phases_ns: BTreeMap::new(),
            teardown_ns: None,
            teardown_error: None,
            reported: BTreeMap::new(),
            attempts: None,
            notes: Vec::new(),
            concurrency: None,
            round: None,
            ok: false,
            outcome: Outcome::Failed,
            error: None,
        }
    }
}
