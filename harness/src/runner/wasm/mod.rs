//! The `wasm` runner: the probe as a wasm32-wasip1 module in wasmtime, embedded in
//! the harness and driven through the module's exports (no stdio on the hot path).
//!
//! * **cold**: from the request for a new instance until its first invocation's
//!   result has been read out of linear memory. Phases:
//!   - `load`: `jit` compiles the `.wasm` bytes with Cranelift (`Module::new`);
//!     `aot` deserializes a precompiled `.cwasm` file (`Module::deserialize_file`, an
//!     mmap). `pre` has no load phase: its module is compiled once, up front.
//!   - `instantiate`: a new `Store` with a fresh WASI context, instantiation (through
//!     an `InstancePre` and the pooling allocator for `pre`: the warm-pool setup edge
//!     platforms use, with linear memory kept resident between instances), the
//!     reactor's `_initialize`, and the export look-ups.
//!   - `init`: `coldstart_init`, the probe's init work, keyed by the start's
//!     instance nonce (its third argument).
//!   - `first_response`: `coldstart_invoke` (with the request's nonce) and reading
//!     its result.
//! * **warm**: one `coldstart_invoke` call on a live instance, result read included.
//! * **teardown**: dropping the store (for `pre`, returning its slot to the pool).
//!
//! The engines (on-demand allocator for `jit`/`aot`, pooling for `pre`) are created
//! once per run and their creation time is reported. wasmtime is built without its
//! compilation cache, so every `jit` sample compiles from scratch. Guest code runs
//! with epoch interruption: a probe that hangs traps at the timeout.
//!
//! wasmtime-wasi's synchronous WASI calls block on a Tokio handle of their own, so
//! all wasm work runs on one dedicated thread (`thread.rs`, where each clock starts and
//! stops); this side hands it commands. Cold, warm and teardown samples are timed on
//! that thread, outside the hand-off; a burst's clock starts here, before it.

mod thread;

use super::{
    Availability, ColdStart, Instance, Request, Response, RunContext, Runner, RunnerInfo,
    RunnerKey, RuntimeKind, SampleError, StartRequest,
};
use crate::phase::{nanos, PhaseTimes};
use crate::probes::{self, ProbeArtifacts};
use anyhow::Context as _;
use async_trait::async_trait;
use std::sync::mpsc;
use std::time::Duration;
use thread::{Command, Launched, Made, Maker, Worker, EPOCH_TICK, POOL_KEEP_RESIDENT};
use tokio::sync::oneshot;
use wasmtime::Module;

/// `jit`, `aot` and `pre`, each its own row of results.
pub const VARIANTS: &[&str] = &["jit", "aot", "pre"];

/// The wasmtime crate compiled into this harness.
pub const WASMTIME_VERSION: &str = env!("COLDSTART_WASMTIME_VERSION");

/// The wasmtime cargo features compiled in (harness/Cargo.toml). With
/// `parallel-compilation`, `jit`'s load phase compiles on every core, so its figure
/// depends on the core count as much as on Cranelift.
const WASMTIME_FEATURES: &str =
    "cranelift, runtime, std, pooling-allocator, parallel-compilation, wat, addr2line, demangle";

/// Instances the pooling allocator holds slots for at least (warm instance plus cold
/// ones); a run with density or bursts gets as many as it holds at once, plus those.
const POOL_INSTANCES: u32 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Jit,
    Aot,
    Pre,
}

impl Variant {
    fn parse(name: &str) -> Variant {
        match name {
            "jit" => Variant::Jit,
            "aot" => Variant::Aot,
            "pre" => Variant::Pre,
            other => unreachable!("wasm variant {other:?} is not in VARIANTS"),
        }
    }

    fn phases(self) -> &'static [&'static str] {
        match self {
            Variant::Jit | Variant::Aot => &["load", "instantiate", "init", "first_response"],
            Variant::Pre => &["instantiate", "init", "first_response"],
        }
    }
}

/// Available whenever the Wasm probe has been built.
pub fn detect(probes: &Result<ProbeArtifacts, String>) -> Availability {
    Availability {
        runtime: RuntimeKind::Wasm,
        variants: VARIANTS,
        versions: versions(),
        unavailable: probes.as_ref().err().cloned(),
        unavailable_variants: Vec::new(),
    }
}

