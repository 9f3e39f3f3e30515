//! Verification of every sample, the same for every runner.
//!
//! A cold sample must come from an instance id never seen before in this run, at
//! invocation index 0; a warm one from the live instance it was sent to, at the
//! index after its previous one (so > 0). Both must carry the checksum a correct
//! instance computes for *this* request: every request carries a fresh random
//! nonce that the probe mixes into its checksum, so the harness recomputes the
//! expected value per request (on its own copy of the probe's init state, built
//! once per run), and a cached or replayed answer does not verify. A sample that
//! fails any check is *invalid*: kept in the raw samples with the reason, counted,
//! and never put into a histogram (as SeBS discards and reports them).

use crate::runner::{Request, Response};
use probe_core::{InitParams, Probe};
use std::collections::HashSet;

/// The facts a response is checked against.
#[derive(Debug)]
pub struct Verifier {
    /// The probe's init state for the run's parameters (instance id irrelevant).
    reference: Probe,
    seen: HashSet<u64>,
}

impl Verifier {
    /// Does the init work once, as every instance of the run does.
    pub fn new(params: InitParams) -> Verifier {
        Verifier {
            reference: Probe::init(0, params),
            seen: HashSet::new(),
        }
    }

    /// The checksum a correct instance answers to `request`.
    pub fn expected(&self, request: &Request) -> u64 {
        self.reference.checksum(request.iters, request.nonce)
    }

    fn checksum(response: &Response, expected: &Expected) -> Result<(), String> {
        if response.checksum == expected.checksum {
            Ok(())
        } else {
            Err(format!(
                "checksum {:016x}, expected {:016x} for nonce {:016x}",
                response.checksum, expected.checksum, expected.nonce
            ))
        }
    }

    /// What a correct instance answers to `request`: computed once per request,
    /// after its answer came (never in front of a timed call), and both checked
    /// against and recorded.
    pub fn expect(&self, request: &Request) -> Expected {
        Expected {
            nonce: request.nonce,
            checksum: self.expected(request),
        }
    }

    /// A cold start's first response: a new instance, index 0, right checksum.
    /// The instance id is remembered either way, so it can never count as new again.
    pub fn cold(&mut self, response: &Response, expected: &Expected) -> Result<(), String> {
        if !self.seen.insert(response.instance_id) {
            return Err(format!(
                "instance {:016x} was seen before: not a new instance",
                response.instance_id
            ));
        }
        if response.index != 0 {
            return Err(format!(
                "invocation index {}, a new instance answers 0",
                response.index
            ));
        }
        Self::checksum(response, expected)
    }

    /// A warm response from the live instance `live_id`, whose previous answer had
    /// index `previous_index`.
    pub fn warm(
        &self,
        response: &Response,
        expected: &Expected,
        live_id: u64,
        previous_index: u64,
    ) -> Result<(), String> {
        if response.instance_id != live_id {
            return Err(format!(
                "answered by instance {:016x}, sent to the live instance {live_id:016x}",
                response.instance_id
            ));
        }
        if response.index != previous_index + 1 {
            return Err(format!(
                "invocation index {}, expected {} on a reused instance",
                response.index,
                previous_index + 1
            ));
        }
        Self::checksum(response, expected)
    }
}

/// The checksum one request must be answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub nonce: u64,
    pub checksum: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARAMS: InitParams = InitParams::DEFAULT;

    fn request(nonce: u64) -> Request {
        Request {
            seq: 1,
            nonce,
            iters: 50,
        }
    }

    fn answer(instance_id: u64, index: u64, request: &Request) -> Response {
        Response {
            instance_id,
            index,
            checksum: probe_core::expected_checksum(PARAMS, request.iters, request.nonce),
        }
    }

    #[test]
    fn cold_needs_a_new_instance_at_index_zero() {
        let mut v = Verifier::new(PARAMS);
        let r = request(11);
        assert_eq!(v.cold(&answer(1, 0, &r), &v.expect(&r)), Ok(()));
        assert!(v
            .cold(&answer(1, 0, &r), &v.expect(&r))
            .unwrap_err()
            .contains("seen before"));
        assert!(v
            .cold(&answer(2, 1, &r), &v.expect(&r))
            .unwrap_err()
            .contains("index 1"));
        let mut wrong = answer(3, 0, &r);
        wrong.checksum ^= 1;
        assert!(v
            .cold(&wrong, &v.expect(&r))
            .unwrap_err()
            .contains("checksum"));
        // An id first seen in an invalid sample is still not new later.
        assert!(v.cold(&answer(3, 0, &r), &v.expect(&r)).is_err());
    }

    #[test]
    fn warm_needs_the_live_instance_and_the_next_index() {
        let v = Verifier::new(PARAMS);
        let r = request(12);
        assert_eq!(v.warm(&answer(5, 3, &r), &v.expect(&r), 5, 2), Ok(()));
        assert!(v
            .warm(&answer(6, 3, &r), &v.expect(&r), 5, 2)
            .unwrap_err()
            .contains("live instance"));
        assert!(v
            .warm(&answer(5, 0, &r), &v.expect(&r), 5, 2)
            .unwrap_err()
            .contains("index 0"));
    }

    #[test]
    fn a_replayed_answer_is_invalid() {
        let mut v = Verifier::new(PARAMS);
        let first = request(1);
        let second = request(2);
        // Right instance, right index, but the checksum of the previous request.
        let replay = answer(5, 3, &first);
        let err = v.warm(&replay, &v.expect(&second), 5, 2).unwrap_err();
        assert!(err.contains("checksum") && err.contains("nonce"), "{err}");
        assert_eq!(
            v.warm(&answer(5, 3, &second), &v.expect(&second), 5, 2),
            Ok(())
        );
        let err = v
            .cold(&answer(9, 0, &first), &v.expect(&second))
            .unwrap_err();
        assert!(err.contains("checksum"), "{err}");
    }
}
