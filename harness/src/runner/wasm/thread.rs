//! The wasm thread: it owns the engines and every live instance, and takes every
//! wasm sample. Each clock starts after the command has arrived on this thread, so
//! the hand-off from the async side is outside it; a burst's is the exception.
//!
//! * **cold** ([`Maker::cold`]): the stopwatch starts when the wasm thread (in a
//!   burst, a pool thread) begins the instance, and stops when its first
//!   invocation's result has been read out of linear memory.
//!   - `load` (`jit`, `aot`): until `Module::new` or `Module::deserialize_file`
//!     returns.
//!   - `instantiate`: from there (from the start for `pre`) through the new store
//!     and its WASI context, instantiation, `_initialize`, and the look-ups of
//!     `coldstart_init`, `coldstart_invoke` and `memory`.
//!   - `init`: the `coldstart_init` call (its arguments: the run's init work and
//!     the start's instance nonce).
//!   - `first_response`: the `coldstart_invoke` call and reading its 24-byte result.
//!     The instance-id check comes after the clock has stopped.
//! * **warm** (`Command::Invoke`): the epoch deadline is reset before the clock
//!   starts; it covers one [`call_invoke`].
//! * **teardown** (`Command::Teardown`): removing the instance and dropping its store.
//! * **burst** ([`Maker::burst`]): each result's time runs from the launch instant,
//!   taken on the wasm thread once every pool thread is spawned and parked (the
//!   hand-off from the async side and the thread spawns are before it), until that
//!   instance's cold start returned; each instance also keeps its own phases as
//!   above.
//! * **engine creation** ([`engine`]): `Engine::new` alone, not the WASI linker.

use super::Variant;
use crate::phase::{PhaseTimes, Stopwatch};
use crate::runner::{Request, Response, SampleError, StartRequest};
use anyhow::Context as _;
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

/// How often the epoch advances: the resolution of the per-sample timeout.
pub(super) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Largest linear memory a `pre` instance may grow to.
const POOL_MAX_MEMORY: usize = 1 << 30;

/// Linear memory a `pre` slot keeps resident when its instance is torn down (zeroed
/// with memset instead of given back with madvise), so the next instance does not
/// page-fault it in again: how warm pools are set up. It covers the probe's stack,
/// data and default init memory; the memset is paid in teardown, not in cold.
pub(super) const POOL_KEEP_RESIDENT: usize = 2 << 20;

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

/// An engine, a WASI linker for it, and how long creating the engine took.
pub(super) struct LinkedEngine {
    pub(super) engine: Engine,
    pub(super) linker: Linker<WasiP1Ctx>,
    pub(super) created: Duration,
}

/// Creates an engine and a WASI linker for it; only `Engine::new` is timed.
pub(super) fn engine(pooling: bool, pool_instances: u32) -> anyhow::Result<LinkedEngine> {
    let start = Instant::now();
    let engine = Engine::new(&engine_config(pooling, pool_instances))
        .map_err(|e| anyhow::anyhow!("cannot create the wasmtime engine: {e:#}"))?;
    let created = start.elapsed();
    let mut linker = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |ctx| ctx)
        .map_err(|e| anyhow::anyhow!("cannot link WASI preview 1: {e:#}"))?;
    Ok(LinkedEngine {
        engine,
        linker,
        created,
    })
}

