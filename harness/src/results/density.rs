//! Density (memory per live instance) and bursts (cold starts launched at one
//! instant) as they are recorded, and how the density rounds are summarized.

use crate::stats::{self, Summary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The smallest, middle and largest of a few figures (one per round).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Spread {
    /// `None` for no figures.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        Some(Spread {
            min: v[0],
            median: stats::median(&mut v.clone()),
            max: v[v.len() - 1],
        })
    }
}

/// Memory per live instance of one variant: N instances held at once, read two ways.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Density {
    /// Instances asked for in each round.
    pub instances: u64,
    /// Rounds taken.
    pub rounds: u64,
    /// Host view: `MemAvailable` before the instances minus after, settled, divided
    /// by the instances live; over the rounds.
    pub host_bytes_per_instance: Option<Spread>,
    /// Per-process view: the PSS of every process an instance owns (for instances
    /// inside the harness, the harness's PSS growth), summed, per instance.
    pub pss_bytes_per_instance: Option<Spread>,
    /// The instances' memory cgroup charge, per instance, where readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_bytes_per_instance: Option<Spread>,
    /// Resident pages of linear memory per instance (Wasm, `mincore`), inside the
    /// harness: what the instance's memory holds in RAM, not its size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear_memory_bytes_per_instance: Option<Spread>,
    /// Time to bring all instances up one after another, verified, ns.
    pub bring_up_ns: Option<Spread>,
    /// Instances a GiB holds, from the host view's median.
    pub instances_per_gib: Option<f64>,
    /// How each figure was read, and what it leaves out.
    pub method: Vec<String>,
    /// Every round's readings.
    pub raw: Vec<DensityRound>,
}

/// The readings of one density round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DensityRound {
    pub round: u64,
    /// Instances live and verified when memory was read.
    pub reached: u64,
    /// Why fewer than asked were live (memory floor, failures, interruption).
    pub stopped: Option<String>,
    /// Cold starts that failed or did not verify on the way.
    pub failed: u64,
    /// The first few of their errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    pub mem_available_before_bytes: u64,
    pub mem_available_after_bytes: u64,
    /// The two `MemAvailable` readings' noise summed: each one's last change between
    /// two reads 200 ms apart. `None` in files from before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_available_noise_bytes: Option<u64>,
    /// Whether the drop stands out of that noise (noise ≤ 2% of the drop): only
    /// settled rounds judge a host-view claim.
    pub settled: bool,
    /// PSS summed over the instances' processes.
    pub pss_bytes: Option<u64>,
    /// The harness process's PSS growth (instances inside the harness).
    pub harness_pss_delta_bytes: Option<i64>,
    pub cgroup_bytes: Option<u64>,
    /// Resident bytes of the instances' linear memories (Wasm, `mincore`), summed.
    pub linear_memory_bytes: Option<u64>,
    pub bring_up_ns: u64,
}

/// Cold starts launched together at one concurrency level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Burst {
    /// Cold starts launched at one instant.
    pub concurrency: u64,
    /// Rounds taken at this level.
    pub rounds: u64,
    pub ok: u64,
    pub invalid: u64,
    pub failed: u64,
    /// Phase -> summary of the valid samples: `total` from the common launch to the
    /// sample's verified first response, `wait` from the launch until its own start
    /// began (the spawns issued before its own, queueing in the harness's pool), then
    /// the runner's own phases, with `held` after `spawn` where the runner waits at
    /// the round's launch gate (process, VM, Lambda emulator).
    pub phases: BTreeMap<String, Summary>,
    /// Launch to the last answered response of a round, over the rounds.
    pub makespan_ns: Option<Summary>,
    /// Valid starts of a round divided by its makespan, over the rounds.
    pub starts_per_second: Option<Spread>,
    /// How the burst was launched.
    pub method: String,
    /// Why a round was not taken or stopped early (memory floor, interruption).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A round's host view counts as settled when the two readings' noise (each one's
/// last change between reads) is at most this share of what the round measured.
pub const SETTLED_SHARE: f64 = 0.02;

/// Whether a round's host view stands out of its readings' noise: their noise
/// summed is at most [`SETTLED_SHARE`] of the drop measured (a figure of any size
/// on a quiet host; on a busy one only a large drop).
pub fn settled(before: u64, after: u64, noise: u64) -> bool {
    let drop = before.abs_diff(after);
    drop > 0 && noise as f64 <= SETTLED_SHARE * drop as f64
}

impl DensityRound {
    /// Whether this round's host view stands out of its readings' noise, by
    /// [`settled`] on the noise recorded; unknown noise (a file from before it was
    /// recorded) never does.
    pub fn host_view_settled(&self) -> bool {
        self.mem_available_noise_bytes.is_some_and(|noise| {
            settled(
                self.mem_available_before_bytes,
                self.mem_available_after_bytes,
                noise,
            )
        })
    }

