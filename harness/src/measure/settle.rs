//! Settling after work that leaves work behind (a container's teardown, a guest's
//! boot): the loop waits `--settle`, then until the host's CPUs are quiet, so what
//! a daemon still does after our call returned (Podman's `container cleanup`
//! process, dockerd's network teardown, a guest's QEMU exiting) does not run beside
//! the next µs-scale block.
//!
//! Quiet: over a [`WINDOW`], the CPU time every task ran (the root cgroup's
//! `cpuacct.usage`, ns; or cgroup v2's root `cpu.stat` `usage_usec`, which moves in
//! scheduler ticks: 4 ms here) grew by at most [`QUIET_SHARE`] of the online CPUs'
//! time. In a container with its own cgroup namespace that root is the container's:
//! the host's daemons are then out of sight. The harness's own thread sleeps
//! meanwhile. At most [`MAX_WAIT`] in all; where the CPU time cannot be read, the
//! plain `--settle`. Every wait is counted in the results' `settles`.

use std::time::{Duration, Instant};

/// One reading window: several ticks of a tick-sampled source.
const WINDOW: Duration = Duration::from_millis(40);
/// The share of the CPUs' time others may use in a quiet window.
const QUIET_SHARE: f64 = 0.10;
/// The longest settle, `--settle` included: on a host kept busy by others, every
/// settle lasts this long.
const MAX_WAIT: Duration = Duration::from_secs(1);

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

/// How one settle ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// A window was quiet.
    Quiet,
    /// [`MAX_WAIT`] passed first.
    NotQuiet,
    /// The host's CPU time could not be read: only `--settle` was waited.
    Unreadable,
}

/// CPUs the root cgroup's time is spread over: every online one (not this
/// process's affinity, which `taskset` narrows).
fn online_cpus() -> f64 {
    // SAFETY: sysconf reads a constant of the system.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    n.max(1) as f64
}

/// Whether `busy_ns` of CPU time over `window` on `cpus` CPUs is quiet.
fn quiet(busy_ns: u64, window: Duration, cpus: f64) -> bool {
    busy_ns as f64 <= QUIET_SHARE * window.as_nanos() as f64 * cpus
}

/// Waits `settle` and then until a window is quiet (or [`MAX_WAIT`] has passed).
pub async fn settle(settle: Duration) -> Ending {
    let started = Instant::now();
    tokio::time::sleep(settle).await;
    let cpus = online_cpus();
    let Some(mut before) = host_cpu_ns() else {
        return Ending::Unreadable;
    };
    loop {
        let window = Instant::now();
        tokio::time::sleep(WINDOW).await;
        let Some(after) = host_cpu_ns() else {
            return Ending::Unreadable;
        };
        if quiet(after.saturating_sub(before), window.elapsed(), cpus) {
            return Ending::Quiet;
        }
        if started.elapsed() >= MAX_WAIT {
            return Ending::NotQuiet;
        }
        before = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_is_a_tenth_of_the_cpus_time() {
        let window = Duration::from_millis(40);
        assert!(quiet(0, window, 2.0));
        assert!(quiet(8_000_000, window, 2.0));
        assert!(!quiet(8_000_001, window, 2.0));
        assert!(!quiet(4_000_001, window, 1.0));
        // A 4 ms tick of a tick-sampled source is quiet on 2 CPUs, two are too.
        assert!(quiet(2 * 4_000_000, window, 2.0));
        assert!(!quiet(3 * 4_000_000, window, 2.0));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_busy_host_is_waited_for() {
        if host_cpu_ns().is_none() {
            eprintln!("skipped: no readable CPU time on this host");
            return;
        }
        // Every CPU busy for 400 ms from `started`: the settle lasts until then.
        let started = Instant::now();
        let stop = started + Duration::from_millis(400);
        let hogs: Vec<_> = (0..online_cpus() as usize)
            .map(|_| {
                std::thread::spawn(move || {
                    while Instant::now() < stop {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        // Quiet or not at the end depends on what else runs (other tests).
        assert_ne!(settle(Duration::ZERO).await, Ending::Unreadable);
        let waited = started.elapsed();
        for hog in hogs {
            hog.join().unwrap();
        }
        assert!(
            waited >= Duration::from_millis(380),
            "settled after {waited:?} while every CPU was busy"
        );
    }
}