/// A request to the wasm thread; each carries where to send its answer.
pub(super) enum Command {
    Cold {
        variant: Variant,
        start: StartRequest,
        reply: oneshot::Sender<Result<Made, SampleError>>,
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
    /// The resident bytes of a live instance's linear memory.
    Footprint {
        handle: u64,
        reply: oneshot::Sender<Option<u64>>,
    },
    /// A burst on the pool, which takes the launch instant itself.
    Burst {
        variant: Variant,
        starts: Vec<StartRequest>,
        reply: oneshot::Sender<Vec<Result<Launched<Made>, SampleError>>>,
    },
}

/// A cold start kept alive on the wasm thread: the handle the async side names it
/// by, its first response and its phases.
pub(super) struct Made {
    pub(super) handle: u64,
    pub(super) response: Response,
    pub(super) times: PhaseTimes,
}

/// A new instance, its first response and phases, before it is kept under a handle.
struct Fresh {
    live: Live,
    response: Response,
    times: PhaseTimes,
}

/// One cold start of a burst that was made (a [`Fresh`] instance on a pool thread,
/// a [`Made`] one once kept), and the time from the burst's launch until it returned.
pub(super) struct Launched<T> {
    pub(super) made: T,
    pub(super) since_launch: Duration,
}

/// Where a burst's pool threads wait for the launch: each reports itself parked
/// and spins (yielding) until the wasm thread, once every thread it spawned has
/// parked, takes the launch instant and lets them go: a spinning thread starts
/// within µs of it, where one asleep on a futex would carry its wake-up into its
/// first sample.
#[derive(Default)]
struct StartLine {
    parked: std::sync::atomic::AtomicUsize,
    launch: std::sync::OnceLock<Instant>,
    go: AtomicBool,
}

impl StartLine {
    /// A pool thread: parks until the launch, and returns its instant.
    fn park(&self) -> Instant {
        self.parked.fetch_add(1, Ordering::SeqCst);
        while !self.go.load(Ordering::Acquire) {
            std::thread::yield_now();
        }
        *self.launch.get().expect("set before go")
    }

    /// The wasm thread: once `threads` are parked, launches them all now.
    fn launch(&self, threads: usize) {
        while self.parked.load(Ordering::SeqCst) < threads {
            std::thread::yield_now();
        }
        let _ = self.launch.set(Instant::now());
        self.go.store(true, Ordering::Release);
    }
}

/// Threads of a burst's pool: one per core the harness may use.
pub(super) fn pool_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A live instance on the wasm thread.
struct Live {
    store: Store<WasiP1Ctx>,
    invoke: TypedFunc<(i64, i64), i32>,
    memory: Memory,
}

/// Owns the engines, the modules and every live instance; runs on its own thread.
pub(super) struct Worker {
    maker: Maker,
    live: HashMap<u64, Live>,
    next_handle: u64,
}

/// What makes instances: shared by the pool threads of a burst.
pub(super) struct Maker {
    pub(super) plain: Engine,
    pub(super) plain_linker: Linker<WasiP1Ctx>,
    pub(super) pool: Engine,
    pub(super) pre: InstancePre<WasiP1Ctx>,
    pub(super) bytes: Vec<u8>,
    pub(super) cwasm: PathBuf,
    pub(super) _scratch: tempfile::TempDir,
    pub(super) params: probe_core::InitParams,
    /// WASI environment variables (only the tests' sleep, when set).
    pub(super) env: Vec<(String, String)>,
    pub(super) timeout: Duration,
    pub(super) timeout_ticks: u64,
}

impl Worker {
    /// Starts the wasm thread (and the epoch ticker) with no live instance; returns
    /// where to send it commands. The thread ends when every sender is gone.
    pub(super) fn spawn(maker: Maker) -> anyhow::Result<mpsc::Sender<Command>> {
        let mut worker = Worker {
            maker,
            live: HashMap::new(),
            next_handle: 0,
        };
        let (tx, rx) = mpsc::channel::<Command>();
        let stop = Arc::new(AtomicBool::new(false));
        let engines = [worker.maker.plain.clone(), worker.maker.pool.clone()];
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
                    worker.serve(command);
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
                start,
                reply,
            } => {
                let result = self
                    .maker
                    .cold(variant, start)
                    .map(|fresh| self.keep(fresh));
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
                // What the instance's linear memory holds in RAM, not its size (17
                // pages, mostly a stack never touched): the pages resident now.
                let bytes = self.live.get(&handle).and_then(|live| {
                    crate::runner::footprint::resident_bytes(
                        live.memory.data_ptr(&live.store),
                        live.memory.data_size(&live.store),
                    )
                });
                let _ = reply.send(bytes);
            }
            Command::Burst {
                variant,
                starts,
                reply,
            } => {
                let launched = self.maker.burst(variant, &starts);
                let kept = launched
                    .into_iter()
                    .map(|one| {
                        one.map(|one| Launched {
                            made: self.keep(one.made),
                            since_launch: one.since_launch,
                        })
                    })
                    .collect();
                let _ = reply.send(kept);
            }
        }
    }

    /// Keeps a new instance alive under a handle.
    fn keep(&mut self, fresh: Fresh) -> Made {
        let handle = self.next_handle;
        self.next_handle += 1;
        self.live.insert(handle, fresh.live);
        Made {
            handle,
            response: fresh.response,
            times: fresh.times,
        }
    }
}

