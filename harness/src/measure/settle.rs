//! Settling after work that leaves work behind (a container's teardown, a guest's
//! boot): the loop waits `--settle`, then until the host's CPUs are quiet, so what
//! a daemon still does after our call returned (Podman's `container cleanup`
//! process, dockerd's network teardown, a guest's QEMU exiting) does not run beside
//! the next µs-scale block.
//!
//! Quiet: over a [`WINDOW`], the CPU time every task on the host ran (the root
//! cgroup's `cpuacct.usage`, ns; or cgroup v2's root `cpu.stat` `usage_usec`) grew
//! by at most [`QUIET_SHARE`] of the CPUs' time. The harness's own thread sleeps
//! meanwhile. At most [`MAX_WAIT`] in all; a host whose CPU time cannot be read
//! gets the plain `--settle`.

use std::time::{Duration, Instant};

/// One reading window.
const WINDOW: Duration = Duration::from_millis(25);
/// The share of the CPUs' time others may use in a quiet window.
const QUIET_SHARE: f64 = 0.10;
/// The longest settle, `--settle` included.
const MAX_WAIT: Duration = Duration::from_secs(2);

/// Where the host's CPU time is read, in order: cgroup v1's cpuacct (ns), cgroup
/// v2's root (µs), the unified hierarchy of a hybrid host (µs).
const SOURCES: &[(&str, Unit)] = &[
    ("/sys/fs/cgroup/cpuacct/cpuacct.usage", Unit::Nanos),
    ("/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage", Unit::Nanos),
    ("/sys/fs/cgroup/cpu.stat", Unit::UsageMicros),
    ("/sys/fs/cgroup/unified/cpu.stat", Unit::UsageMicros),
];

#[derive(Clone, Copy)]
enum Unit {
    /// The file holds nanoseconds.
    Nanos,
    /// The file's `usage_usec` line holds microseconds.
    UsageMicros,
}

/// CPU time every task on the host has run, ns, from the first readable source.
fn host_cpu_ns() -> Option<u64> {
    SOURCES.iter().find_map(|(path, unit)| {
        let text = std::fs::read_to_string(path).ok()?;
        match unit {
            Unit::Nanos => text.trim().parse().ok(),
            Unit::UsageMicros => text
                .lines()
                .find_map(|l| l.strip_prefix("usage_usec "))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|us| us * 1000),
        }
    })
}

/// Waits `settle`, then until a window is quiet (or [`MAX_WAIT`] has passed).
/// Returns whether the host was quiet when it returned (`None`: unreadable).
pub async fn settle(settle: Duration) -> Option<bool> {
    let started = Instant::now();
    tokio::time::sleep(settle).await;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let mut before = host_cpu_ns()?;
    loop {
        let window = Instant::now();
        tokio::time::sleep(WINDOW).await;
        let after = host_cpu_ns()?;
        let busy = after.saturating_sub(before) as f64;
        let capacity = window.elapsed().as_nanos() as f64 * cpus;
        if busy <= QUIET_SHARE * capacity {
            return Some(true);
        }
        if started.elapsed() >= MAX_WAIT {
            return Some(false);
        }
        before = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_busy_host_is_waited_for() {
        if host_cpu_ns().is_none() {
            eprintln!("skipped: no readable CPU time on this host");
            return;
        }
        // Every CPU busy for 400 ms: the settle lasts until they are done.
        let stop = Instant::now() + Duration::from_millis(400);
        let hogs: Vec<_> = (0..std::thread::available_parallelism().map_or(1, |n| n.get()))
            .map(|_| {
                std::thread::spawn(move || {
                    while Instant::now() < stop {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        let started = Instant::now();
        // Quiet or not at the end depends on what else runs (other tests).
        assert!(settle(Duration::ZERO).await.is_some());
        let busy_wait = started.elapsed();
        for hog in hogs {
            hog.join().unwrap();
        }
        assert!(
            busy_wait >= Duration::from_millis(350),
            "settled after {busy_wait:?} while every CPU was busy"
        );
    }
}
