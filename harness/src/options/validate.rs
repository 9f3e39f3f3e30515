//! The resolved settings checked against each other and against this host, before
//! anything is built or measured: one line per problem, saying what to give instead.

use super::RunOptions;
use crate::error::UsageError;
use crate::host::Host;
use crate::results::Order;

/// The largest init memory accepted (the `pre` pool's memory limit is 1 GiB).
const MAX_INIT_KIB: u64 = 512 * 1024;

/// The most samples of one kind a variant may take: every sample is kept in memory
/// and in the result file (10 million is about 5 GB of JSON).
const MAX_COUNT: u64 = 10_000_000;

/// The most instances of one variant held at once (density) or launched at once (burst).
const MAX_LIVE: u64 = 100_000;

/// The longest per-sample timeout and settle pause accepted.
const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);
const MAX_SETTLE: std::time::Duration = std::time::Duration::from_secs(60);

/// The most hash rounds of init or of an invocation (about a minute of work).
const MAX_ITERS: u64 = 10_000_000_000;

/// Checks the resolved settings against each other and against this `host`.
pub fn validate(args: &RunOptions, host: &Host) -> Result<(), UsageError> {
    if args.density.is_none() && args.burst.is_empty() && args.cold == 0 && args.warm == 0 {
        return Err(UsageError(
            "--cold and --warm are both 0: nothing to measure; give at least one of them a count"
                .into(),
        ));
    }
    // 0 would shift to "no limit" unnoticed, and a limit above the host's memory
    // limits nothing; below 6 MiB the daemon itself refuses, with its reason.
    let host_mib = host.memory_bytes >> 20;
    if args.docker_memory_mib == 0 || (host_mib > 0 && args.docker_memory_mib > host_mib) {
        return Err(UsageError(format!(
            "--docker-memory-mib {} is outside what a container can be given here: 1 to {host_mib} MiB (e.g. 256)",
            args.docker_memory_mib
        )));
    }
    for (flag, n) in [
        ("--cold", args.cold),
        ("--warm", args.warm),
        ("--warmup", args.warmup),
        ("--block-size", args.block_size),
    ] {
        if n > MAX_COUNT {
            return Err(UsageError(format!(
                "{flag} {n} is more than {MAX_COUNT}: every sample is kept in memory and in the results; split the run and `coldstart merge` the files"
            )));
        }
    }
    for (flag, n) in [
        ("--init-iters", args.init_iters),
        ("--invoke-iters", args.invoke_iters),
    ] {
        if n > MAX_ITERS {
            return Err(UsageError(format!(
                "{flag} {n} is more than {MAX_ITERS} hash rounds (about a minute of work each time)"
            )));
        }
    }
    if args.timeout > MAX_TIMEOUT {
        return Err(UsageError(format!(
            "--timeout {} is longer than an hour: a sample that takes that long has hung",
            humantime::format_duration(args.timeout)
        )));
    }
    if args.settle > MAX_SETTLE {
        return Err(UsageError(format!(
            "--settle {} is longer than a minute (e.g. 20ms)",
            humantime::format_duration(args.settle)
        )));
    }
    if let Some(n) = args.density {
        if n == 0 || n > MAX_LIVE {
            return Err(UsageError(format!(
                "--density {n}: hold 1 to {MAX_LIVE} live instances per variant (e.g. --density 20)"
            )));
        }
    }
    for &level in &args.burst {
        if level == 0 || level > MAX_LIVE {
            return Err(UsageError(format!(
                "--burst level {level}: a burst launches 1 to {MAX_LIVE} cold starts at once (e.g. --burst 1,10,50)"
            )));
        }
    }
    for (flag, n) in [
        ("--density-rounds", args.density_rounds),
        ("--burst-rounds", args.burst_rounds),
    ] {
        if n == 0 || n > 1000 {
            return Err(UsageError(format!(
                "{flag} {n}: take 1 to 1000 rounds (e.g. 3)"
            )));
        }
    }
    if args.order == Order::Blocks && args.block_size == 0 {
        return Err(UsageError(
            "--block-size 0: a block holds at least one item (e.g. --block-size 10)".into(),
        ));
    }
    if args.timeout.is_zero() {
        return Err(UsageError(
            "--timeout must be longer than 0 (e.g. 10s)".into(),
        ));
    }
    let host_cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    if args.vm.cpus == 0 || args.vm.cpus > host_cpus.max(1) * 4 {
        return Err(UsageError(format!(
            "--vm-cpus {} is outside 1 to {} (four per host CPU)",
            args.vm.cpus,
            host_cpus.max(1) * 4
        )));
    }
    if args.vm.memory_mib < 64 || (host_mib > 0 && args.vm.memory_mib > host_mib) {
        return Err(UsageError(format!(
            "--vm-memory-mib {} is outside what a guest can be given here: 64 to {host_mib} MiB (e.g. 256)",
            args.vm.memory_mib
        )));
    }
    if args.init_kib > MAX_INIT_KIB {
        return Err(UsageError(format!(
            "--init-kib {} is more than the {MAX_INIT_KIB} KiB a Wasm instance may grow to",
            args.init_kib
        )));
    }
    Ok(())
}
