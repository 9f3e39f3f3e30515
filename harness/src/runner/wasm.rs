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
//!   - `init`: `coldstart_init`, the probe's init work.
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
//! all wasm work runs on one dedicated thread; samples are timed on that thread, the
//! hand-off to it is outside every timed region.

use super::{
    Availability, ColdStart, Instance, Request, Response, RunContext, Runner, RunnerInfo,
    RunnerKey, RuntimeKind, SampleError,
};
use crate::phase::{nanos, PhaseTimes, Stopwatch};
use crate::probes::{self, ProbeArtifacts};
use anyhow::Context as _;
use async_trait::async_trait;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Memory, Module,
    PoolingAllocationConfig, Store, Trap, TypedFunc,
};
use wasmtime_wasi::p1::{self, WasiP1Ctx};
use wasmtime_wasi::WasiCtxBuilder;

/// `jit`, `aot` and `pre`, each its own row of results.
pub const VARIANTS: &[&str] = &["jit", "aot", "pre"];

/// The wasmtime crate compiled into this harness.
pub const WASMTIME_VERSION: &str = env!("COLDSTART_WASMTIME_VERSION");

/// The wasmtime cargo features compiled in (harness/Cargo.toml). With
/// `parallel-compilation`, `jit`'s load phase compiles on every core, so its figure
/// depends on the core count as much as on Cranelift.
const WASMTIME_FEATURES: &str =
    "cranelift, runtime, std, pooling-allocator, parallel-compilation, wat, addr2line, demangle";

/// How often the epoch advances: the resolution of the per-sample timeout.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Instances the pooling allocator holds slots for at least (warm instance plus cold
/// ones); a run with density or bursts gets as many as it holds at once, plus those.
const POOL_INSTANCES: u32 = 64;

/// Largest linear memory a `pre` instance may grow to.
const POOL_MAX_MEMORY: usize = 1 << 30;

/// Linear memory a `pre` slot keeps resident when its instance is torn down (zeroed
/// with memset instead of given back with madvise), so the next instance does not
/// page-fault it in again: how warm pools are set up. It covers the probe's stack,
/// data and default init memory; the memset is paid in teardown, not in cold.
const POOL_KEEP_RESIDENT: usize = 2 << 20;

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

fn engine_config(pooling: bool, pool_instances: u32) -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    if pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(pool_instances)
            .total_memories(pool_instances)
            .total_tables(pool_instances)
            .max_memory_size(POOL_MAX_MEMORY)
            .linear_memory_keep_resident(POOL_KEEP_RESIDENT)
            .table_keep_resident(64 << 10);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// Creates an engine and a WASI linker for it; returns them with the creation time.
fn engine(
    pooling: bool,
    pool_instances: u32,
) -> anyhow::Result<(Engine, Linker<WasiP1Ctx>, Duration)> {
    let start = Instant::now();
    let engine = Engine::new(&engine_config(pooling, pool_instances))
        .map_err(|e| anyhow::anyhow!("cannot create the wasmtime engine: {e:#}"))?;
    let elapsed = start.elapsed();
    let mut linker = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |ctx| ctx)
        .map_err(|e| anyhow::anyhow!("cannot link WASI preview 1: {e:#}"))?;
    Ok((engine, linker, elapsed))
}

