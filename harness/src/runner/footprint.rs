//! Reading where an instance's memory is, for density: a process's memory cgroup,
//! that cgroup's processes and charge, a process's parent. Linux `/proc` and
//! `/sys/fs/cgroup`, v1 (and hybrid) and v2 alike; `None` where unreadable.

use std::path::PathBuf;

/// The memory cgroup directory of `pid`: v1's `memory` controller, else v2's
/// unified hierarchy.
pub fn memory_cgroup(pid: u32) -> Option<PathBuf> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let mut unified = None;
    for line in text.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let path = path.trim_start_matches('/');
        if controllers.split(',').any(|c| c == "memory") {
            let dir = PathBuf::from("/sys/fs/cgroup/memory").join(path);
            if dir.is_dir() {
                return Some(dir);
            }
        }
        if controllers.is_empty() {
            unified = Some(PathBuf::from("/sys/fs/cgroup").join(path));
        }
    }
    unified.filter(|d| d.join("memory.current").is_file())
}

/// The processes of a cgroup directory.
pub fn cgroup_pids(dir: &std::path::Path) -> Vec<u32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// A cgroup's memory charge: v2's `memory.current` or v1's `memory.usage_in_bytes`.
pub fn cgroup_bytes(dir: &std::path::Path) -> Option<u64> {
    ["memory.current", "memory.usage_in_bytes"]
        .iter()
        .find_map(|f| std::fs::read_to_string(dir.join(f)).ok())
        .and_then(|t| t.trim().parse().ok())
}

/// The parent of `pid` (field 4 of `/proc/PID/stat`, after the command's parentheses).
pub fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
        .filter(|p| *p > 1)
}

/// How many bytes of `[start, start + len)` of this process's memory are resident
/// (`mincore(2)`: pages in RAM, touched or kept so). `None` when `start` is not
/// page-aligned or the kernel refuses the range.
pub fn resident_bytes(start: *const u8, len: usize) -> Option<u64> {
    // SAFETY: sysconf has no memory effects.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok()?;
    if len == 0 {
        return Some(0);
    }
    if page == 0 || start as usize % page != 0 {
        return None;
    }
    let pages = len.div_ceil(page);
    let mut vec = vec![0u8; pages];
    // SAFETY: mincore only reads the page tables of the range and writes `pages`
    // bytes into `vec`, which has that many; the range is not dereferenced.
    let rc = unsafe { libc::mincore(start as *mut libc::c_void, len, vec.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    let resident = vec.iter().filter(|b| **b & 1 == 1).count();
    Some((resident * page) as u64)
}

/// The proportional set size of `pid` (`Pss:` of `/proc/PID/smaps_rollup`), bytes.
pub fn pss_bytes(pid: u32) -> Option<u64> {
    crate::harness_work::note();
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

/// `MemAvailable` and `MemTotal` of `/proc/meminfo`, bytes.
pub fn meminfo() -> Option<(u64, u64)> {
    crate::harness_work::note();
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    Some((field("MemAvailable:")?, field("MemTotal:")?))
}

/// The share of the host's memory kept free: no instance is added below it, so
/// the harness itself is never the one the OOM killer picks.
pub const FLOOR_SHARE: f64 = 0.10;

/// Why no further instance may be started: `MemAvailable` below [`FLOOR_SHARE`] of
/// `MemTotal`; `None` while above (or where unreadable).
pub fn below_floor() -> Option<String> {
    let (available, total) = meminfo()?;
    let floor = (total as f64 * FLOOR_SHARE) as u64;
    (available < floor).then(|| {
        format!(
            "stopped adding instances: MemAvailable {} MiB is below the floor of {} MiB ({:.0}% of the host's memory)",
            available >> 20,
            floor >> 20,
            FLOOR_SHARE * 100.0
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_bytes_counts_only_touched_pages() {
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let len = 64 * page;
        // SAFETY: a private anonymous mapping, unmapped below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(ptr, libc::MAP_FAILED);
        let bytes = ptr.cast::<u8>();
        assert_eq!(resident_bytes(bytes, len), Some(0), "nothing touched yet");
        for i in [0, 5, 6, 63] {
            // SAFETY: inside the mapping.
            unsafe { bytes.add(i * page).write(1) };
        }
        assert_eq!(resident_bytes(bytes, len), Some(4 * page as u64));
        assert_eq!(
            resident_bytes(unsafe { bytes.add(1) }, 10),
            None,
            "unaligned"
        );
        // SAFETY: the mapping made above.
        unsafe { libc::munmap(ptr, len) };
    }

    #[test]
    fn this_process_is_readable() {
        let me = std::process::id();
        assert!(pss_bytes(me).unwrap() > 0);
        assert!(parent(me).is_some());
        let (available, total) = meminfo().unwrap();
        assert!(available > 0 && available <= total);
    }
}
