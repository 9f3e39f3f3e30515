//! The floor under the `wasm` runner: a bare wasmtime loop that instantiates the probe
//! from an `InstancePre` (pooling allocator, the same engine settings as the `pre`
//! variant), calls its init and one invoke, and drops the store, with nothing else in
//! between: no harness, no other runtime interleaved, caches hot. Compare its medians
//! with `coldstart run --runtime wasm:pre` to see what the harness and interleaving
//! add. It runs back to back (hot caches) and with a 200 µs idle gap before each
//! instance (what a harness interleaving samples, or a real host between requests,
//! sees). Run with `cargo bench -p coldstart --bench bare_wasmtime` after
//! scripts/build-probes.sh. Figures go to stdout; nothing here is a test.

use std::time::Instant;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, Linker, Module, PoolingAllocationConfig, Store,
};
use wasmtime_wasi::p1::{self, WasiP1Ctx};
use wasmtime_wasi::WasiCtxBuilder;

const ROUNDS: usize = 5000;

fn median(mut v: Vec<u128>) -> u128 {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../probes/out/coldstart_probe.wasm"
    );
    let bytes = std::fs::read(path).expect("build the probes first: scripts/build-probes.sh");
    let params = probe_core::InitParams::DEFAULT;
    let iters = probe_core::DEFAULT_INVOKE_ITERS;
    // A fixed nonce: the bench checks the answer, the harness sends a fresh one each time.
    let nonce = 0x9e37_79b9_7f4a_7c15_u64;
    let instance_nonce = 0x0123_4567_89ab_cdef_u64;
    let expected = probe_core::expected_checksum(params, instance_nonce, iters, nonce);
    let gap = std::time::Duration::from_micros(200);
    for (keep_resident, idle) in [(false, None), (true, None), (true, Some(gap))] {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(64)
            .total_memories(64)
            .total_tables(64)
            .max_memory_size(1 << 30);
        if keep_resident {
            pool.linear_memory_keep_resident(2 << 20)
                .table_keep_resident(64 << 10);
        }
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).unwrap();
        let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
        p1::add_to_linker_sync(&mut linker, |c| c).unwrap();
        let module = Module::new(&engine, &bytes).unwrap();
        let pre = linker.instantiate_pre(&module).unwrap();
        let mut phases: [Vec<u128>; 5] = Default::default();
        for _ in 0..ROUNDS {
            if let Some(idle) = idle {
                std::thread::sleep(idle);
            }
            let t0 = Instant::now();
            let mut store = Store::new(&engine, WasiCtxBuilder::new().build_p1());
            store.set_epoch_deadline(1000);
            let instance = pre.instantiate(&mut store).unwrap();
            if let Ok(f) = instance.get_typed_func::<(), ()>(&mut store, "_initialize") {
                f.call(&mut store, ()).unwrap();
            }
            let init = instance
                .get_typed_func::<(i64, i64, i64), i64>(&mut store, "coldstart_init")
                .unwrap();
            let invoke = instance
                .get_typed_func::<(i64, i64), i32>(&mut store, "coldstart_invoke")
                .unwrap();
            let memory = instance.get_memory(&mut store, "memory").unwrap();
            let t1 = Instant::now();
            init.call(
                &mut store,
                (
                    params.init_kib as i64,
                    params.init_iters as i64,
                    instance_nonce as i64,
                ),
            )
            .unwrap();
            let t2 = Instant::now();
            let ptr = invoke
                .call(&mut store, (iters as i64, nonce as i64))
                .unwrap();
            let mut raw = [0u8; 24];
            memory.read(&store, ptr as u32 as usize, &mut raw).unwrap();
            let t3 = Instant::now();
            let warm = invoke
                .call(&mut store, (iters as i64, nonce as i64))
                .unwrap();
            memory.read(&store, warm as u32 as usize, &mut raw).unwrap();
            let t4 = Instant::now();
            drop(store);
            let t5 = Instant::now();
            assert_eq!(
                u64::from_le_bytes(raw[16..24].try_into().unwrap()),
                expected
            );
            for (i, d) in [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4]
                .iter()
                .enumerate()
            {
                phases[i].push(d.as_nanos());
            }
        }
        let [inst, init, first, warm, drop_] = phases.map(median);
        println!(
            "bare wasmtime pre (keep_resident={keep_resident}, idle gap {idle:?}), medians of {ROUNDS}: instantiate {inst} ns, init {init} ns, \
             first_response {first} ns, cold total {} ns, warm invoke {warm} ns, teardown {drop_} ns",
            inst + init + first
        );
    }
}