pub fn build(variants: &[&'static str], ctx: &RunContext) -> anyhow::Result<Vec<Box<dyn Runner>>> {
    let wasm_path = ctx.probes.wasm();
    let bytes = std::fs::read(&wasm_path)
        .with_context(|| format!("cannot read the Wasm probe {}", wasm_path.display()))?;
    let pool_instances = u32::try_from(ctx.most_live.saturating_add(2))
        .unwrap_or(u32::MAX)
        .max(POOL_INSTANCES);
    let (plain, plain_linker, plain_created) = engine(false, 0)?;
    let (pool, pool_linker, pool_created) = engine(true, pool_instances)?;

    // Untimed preparation: the precompiled artifact for `aot`, the InstancePre for `pre`.
    let module = Module::new(&plain, &bytes)
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
    let pool_module = Module::new(&pool, &bytes)
        .map_err(|e| anyhow::anyhow!("{} does not compile: {e:#}", wasm_path.display()))?;
    let pre = pool_linker
        .instantiate_pre(&pool_module)
        .map_err(|e| anyhow::anyhow!("cannot pre-link the probe: {e:#}"))?;

    let wasm_sha256 = probes::file_sha256(&wasm_path)
        .with_context(|| format!("cannot read {}", wasm_path.display()))?;
    let timeout_ticks = (ctx.timeout.as_nanos() / EPOCH_TICK.as_nanos()) as u64 + 1;
    let worker = Worker {
        maker: Maker {
            plain,
            plain_linker,
            pool,
            pre,
            bytes,
            cwasm: cwasm.clone(),
            _scratch: scratch,
            params: ctx.params,
            env: ctx.passed_env(),
            timeout: ctx.timeout,
            timeout_ticks,
        },
        live: HashMap::new(),
        next_handle: 0,
    };
    let tx = worker.spawn()?;

    Ok(variants
        .iter()
        .map(|name| {
            let variant = Variant::parse(name);
            let mut info = RunnerInfo {
                versions: versions(),
                artifact_bytes: Some(match variant {
                    Variant::Aot => serialized.len() as u64,
                    Variant::Jit | Variant::Pre => probes::file_bytes(&wasm_path).unwrap_or(0),
                }),
                ..Default::default()
            };
            let (allocator, created) = match variant {
                Variant::Pre => ("pooling", pool_created),
                Variant::Jit | Variant::Aot => ("on-demand", plain_created),
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

/// A request to the wasm thread; each carries where to send its answer.
enum Command {
    Cold {
        variant: Variant,
        request: Request,
        reply: oneshot::Sender<Result<(u64, Response, PhaseTimes), SampleError>>,
    },
    Invoke {
        handle: u64,
        request: Request,
        reply: oneshot::Sender<Result<(Response, PhaseTimes), SampleError>>,
    },
    Teardown {
        handle: u64,
        reply: oneshot::Sender<Duration>,
    },
    /// The committed linear memory of a live instance.
    Footprint {
        handle: u64,
        reply: oneshot::Sender<Option<u64>>,
    },
    Burst {
        variant: Variant,
        requests: Vec<Request>,
        launch: Instant,
        reply: oneshot::Sender<Vec<(Result<Made, SampleError>, Duration)>>,
    },
}

/// Threads of a burst's pool: one per core the harness may use.
fn pool_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A live instance on the wasm thread.
struct Live {
    store: Store<WasiP1Ctx>,
    invoke: TypedFunc<(i64, i64), i32>,
    memory: Memory,
}

/// Owns the engines, the modules and every live instance; runs on its own thread.
struct Worker {
    maker: Maker,
    live: HashMap<u64, Live>,
    next_handle: u64,
}

/// What makes instances: shared by the pool threads of a burst.
struct Maker {
    plain: Engine,
    plain_linker: Linker<WasiP1Ctx>,
    pool: Engine,
    pre: InstancePre<WasiP1Ctx>,
    bytes: Vec<u8>,
    cwasm: PathBuf,
    _scratch: tempfile::TempDir,
    params: probe_core::InitParams,
    /// WASI environment variables (only the tests' sleep, when set).
    env: Vec<(String, String)>,
    timeout: Duration,
    timeout_ticks: u64,
}

impl Worker {
    fn spawn(mut self) -> anyhow::Result<mpsc::Sender<Command>> {
        let (tx, rx) = mpsc::channel::<Command>();
        let stop = Arc::new(AtomicBool::new(false));
        let engines = [self.maker.plain.clone(), self.maker.pool.clone()];
        let ticker_stop = stop.clone();
        std::thread::Builder::new()
            .name("coldstart-epoch".into())
            .spawn(move || {
                while !ticker_stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engines.iter().for_each(Engine::increment_epoch);
                }
            })
            .context("cannot start the epoch thread")?;
        std::thread::Builder::new()
            .name("coldstart-wasm".into())
            .spawn(move || {
                while let Ok(command) = rx.recv() {
                    self.serve(command);
                }
                stop.store(true, Ordering::Relaxed);
            })
            .context("cannot start the wasm thread")?;
        Ok(tx)
    }

    fn serve(&mut self, command: Command) {
        match command {
            Command::Cold {
                variant,
                request,
                reply,
            } => {
                let result = self
                    .maker
                    .cold(variant, request)
                    .map(|made| self.keep(made));
                let _ = reply.send(result);
            }
            Command::Invoke {
                handle,
                request,
                reply,
            } => {
                let result = match self.live.get_mut(&handle) {
                    Some(live) => {
                        live.store.set_epoch_deadline(self.maker.timeout_ticks);
                        let sw = Stopwatch::start();
                        let response = call_invoke(live, request, self.maker.timeout);
                        response.map(|r| (r, PhaseTimes::total_only(sw.elapsed())))
                    }
                    None => Err(SampleError::Runtime(format!("no live instance {handle}"))),
                };
                let _ = reply.send(result);
            }
            Command::Teardown { handle, reply } => {
                let start = Instant::now();
                drop(self.live.remove(&handle));
                let _ = reply.send(start.elapsed());
            }
            Command::Footprint { handle, reply } => {
                let bytes = self
                    .live
                    .get(&handle)
                    .map(|live| live.memory.data_size(&live.store) as u64);
                let _ = reply.send(bytes);
            }
            Command::Burst {
                variant,
                requests,
                launch,
                reply,
            } => {
                let made = self.maker.burst(variant, &requests, launch);
                let kept = made
                    .into_iter()
                    .map(|(result, took)| (result.map(|m| self.keep(m)), took))
                    .collect();
                let _ = reply.send(kept);
            }
        }
    }

    /// Keeps a new instance alive under a handle.
    fn keep(&mut self, (live, response, times): (Live, Response, PhaseTimes)) -> Made {
        let handle = self.next_handle;
        self.next_handle += 1;
        self.live.insert(handle, live);
        (handle, response, times)
    }
}

/// A cold start's instance handle, response and phases.
type Made = (u64, Response, PhaseTimes);

/// A new instance, its first response and phases, before it is kept under a handle.
type Fresh = (Live, Response, PhaseTimes);

impl Maker {
    /// A burst on a pool of threads, one per core: every request is handed out at
    /// `launch` and each thread instantiates the next one as soon as it is free;
    /// each result keeps its time from `launch`. Below the memory floor the rest fail
    /// with that reason instead of being made.
    fn burst(
        &self,
        variant: Variant,
        requests: &[Request],
        launch: Instant,
    ) -> Vec<(Result<Fresh, SampleError>, Duration)> {
        let threads = pool_threads().min(requests.len()).max(1);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut out: Vec<(usize, Result<Fresh, SampleError>, Duration)> =
            std::thread::scope(|scope| {
                let workers: Vec<_> = (0..threads)
                    .map(|_| {
                        scope.spawn(|| {
                            let mut mine = Vec::new();
                            loop {
                                let i = next.fetch_add(1, Ordering::Relaxed);
                                let Some(request) = requests.get(i) else {
                                    break;
                                };
                                // /proc/meminfo is read inside the burst's clock
                                // (later samples' `wait`): every 256th, not each.
                                let floor = (i % 256 == 0)
                                    .then(crate::runner::footprint::below_floor)
                                    .flatten();
                                let made = match floor {
                                    Some(why) => Err(SampleError::Runtime(why)),
                                    None => self.cold(variant, *request),
                                };
                                mine.push((i, made, launch.elapsed()));
                            }
                            mine
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .flat_map(|w| w.join().unwrap_or_default())
                    .collect()
            });
        out.sort_by_key(|(i, _, _)| *i);
        out.into_iter()
            .map(|(_, made, took)| (made, took))
            .collect()
    }

    fn new_store(&self, engine: &Engine) -> Store<WasiP1Ctx> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.envs(&self.env);
        let mut store = Store::new(engine, wasi.build_p1());
        store.set_epoch_deadline(self.timeout_ticks);
        store
    }

    /// One cold start, timed phase by phase.
    fn cold(
        &self,
        variant: Variant,
        request: Request,
    ) -> Result<(Live, Response, PhaseTimes), SampleError> {
        let err = |what: &str, e: wasmtime::Error| sample_error(what, e, self.timeout);
        let mut sw = Stopwatch::start();
        let (mut store, instance) = match variant {
            Variant::Jit | Variant::Aot => {
                let module = match variant {
                    Variant::Jit => Module::new(&self.plain, &self.bytes),
                    // SAFETY: the file was written by Module::serialize of this very
                    // engine configuration in `build`, in a private temp directory.
                    _ => unsafe { Module::deserialize_file(&self.plain, &self.cwasm) },
                }
                .map_err(|e| err("loading the module", e))?;
                sw.lap("load");
                let mut store = self.new_store(&self.plain);
                let instance = self
                    .plain_linker
                    .instantiate(&mut store, &module)
                    .map_err(|e| err("instantiating", e))?;
                (store, instance)
            }
            Variant::Pre => {
                let mut store = self.new_store(&self.pool);
                let instance = self
                    .pre
                    .instantiate(&mut store)
                    .map_err(|e| err("instantiating", e))?;
                (store, instance)
            }
        };
        if let Ok(initialize) = instance.get_typed_func::<(), ()>(&mut store, "_initialize") {
            initialize
                .call(&mut store, ())
                .map_err(|e| err("_initialize", e))?;
        }
        let init = instance
            .get_typed_func::<(i64, i64), i64>(&mut store, "coldstart_init")
            .map_err(|e| err("looking up coldstart_init", e))?;
        let invoke = instance
            .get_typed_func::<(i64, i64), i32>(&mut store, "coldstart_invoke")
            .map_err(|e| err("looking up coldstart_invoke", e))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| SampleError::Runtime("the module exports no memory".into()))?;
        sw.lap("instantiate");
        let id = init
            .call(
                &mut store,
                (self.params.init_kib as i64, self.params.init_iters as i64),
            )
            .map_err(|e| err("coldstart_init", e))? as u64;
        sw.lap("init");
        let mut live = Live {
            store,
            invoke,
            memory,
        };
        let response = call_invoke(&mut live, request, self.timeout)?;
        sw.lap("first_response");
        if response.instance_id != id {
            return Err(SampleError::Protocol(format!(
                "coldstart_init said instance {id:016x}, coldstart_invoke said {:016x}",
                response.instance_id
            )));
        }
        Ok((live, response, sw.finish()))
    }
}

/// Calls `coldstart_invoke` and reads `[instance_id, index, checksum]` from memory.
fn call_invoke(
    live: &mut Live,
    request: Request,
    timeout: Duration,
) -> Result<Response, SampleError> {
    let ptr = live
        .invoke
        .call(
            &mut live.store,
            (request.iters as i64, request.nonce as i64),
        )
        .map_err(|e| sample_error("coldstart_invoke", e, timeout))?;
    if ptr == 0 {
        return Err(SampleError::Protocol(
            "coldstart_invoke returned null: the instance was never initialised".into(),
        ));
    }
    let mut raw = [0u8; 24];
    live.memory
        .read(&live.store, ptr as u32 as usize, &mut raw)
        .map_err(|e| {
            SampleError::Protocol(format!("result pointer {ptr:#x} out of bounds: {e}"))
        })?;
    let word = |i: usize| u64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().unwrap());
    Ok(Response {
        instance_id: word(0),
        index: word(1),
        checksum: word(2),
    })
}

fn sample_error(what: &str, e: wasmtime::Error, timeout: Duration) -> SampleError {
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => SampleError::Timeout(timeout),
        Some(_) => SampleError::Crashed(format!("{what} trapped: {e:#}")),
        None => SampleError::Runtime(format!("{what}: {e:#}")),
    }
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
            "every instantiation handed at one instant to a pool of {} threads (one per \
             core), each instantiating the next as soon as it is free",
            pool_threads()
        )
    }

    async fn burst(&self, requests: &[Request]) -> Result<super::BurstOutcomes, String> {
        let (reply, rx) = oneshot::channel();
        let launch = Instant::now();
        let command = Command::Burst {
            variant: self.variant,
            requests: requests.to_vec(),
            launch,
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
            .map(|(result, took)| {
                let cold = result.map(|(handle, response, times)| ColdStart {
                    instance: Box::new(WasmInstance {
                        handle,
                        tx: self.tx.clone(),
                        timeout: self.timeout,
                    }) as Box<dyn Instance>,
                    response,
                    times,
                    not_cold: None,
                });
                (cold, took)
            })
            .collect())
    }

    async fn cold_start(&self, request: Request) -> Result<ColdStart, SampleError> {
        let (reply, rx) = oneshot::channel();
        let command = Command::Cold {
            variant: self.variant,
            request,
            reply,
        };
        self.tx
            .send(command)
            .map_err(|_| SampleError::Runtime("the wasm thread has stopped".into()))?;
        let (handle, response, times) = answer(rx, self.timeout).await?;
        Ok(ColdStart {
            instance: Box::new(WasmInstance {
                handle,
                tx: self.tx.clone(),
                timeout: self.timeout,
            }),
            response,
            times,
            not_cold: None,
        })
    }
}

struct WasmInstance {
    handle: u64,
    tx: mpsc::Sender<Command>,
    timeout: Duration,
}

#[async_trait(?Send)]
impl Instance for WasmInstance {
    /// The instance's committed linear memory, inside the harness process.
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
        self.tx
            .send(command)
            .map_err(|_| SampleError::Runtime("the wasm thread has stopped".into()))?;
        answer(rx, self.timeout).await
    }

    async fn teardown(self: Box<Self>) -> Result<Option<Duration>, SampleError> {
        let (reply, rx) = oneshot::channel();
        let command = Command::Teardown {
            handle: self.handle,
            reply,
        };
        self.tx
            .send(command)
            .map_err(|_| SampleError::Runtime("the wasm thread has stopped".into()))?;
        rx.await
            .map(Some)
            .map_err(|_| SampleError::Runtime("the wasm thread has stopped".into()))
    }
}
