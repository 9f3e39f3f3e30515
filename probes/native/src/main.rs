//! The probe as a native binary. Built static (x86_64-unknown-linux-musl) so the same
//! file runs as a process and as the only file of a FROM-scratch container image.
//!
//! ```text
//! coldstart-probe [serve|once] [--init-kib N] [--init-iters N] [--invoke-iters N] [--nonce HEX]
//! ```
//!
//! * `serve` (the default): init, print `READY <id>`, then answer `INVOKE` lines until
//!   `EXIT` or end of input (see `probe_core::protocol`).
//! * `once`: init, run one invocation of `--invoke-iters` with `--nonce` (16 hex
//!   digits, default 0), print its `DONE` line and exit: the whole life of an
//!   instance in one command, for `hyperfine`.
//!
//! Parameters also come from `COLDSTART_INIT_KIB`, `COLDSTART_INIT_ITERS` and
//! `COLDSTART_INVOKE_ITERS` (flags win), which is how containers and functions are
//! configured. Arguments are parsed by hand: no argument parser runs before init.
//! `COLDSTART_TEST_SLEEP` (tests only, see `probe_core::test_sleep`) sleeps at a
//! known point.

use probe_core::protocol::{HarnessLine, ProbeLine};
use probe_core::test_sleep::TestSleep;
use probe_core::{InitParams, Probe, DEFAULT_INVOKE_ITERS};
use std::io::{BufRead, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: coldstart-probe [serve|once] [--init-kib N] [--init-iters N] \
                     [--invoke-iters N] [--nonce HEX]";

struct Args {
    once: bool,
    params: InitParams,
    invoke_iters: u64,
    nonce: u64,
    sleep: TestSleep,
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

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        once: false,
        params: InitParams {
            init_kib: env_u64("COLDSTART_INIT_KIB")?.unwrap_or(InitParams::DEFAULT.init_kib),
            init_iters: env_u64("COLDSTART_INIT_ITERS")?.unwrap_or(InitParams::DEFAULT.init_iters),
        },
        invoke_iters: env_u64("COLDSTART_INVOKE_ITERS")?.unwrap_or(DEFAULT_INVOKE_ITERS),
        nonce: 0,
        sleep: TestSleep::from_env()?,
    };
    let mut argv = std::env::args().skip(1);
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
                args.nonce = u64::from_str_radix(&text, 16)
                    .map_err(|_| format!("--nonce {text:?} is not a hexadecimal u64"))?;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn instance_id() -> u64 {
    // A probe that cannot draw an id must not answer with a made-up one.
    getrandom::u64().expect("the OS random source is unavailable")
}

fn serve(mut probe: Probe, sleep: TestSleep) -> std::io::Result<ExitCode> {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "{}",
        ProbeLine::Ready {
            instance_id: probe.instance_id()
        }
    )?;
    stdout.flush()?;
    let mut line = String::new();
    let mut input = stdin.lock();
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
    let mut probe = Probe::init(instance_id(), args.params);
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
    match serve(probe, args.sleep) {
        Ok(code) => code,
        // The harness closed the pipe: nothing left to answer.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coldstart-probe: {e}");
            ExitCode::FAILURE
        }
    }
}
