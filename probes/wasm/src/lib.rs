//! The probe as a `wasm32-wasip1` module (a WASI reactor) that the harness drives
//! through its exports, with no stdio round trip on the hot path:
//!
//! * `coldstart_init(init_kib: i64, init_iters: i64, instance_nonce: i64) -> i64`:
//!   draws the instance id from WASI `random_get`, does the init work keyed by the
//!   start's instance nonce, returns the id.
//! * `coldstart_invoke(iters: i64, nonce: i64) -> i32`: serves one request and
//!   returns a pointer into linear memory to three little-endian u64s: instance id,
//!   invocation index, checksum.
//!
//! `COLDSTART_TEST_SLEEP` (tests only: the harness puts it into the WASI
//! environment only when its own has it) sleeps at a known point.
//!
//! The module holds one instance's state; wasmtime gives each instantiation its own.

use probe_core::test_sleep::TestSleep;
use probe_core::{InitParams, Probe};
use std::cell::{Cell, RefCell};

thread_local! {
    static PROBE: RefCell<Option<Probe>> = const { RefCell::new(None) };
    static SLEEP: Cell<TestSleep> = Cell::new(TestSleep::default());
    static RESULT: RefCell<[u64; 3]> = const { RefCell::new([0; 3]) };
}

/// Init the instance; returns its id. Calling it again re-inits (a new instance id).
#[no_mangle]
pub extern "C" fn coldstart_init(init_kib: u64, init_iters: u64, instance_nonce: u64) -> u64 {
    let id = getrandom::u64().expect("WASI random_get failed");
    let probe = Probe::init(
        id,
        instance_nonce,
        InitParams {
            init_kib,
            init_iters,
        },
    );
    // An unreadable value traps: a test that means to sleep must not measure without.
    let sleep = TestSleep::from_env().expect("COLDSTART_TEST_SLEEP");
    TestSleep::nap(sleep.init);
    SLEEP.with(|s| s.set(sleep));
    PROBE.with(|p| *p.borrow_mut() = Some(probe));
    id
}

/// Serve one request; returns a pointer to `[instance_id, index, checksum]`, or 0
/// when `coldstart_init` was never called.
#[no_mangle]
pub extern "C" fn coldstart_invoke(iters: u64, nonce: u64) -> *const u64 {
    TestSleep::nap(SLEEP.with(Cell::get).invoke);
    let done = PROBE.with(|p| {
        p.borrow_mut()
            .as_mut()
            .map(|probe| probe.invoke(iters, nonce))
    });
    match done {
        Some(done) => RESULT.with(|r| {
            let mut r = r.borrow_mut();
            *r = [done.instance_id, done.index, done.checksum];
            r.as_ptr()
        }),
        None => std::ptr::null(),
    }
}
