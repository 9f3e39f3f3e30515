//! The harness's own work between samples (verifying, recording, handing a sample
//! to the writer, reading the host's memory), counted per thread so that an
//! instrumented runner ([`crate::runner::mock::MockRunner::instrumented`]) can check
//! that none of it runs inside one of its windows. One add to a thread-local
//! counter per call.

use std::cell::Cell;

thread_local! {
    static CALLS: Cell<u64> = const { Cell::new(0) };
}

/// Counts one piece of harness work on this thread.
#[inline]
pub fn note() {
    CALLS.with(|c| c.set(c.get() + 1));
}

/// Harness work counted on this thread so far.
pub fn calls() -> u64 {
    CALLS.with(Cell::get)
}
