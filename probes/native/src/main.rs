//! The probe as a native binary. Built static (x86_64-unknown-linux-musl) so the same
//! file runs as a process and as the only file of a FROM-scratch container image.
//!
//! ```text
//! coldstart-probe [serve|once] [--instance-nonce HEX] [--init-kib N] [--init-iters N]
//!                 [--invoke-iters N] [--nonce HEX] [--tty PATH] [--vm] [--cmdline]
//! ```
//!
//! * `serve` (the default): init, print `READY <id>`, then answer `INVOKE` lines until
//!   `EXIT` or end of input (see `probe_core::protocol`).
//! * `once`: init, run one invocation of `--invoke-iters` with `--nonce` (16 hex
//!   digits, default 0), print its `DONE` line and exit: the whole life of an
//!   instance in one command, for `hyperfine`.
//! * `--instance-nonce` (16 hex digits, default 0): the start's instance nonce, which
//!   keys the init state (see `probe_core`); the harness sends a fresh one per start.
//!
//! In a virtual machine (the `vm` runner) the same binary is the guest's probe:
//!
//! * `--tty PATH` speaks the protocol on a serial port instead of stdin/stdout;
//! * `--vm` sends `BOOTTIME` (the guest's `CLOCK_BOOTTIME` at the probe's start and at
//!   READY) before READY;
//! * `--cmdline` takes `coldstart.instance_nonce=`, `coldstart.init_kib=`,
//!   `coldstart.init_iters=` and `coldstart.test_sleep=` from the guest kernel's
//!   command line (a systemd service
//!   has no other way to be given them per boot);
//! * with `--vm` as PID 1 (the `/init` of an initramfs) it powers the guest off when
//!   it is done, since init must never exit (a container's PID 1 just exits).
//!
//! Parameters also come from `COLDSTART_INSTANCE_NONCE`, `COLDSTART_INIT_KIB`,
//! `COLDSTART_INIT_ITERS` and `COLDSTART_INVOKE_ITERS` (flags win), which is how
//! containers and functions are configured. Arguments are parsed by hand: no argument parser runs before init.
//! `COLDSTART_TEST_SLEEP` (tests only, see `probe_core::test_sleep`) sleeps at a
//! known point.

use probe_core::protocol::{HarnessLine, ProbeLine};
use probe_core::test_sleep::TestSleep;
use probe_core::{InitParams, Probe, DEFAULT_INVOKE_ITERS};
use std::io::{BufRead, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: coldstart-probe [serve|once] [--instance-nonce HEX] \
                     [--init-kib N] [--init-iters N] [--invoke-iters N] [--nonce HEX] \
                     [--tty PATH] [--vm] [--cmdline]";

struct Args {
    once: bool,
    instance_nonce: u64,
    params: InitParams,
    invoke_iters: u64,
    nonce: u64,
    sleep: TestSleep,
    tty: Option<String>,
    vm: bool,
}

fn env_u64(name: &str) -> Result<Option<u64>, String> {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}={value:?} is not a non-negative integer")),
        Err(_) => Ok(None),
    }
}

/// A nonce: 16 hexadecimal digits (fewer are accepted, as `u64::from_str_radix` does).
fn hex_u64(what: &str, text: &str) -> Result<u64, String> {
    u64::from_str_radix(text, 16).map_err(|_| format!("{what} {text:?} is not a hexadecimal u64"))
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        once: false,
        instance_nonce: probe_core::protocol::instance_nonce_from_env()?,
        params: InitParams {
            init_kib: env_u64("COLDSTART_INIT_KIB")?.unwrap_or(InitParams::DEFAULT.init_kib),
            init_iters: env_u64("COLDSTART_INIT_ITERS")?.unwrap_or(InitParams::DEFAULT.init_iters),
        },
        invoke_iters: env_u64("COLDSTART_INVOKE_ITERS")?.unwrap_or(DEFAULT_INVOKE_ITERS),
        nonce: 0,
        sleep: TestSleep::from_env()?,
        tty: None,
        vm: false,
    };
    let all: Vec<String> = std::env::args().skip(1).collect();
    if all.iter().any(|a| a == "--cmdline") {
        let text = std::fs::read_to_string("/proc/cmdline")
            .map_err(|e| format!("--cmdline: cannot read /proc/cmdline: {e}"))?;
        from_kernel_cmdline(&text, &mut args)?;
    }
    let mut argv = all.into_iter();
    while let Some(arg) = argv.next() {
        let mut value = |flag: &str| -> Result<u64, String> {
            let value = argv.next().ok_or_else(|| format!("{flag} needs a value"))?;
            value
                .parse()
                .map_err(|_| format!("{flag} {value:?} is not a non-negative integer"))
        };
        match arg.as_str() {
            "serve" => args.once = false,
            "once" => args.once = true,
            "--init-kib" => args.params.init_kib = value("--init-kib")?,
            "--init-iters" => args.params.init_iters = value("--init-iters")?,
            "--invoke-iters" => args.invoke_iters = value("--invoke-iters")?,
            "--nonce" => {
                let text = argv.next().ok_or("--nonce needs a value")?;
                args.nonce = hex_u64("--nonce", &text)?;
            }
            "--instance-nonce" => {
                let text = argv.next().ok_or("--instance-nonce needs a value")?;
                args.instance_nonce = hex_u64("--instance-nonce", &text)?;
            }
            "--tty" => args.tty = Some(argv.next().ok_or("--tty needs a path")?),
            "--vm" => args.vm = true,
            "--cmdline" => {}
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// Applies `coldstart.<name>=<value>` words of a kernel command line.
fn from_kernel_cmdline(text: &str, args: &mut Args) -> Result<(), String> {
    for word in text.split_whitespace() {
        let Some((name, value)) = word
            .strip_prefix("coldstart.")
            .and_then(|w| w.split_once('='))
        else {
            continue;
        };
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("kernel command line: {word:?} is not a non-negative integer"))
        };
        match name {
            "instance_nonce" => {
                let what = "kernel command line: coldstart.instance_nonce";
                args.instance_nonce = hex_u64(what, value)?;
            }
            "init_kib" => args.params.init_kib = number()?,
            "init_iters" => args.params.init_iters = number()?,
            "test_sleep" => args.sleep = TestSleep::parse(value)?,
            _ => return Err(format!("kernel command line: unknown {word:?}")),
        }
    }
    Ok(())
}

