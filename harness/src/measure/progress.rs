//! Progress while measuring: the bar and the estimate of the time left.

use super::order::WorkItem;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

/// Per (variant, mode): what is left of it and what it has taken so far.
#[derive(Debug, Clone, Copy, Default)]
struct Remaining {
    items: u64,
    spent: Duration,
    done: u64,
}

/// The time left, from what each (variant, mode) has taken per item so far: a VM's
/// seconds-long cold starts and a process's microsecond round trips are not averaged
/// into one rate, which would make the estimate wrong by orders of magnitude.
pub struct Eta {
    /// Per runner and mode (cold, warm).
    left: Vec<[Remaining; 2]>,
}

impl Eta {
    pub fn new(order: &[WorkItem], runners: usize) -> Eta {
        let mut left = vec![[Remaining::default(); 2]; runners];
        for item in order {
            left[item.runner][item.mode as usize].items += 1;
        }
        Eta { left }
    }

    pub fn done(&mut self, item: &WorkItem, took: Duration) {
        let slot = &mut self.left[item.runner][item.mode as usize];
        slot.items = slot.items.saturating_sub(1);
        slot.spent += took;
        slot.done += 1;
    }

    /// "12s left", or "estimating time left" while a group with items left has none
    /// done yet.
    pub fn remaining(&self) -> String {
        let mut total = Duration::ZERO;
        for slot in self.left.iter().flatten() {
            if slot.items == 0 {
                continue;
            }
            if slot.done == 0 {
                return "estimating time left".into();
            }
            total += slot.spent / slot.done as u32 * slot.items as u32;
        }
        format!(
            "{} left",
            humantime::format_duration(Duration::from_secs(total.as_secs()))
        )
    }
}

/// The progress bar of `total` samples: drawn on stderr when `visible` (a terminal
/// that is not receiving the JSON), hidden otherwise.
pub fn bar(total: u64, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} samples ({msg})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message("estimating time left");
    bar
}
