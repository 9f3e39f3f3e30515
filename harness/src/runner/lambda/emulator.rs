//! `lambda:local-emulator`: the probe's `bootstrap` on this machine, under the
//! Lambda Runtime API emulator of cargo-lambda (`cargo lambda watch
//! --only-lambda-apis`), invoked through aws-sdk-lambda like the AWS variants. In
//! another language the function's runtime is that language's probe in its
//! `lambda` mode (its own Runtime API loop, under its interpreter), started the
//! same way.
//!
//! The emulator runs once per run and language, in a generated Cargo project (it reads one)
//! whose binaries are the function names it routes: `slot0`..`slot15`. A cold start
//! takes a free slot, spawns a new `bootstrap` for it with the start's instance
//! nonce in `COLDSTART_INSTANCE_NONCE` and invokes it. Contiguous laps on one clock,
//! spawn → verified answer: `spawn` (the spawn call; the command is built before
//! it); in a burst, `held` (at the round's gate while the other bootstraps are
//! spawned; this one runs meanwhile); `request` (the SDK building the `Invoke`,
//! unsigned: the emulator checks no signature, so no SigV4 runs in the clock; the
//! bootstrap's init runs meanwhile, so this is harness work only at the lower end);
//! `first_response` (the request sent until its answer is read: the rest of the
//! runtime's init, its poll of the Runtime API, the handler, the answer back
//! through the emulator). A warm sample is the request's round trip alone.
//! Teardown kills the bootstrap and frees
//! the slot. A slot whose runtime crashed or hung is retired, because the emulator
//! may still hold the lost request for it. Figures are local: what the Runtime API
//! round trip adds to the process runner, not what AWS costs.

use super::invoke::{self, Invoked};
use crate::phase::PhaseTimes;
use crate::probes::{Language, LanguageProbe};
use crate::runner::{
    line_protocol, ColdStart, Instance, Request, Response, RunContext, Runner, RunnerInfo,
    RunnerKey, RuntimeKind, SampleError, StartRequest, Ticket,
};
use anyhow::Context as _;
use async_trait::async_trait;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

/// Function names the emulator routes, one live runtime each, at least; a run with
/// density or bursts gets as many as it holds at once, plus two.
const SLOTS: usize = 16;
/// How long the emulator may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);

const COLD_PHASES: &[&str] = &["spawn", "request", "first_response"];

/// `cargo lambda --version`, or why it cannot be had.
pub async fn cargo_lambda_version() -> Result<String, String> {
    let out = Command::new("cargo")
        .args(["lambda", "--version"])
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(
            "cargo-lambda is not installed: `pip install cargo-lambda` (it provides the Lambda \
             Runtime API emulator)"
                .into(),
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .split_whitespace()
        .nth(1)
        .unwrap_or(text.trim())
        .to_string())
}

/// The running emulator and the project it reads.
struct Emulator {
    child: Child,
    port: u16,
    /// The project the emulator reads: removed when the runner is dropped.
    _dir: tempfile::TempDir,
}