    /// The host view of this round, per instance live (negative when MemAvailable
    /// rose); `None` when no instance was live.
    pub fn host_bytes_per_instance(&self) -> Option<f64> {
        self.per_instance(Some(
            self.mem_available_before_bytes as f64 - self.mem_available_after_bytes as f64,
        ))
    }

    /// The PSS view of this round, per instance live.
    pub fn pss_bytes_per_instance(&self) -> Option<f64> {
        // Instances inside the harness: two lower bounds of what they hold, the
        // larger taken (never their sum: a page they touched is in both). The
        // harness's PSS growth misses pool slots kept resident by earlier instances;
        // the resident pages of their linear memories miss the stores and tables.
        self.per_instance(
            match (self.linear_memory_bytes, self.harness_pss_delta_bytes) {
                (Some(linear), Some(h)) => Some((linear as f64).max(h as f64)),
                (Some(_), None) => None,
                (None, _) => self.pss_bytes.map(|p| p as f64),
            },
        )
    }

    fn per_instance(&self, total: Option<f64>) -> Option<f64> {
        (self.reached > 0)
            .then_some(total)
            .flatten()
            .map(|t| t / self.reached as f64)
    }
}

impl Density {
    /// The figures over the rounds, and how they were read.
    pub fn summarize(instances: u64, raw: Vec<DensityRound>) -> Density {
        let per = |f: &dyn Fn(&DensityRound) -> Option<f64>| {
            let values: Vec<f64> = raw
                .iter()
                .filter(|r| r.reached > 0)
                .filter_map(|r| f(r).map(|v| v / r.reached as f64))
                .collect();
            Spread::of(&values)
        };
        let spread = |f: fn(&DensityRound) -> Option<f64>| {
            Spread::of(&raw.iter().filter_map(f).collect::<Vec<_>>())
        };
        let host = spread(DensityRound::host_bytes_per_instance);
        let pss = spread(DensityRound::pss_bytes_per_instance);
        let in_harness = raw.iter().any(|r| r.linear_memory_bytes.is_some());
        let mut method = vec![
            "host: (MemAvailable before − with all instances live) / instances live, each reading \
             steady (two reads 200 ms apart within 64 KiB); a round is settled when that noise is \
             at most 2% of the drop; counts everything the instances cost the host"
                .to_string(),
        ];
        method.push(if in_harness {
            "pss: the larger of two lower bounds, / instances: the harness process's PSS growth \
             with the instances live (they live inside it; misses pool slots an earlier instance \
             left resident), and the resident pages of their linear memories by mincore (misses \
             stores and tables); never their sum, which counts a touched page twice"
                .into()
        } else {
            "pss: the PSS (/proc/PID/smaps_rollup) of each instance's processes (the probe; a \
             container's processes and the process holding it, containerd's shim or conmon; QEMU) \
             summed / instances; shared pages split among their users"
                .into()
        });
        method.push(
            "not removed: shared pages counted once by the host view, page cache the instances pull \
             in, KSM (off unless enabled)"
                .into(),
        );
        Density {
            instances,
            rounds: raw.len() as u64,
            host_bytes_per_instance: host,
            pss_bytes_per_instance: pss,
            cgroup_bytes_per_instance: per(&|r| r.cgroup_bytes.map(|b| b as f64)),
            linear_memory_bytes_per_instance: per(&|r| r.linear_memory_bytes.map(|b| b as f64)),
            bring_up_ns: Spread::of(&raw.iter().map(|r| r.bring_up_ns as f64).collect::<Vec<_>>()),
            instances_per_gib: host
                .filter(|h| h.median > 0.0)
                .map(|h| (1u64 << 30) as f64 / h.median),
            method,
            raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::settled;

    #[test]
    fn settled_is_relative_to_the_drop_measured() {
        const GIB: u64 = 1 << 30;
        // 20 instances of 100 KiB on a 128 GiB host: a 2 MiB drop. Noise of 512 KiB
        // is 1% of nothing here, and 0.0004% of MemAvailable.
        let before = 120 * GIB;
        assert!(!settled(before, before - (2 << 20), 512 << 10));
        assert!(settled(before, before - (2 << 20), 40 << 10));
        // 20 guests of 190 MiB: the same noise is far below 2% of 3.7 GiB.
        assert!(settled(before, before - 20 * (190 << 20), 512 << 10));
        // A reading of zero never stands out, not even of no noise.
        assert!(!settled(before, before, 1));
        assert!(!settled(before, before, 0));
    }
}
