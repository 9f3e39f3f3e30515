//! The launch gate of a burst: every cold start of a round does its spawn (the
//! harness's own synchronous work, a fork/exec), then holds here until all of them
//! have, so no instance's later phases absorb another's spawn.
//!
//! The harness measures on one thread: without the gate, the first instance's
//! `ready` would run on while the next ones are spawned, and be read only after
//! the last spawn. With it, each sample's time from the round's launch instant
//! splits into `wait` (the spawns before its own), its `spawn`, `held` (at the gate
//! while the spawns after its own ran; the instance itself runs meanwhile) and the
//! phases after the gate, which every instance of the round resumes from as soon
//! as the harness's thread gets to it (one after another, µs apart). The gate
//! opens when the last ticket arrives or is dropped.

use crate::phase::Stopwatch;
use std::cell::Cell;
use std::time::Instant;
use tokio::sync::Notify;

/// The phase of a burst sample held at its round's gate.
pub const HELD: &str = "held";

/// In a burst (`ticket` given), holds at the gate right after the runner's spawn
/// and laps the time there as [`HELD`]; outside a burst, nothing.
pub async fn hold(ticket: Option<Ticket<'_>>, sw: &mut Stopwatch) {
    if let Some(ticket) = ticket {
        ticket.arrive().await;
        sw.lap(HELD);
    }
}

/// One round's gate, for `participants` cold starts.
pub struct LaunchGate {
    remaining: Cell<usize>,
    opened: Cell<Option<Instant>>,
    notify: Notify,
}

impl LaunchGate {
    pub fn new(participants: usize) -> LaunchGate {
        LaunchGate {
            remaining: Cell::new(participants),
            opened: Cell::new(None),
            notify: Notify::new(),
        }
    }

    /// A participant's place at the gate: each cold start of the round holds one.
    pub fn ticket(&self) -> Ticket<'_> {
        Ticket {
            gate: self,
            counted: false,
        }
    }

    /// When the last participant arrived or left: the round's common instant.
    pub fn opened(&self) -> Option<Instant> {
        self.opened.get()
    }

    fn count_one(&self) {
        let left = self.remaining.get().saturating_sub(1);
        self.remaining.set(left);
        if left == 0 && self.opened.get().is_none() {
            self.opened.set(Some(Instant::now()));
            self.notify.notify_waiters();
        }
    }
}

/// A cold start's place at its round's gate. Dropped without arriving (a launch
/// that failed, a runner with no launch step of its own), it leaves the gate, so
/// the others are never held for it.
pub struct Ticket<'g> {
    gate: &'g LaunchGate,
    counted: bool,
}

impl Ticket<'_> {
    /// Holds until every participant has arrived or left; returns that instant.
    pub async fn arrive(mut self) -> Instant {
        self.counted = true;
        self.gate.count_one();
        loop {
            // Created before the check: `notify_waiters` reaches it even unpolled.
            let notified = self.gate.notify.notified();
            if let Some(at) = self.gate.opened.get() {
                return at;
            }
            notified.await;
        }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.counted {
            self.gate.count_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn every_ticket_passes_when_the_last_arrives_or_leaves() {
        let gate = LaunchGate::new(3);
        let (a, b, c) = (gate.ticket(), gate.ticket(), gate.ticket());
        let passed = Cell::new(0);
        let first = async {
            let at = a.arrive().await;
            passed.set(passed.get() + 1);
            at
        };
        let second = async {
            let at = b.arrive().await;
            passed.set(passed.get() + 1);
            at
        };
        let third = async {
            // A failed launch: it leaves without arriving.
            tokio::task::yield_now().await;
            assert_eq!(passed.get(), 0, "nobody passes before the last ticket");
            drop(c);
        };
        let (x, y, ()) = tokio::join!(first, second, third);
        assert_eq!(passed.get(), 2);
        assert_eq!(x, y);
        assert_eq!(gate.opened(), Some(x));
    }
}
