//! How an answer fills a [`Sample`]: its response, our stopwatch's times and
//! phases, what the platform reported (kept apart), and the verdict. The loop and
//! the bursts record alike.

use super::verify::Expected;
use crate::phase::PhaseTimes;
use crate::results::{hex, Outcome, Sample};
use crate::runner::{ColdStart, Response};

/// A cold start's answer, times and phases, before its verdict.
pub fn record_cold(sample: &mut Sample, start: &ColdStart) {
    record_response(sample, &start.response);
    record_times(sample, &start.times);
    sample.phases_ns = start
        .times
        .phases
        .iter()
        .map(|(name, ns)| (name.to_string(), *ns))
        .collect();
}

pub fn record_response(sample: &mut Sample, response: &Response) {
    crate::harness_work::note();
    sample.instance_id = Some(hex(response.instance_id));
    sample.invocation_index = Some(response.index);
    sample.checksum = Some(hex(response.checksum));
}

pub fn record_times(sample: &mut Sample, times: &PhaseTimes) {
    crate::harness_work::note();
    sample.total_ns = Some(times.total_ns);
    sample.reported = times
        .reported
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    sample.attempts = times.attempts.filter(|a| *a > 1);
    sample.notes = times.notes.clone();
}

/// What the answer had to be: the expected checksum and the instance nonce it is
/// keyed by.
pub fn record_expected(sample: &mut Sample, expected: &Expected) {
    crate::harness_work::note();
    sample.expected_checksum = Some(hex(expected.checksum));
    sample.instance_nonce = Some(hex(expected.instance_nonce));
}

pub fn record_verdict(sample: &mut Sample, verdict: Result<(), String>) {
    crate::harness_work::note();
    match verdict {
        Ok(()) => {
            sample.ok = true;
            sample.outcome = Outcome::Ok;
        }
        Err(e) => {
            sample.outcome = Outcome::Invalid;
            sample.error = Some(e);
        }
    }
}
