//! The probe as an AWS Lambda function: the `bootstrap` of a provided.al2023 custom
//! runtime, built with lambda_runtime (static x86_64 musl, so it runs on any Linux).
//!
//! Init work runs once per execution environment, before the handler loop, so it is
//! inside Lambda's `Init Duration`, like the init code the article advises keeping
//! small. Parameters come from `COLDSTART_INIT_KIB` and `COLDSTART_INIT_ITERS`; the
//! instance nonce that keys the init state from `COLDSTART_INSTANCE_NONCE` (16 hex
//! digits, set by the harness's configuration update that forces the environment).
//!
//! Request: `{"seq": 1, "nonce": "<16 hex>", "iters": 50}`. Response: `{"seq": 1,
//! "instance_id": "<16 hex>", "index": 0, "checksum": "<16 hex>"}`: ids, nonces and
//! checksums as hex, since JSON numbers above 2^53 do not survive most JSON readers.
//! `COLDSTART_TEST_SLEEP` (tests only) sleeps at a known point.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use probe_core::test_sleep::TestSleep;
use probe_core::{InitParams, Probe};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

#[derive(Deserialize)]
struct Request {
    seq: u64,
    nonce: String,
    iters: u64,
}

#[derive(Serialize)]
struct Response {
    seq: u64,
    instance_id: String,
    index: u64,
    checksum: String,
}

fn env_u64(name: &str, default: u64) -> Result<u64, Error> {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("{name}={value:?} is not a non-negative integer").into()),
        Err(_) => Ok(default),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let params = InitParams {
        init_kib: env_u64("COLDSTART_INIT_KIB", InitParams::DEFAULT.init_kib)?,
        init_iters: env_u64("COLDSTART_INIT_ITERS", InitParams::DEFAULT.init_iters)?,
    };
    let instance_nonce = probe_core::protocol::instance_nonce_from_env()?;
    let sleep = TestSleep::from_env()?;
    let id = getrandom::u64().map_err(|e| format!("the OS random source failed: {e}"))?;
    // One execution environment serves one request at a time.
    let probe = RefCell::new(Probe::init(id, instance_nonce, params));
    TestSleep::nap(sleep.init);
    let probe = &probe;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Request>| async move {
        let nonce = u64::from_str_radix(&event.payload.nonce, 16)
            .map_err(|_| format!("nonce {:?} is not 16 hex digits", event.payload.nonce))?;
        TestSleep::nap(sleep.invoke);
        let done = probe.borrow_mut().invoke(event.payload.iters, nonce);
        Ok::<_, Error>(Response {
            seq: event.payload.seq,
            instance_id: format!("{:016x}", done.instance_id),
            index: done.index,
            checksum: format!("{:016x}", done.checksum),
        })
    }))
    .await
}
