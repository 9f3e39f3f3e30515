//! One QEMU guest: its command line, its process, and the probe's serial line.
//!
//! The guest has two serial ports: `ttyS0` is the kernel's console, written to a log
//! file that failures quote; `ttyS1` carries the probe's line protocol, connected to
//! QEMU's stdin/stdout. Kernel and systemd messages thus never land among protocol
//! lines. A serial port is a terminal: the guest's line discipline echoes what the
//! harness writes and ends lines with `\r\n`, so the transport drops the echoed
//! harness lines and the `\r` (the probe is unchanged).
//!
//! QEMU runs in its own process group (a Ctrl-C at the terminal reaches the harness,
//! which tears the guests down, not QEMU) and dies with the harness
//! (`PR_SET_PDEATHSIG`), so no guest outlives a run, even a killed one.

use super::super::line_protocol::{self, LineStream};
use super::super::{Instance, Request, Response, SampleError};
use crate::phase::PhaseTimes;
use async_trait::async_trait;
use probe_core::protocol::{HarnessLine, ProbeLine};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The accelerator a guest runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// Hardware virtualization through /dev/kvm.
    Kvm,
    /// QEMU's emulator (Tiny Code Generator): no hardware support needed, and slow.
    Tcg,
}

impl Accel {
    pub fn name(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }

    /// The guest CPU model: the host's under KVM; under TCG `max`, the emulator's
    /// fullest model (with RDRAND, so the guest's random pool is ready at once, as it
    /// is on hardware; `qemu64` leaves the probe waiting a second for entropy).
    pub fn cpu(self) -> &'static str {
        match self {
            Accel::Kvm => "host",
            Accel::Tcg => "max",
        }
    }
}

/// How to boot a guest.
#[derive(Debug, Clone)]
pub struct Machine {
    pub qemu: PathBuf,
    pub accel: Accel,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    /// A root filesystem image (`vm:full`), opened with `snapshot=on`: every guest
    /// boots the same unchanged image and its writes are dropped.
    pub disk: Option<PathBuf>,
    pub memory_mib: u64,
    pub cpus: u64,
    /// The kernel command line.
    pub append: String,
}

impl Machine {
    /// QEMU's arguments; the console goes to `console_log`; `cmdline_tail` ends the
    /// kernel command line (what differs per start: the instance nonce).
    pub fn args(&self, console_log: &Path, cmdline_tail: &str) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "-M".into(),
            format!("pc,accel={}", self.accel.name()).into(),
            "-cpu".into(),
            self.accel.cpu().into(),
            "-m".into(),
            self.memory_mib.to_string().into(),
            "-smp".into(),
            self.cpus.to_string().into(),
            "-nodefaults".into(),
            "-no-user-config".into(),
            "-display".into(),
            "none".into(),
            "-no-reboot".into(),
            "-kernel".into(),
            self.kernel.clone().into(),
            "-initrd".into(),
            self.initrd.clone().into(),
            "-append".into(),
            format!("{} {cmdline_tail}", self.append).into(),
        ];
        if let Some(disk) = &self.disk {
            let mut drive = OsString::from("file=");
            drive.push(disk);
            drive.push(",format=raw,if=virtio,snapshot=on");
            args.extend(["-drive".into(), drive]);
        }
        let mut console = OsString::from("file,id=console,path=");
        console.push(console_log);
        args.extend([
            "-chardev".into(),
            console,
            "-device".into(),
            "isa-serial,chardev=console".into(),
            "-chardev".into(),
            "stdio,id=probe,signal=off".into(),
            "-device".into(),
            "isa-serial,chardev=probe".into(),
        ]);
        args
    }
}

/// The QEMU processes alive now, so `close` can kill any a teardown missed.
pub type Alive = Arc<Mutex<BTreeSet<u32>>>;

/// Starts QEMU with `args` (from [`Machine::args`], made before the clock starts);
/// returns once the process exists.
pub fn spawn(
    qemu: &Path,
    args: &[OsString],
    console_log: PathBuf,
    timeout: Duration,
    alive: &Alive,
) -> Result<Guest, SampleError> {
    let mut command = Command::new(qemu);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(|e| SampleError::Runtime(format!("cannot start {}: {e}", qemu.display())))?;
    let pid = child.id().unwrap_or(0);
    alive.lock().expect("not poisoned").insert(pid);
    let stdin = child.stdin.take();
    let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    Ok(Guest {
        child,
        pid,
        stdin,
        stdout,
        line: String::with_capacity(128),
        console_log,
        timeout,
        alive: alive.clone(),
    })
}

/// The guest's `CLOCK_BOOTTIME` readings its probe sent (the platform's clock, for
/// `reported`, never for phases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Boottime {
    /// When the probe started (as `/init`, or as systemd's unit).
    pub at_start_ns: u64,
    /// When the probe was ready to answer.
    pub at_ready_ns: u64,
}

/// A live guest, spoken to over its protocol serial port.
pub struct Guest {
    child: Child,
    pid: u32,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    line: String,
    console_log: PathBuf,
    timeout: Duration,
    alive: Alive,
}

impl Guest {
    /// The guest's clock as the probe sent it.
    pub async fn boottime(&mut self, deadline: Instant) -> Result<Boottime, SampleError> {
        match self.read(deadline).await {
            Ok(ProbeLine::Boottime {
                at_start_ns,
                at_ready_ns,
            }) => Ok(Boottime {
                at_start_ns,
                at_ready_ns,
            }),
            Ok(other) => Err(SampleError::Protocol(format!(
                "expected BOOTTIME, probe said {other:?}"
            ))),
            Err(e) => Err(self.explain(e).await),
        }
    }