impl Maker {
    /// A burst on a pool of threads, one per core: the threads are spawned and
    /// parked first, the launch instant is taken once every one is parked (the
    /// hand-off from the harness's thread and the spawns are before it), and each
    /// thread instantiates the next request as soon as it is free; each result
    /// keeps its time from the launch. Below the memory floor the rest fail with that
    /// reason instead of being made. A thread that cannot be spawned leaves the
    /// starts to the others; if none can, every start fails with why.
    fn burst(
        &self,
        variant: Variant,
        starts: &[StartRequest],
    ) -> Vec<Result<Launched<Fresh>, SampleError>> {
        let threads = pool_threads().min(starts.len()).max(1);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let line = StartLine::default();
        let mut spawn_error = None;
        let mut out: Vec<(usize, Result<Launched<Fresh>, SampleError>)> =
            std::thread::scope(|scope| {
                let mut workers = Vec::new();
                for _ in 0..threads {
                    let worker = std::thread::Builder::new()
                        .name("coldstart-burst".into())
                        .spawn_scoped(scope, || {
                            let mut mine = Vec::new();
                            let launch = line.park();
                            loop {
                                let i = next.fetch_add(1, Ordering::Relaxed);
                                let Some(start) = starts.get(i) else {
                                    break;
                                };
                                // /proc/meminfo is read inside the burst's clock
                                // (later samples' `wait`): every 256th, not each, and
                                // never before the first (burst.rs checks the floor
                                // before each round, outside the clock).
                                let floor = (i > 0 && i % 256 == 0)
                                    .then(crate::runner::footprint::below_floor)
                                    .flatten();
                                let made = match floor {
                                    Some(why) => Err(SampleError::Runtime(why)),
                                    None => self.cold(variant, *start),
                                };
                                let since_launch = launch.elapsed();
                                mine.push((i, made.map(|made| Launched { made, since_launch })));
                            }
                            mine
                        });
                    match worker {
                        Ok(worker) => workers.push(worker),
                        Err(e) => spawn_error = Some(e.to_string()),
                    }
                }
                if !workers.is_empty() {
                    line.launch(workers.len());
                }
                workers
                    .into_iter()
                    .flat_map(|w| w.join().unwrap_or_default())
                    .collect()
            });
        // Each result in its start's place; a start no pool thread made (its thread
        // panicked, or none could be spawned) fails, rather than shifting the rest.
        let lost = match spawn_error {
            Some(e) => format!(
                "its pool thread panicked, or no thread could take it (a pool thread \
                 could not be spawned: {e})"
            ),
            None => "its pool thread panicked".into(),
        };
        let mut placed: Vec<Option<Result<Launched<Fresh>, SampleError>>> =
            (0..starts.len()).map(|_| None).collect();
        for (i, launched) in out.drain(..) {
            placed[i] = Some(launched);
        }
        placed
            .into_iter()
            .map(|launched| launched.unwrap_or_else(|| Err(SampleError::Runtime(lost.clone()))))
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
    fn cold(&self, variant: Variant, start: StartRequest) -> Result<Fresh, SampleError> {
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
            .get_typed_func::<(i64, i64, i64), i64>(&mut store, "coldstart_init")
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
                (
                    self.params.init_kib as i64,
                    self.params.init_iters as i64,
                    start.instance_nonce as i64,
                ),
            )
            .map_err(|e| err("coldstart_init", e))? as u64;
        sw.lap("init");
        let mut live = Live {
            store,
            invoke,
            memory,
        };
        let response = call_invoke(&mut live, start.request, self.timeout)?;
        sw.lap("first_response");
        if response.instance_id != id {
            return Err(SampleError::Protocol(format!(
                "coldstart_init said instance {id:016x}, coldstart_invoke said {:016x}",
                response.instance_id
            )));
        }
        Ok(Fresh {
            live,
            response,
            times: sw.finish(),
        })
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

/// An epoch interrupt is the sample's timeout; any other trap a crash.
fn sample_error(what: &str, e: wasmtime::Error, timeout: Duration) -> SampleError {
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => SampleError::Timeout(timeout),
        Some(_) => SampleError::Crashed(format!("{what} trapped: {e:#}")),
        None => SampleError::Runtime(format!("{what}: {e:#}")),
    }
}
