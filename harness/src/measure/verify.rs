//! Verification of every sample, the same for every runner.
//!
//! A cold sample must come from an instance id never seen before in this run, at
//! invocation index 0; a warm one from the live instance it was sent to, at the
//! index after its previous one (so > 0). Both must carry the checksum a correct
//! instance computes for *this* request of *this* start: every start gives the new
//! instance a fresh random instance nonce that keys its init state, and every
//! request carries a fresh random nonce that the probe mixes into its checksum. The
//! harness derives each instance's init state from its instance nonce (from the
//! init memory's unkeyed words, kept once per run) and recomputes the expected value
//! per request, after the answer came; so a cached or replayed answer does not
//! verify, and neither does an instance whose init was made for another start (a
//! restored snapshot, a pre-initialised image). A sample that
//! fails any check is *invalid*: kept in the raw samples with the reason, counted,
//! and never put into a histogram (as SeBS discards and reports them).

use crate::runner::{ColdStart, Request, Response, StartRequest};
use probe_core::{InitParams, InstanceState, Reference};
use std::collections::HashSet;

/// The facts a response is checked against.
#[derive(Debug)]
pub struct Verifier {
    /// The probe's init work for the run's parameters.
    reference: Reference,
    seen: HashSet<u64>,
}

impl Verifier {
    pub fn new(params: InitParams) -> Verifier {
        Verifier {
            reference: Reference::new(params),
            seen: HashSet::new(),
        }
    }

    /// The init state of an instance started with `instance_nonce` (O(64 +
    /// init_iters), after the instance answered, never in front of a timed call).
    pub fn instance(&self, instance_nonce: u64) -> InstanceState {
        crate::harness_work::note();
        self.reference.instance(instance_nonce)
    }

    /// The init state of the instance a cold start made: of the instance nonce it
    /// was asked with, or of the one its runtime gave it instead (per
    /// configuration: Lambda on AWS).
    pub fn started(&self, start: &ColdStart, asked: &StartRequest) -> InstanceState {
        self.instance(start.shared_instance_nonce.unwrap_or(asked.instance_nonce))
    }

    fn checksum(response: &Response, expected: &Expected) -> Result<(), String> {
        if response.checksum == expected.checksum {
            Ok(())
        } else {
            Err(format!(
                "checksum {:016x}, expected {:016x} for nonce {:016x} on an instance \
                 started with instance nonce {:016x}",
                response.checksum, expected.checksum, expected.nonce, expected.instance_nonce
            ))
        }
    }

    /// What a correct instance with init state `instance` answers to `request`:
    /// computed once per request, after its answer came (never in front of a timed
    /// call), and both checked against and recorded.
    pub fn expect(&self, instance: &InstanceState, request: &Request) -> Expected {
        crate::harness_work::note();
        Expected {
            instance_nonce: instance.instance_nonce,
            nonce: request.nonce,
            checksum: self
                .reference
                .checksum(instance, request.iters, request.nonce),
        }
    }

    /// A cold start's first response: a new instance, index 0, right checksum.
    /// The instance id is remembered either way, so it can never count as new again.
    pub fn cold(&mut self, response: &Response, expected: &Expected) -> Result<(), String> {
        crate::harness_work::note();
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
        crate::harness_work::note();
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
    pub instance_nonce: u64,
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

    /// The instance nonce every test instance here was started with.
    const STARTED: u64 = 77;

    fn answer(instance_id: u64, index: u64, request: &Request) -> Response {
        Response {
            instance_id,
            index,
            checksum: probe_core::expected_checksum(PARAMS, STARTED, request.iters, request.nonce),
        }
    }

    fn expect(v: &Verifier, r: &Request) -> Expected {
        v.expect(&v.instance(STARTED), r)
    }

    #[test]
    fn cold_needs_a_new_instance_at_index_zero() {
        let mut v = Verifier::new(PARAMS);
        let r = request(11);
        assert_eq!(v.cold(&answer(1, 0, &r), &expect(&v, &r)), Ok(()));
        assert!(v
            .cold(&answer(1, 0, &r), &expect(&v, &r))
            .unwrap_err()
            .contains("seen before"));
        assert!(v
            .cold(&answer(2, 1, &r), &expect(&v, &r))
            .unwrap_err()
            .contains("index 1"));
        let mut wrong = answer(3, 0, &r);
        wrong.checksum ^= 1;
        assert!(v
            .cold(&wrong, &expect(&v, &r))
            .unwrap_err()
            .contains("checksum"));
        // An id first seen in an invalid sample is still not new later.
        assert!(v.cold(&answer(3, 0, &r), &expect(&v, &r)).is_err());
    }

    #[test]
    fn warm_needs_the_live_instance_and_the_next_index() {
        let v = Verifier::new(PARAMS);
        let r = request(12);
        assert_eq!(v.warm(&answer(5, 3, &r), &expect(&v, &r), 5, 2), Ok(()));
        assert!(v
            .warm(&answer(6, 3, &r), &expect(&v, &r), 5, 2)
            .unwrap_err()
            .contains("live instance"));
        assert!(v
            .warm(&answer(5, 0, &r), &expect(&v, &r), 5, 2)
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
        let err = v.warm(&replay, &expect(&v, &second), 5, 2).unwrap_err();
        assert!(err.contains("checksum") && err.contains("nonce"), "{err}");
        assert_eq!(
            v.warm(&answer(5, 3, &second), &expect(&v, &second), 5, 2),
            Ok(())
        );
        let err = v
            .cold(&answer(9, 0, &first), &expect(&v, &second))
            .unwrap_err();
        assert!(err.contains("checksum"), "{err}");
    }

    #[test]
    fn an_init_made_for_another_start_is_invalid() {
        // A restored or pre-initialised instance: a new id at index 0 with the right
        // request nonce, but the init state of another instance nonce.
        let mut v = Verifier::new(PARAMS);
        let r = request(3);
        let restored = Response {
            instance_id: 1,
            index: 0,
            checksum: probe_core::expected_checksum(PARAMS, STARTED + 1, r.iters, r.nonce),
        };
        let err = v.cold(&restored, &expect(&v, &r)).unwrap_err();
        assert!(err.contains("instance nonce 000000000000004d"), "{err}");
        assert_eq!(v.cold(&answer(2, 0, &r), &expect(&v, &r)), Ok(()));
    }
}
