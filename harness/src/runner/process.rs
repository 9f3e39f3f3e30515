//! The `process` runner: the probe as a host process, the floor every other
//! compute model adds to. In each language: the static binary (Rust, Go), or the
//! interpreter or JVM given the probe's file (Python, Node.js, Java), so a cold
//! start holds the language's own start; the command line is resolved when the
//! runner is built ([`LanguageProbe`]).
//!
//! * **cold**: from the `spawn` request for a new process (its command line, the
//!   start's `--instance-nonce` included, built before the clock) until its first
//!   `DONE` line is read. Phases: `spawn` (fork/exec returned), `ready` (`READY <id>` read:
//!   the process has loaded and done its init work), `first_response` (`INVOKE` written,
//!   `DONE` read). In a burst, `held` follows `spawn`: at the round's gate while the
//!   other processes are spawned (this one runs meanwhile), so its `ready` runs from
//!   the gate, not from its spawn.
//! * **warm**: one `INVOKE`/`DONE` round trip over the pipes of a live process.
//! * **teardown** (timed apart, not part of cold): `EXIT` written until the process
//!   has exited and been reaped.
//!
//! A process that exits early becomes a failed sample whose reason carries its exit
//! status and the tail of its stderr; one that does not answer within the timeout is
//! killed.

use super::line_protocol;
use super::{
    Availability, ColdStart, Instance, Request, Response, RunContext, Runner, RunnerInfo,
    RunnerKey, RuntimeKind, SampleError, StartRequest, Ticket,
};
use crate::phase::{PhaseTimes, Stopwatch};
use crate::probes::{LanguageProbe, ProbeArtifacts};
use async_trait::async_trait;
use probe_core::protocol::{HarnessLine, ProbeLine};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The process runner has one variant: the probe as a process of the host, in
/// each language (`native` names the host, not the language).
pub const VARIANTS: &[&str] = &["native"];

const COLD_PHASES: &[&str] = &["spawn", "ready", "first_response"];

/// Available whenever the native probe has been built.
pub fn detect(probes: &Result<ProbeArtifacts, String>) -> Availability {
    Availability {
        runtime: RuntimeKind::Process,
        variants: VARIANTS,
        versions: Default::default(),
        unavailable: probes.as_ref().err().cloned(),
        unavailable_variants: Vec::new(),
    }
}

pub fn build(variants: &[&'static str], ctx: &RunContext) -> anyhow::Result<Vec<Box<dyn Runner>>> {
    let probe = LanguageProbe::locate(ctx.language, &ctx.probes.dir).map_err(anyhow::Error::msg)?;
    let mut info = RunnerInfo {
        artifact_bytes: probe.artifact_bytes(),
        versions: probe.versions.clone(),
        ..Default::default()
    };
    info.details.insert(
        "probe_sha256".into(),
        (probe.sha256())
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", probe.artifact.display()))?
            .into(),
    );
    if !probe.args.is_empty() {
        let mut command = vec![probe.program.display().to_string()];
        command.extend(probe.args.iter().cloned());
        info.details
            .insert("command".into(), command.join(" ").into());
    }
    let mut args = probe.args.clone();
    args.extend(serve_args(ctx));
    Ok(variants
        .iter()
        .map(|variant| {
            Box::new(ProcessRunner {
                key: RunnerKey::new(RuntimeKind::Process.name(), *variant)
                    .in_language(ctx.language),
                path: probe.program.clone(),
                args: args.clone(),
                timeout: ctx.timeout,
                info: info.clone(),
            }) as Box<dyn Runner>
        })
        .collect())
}

/// The probe's command line for a long-lived instance with the run's init work.
pub fn serve_args(ctx: &RunContext) -> Vec<String> {
    vec![
        "serve".into(),
        "--init-kib".into(),
        ctx.params.init_kib.to_string(),
        "--init-iters".into(),
        ctx.params.init_iters.to_string(),
    ]
}

/// The probe's arguments that give a start its instance nonce.
fn instance_nonce_arg(instance_nonce: u64) -> [String; 2] {
    ["--instance-nonce".into(), format!("{instance_nonce:016x}")]
}

struct ProcessRunner {
    key: RunnerKey,
    path: PathBuf,
    args: Vec<String>,
    timeout: Duration,
    info: RunnerInfo,
}

#[async_trait(?Send)]
impl Runner for ProcessRunner {
    fn key(&self) -> &RunnerKey {
        &self.key
    }

    fn cold_phases(&self) -> &'static [&'static str] {
        COLD_PHASES
    }

    fn info(&self) -> RunnerInfo {
        self.info.clone()
    }

    async fn cold_start(&self, start: StartRequest) -> Result<ColdStart, SampleError> {
        self.start(start, None).await
    }

    async fn gated_cold_start(
        &self,
        start: StartRequest,
        ticket: Ticket<'_>,
    ) -> Result<ColdStart, SampleError> {
        self.start(start, Some(ticket)).await
    }
}

