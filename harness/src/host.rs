//! What machine a run was on: recorded with every result, since start-up times
//! mean nothing without the kernel, CPU and memory they were taken on, nor without
//! the sources of noise a reviewer asks about first: the CPU frequency governor
//! and driver, SMT, the load before and after the run, the cgroup hierarchy.

use serde::{Deserialize, Serialize};

/// The host a run was measured on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// Kernel release (`/proc/sys/kernel/osrelease`).
    pub kernel: String,
    /// Operating system (`PRETTY_NAME` of `/etc/os-release`).
    pub os: String,
    /// CPU model name (`/proc/cpuinfo`).
    pub cpu_model: String,
    /// CPUs this process may use.
    pub logical_cpus: u64,
    /// Physical memory (`MemTotal` of `/proc/meminfo`).
    pub memory_bytes: u64,
    /// Machine architecture the harness was built for.
    pub arch: String,
    /// CPU frequency governor of cpu0 (`scaling_governor`); null where the kernel
    /// exposes none (common in VMs, where the host decides).
    #[serde(default)]
    pub cpu_governor: Option<String>,
    /// CPU frequency driver of cpu0 (`scaling_driver`); null where none.
    #[serde(default)]
    pub cpu_freq_driver: Option<String>,
    /// Simultaneous multithreading (`/sys/devices/system/cpu/smt/control`: on, off,
    /// forceoff, notsupported, notimplemented); null where unreadable.
    #[serde(default)]
    pub smt: Option<String>,
    /// 1, 5 and 15 minute load averages when the run started.
    #[serde(default)]
    pub load_average_start: Option<[f64; 3]>,
    /// The same when the run ended.
    #[serde(default)]
    pub load_average_end: Option<[f64; 3]>,
    /// The cgroup hierarchy: `v2` (unified), `hybrid` (v1 controllers with a v2
    /// mount) or `v1`.
    #[serde(default)]
    pub cgroup: Option<String>,
}

impl Host {
    /// What makes two runs' hosts the same machine for comparing and merging their
    /// figures: CPU model and count, memory, kernel, OS and architecture (not the
    /// load, which every run has its own of).
    pub fn identity(&self) -> String {
        format!(
            "{} × {} CPUs, {} MiB, {}, kernel {}, {}",
            self.cpu_model,
            self.logical_cpus,
            self.memory_bytes >> 20,
            self.os,
            self.kernel,
            self.arch
        )
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The trimmed contents of a sysfs file, if it has any.
fn sysfs(path: &str) -> Option<String> {
    Some(read(path).trim().to_string()).filter(|s| !s.is_empty())
}

/// The load averages of `/proc/loadavg`.
pub fn load_average() -> Option<[f64; 3]> {
    let text = read("/proc/loadavg");
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

/// Which cgroup hierarchy the host runs, from what is mounted at /sys/fs/cgroup.
fn cgroup_version() -> Option<String> {
    let root = std::path::Path::new("/sys/fs/cgroup");
    if !root.exists() {
        return None;
    }
    if root.join("cgroup.controllers").exists() {
        Some("v2".into())
    } else if root.join("unified").exists() {
        Some("hybrid".into())
    } else {
        Some("v1".into())
    }
}

fn field<'a>(text: &'a str, key: &str, sep: char) -> Option<&'a str> {
    text.lines()
        .filter_map(|line| line.split_once(sep))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim())
}

impl Host {
    /// Reads the host description; fields it cannot read say `unknown` (or 0).
    pub fn detect() -> Host {
        let cpuinfo = read("/proc/cpuinfo");
        let meminfo = read("/proc/meminfo");
        let os_release = read("/etc/os-release");
        let unknown = || "unknown".to_string();
        Host {
            kernel: Some(read("/proc/sys/kernel/osrelease").trim().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(unknown),
            os: field(&os_release, "PRETTY_NAME", '=')
                .map(|s| s.trim_matches('"').to_string())
                .unwrap_or_else(unknown),
            cpu_model: field(&cpuinfo, "model name", ':')
                .map(str::to_string)
                .unwrap_or_else(unknown),
            logical_cpus: std::thread::available_parallelism()
                .map(|n| n.get() as u64)
                .unwrap_or(0),
            memory_bytes: field(&meminfo, "MemTotal", ':')
                .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kib| kib * 1024)
                .unwrap_or(0),
            arch: std::env::consts::ARCH.to_string(),
            cpu_governor: sysfs("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
            cpu_freq_driver: sysfs("/sys/devices/system/cpu/cpu0/cpufreq/scaling_driver"),
            smt: sysfs("/sys/devices/system/cpu/smt/control"),
            load_average_start: load_average(),
            load_average_end: None,
            cgroup: cgroup_version(),
        }
    }

    /// A warning when the machine was busy as the run started: more runnable
    /// tasks on average over the last minute than it has CPUs.
    pub fn busy_warning(&self) -> Option<String> {
        let [one, _, _] = self.load_average_start?;
        (self.logical_cpus > 0 && one > self.logical_cpus as f64).then(|| {
            format!(
                "warning: the load average is {one:.2} on {} CPUs: other work will be in the \
                 figures; measure on an idle machine",
                self.logical_cpus
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_sources_are_read_from_this_machine() {
        let host = Host::detect();
        assert!(
            host.load_average_start.is_some(),
            "/proc/loadavg is readable"
        );
        assert!(matches!(
            host.cgroup.as_deref(),
            Some("v1" | "v2" | "hybrid")
        ));
        let busy = Host {
            load_average_start: Some([9.0, 1.0, 1.0]),
            logical_cpus: 2,
            ..host.clone()
        };
        assert!(busy.busy_warning().unwrap().contains("9.00 on 2 CPUs"));
        let idle = Host {
            load_average_start: Some([0.5, 1.0, 1.0]),
            ..busy
        };
        assert!(idle.busy_warning().is_none());
    }
}