    /// Asks the probe to exit (the guest then powers off) and waits for QEMU to exit.
    async fn shutdown(mut self) -> Result<Duration, SampleError> {
        let start = Instant::now();
        let _ = self.send(&line_protocol::encode(HarnessLine::Exit)).await;
        let waited = tokio::time::timeout(self.timeout, self.child.wait()).await;
        let result = match waited {
            Ok(Ok(status)) if status.success() => Ok(start.elapsed()),
            Ok(Ok(status)) => Err(SampleError::Crashed(format!(
                "QEMU exited with {status} after EXIT{}",
                self.console_tail()
            ))),
            Ok(Err(e)) => Err(SampleError::Runtime(format!("waiting for QEMU: {e}"))),
            Err(_) => {
                let _ = self.child.kill().await;
                Err(SampleError::Timeout(self.timeout))
            }
        };
        result
    }

    /// The console's last lines, for an error message ("" when it is empty); a
    /// kernel panic's headline comes first, however far up it is.
    fn console_tail(&self) -> String {
        let text = std::fs::read(&self.console_log).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.is_empty() {
            return "; the guest's console is empty".into();
        }
        let last = &lines[lines.len().saturating_sub(6)..];
        let headline = lines
            .iter()
            .find(|l| l.contains("Kernel panic") || l.contains("Out of memory"))
            .filter(|h| !last.contains(h));
        let mut shown: Vec<&str> = headline.into_iter().copied().collect();
        if headline.is_some() {
            shown.push("...");
        }
        shown.extend_from_slice(last);
        format!(
            "; guest console: {}",
            line_protocol::tail(&shown.join(" | "), 900)
        )
    }
}

impl Drop for Guest {
    /// The one place a guest is forgotten: after a teardown, a failure or an
    /// interruption alike (kill_on_drop kills a process still running).
    fn drop(&mut self) {
        self.alive.lock().expect("not poisoned").remove(&self.pid);
        let _ = std::fs::remove_file(&self.console_log);
    }
}

#[async_trait(?Send)]
impl LineStream for Guest {
    /// The next protocol line from the serial port, past echoed harness lines.
    async fn read(&mut self, deadline: Instant) -> Result<ProbeLine, SampleError> {
        loop {
            self.line.clear();
            let read =
                tokio::time::timeout_at(deadline.into(), self.stdout.read_line(&mut self.line));
            match read.await {
                Err(_) => return Err(SampleError::Timeout(self.timeout)),
                Ok(Err(e)) => {
                    return Err(SampleError::Crashed(format!(
                        "reading the serial port: {e}"
                    )))
                }
                Ok(Ok(0)) => {
                    return Err(SampleError::Crashed("QEMU closed the serial port".into()))
                }
                Ok(Ok(_)) => {}
            }
            let text = self
                .line
                .trim_end_matches(['\r', '\n'])
                .trim_start_matches('\r');
            if text.is_empty() || text == "EXIT" || text.starts_with("INVOKE ") {
                continue; // the terminal's echo of what we wrote
            }
            return line_protocol::parse(text);
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), SampleError> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| SampleError::Protocol("the serial port is closed".into()))?;
        stdin
            .write_all(bytes)
            .await
            .map_err(|e| SampleError::Crashed(format!("writing the serial port: {e}")))
    }

    /// Kills and reaps QEMU after a failure; the error gains its exit status, its
    /// stderr and the console's last lines (a kernel panic, a stuck boot).
    async fn explain(&mut self, error: SampleError) -> SampleError {
        // A guest that closed its port is usually exiting on its own (a panic
        // reboots, and -no-reboot ends QEMU): its own status says more than a kill's.
        let own = tokio::time::timeout(Duration::from_millis(500), self.child.wait()).await;
        let status = match own {
            Ok(status) => Ok(status),
            Err(_) => {
                let _ = self.child.start_kill();
                tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await
            }
        };
        let mut stderr = Vec::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ =
                tokio::time::timeout(Duration::from_secs(1), err.read_to_end(&mut stderr)).await;
        }
        let console = self.console_tail();
        let qemu = String::from_utf8_lossy(&stderr);
        let qemu = match line_protocol::tail(&qemu, 300) {
            t if t.is_empty() => String::new(),
            t => format!("; QEMU: {t}"),
        };
        match error {
            SampleError::Crashed(what) => {
                let exit = match status {
                    Ok(Ok(status)) => format!(", QEMU {status}"),
                    _ => ", QEMU status unknown".into(),
                };
                SampleError::Crashed(format!("{what}{exit}{qemu}{console}"))
            }
            SampleError::Timeout(t) => SampleError::Runtime(format!(
                "the guest did not answer within {} (QEMU killed){qemu}{console}",
                humantime::format_duration(t)
            )),
            SampleError::Protocol(what) => SampleError::Protocol(format!("{what}{console}")),
            SampleError::Runtime(what) => SampleError::Runtime(format!("{what}{qemu}{console}")),
        }
    }
}

#[async_trait(?Send)]
impl Instance for Guest {
    /// QEMU's process: the guest's memory is its memory.
    async fn footprint(&self) -> super::super::Footprint {
        super::super::Footprint {
            pids: vec![self.pid],
            ..Default::default()
        }
    }

    async fn invoke(&mut self, request: Request) -> Result<(Response, PhaseTimes), SampleError> {
        let result = line_protocol::warm_round_trip(self, request, self.timeout).await;
        match result {
            Ok(ok) => Ok(ok),
            Err(e) => Err(self.explain(e).await),
        }
    }

    async fn teardown(self: Box<Self>) -> Result<Option<Duration>, SampleError> {
        self.shutdown().await.map(Some)
    }
}