impl ProcessRunner {
    /// A cold start; in a burst, held at the gate after `spawn` (the `held` lap).
    async fn start(
        &self,
        start: StartRequest,
        ticket: Option<Ticket<'_>>,
    ) -> Result<ColdStart, SampleError> {
        // Untimed: the command line, the start's instance nonce included.
        let mut command = Command::new(&self.path);
        command
            .args(&self.args)
            .args(instance_nonce_arg(start.instance_nonce))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let deadline = Instant::now() + self.timeout;
        let mut sw = Stopwatch::start();
        let child = command.spawn().map_err(|e| {
            SampleError::Runtime(format!("cannot start {}: {e}", self.path.display()))
        })?;
        sw.lap("spawn");
        super::launch_gate::hold(ticket, &mut sw).await;
        let mut probe = LineProbe::new(child, self.timeout);
        let response = line_protocol::ready_and_first_response(
            &mut probe,
            &mut sw,
            "ready",
            start.request,
            deadline,
        )
        .await?;
        Ok(ColdStart {
            instance: Box::new(probe),
            response,
            times: sw.finish(),
            shared_instance_nonce: None,
            not_cold: None,
        })
    }
}

/// A live probe process spoken to over its stdin/stdout with the line protocol.
/// Also used by other runners whose instance is a process reached through pipes.
pub struct LineProbe {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    line: String,
    timeout: Duration,
}

impl LineProbe {
    /// Wraps a child spawned with piped stdin, stdout and stderr.
    pub fn new(mut child: Child, timeout: Duration) -> LineProbe {
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        LineProbe {
            child,
            stdin,
            stdout,
            line: String::with_capacity(128),
            timeout,
        }
    }

    /// Asks the probe to exit and waits until it has; kills it if it does not.
    pub async fn shutdown(mut self) -> Result<Duration, SampleError> {
        let start = Instant::now();
        let _ =
            line_protocol::LineStream::send(&mut self, &line_protocol::encode(HarnessLine::Exit))
                .await;
        drop(self.stdin.take());
        match tokio::time::timeout(self.timeout, self.child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(start.elapsed()),
            Ok(Ok(status)) => Err(SampleError::Crashed(format!("exited with {status}"))),
            Ok(Err(e)) => Err(SampleError::Runtime(format!("waiting for the probe: {e}"))),
            Err(_) => {
                let _ = self.child.kill().await;
                Err(SampleError::Timeout(self.timeout))
            }
        }
    }
}

#[async_trait(?Send)]
impl line_protocol::LineStream for LineProbe {
    /// Reads the next protocol line; end of output means the probe died.
    async fn read(&mut self, deadline: Instant) -> Result<ProbeLine, SampleError> {
        self.line.clear();
        let read = tokio::time::timeout_at(deadline.into(), self.stdout.read_line(&mut self.line));
        match read.await {
            Err(_) => Err(SampleError::Timeout(self.timeout)),
            Ok(Err(e)) => Err(SampleError::Crashed(format!("reading its stdout: {e}"))),
            Ok(Ok(0)) => Err(SampleError::Crashed("closed its stdout".into())),
            Ok(Ok(_)) => line_protocol::parse(&self.line),
        }
    }

    /// Writes encoded harness lines.
    async fn send(&mut self, bytes: &[u8]) -> Result<(), SampleError> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| SampleError::Protocol("stdin already closed".into()))?;
        stdin
            .write_all(bytes)
            .await
            .map_err(|e| SampleError::Crashed(format!("writing its stdin: {e}")))
    }

    /// Kills the process after a failure and turns "closed its stdout" into the exit
    /// status and stderr that say why.
    async fn explain(&mut self, error: SampleError) -> SampleError {
        let _ = self.child.start_kill();
        let status = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        let mut stderr = Vec::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ =
                tokio::time::timeout(Duration::from_secs(1), err.read_to_end(&mut stderr)).await;
        }
        match error {
            SampleError::Crashed(what) => {
                let exit = match status {
                    Ok(Ok(status)) => format!(", {status}"),
                    _ => ", unknown status".into(),
                };
                line_protocol::crashed(&what, &exit, &stderr)
            }
            other => other,
        }
    }
}

#[async_trait(?Send)]
impl Instance for LineProbe {
    async fn invoke(&mut self, request: Request) -> Result<(Response, PhaseTimes), SampleError> {
        line_protocol::warm_round_trip(self, request, self.timeout).await
    }

    async fn footprint(&self) -> super::Footprint {
        super::Footprint {
            pids: self.child.id().into_iter().collect(),
            ..Default::default()
        }
    }

    async fn teardown(self: Box<Self>) -> Result<Option<Duration>, SampleError> {
        self.shutdown().await.map(Some)
    }
}