/// The guest's `CLOCK_BOOTTIME`: nanoseconds since its kernel started, suspend included.
fn boottime_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// As a VM guest's init: flush and power the machine off. Returns only if that
/// failed; init then exits, the kernel panics, and the VMM (`-no-reboot`) stops.
fn power_off() {
    // SAFETY: plain system calls; reboot only returns on failure.
    unsafe {
        libc::sync();
        libc::reboot(libc::RB_POWER_OFF);
    }
    eprintln!(
        "coldstart-probe: power off failed: {}",
        std::io::Error::last_os_error()
    );
}

fn instance_id() -> u64 {
    // A probe that cannot draw an id must not answer with a made-up one.
    getrandom::u64().expect("the OS random source is unavailable")
}

fn serve(
    mut probe: Probe,
    sleep: TestSleep,
    mut input: impl BufRead,
    mut stdout: impl Write,
    boottime_at_start: Option<u64>,
) -> std::io::Result<ExitCode> {
    if let Some(at_start_ns) = boottime_at_start {
        writeln!(
            stdout,
            "{}",
            ProbeLine::Boottime {
                at_start_ns,
                at_ready_ns: boottime_ns(),
            }
        )?;
    }
    writeln!(
        stdout,
        "{}",
        ProbeLine::Ready {
            instance_id: probe.instance_id()
        }
    )?;
    stdout.flush()?;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(ExitCode::SUCCESS);
        }
        let reply = match line.parse::<HarnessLine>() {
            Ok(HarnessLine::Exit) => return Ok(ExitCode::SUCCESS),
            Ok(HarnessLine::Invoke { seq, nonce, iters }) => {
                TestSleep::nap(sleep.invoke);
                let done = probe.invoke(iters, nonce);
                ProbeLine::Done {
                    seq,
                    instance_id: done.instance_id,
                    index: done.index,
                    checksum: done.checksum,
                }
            }
            Err(e) => ProbeLine::Err(e.to_string()),
        };
        writeln!(stdout, "{reply}")?;
        stdout.flush()?;
    }
}

fn main() -> ExitCode {
    let at_start = boottime_ns();
    // A VM's init (not a container's PID 1, which has no machine to power off).
    // SAFETY: getpid has no preconditions.
    let vm_init = unsafe { libc::getpid() } == 1 && std::env::args().any(|a| a == "--vm");
    let code = run(at_start);
    if vm_init {
        power_off();
    }
    code
}

fn run(at_start: u64) -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("coldstart-probe: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut probe = Probe::init(instance_id(), args.instance_nonce, args.params);
    TestSleep::nap(args.sleep.init);
    if args.once {
        TestSleep::nap(args.sleep.invoke);
        let done = probe.invoke(args.invoke_iters, args.nonce);
        println!(
            "{}",
            ProbeLine::Done {
                seq: 0,
                instance_id: done.instance_id,
                index: done.index,
                checksum: done.checksum,
            }
        );
        return ExitCode::SUCCESS;
    }
    let boottime = args.vm.then_some(at_start);
    let served = match &args.tty {
        None => serve(
            probe,
            args.sleep,
            std::io::stdin().lock(),
            std::io::stdout().lock(),
            boottime,
        ),
        Some(path) => match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
        {
            Ok(tty) => match tty.try_clone() {
                Ok(out) => serve(
                    probe,
                    args.sleep,
                    std::io::BufReader::new(tty),
                    std::io::LineWriter::new(out),
                    boottime,
                ),
                Err(e) => Err(e),
            },
            Err(e) => {
                eprintln!("coldstart-probe: cannot open --tty {path}: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    match served {
        Ok(code) => code,
        // The harness closed the pipe: nothing left to answer.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coldstart-probe: {e}");
            ExitCode::FAILURE
        }
    }
}