impl Emulator {
    async fn start(slots: usize) -> anyhow::Result<Emulator> {
        let dir = tempfile::Builder::new()
            .prefix("coldstart-lambda-emulator")
            .tempdir()
            .context("cannot create the emulator's project directory")?;
        let mut manifest =
            "[package]\nname = \"coldstart-emulated\"\nversion = \"0.0.0\"\nedition = \"2021\"\n"
                .to_string();
        std::fs::create_dir(dir.path().join("src"))?;
        for slot in 0..slots {
            manifest.push_str(&format!(
                "\n[[bin]]\nname = \"slot{slot}\"\npath = \"src/main.rs\"\n"
            ));
        }
        std::fs::write(dir.path().join("Cargo.toml"), manifest)?;
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n")?;
        // The port is picked free and then handed over, so another program may take
        // it in between: then the emulator exits, or something else answers while it
        // does. Either way, try another port.
        let mut failure = anyhow::anyhow!("the cargo-lambda emulator was not started");
        for _ in 0..3 {
            let (mut child, port) = Self::spawn(dir.path())?;
            match Self::wait_listening(&mut child, port, dir.path()).await {
                Ok(()) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if child.try_wait()?.is_none() {
                        return Ok(Emulator {
                            child,
                            port,
                            _dir: dir,
                        });
                    }
                    failure = anyhow::anyhow!(
                        "the cargo-lambda emulator exited after listening on port {port}"
                    );
                }
                Err(e) => failure = e,
            }
            let _ = child.start_kill();
        }
        Err(failure.context("the cargo-lambda emulator did not keep a port in 3 attempts"))
    }

    fn spawn(dir: &std::path::Path) -> anyhow::Result<(Child, u16)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(dir.join("emulator.log"))?;
        let child = Command::new("cargo")
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
            ])
            .arg(port.to_string())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("cannot start `cargo lambda watch` (pip install cargo-lambda)")?;
        Ok((child, port))
    }

    async fn wait_listening(
        child: &mut Child,
        port: u16,
        dir: &std::path::Path,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        let log = || std::fs::read_to_string(dir.join("emulator.log")).unwrap_or_default();
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!(
                    "the cargo-lambda emulator exited with {status}: {}",
                    line_protocol::tail(&log(), 500)
                );
            }
            if Instant::now() > deadline {
                anyhow::bail!(
                    "the cargo-lambda emulator did not listen on port {port} within {}s: {}",
                    START_TIMEOUT.as_secs(),
                    line_protocol::tail(&log(), 500)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Free function names; a name is taken by one live runtime at a time.
type Slots = Rc<RefCell<Vec<SlotName>>>;

/// A function name the emulator routes, and the Runtime API URL of its runtimes
/// (made once, outside the timed region).
#[derive(Default)]
struct SlotName {
    name: String,
    api: String,
}

pub async fn build(ctx: &RunContext) -> anyhow::Result<Box<dyn Runner>> {
    let mut versions = super::sdk::sdk_versions();
    versions.insert(
        "cargo-lambda".into(),
        cargo_lambda_version().await.map_err(anyhow::Error::msg)?,
    );
    // The function's runtime: the Rust bootstrap, or a language's probe in its
    // `lambda` mode under its interpreter.
    let (bootstrap, args, artifact_bytes, sha) = match ctx.language {
        Language::Rust => {
            let bootstrap = ctx.probes.dir.join(super::Arch::X86_64.bootstrap_file());
            let sha = crate::probes::file_sha256(&bootstrap)
                .with_context(|| format!("cannot read {}", bootstrap.display()))?;
            let bytes = crate::probes::file_bytes(&bootstrap);
            (bootstrap, Vec::new(), bytes, sha)
        }
        language => {
            let probe =
                LanguageProbe::locate(language, &ctx.probes.dir).map_err(anyhow::Error::msg)?;
            versions.extend(probe.versions.clone());
            let sha = (probe.sha256())
                .with_context(|| format!("cannot read {}", probe.artifact.display()))?;
            let mut args = probe.args.clone();
            args.push("lambda".into());
            (probe.program.clone(), args, probe.artifact_bytes(), sha)
        }
    };
    let slots = usize::try_from(ctx.most_live.saturating_add(2))
        .unwrap_or(usize::MAX)
        .max(SLOTS);
    let emulator = Emulator::start(slots).await?;
    let config = unsigned_config();
    let port = emulator.port;
    let endpoint = format!("http://127.0.0.1:{port}");
    let client = invoke::timed_client(config, Some(&endpoint), ctx.timeout);
    let mut info = RunnerInfo {
        versions,
        artifact_bytes,
        ..Default::default()
    };
    info.details.insert(
        "location".into(),
        "local: cargo-lambda's Runtime API emulator on this machine, not AWS".into(),
    );
    info.details.insert("probe_sha256".into(), sha.into());
    if !args.is_empty() {
        let command = format!("{} {}", bootstrap.display(), args.join(" "));
        info.details.insert("command".into(), command.into());
    }
    let mut env = super::probe_env(ctx);
    env.insert("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into());
    env.insert("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), "512".into());
    Ok(Box::new(EmulatedRunner {
        key: RunnerKey::new(RuntimeKind::Lambda.name(), super::LOCAL).in_language(ctx.language),
        emulator,
        client,
        bootstrap,
        args,
        env,
        passed: ctx.passed_env(),
        slots: Rc::new(RefCell::new(
            (0..slots)
                .rev()
                .map(|s| SlotName {
                    name: format!("slot{s}"),
                    api: format!("http://127.0.0.1:{port}/.rt/slot{s}"),
                })
                .collect(),
        )),
        timeout: ctx.timeout,
        info,
    }))
}

struct EmulatedRunner {
    key: RunnerKey,
    emulator: Emulator,
    client: aws_sdk_lambda::Client,
    /// What runs the function: the bootstrap, or a language's interpreter.
    bootstrap: PathBuf,
    /// Its arguments: none for the bootstrap; the probe's file and `lambda`.
    args: Vec<String>,
    env: BTreeMap<String, String>,
    /// From the harness's environment (the tests' sleep only).
    passed: Vec<(String, String)>,
    slots: Slots,
    timeout: Duration,
    info: RunnerInfo,
}

/// A slot taken by a live runtime: given back on a clean teardown, retired otherwise.
struct Slot {
    name: SlotName,
    slots: Slots,
    clean: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.clean {
            self.slots.borrow_mut().push(std::mem::take(&mut self.name));
        }
    }
}

#[async_trait(?Send)]
impl Runner for EmulatedRunner {
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

    async fn close(&mut self) -> Vec<String> {
        let _ = self.emulator.child.start_kill();
        let _ = self.emulator.child.wait().await;
        Vec::new()
    }
}

impl EmulatedRunner {
    /// A cold start; in a burst, held at the gate after `spawn` (the `held` lap).
    async fn start(
        &self,
        start: StartRequest,
        ticket: Option<Ticket<'_>>,
    ) -> Result<ColdStart, SampleError> {
        let instance_nonce = format!("{:016x}", start.instance_nonce);
        let name = self.slots.borrow_mut().pop().ok_or_else(|| {
            SampleError::Runtime(
                "no free emulator slot: each is held by a live instance or was retired after a crashed or hung runtime"
                    .to_string(),
            )
        })?;
        let slot = Slot {
            name,
            slots: self.slots.clone(),
            clean: false,
        };
        // Untimed: the command and its environment, the instance nonce included.
        let mut command = Command::new(&self.bootstrap);
        command
            .args(&self.args)
            .env_clear()
            .envs(&self.env)
            .envs(self.passed.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_RUNTIME_API", &slot.name.api)
            .env("AWS_LAMBDA_FUNCTION_NAME", &slot.name.name)
            .env(super::INSTANCE_NONCE_VAR, &instance_nonce)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let spawned = Instant::now();
        let child = command.spawn().map_err(|e| {
            SampleError::Runtime(format!("cannot start {}: {e}", self.bootstrap.display()))
        })?;
        let spawn_ended = Instant::now();
        let mut before = vec![("spawn", crate::phase::nanos(spawn_ended - spawned))];
        let mut launched = spawn_ended;
        if let Some(ticket) = ticket {
            ticket.arrive().await;
            let now = Instant::now();
            before.push((
                crate::runner::launch_gate::HELD,
                crate::phase::nanos(now - spawn_ended),
            ));
            launched = now;
        }
        let mut instance = Emulated {
            child,
            slot,
            client: self.client.clone(),
            timeout: self.timeout,
        };
        let invoked = instance.invoke_watching(start.request).await?;
        // Contiguous from the end of `spawn` (or `held`): `request`, the SDK
        // building the unsigned request, and any throttled attempt (the emulator
        // throttles none); then `first_response`, the request sent until its answer
        // is read.
        let times = invoked.times_after(before, launched, "first_response");
        Ok(ColdStart {
            instance: Box::new(instance),
            response: invoked.response,
            times,
            shared_instance_nonce: None,
            not_cold: None,
        })
    }
}

/// The emulator's client configuration: unsigned, since the emulator checks no
/// signature, so no SigV4 runs on the harness's thread inside a cold start (or, in
/// a burst, after the gate).
pub(super) fn unsigned_config() -> aws_sdk_lambda::config::Builder {
    aws_sdk_lambda::config::Builder::new()
        .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
        .region(aws_sdk_lambda::config::Region::new("local"))
        .allow_no_auth()
        .auth_scheme_preference([aws_smithy_runtime_api::client::auth::AuthSchemeId::new(
            "noAuth",
        )])
}

/// A live `bootstrap` process serving one slot.
struct Emulated {
    child: Child,
    slot: Slot,
    client: aws_sdk_lambda::Client,
    timeout: Duration,
}

impl Emulated {
    /// Invokes through the emulator while watching the process: one that exits
    /// fails the sample at once with its status and stderr, not after the timeout.
    async fn invoke_watching(&mut self, request: Request) -> Result<Invoked, SampleError> {
        let call = invoke::invoke(
            &self.client,
            &self.slot.name.name,
            None,
            request,
            self.timeout,
        );
        let result = tokio::select! {
            invoked = call => invoked,
            status = self.child.wait() => {
                let mut stderr = Vec::new();
                if let Some(mut err) = self.child.stderr.take() {
                    let _ = tokio::time::timeout(Duration::from_secs(1), err.read_to_end(&mut stderr)).await;
                }
                let status = status.map(|s| format!(", {s}")).unwrap_or_default();
                Err(line_protocol::crashed("the bootstrap exited", &status, &stderr))
            }
        };
        if result.is_err() {
            let _ = self.child.start_kill();
        }
        result
    }
}

#[async_trait(?Send)]
impl Instance for Emulated {
    /// The bootstrap process (the emulator itself is shared by every instance).
    async fn footprint(&self) -> crate::runner::Footprint {
        crate::runner::Footprint {
            pids: self.child.id().into_iter().collect(),
            ..Default::default()
        }
    }

    async fn invoke(&mut self, request: Request) -> Result<(Response, PhaseTimes), SampleError> {
        let invoked = self.invoke_watching(request).await?;
        Ok((invoked.response, invoked.times(None)))
    }

    async fn teardown(mut self: Box<Self>) -> Result<Option<Duration>, SampleError> {
        let start = Instant::now();
        self.child
            .kill()
            .await
            .map_err(|e| SampleError::Runtime(format!("killing the bootstrap: {e}")))?;
        self.slot.clean = true;
        Ok(Some(start.elapsed()))
    }
}
