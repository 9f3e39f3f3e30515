//! What machine a run was on: recorded with every result, since start-up times
//! mean nothing without the kernel, CPU and memory they were taken on.

use serde::{Deserialize, Serialize};

/// The host a run was measured on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
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
        }
    }
}
