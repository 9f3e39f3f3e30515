//! Verification of every sample, the same for every runner.
//!
//! A cold sample must come from an instance id never seen before in this run, at
//! invocation index 0; a warm one from the live instance it was sent to, at the
//! index after its previous one (so > 0). Both must carry the checksum the probe
//! core computes in the harness process for the run's parameters. A sample that
//! fails any check is *invalid*: kept in the raw samples with the reason, counted,
//! and never put into a histogram (as SeBS discards and reports them).

use crate::runner::Response;
use std::collections::HashSet;

/// The facts a response is checked against.
#[derive(Debug, Default)]
pub struct Verifier {
    expected_checksum: u64,
    seen: HashSet<u64>,
}

impl Verifier {
    pub fn new(expected_checksum: u64) -> Verifier {
        Verifier {
            expected_checksum,
            seen: HashSet::new(),
        }
    }

    fn checksum(&self, response: &Response) -> Result<(), String> {
        if response.checksum == self.expected_checksum {
            Ok(())
        } else {
            Err(format!(
                "checksum {:016x}, expected {:016x}",
                response.checksum, self.expected_checksum
            ))
        }
    }

    /// A cold start's first response: a new instance, index 0, right checksum.
    /// The instance id is remembered either way, so it can never count as new again.
    pub fn cold(&mut self, response: &Response) -> Result<(), String> {
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
        self.checksum(response)
    }

    /// A warm response from the live instance `live_id`, whose previous answer had
    /// index `previous_index`.
    pub fn warm(
        &self,
        response: &Response,
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
        self.checksum(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(instance_id: u64, index: u64, checksum: u64) -> Response {
        Response {
            instance_id,
            index,
            checksum,
        }
    }

    #[test]
    fn cold_needs_a_new_instance_at_index_zero() {
        let mut v = Verifier::new(7);
        assert_eq!(v.cold(&response(1, 0, 7)), Ok(()));
        assert!(v
            .cold(&response(1, 0, 7))
            .unwrap_err()
            .contains("seen before"));
        assert!(v.cold(&response(2, 1, 7)).unwrap_err().contains("index 1"));
        assert!(v.cold(&response(3, 0, 8)).unwrap_err().contains("checksum"));
        // An id first seen in an invalid sample is still not new later.
        assert!(v.cold(&response(3, 0, 7)).is_err());
    }

    #[test]
    fn warm_needs_the_live_instance_and_the_next_index() {
        let v = Verifier::new(7);
        assert_eq!(v.warm(&response(5, 3, 7), 5, 2), Ok(()));
        assert!(v
            .warm(&response(6, 3, 7), 5, 2)
            .unwrap_err()
            .contains("live instance"));
        assert!(v
            .warm(&response(5, 0, 7), 5, 2)
            .unwrap_err()
            .contains("index 0"));
        assert!(v
            .warm(&response(5, 3, 9), 5, 2)
            .unwrap_err()
            .contains("checksum"));
    }
}
