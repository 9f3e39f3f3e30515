//! The work order: which variant's cold start or warm round trip comes next, in
//! the plan's [`Order`] (blocks shuffled by a recorded seed, single items shuffled,
//! or variant after variant).

use crate::results::{Counts, Mode, Order};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::time::Duration;

/// The sampling plan shared by every runner.
#[derive(Debug, Clone)]
pub struct Plan {
    pub cold: u64,
    pub warm: u64,
    pub warmup: u64,
    /// Per runner: counts of its own (a slow runtime's) instead of the three above.
    /// Empty, or one entry per runner.
    pub own_counts: Vec<Option<Counts>>,
    pub invoke_iters: u64,
    pub seed: u64,
    pub order: Order,
    /// Items per block (order `blocks`).
    pub block_size: u64,
    /// Pause before each block (orders `blocks` and `sequential`).
    pub settle: Duration,
    /// Failed or invalid cold starts in a row that abandon a variant (0: never).
    pub max_consecutive_failures: u64,
    /// Untimed-connection-then-timed round trips of a runtime's network baseline.
    pub baseline: u64,
}

impl Plan {
    /// The counts runner `i` takes.
    pub fn counts(&self, i: usize) -> Counts {
        self.own_counts.get(i).copied().flatten().unwrap_or(Counts {
            cold: self.cold,
            warm: self.warm,
            warmup: self.warmup,
        })
    }
}

/// One unit of work: a cold start or a warm invocation of runner `runner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkItem {
    pub runner: usize,
    pub mode: Mode,
    /// The block it belongs to (orders `blocks` and `sequential`).
    pub block: Option<u64>,
    /// The first item of its block: preceded by the settle and an unrecorded item.
    pub block_start: bool,
}

/// The work order; `warm[i]` says whether runner `i` takes warm samples.
pub fn work_order(plan: &Plan, warm: &[bool]) -> Vec<WorkItem> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(plan.seed);
    // (runner, mode, items) runs, each later one block or single items.
    let mut runs: Vec<(usize, Mode, u64)> = Vec::new();
    for (runner, takes_warm) in warm.iter().enumerate() {
        let counts = plan.counts(runner);
        runs.push((runner, Mode::Cold, counts.cold));
        runs.push((
            runner,
            Mode::Warm,
            if *takes_warm { counts.warm } else { 0 },
        ));
    }
    runs.retain(|(_, _, n)| *n > 0);
    let blocks: Vec<(usize, Mode, u64)> = match plan.order {
        Order::Sequential => runs,
        Order::Interleave => runs
            .iter()
            .flat_map(|&(r, m, n)| (0..n).map(move |_| (r, m, 1)))
            .collect(),
        Order::Blocks => {
            let size = plan.block_size.max(1);
            let mut blocks: Vec<(usize, Mode, u64)> = runs
                .iter()
                .flat_map(|&(r, m, n)| {
                    (0..n.div_ceil(size)).map(move |b| (r, m, size.min(n - b * size)))
                })
                .collect();
            blocks.shuffle(&mut rng);
            blocks
        }
    };
    let mut items: Vec<WorkItem> = Vec::new();
    for (index, (runner, mode, n)) in blocks.into_iter().enumerate() {
        let in_blocks = plan.order != Order::Interleave;
        items.extend((0..n).map(|i| WorkItem {
            runner,
            mode,
            block: in_blocks.then_some(index as u64),
            block_start: in_blocks && i == 0,
        }));
    }
    if plan.order == Order::Interleave {
        items.shuffle(&mut rng);
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(order: Order, seed: u64) -> Plan {
        Plan {
            cold: 25,
            warm: 40,
            warmup: 0,
            own_counts: Vec::new(),
            invoke_iters: 1,
            seed,
            order,
            block_size: 10,
            settle: Duration::ZERO,
            max_consecutive_failures: 5,
            baseline: 0,
        }
    }

    fn counts(items: &[WorkItem], runners: usize) -> Vec<(usize, usize)> {
        (0..runners)
            .map(|r| {
                let mine = |m| {
                    items
                        .iter()
                        .filter(|i| i.runner == r && i.mode == m)
                        .count()
                };
                (mine(Mode::Cold), mine(Mode::Warm))
            })
            .collect()
    }

    #[test]
    fn every_order_is_seeded_and_complete() {
        for order in [Order::Blocks, Order::Interleave, Order::Sequential] {
            let a = work_order(&plan(order, 42), &[true, true, false]);
            assert_eq!(a, work_order(&plan(order, 42), &[true, true, false]));
            assert_eq!(counts(&a, 3), [(25, 40), (25, 40), (25, 0)], "{order:?}");
            if order != Order::Sequential {
                assert_ne!(a, work_order(&plan(order, 43), &[true, true, false]));
            }
        }
    }

    #[test]
    fn a_runners_own_counts_replace_the_plans() {
        let mut plan = plan(Order::Blocks, 5);
        plan.own_counts = vec![
            None,
            Some(Counts {
                cold: 3,
                warm: 7,
                warmup: 0,
            }),
        ];
        let items = work_order(&plan, &[true, true]);
        assert_eq!(counts(&items, 2), [(25, 40), (3, 7)]);
        assert_eq!(plan.counts(1).warmup, 0);
        assert_eq!(plan.counts(0).warmup, plan.warmup);
    }

    #[test]
    fn blocks_are_whole_shuffled_and_start_once() {
        let items = work_order(&plan(Order::Blocks, 7), &[true, true]);
        // 3 cold blocks (10, 10, 5) and 4 warm blocks per runner.
        let starts: Vec<&WorkItem> = items.iter().filter(|i| i.block_start).collect();
        assert_eq!(starts.len(), 2 * (3 + 4));
        // A block is contiguous, of one runner and mode, and starts exactly once.
        for w in items.windows(2) {
            if w[0].block == w[1].block {
                assert_eq!((w[0].runner, w[0].mode), (w[1].runner, w[1].mode));
                assert!(!w[1].block_start);
            } else {
                assert!(w[1].block_start);
            }
        }
        let sizes: Vec<usize> = starts
            .iter()
            .map(|s| items.iter().filter(|i| i.block == s.block).count())
            .collect();
        assert!(sizes.iter().all(|n| *n == 10 || *n == 5), "{sizes:?}");
        // Shuffled: the runners' blocks alternate somewhere in the first few.
        assert!(starts.iter().take(6).any(|s| s.runner != starts[0].runner));
    }

    #[test]
    fn interleave_mixes_single_items_and_sequential_keeps_variants_whole() {
        let mixed = work_order(&plan(Order::Interleave, 3), &[true, true]);
        assert!(mixed.iter().all(|i| i.block.is_none() && !i.block_start));
        assert!(mixed.iter().take(8).any(|i| i.runner != mixed[0].runner));
        let seq = work_order(&plan(Order::Sequential, 3), &[true, true]);
        let runs: Vec<(usize, Mode)> = seq
            .iter()
            .filter(|i| i.block_start)
            .map(|i| (i.runner, i.mode))
            .collect();
        assert_eq!(
            runs,
            [
                (0, Mode::Cold),
                (0, Mode::Warm),
                (1, Mode::Cold),
                (1, Mode::Warm)
            ]
        );
    }
}