fn versions() -> std::collections::BTreeMap<String, String> {
    [
        ("wasmtime".to_string(), WASMTIME_VERSION.to_string()),
        (
            "wasmtime-wasi".to_string(),
            env!("COLDSTART_WASMTIME_WASI_VERSION").to_string(),
        ),
    ]
    .into()
}

pub fn build(variants: &[&'static str], ctx: &RunContext) -> anyhow::Result<Vec<Box<dyn Runner>>> {
    let wasm_path = ctx.probes.wasm();
    let bytes = std::fs::read(&wasm_path)
        .with_context(|| format!("cannot read the Wasm probe {}", wasm_path.display()))?;
    let pool_instances = u32::try_from(ctx.most_live.saturating_add(2))
        .unwrap_or(u32::MAX)
        .max(POOL_INSTANCES);
    let plain = thread::engine(false, 0)?;
    let pool = thread::engine(true, pool_instances)?;

    // Untimed preparation: the precompiled artifact for `aot`, the InstancePre for `pre`.
    let module = Module::new(&plain.engine, &bytes)
        .map_err(|e| anyhow::anyhow!("{} does not compile: {e:#}", wasm_path.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix("coldstart-wasm-")
        .tempdir()
        .context("cannot create a scratch directory for the precompiled module")?;
    let cwasm = scratch.path().join("coldstart_probe.cwasm");
    let serialized = module
        .serialize()
        .map_err(|e| anyhow::anyhow!("cannot precompile the probe: {e:#}"))?;
    std::fs::write(&cwasm, &serialized)
        .with_context(|| format!("cannot write {}", cwasm.display()))?;
    let pool_module = Module::new(&pool.engine, &bytes)
        .map_err(|e| anyhow::anyhow!("{} does not compile: {e:#}", wasm_path.display()))?;
    let pre = pool
        .linker
        .instantiate_pre(&pool_module)
        .map_err(|e| anyhow::anyhow!("cannot pre-link the probe: {e:#}"))?;

    let wasm_sha256 = probes::file_sha256(&wasm_path)
        .with_context(|| format!("cannot read {}", wasm_path.display()))?;
    let timeout_ticks = (ctx.timeout.as_nanos() / EPOCH_TICK.as_nanos()) as u64 + 1;
    let maker = Maker {
        plain: plain.engine,
        plain_linker: plain.linker,
        pool: pool.engine,
        pre,
        bytes,
        cwasm: cwasm.clone(),
        _scratch: scratch,
        params: ctx.params,
        env: ctx.passed_env(),
        timeout: ctx.timeout,
        timeout_ticks,
    };
    let tx = Worker::spawn(maker)?;

    Ok(variants
        .iter()
        .map(|name| {
            let variant = Variant::parse(name);
            let mut info = RunnerInfo {
                versions: versions(),
                // A module whose size cannot be read is of unknown size, never 0.
                artifact_bytes: match variant {
                    Variant::Aot => Some(serialized.len() as u64),
                    Variant::Jit | Variant::Pre => probes::file_bytes(&wasm_path),
                },
                ..Default::default()
            };
            let (allocator, created) = match variant {
                Variant::Pre => ("pooling", pool.created),
                Variant::Jit | Variant::Aot => ("on-demand", plain.created),
            };
            let details = &mut info.details;
            details.insert("allocator".into(), allocator.into());
            if variant == Variant::Pre {
                details.insert("pool_keep_resident_bytes".into(), POOL_KEEP_RESIDENT.into());
                details.insert("pool_instances".into(), pool_instances.into());
            }
            details.insert("engine_create_ns".into(), nanos(created).into());
            details.insert("epoch_interruption".into(), true.into());
            details.insert(
                "compile_cache".into(),
                "none: wasmtime is built without its cache feature".into(),
            );
            details.insert("wasi".into(), "preview1 (wasmtime-wasi p1, sync)".into());
            details.insert("wasmtime_features".into(), WASMTIME_FEATURES.into());
            details.insert("probe_sha256".into(), wasm_sha256.clone().into());
            Box::new(WasmRunner {
                key: RunnerKey::new(RuntimeKind::Wasm.name(), *name),
                variant,
                tx: tx.clone(),
                timeout: ctx.timeout,
                info,
            }) as Box<dyn Runner>
        })
        .collect())
}

struct WasmRunner {
    key: RunnerKey,
    variant: Variant,
    tx: mpsc::Sender<Command>,
    timeout: Duration,
    info: RunnerInfo,
}

/// Waits for the wasm thread's answer; the margin covers work that epochs cannot
/// interrupt (compilation), the wasm thread's own timeout fires first otherwise.
async fn answer<T>(
    rx: oneshot::Receiver<Result<T, SampleError>>,
    timeout: Duration,
) -> Result<T, SampleError> {
    match tokio::time::timeout(timeout + Duration::from_secs(30), rx).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(SampleError::Runtime("the wasm thread has stopped".into())),
        Err(_) => Err(SampleError::Timeout(timeout)),
    }
}

#[async_trait(?Send)]
impl Runner for WasmRunner {
    fn key(&self) -> &RunnerKey {
        &self.key
    }

    fn cold_phases(&self) -> &'static [&'static str] {
        self.variant.phases()
    }

    fn info(&self) -> RunnerInfo {
        self.info.clone()
    }

    fn burst_method(&self) -> String {
        format!(
            "a pool of {} threads (one per core), spawned and parked, released at the \
             launch instant, each instantiating the next as soon as it is free",
            thread::pool_threads()
        )
    }

    async fn burst(&self, starts: &[StartRequest]) -> Result<super::BurstOutcomes, String> {
        let (reply, rx) = oneshot::channel();
        // The pool takes the launch instant once its threads are up.
        let command = Command::Burst {
            variant: self.variant,
            starts: starts.to_vec(),
            reply,
        };
        self.tx
            .send(command)
            .map_err(|_| "the wasm thread has stopped".to_string())?;
        let made = rx
            .await
            .map_err(|_| "the wasm thread has stopped".to_string())?;
        Ok(made
            .into_iter()
            .map(|launched| {
                launched.map(|Launched { made, since_launch }| super::BurstStart {
                    cold: ColdStart {
                        instance: Box::new(WasmInstance {
                            handle: made.handle,
                            tx: self.tx.clone(),
                            timeout: self.timeout,
                        }) as Box<dyn Instance>,
                        response: made.response,
                        times: made.times,
                        shared_instance_nonce: None,
                        not_cold: None,
                    },
                    since_launch,
                })
            })
            .collect())
    }

    async fn cold_start(&self, start: StartRequest) -> Result<ColdStart, SampleError> {
        let (reply, rx) = oneshot::channel();
        let command = Command::Cold {
            variant: self.variant,
            start,
            reply,
        };
        send(&self.tx, command)?;
        let Made {
            handle,
            response,
            times,
        } = answer(rx, self.timeout).await?;
        Ok(ColdStart {
            instance: Box::new(WasmInstance {
                handle,
                tx: self.tx.clone(),
                timeout: self.timeout,
            }),
            response,
            times,
            shared_instance_nonce: None,
            not_cold: None,
        })
    }
}

/// Hands a command to the wasm thread.
fn send(tx: &mpsc::Sender<Command>, command: Command) -> Result<(), SampleError> {
    tx.send(command)
        .map_err(|_| SampleError::Runtime("the wasm thread has stopped".into()))
}

struct WasmInstance {
    handle: u64,
    tx: mpsc::Sender<Command>,
    timeout: Duration,
}

#[async_trait(?Send)]
impl Instance for WasmInstance {
    /// The resident pages of the instance's linear memory (mincore), inside the
    /// harness process.
    async fn footprint(&self) -> super::Footprint {
        let (reply, rx) = oneshot::channel();
        let command = Command::Footprint {
            handle: self.handle,
            reply,
        };
        let bytes = match self.tx.send(command) {
            Ok(()) => rx.await.ok().flatten(),
            Err(_) => None,
        };
        super::Footprint {
            in_harness_bytes: bytes,
            ..Default::default()
        }
    }

    async fn invoke(&mut self, request: Request) -> Result<(Response, PhaseTimes), SampleError> {
        let (reply, rx) = oneshot::channel();
        let command = Command::Invoke {
            handle: self.handle,
            request,
            reply,
        };
        send(&self.tx, command)?;
        answer(rx, self.timeout).await
    }

    async fn teardown(self: Box<Self>) -> Result<Option<Duration>, SampleError> {
        let (reply, rx) = oneshot::channel();
        let command = Command::Teardown {
            handle: self.handle,
            reply,
        };
        send(&self.tx, command)?;
        rx.await
            .map(Some)
            .map_err(|_| SampleError::Runtime("the wasm thread has stopped".into()))
    }
}
