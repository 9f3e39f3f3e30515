//! The lambda runner without AWS, against moto and a stub Invoke endpoint
//! (support/aws_stub.rs says how they behave like Lambda), and under the local
//! emulator (cargo-lambda), which runs the real bootstrap. Tests against real AWS are
//! `#[ignore]`d; README.md says how to run them.

use crate::support::aws_stub::{aws, Call, InvokeStub, Moto, ACCOUNT};
use crate::support::{
    coldstart, command_to_json, probes_dir, read_json, run_to_json, runtime, with_host_aws,
    Finished,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn run_against(moto: &Moto, stub: &InvokeStub, prefix: &str, counts: &[&str]) -> Finished {
    let mut args = vec!["--runtime", "lambda:x86_64-128mb", "--seed", "5"];
    args.extend_from_slice(counts);
    let (moto_url, stub_url) = (moto.url(), stub.url());
    args.extend_from_slice(&["--lambda-prefix", prefix, "--lambda-endpoint", &moto_url]);
    args.extend_from_slice(&["--lambda-invoke-endpoint", &stub_url]);
    command_to_json(aws(coldstart()), &args)
}

fn samples<'a>(doc: &'a Value, mode: &str) -> Vec<&'a Value> {
    doc["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["mode"] == mode)
        .collect()
}

/// Warm blocks each retire their live instance; on AWS the version's environment
/// stays alive, answers the next block's live start, and is taken as warm (its id,
/// its next index), not as a cold start that is not cold: no cascade of failures.
#[test]
fn aws_warm_blocks_resume_the_environment_they_left() {
    let moto = Moto::start();
    moto.deploy("blocks", &[]);
    let stub = InvokeStub::start(moto.port);
    let counts = [
        "--cold",
        "2",
        "--warm",
        "12",
        "--warmup",
        "1",
        "--block-size",
        "5",
        "--max-consecutive-failures",
        "0",
    ];
    let run = run_against(&moto, &stub, "blocks", &counts);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let row = runtime(&run.doc, "lambda", "x86_64-128mb");
    let warm = &row["modes"]["warm"];
    assert_eq!(warm["ok"], 12, "{row}");
    assert_eq!(warm["failed"], 0, "{row}");
    assert!(warm.get("unrecorded_failed").is_none(), "{row}");
    assert!(warm.get("unrecorded_invalid").is_none(), "{row}");
    // One environment of the version served every warm block, in order.
    let ids: std::collections::BTreeSet<&str> = samples(&run.doc, "warm")
        .iter()
        .map(|s| s["instance_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let live: Vec<Call> = stub
        .calls()
        .into_iter()
        .filter(|c| c.qualifier.is_some())
        .collect();
    assert_eq!(live.iter().filter(|c| c.new_environment).count(), 1);
}

/// A warm answer that fails retires the live instance; Lambda keeps its environment,
/// which answers the next live start. That answer is the environment's next warm
/// one, verified as such, not a cold start that is not cold: one failure costs one
/// sample, not the rest of the column and the variant (the breaker).
#[test]
fn aws_a_failed_warm_answer_costs_one_sample() {
    let moto = Moto::start();
    moto.deploy("flaky", &[]);
    let stub = InvokeStub::start(moto.port);
    let counts = [
        "--cold",
        "2",
        "--warm",
        "20",
        "--warmup",
        "1",
        "--block-size",
        "20",
    ];
    let run = run_against(&moto, &stub, "flaky", &counts);
    assert_eq!(run.code, Some(1), "failed samples: {}", run.stderr);
    let row = runtime(&run.doc, "lambda", "x86_64-128mb");
    assert!(row["abandoned"].is_null(), "{row}");
    let warm = &row["modes"]["warm"];
    // Qualified calls 7, 14, 21 and 28 fail. The live start, its warm-up and the
    // unrecorded first item take calls 1-3, and each restart two more (start,
    // warm-up): samples 4, 9, 14 and 19 fail, the other 16 verify.
    assert_eq!(warm["failed"], 4, "{row}");
    assert_eq!(warm["ok"], 16, "{row}");
    assert_eq!(warm["invalid"], 0, "{row}");
}

/// Update (merged environment, fresh nonce), wait, invoke: every cold start the
/// stub saw came from a configuration it had not seen, and kept the user's variable.
#[test]
fn aws_cold_starts_are_forced_through_the_control_plane() {
    let moto = Moto::start();
    moto.deploy("ok", &["--env", "USER_VAR=keep"]);
    let stub = InvokeStub::start(moto.port);
    let counts = [
        "--cold",
        "4",
        "--warm",
        "6",
        "--warmup",
        "1",
        "--init-kib",
        "8",
    ];
    let run = run_against(&moto, &stub, "ok", &counts);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let doc = &run.doc;
    let text = doc.to_string();
    let row = runtime(doc, "lambda", "x86_64-128mb");
    assert_eq!(row["modes"]["cold"]["ok"], 4, "{row}");
    assert_eq!(row["modes"]["warm"]["ok"], 6, "{row}");
    // Our stopwatch: one phase, the Invoke round trip; Lambda's REPORT apart.
    assert_eq!(row["phase_order"], json!(["invoke", "total"]));
    let reported = &row["modes"]["cold"]["reported"];
    assert_eq!(reported["init_duration_ns"]["count"], 4, "{row}");
    assert_eq!(reported["duration_ns"]["count"], 4, "{row}");
    assert!(row["modes"]["cold"]["phases"]
        .get("init_duration")
        .is_none());
    assert!(row["reported_source"].as_str().unwrap().contains("REPORT"));
    // The network baseline: DryRun invokes, timed by us; one more opened the
    // connection, untimed, before the first timed call.
    assert_eq!(row["network_baseline"]["count"], 20, "{row}");
    assert_eq!(stub.dry_runs(), 21);
    // moto and the stub stand in for AWS: recorded, and never judged as AWS.
    let location = row["details"]["location"].as_str().unwrap();
    assert!(location.starts_with("local"), "{location}");
    assert!(location.contains(&stub.url()), "{location}");
    assert_eq!(row["details"]["control_endpoint"], moto.url().as_str());
    assert_eq!(row["details"]["invoke_endpoint"], stub.url().as_str());
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), doc.to_string()).unwrap();
    let report = coldstart()
        .args(["report", "--format", "markdown"])
        .arg(file.path())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&report.stdout);
    let faas: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("| faas-"))
        .collect();
    assert_eq!(faas.len(), 2, "{report}");
    for line in faas {
        assert!(line.contains("ran locally"), "{line}");
        assert_eq!(line.split(" | ").nth(2), Some("—"), "judged: {line}");
    }
    assert_eq!(row["details"]["region"], "us-east-1");
    assert_eq!(row["details"]["memory_mb"], 128);
    assert_eq!(row["details"]["architecture"], "x86_64");
    let arn = row["details"]["function_arn"].as_str().unwrap();
    assert_eq!(arn, "arn:aws:lambda:us-east-1:*:function:ok-x86_64-128mb");
    assert!(!text.contains(ACCOUNT), "the account id leaked");
    assert!(!text.contains("testing"), "a credential leaked");
    for s in samples(doc, "cold") {
        let reported = s["reported"]["init_duration_ns"].as_u64().unwrap()
            + s["reported"]["duration_ns"].as_u64().unwrap();
        assert!(reported <= s["total_ns"].as_u64().unwrap(), "{s}");
        assert!(s.get("notes").is_none(), "the clocks agree here: {s}");
        assert!(s["reported"]["billed_duration_ns"].as_u64().unwrap() > 0);
        assert_eq!(s["reported"]["max_memory_used_mb"], 17);
    }

    let calls = stub.calls();
    let latest: Vec<&Call> = calls.iter().filter(|c| c.qualifier.is_none()).collect();
    let live: Vec<&Call> = calls.iter().filter(|c| c.qualifier.is_some()).collect();
    // 1 warm-up, the block's unrecorded first and 4 recorded cold starts, each after
    // its own update.
    assert_eq!(latest.len(), 6, "{calls:#?}");
    assert!(latest.iter().all(|c| c.new_environment), "{calls:#?}");
    let mut nonces: Vec<&String> = latest
        .iter()
        .map(|c| &c.env["COLDSTART_INSTANCE_NONCE"])
        .collect();
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 6, "a fresh instance nonce per cold start");
    for c in &latest {
        assert_eq!(c.env["USER_VAR"], "keep", "the user's variable is kept");
        assert_eq!(
            c.env["COLDSTART_INIT_KIB"], "8",
            "the run's parameters are set"
        );
    }
    // The live instance: one version, started once, then warm-up, the block's
    // unrecorded first and the warm samples.
    assert_eq!(live.len(), 1 + 1 + 1 + 6, "{calls:#?}");
    assert!(live[0].new_environment);
    assert!(live[1..].iter().all(|c| !c.new_environment), "{calls:#?}");
    let version = live[0].qualifier.clone().unwrap();
    assert!(live
        .iter()
        .all(|c| c.qualifier.as_deref() == Some(&version)));
    assert_eq!(row["details"]["warm_version"], version.as_str());

    let after = moto.configuration("ok-x86_64-128mb", None).unwrap();
    assert_eq!(after["Environment"]["Variables"]["USER_VAR"], "keep");
    assert!(
        moto.configuration("ok-x86_64-128mb", Some(&version))
            .is_none(),
        "the run's version is deleted on close"
    );
}

/// A REPORT without Init Duration is an invalid cold start; a handler error is one
/// failed sample from one attempt; a 429 is retried outside the timing and counted.
#[test]
fn aws_invalid_failed_and_throttled_invocations() {
    let moto = Moto::start();
    for prefix in ["proactive", "failing", "throttled", "slowclock"] {
        moto.deploy(prefix, &[]);
    }
    let stub = InvokeStub::start(moto.port);
    let counts = ["--cold", "2", "--warm", "0", "--warmup", "0"];

    let run = run_against(&moto, &stub, "proactive", &counts);
    assert_eq!(run.code, Some(1));
    for s in samples(&run.doc, "cold") {
        assert_eq!(s["outcome"], "invalid", "{s}");
        assert!(
            s["error"].as_str().unwrap().contains("no Init Duration"),
            "{s}"
        );
        assert!(s["reported"].get("init_duration_ns").is_none());
    }

    let run = run_against(&moto, &stub, "failing", &counts);
    assert_eq!(run.code, Some(1));
    for s in samples(&run.doc, "cold") {
        assert_eq!(s["outcome"], "failed", "{s}");
        let error = s["error"].as_str().unwrap();
        assert!(error.contains("Unhandled"), "{error}");
        assert!(error.contains("the handler panicked"), "{error}");
        assert!(error.contains("REPORT status error"), "{error}");
    }
    let failing = stub
        .calls()
        .iter()
        .filter(|c| c.function.starts_with("failing-") && c.qualifier.is_none())
        .count();
    assert_eq!(
        failing, 3,
        "one attempt per failed sample (and one for the block's unrecorded first): \
         the SDK's retries are off"
    );

    let run = run_against(&moto, &stub, "throttled", &counts);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for s in samples(&run.doc, "cold") {
        assert_eq!(s["outcome"], "ok", "{s}");
        // Two attempts; the clock restarted with the second, so the backoff (200 ms)
        // is not in the time.
        assert_eq!(s["attempts"], 2, "{s}");
        assert!(s["total_ns"].as_u64().unwrap() < 200_000_000, "{s}");
    }

    // Lambda's REPORT says more than our round trip: the sample is flagged, and the
    // platform's figure stays out of our phases.
    let run = run_against(&moto, &stub, "slowclock", &counts);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for s in samples(&run.doc, "cold") {
        assert_eq!(s["outcome"], "ok", "{s}");
        let note = s["notes"][0].as_str().unwrap_or_default();
        assert!(note.contains("clock and ours disagree"), "{s}");
        assert!(s["total_ns"].as_u64().unwrap() < 30_000_000_000, "{s}");
    }
}

/// Missing functions, unassumable roles and absent credentials are clear errors,
/// exit 2, naming what to do; destroy removes what deploy made.
#[test]
fn aws_bad_input_is_refused_with_what_to_do() {
    let moto = Moto::start();
    let run = aws(coldstart())
        .args([
            "run",
            "--runtime",
            "lambda:x86_64-128mb",
            "--cold",
            "1",
            "--warm",
            "1",
        ])
        .args([
            "--lambda-prefix",
            "missing",
            "--lambda-endpoint",
            &moto.url(),
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("ResourceNotFoundException"), "{stderr}");
    assert!(stderr.contains("coldstart lambda deploy"), "{stderr}");

    let deploy = aws(coldstart())
        .args(["lambda", "deploy", "--arch", "x86_64", "--memory", "128"])
        .args(["--role", "arn:aws:iam::123456789012:role/nobody"])
        .args(["--lambda-endpoint", &moto.url()])
        .output()
        .unwrap();
    assert_eq!(deploy.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&deploy.stderr);
    assert!(stderr.contains("cannot be assumed"), "{stderr}");

    moto.deploy("gone", &[]);
    assert!(moto.configuration("gone-x86_64-128mb", None).is_some());
    let destroy = aws(coldstart())
        .args([
            "lambda", "destroy", "--arch", "x86_64", "--memory", "128,512",
        ])
        .args(["--lambda-prefix", "gone", "--lambda-endpoint", &moto.url()])
        .output()
        .unwrap();
    assert!(destroy.status.success());
    let stdout = String::from_utf8_lossy(&destroy.stdout);
    assert!(stdout.contains("gone-x86_64-128mb: deleted"), "{stdout}");
    assert!(stdout.contains("gone-x86_64-512mb: not there"), "{stdout}");
    assert!(moto.configuration("gone-x86_64-128mb", None).is_none());

    // arm64 functions get the arm64 bootstrap.
    moto.deploy("arm", &["--arch", "arm64"]);
    let arm = moto.configuration("arm-arm64-128mb", None).unwrap();
    assert_eq!(arm["Architectures"], json!(["arm64"]));
    let x86 = moto.configuration("arm-x86_64-128mb", None).unwrap();
    assert_ne!(arm["CodeSha256"], x86["CodeSha256"]);
}

#[test]
fn without_credentials_lambda_is_skipped_by_default_and_refused_when_named() {
    let named = "lambda:x86_64-512mb";
    let run = coldstart()
        .args(["run", "--runtime", named, "--cold", "1", "--warm", "1"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "{named}");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("no credentials"), "{named}: {stderr}");
    assert!(stderr.contains("AWS_ACCESS_KEY_ID"), "{named}: {stderr}");

    // A bare `--runtime lambda` runs what can run (the local emulator) and skips
    // the AWS variants, their one reason said once.
    let run = command_to_json(
        coldstart(),
        &[
            "--runtime",
            "lambda",
            "--cold",
            "2",
            "--warm",
            "2",
            "--warmup",
            "0",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        runtime(&run.doc, "lambda", "local-emulator")["modes"]["cold"]["ok"],
        2
    );
    let skips: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("no credentials"))
        .collect();
    assert_eq!(skips.len(), 1, "{}", run.stderr);
    assert!(
        skips[0].starts_with("skipping lambda:{x86_64-128mb, x86_64-512mb, x86_64-1024mb, arm64-128mb, arm64-512mb, arm64-1024mb}: no credentials"),
        "{}",
        skips[0]
    );
    // The default suite (Docker made unreachable to keep it short).
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("all.json");
    let run = coldstart()
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .args([
            "run",
            "--cold",
            "2",
            "--warm",
            "2",
            "--warmup",
            "0",
            "--export-json",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let doc = read_json(&out);
    for variant in ["x86_64-128mb", "x86_64-512mb", "arm64-1024mb"] {
        let row = runtime(&doc, "lambda", variant);
        assert_eq!(row["available"], false);
        let reason = row["skipped_reason"].as_str().unwrap();
        assert!(reason.starts_with("no credentials"), "{reason}");
    }
    let local = runtime(&doc, "lambda", "local-emulator");
    assert_eq!(local["available"], true, "{local}");
    assert_eq!(local["modes"]["cold"]["ok"], 2);
    // The report keeps the local figures out of the FaaS claims.
    let report = coldstart()
        .args(["report", "--format", "markdown"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&report.stdout);
    let faas: Vec<&str> = text.lines().filter(|l| l.starts_with("| faas-")).collect();
    assert_eq!(faas.len(), 2, "{text}");
    for line in faas {
        assert!(line.contains("not measured: no credentials"), "{line}");
        // No variant is judged: the local emulator's figures are not AWS's.
        assert_eq!(line.split(" | ").nth(2), Some("—"), "{line}");
    }
}

/// The real bootstrap under cargo-lambda's emulator: verified cold and warm samples;
/// a bootstrap that dies is a failed sample with its status and stderr, at once.
#[test]
fn local_emulator_runs_the_real_bootstrap_and_reports_crashes() {
    let counts = ["--cold", "5", "--warm", "20", "--warmup", "1"];
    let mut args = vec!["--runtime", "process,lambda:local-emulator"];
    args.extend_from_slice(&counts);
    let run = run_to_json(&probes_dir(), &args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let local = runtime(&run.doc, "lambda", "local-emulator");
    assert_eq!(local["modes"]["cold"]["ok"], 5);
    assert_eq!(local["modes"]["warm"]["ok"], 20);
    let location = local["details"]["location"].as_str().unwrap();
    assert!(location.starts_with("local"), "{location}");
    assert_eq!(
        local["phase_order"],
        json!(["spawn", "request", "first_response", "total"])
    );
    assert!(local["versions"]["cargo-lambda"].is_string());

    // A bootstrap that crashes at init.
    let dir = tempfile::tempdir().unwrap();
    for file in ["coldstart-probe", "coldstart_probe.wasm"] {
        std::fs::copy(probes_dir().join(file), dir.path().join(file)).unwrap();
    }
    let bootstrap = dir.path().join("bootstrap");
    let script = "#!/bin/sh\necho 'init failed: out of luck' >&2\nexit 3\n";
    std::fs::write(&bootstrap, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    let start = Instant::now();
    let args = ["--runtime", "lambda:local-emulator", "--timeout", "60s"];
    let run = run_to_json(
        dir.path(),
        &[&args[..], &["--cold", "3", "--warm", "0", "--warmup", "0"]].concat(),
    );
    assert_eq!(run.code, Some(1));
    assert!(
        start.elapsed() < Duration::from_secs(50),
        "crashes are seen at once"
    );
    for s in samples(&run.doc, "cold") {
        assert_eq!(s["outcome"], "failed");
        let error = s["error"].as_str().unwrap();
        assert!(error.contains("exit status: 3"), "{error}");
        assert!(error.contains("out of luck"), "{error}");
    }
}

/// Real AWS: runs only with COLDSTART_AWS_TESTS=1 and credentials (README: "Lambda").
#[test]
#[ignore = "needs AWS credentials, a role ARN in COLDSTART_LAMBDA_ROLE and COLDSTART_AWS_TESTS=1"]
fn real_aws_deploy_measure_destroy() {
    // Ignored unless asked for (`cargo test` lists it as ignored: skipped). Asked
    // for without its setup, it fails: a pass would claim AWS was tested.
    assert_eq!(
        std::env::var("COLDSTART_AWS_TESTS").as_deref(),
        Ok("1"),
        "the real-AWS test was asked for but COLDSTART_AWS_TESTS is not 1: it tested nothing; set it, with credentials and COLDSTART_LAMBDA_ROLE (README: Lambda)"
    );
    let role = std::env::var("COLDSTART_LAMBDA_ROLE").expect("COLDSTART_LAMBDA_ROLE");
    let prefix = format!("coldstart-test-{}", std::process::id());
    let set = [
        "--arch",
        "x86_64",
        "--memory",
        "512",
        "--lambda-prefix",
        &prefix,
    ];
    let deploy = with_host_aws()
        .args(["lambda", "deploy", "--role", &role])
        .args(set)
        .output()
        .unwrap();
    assert!(
        deploy.status.success(),
        "{}",
        String::from_utf8_lossy(&deploy.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("aws.json");
    let run = with_host_aws()
        .args([
            "run",
            "--runtime",
            "lambda:x86_64-512mb",
            "--cold",
            "3",
            "--warm",
            "10",
        ])
        .args(["--lambda-prefix", &prefix, "--export-json"])
        .arg(&out)
        .output()
        .unwrap();
    let destroy = with_host_aws()
        .args(["lambda", "destroy"])
        .args(set)
        .output()
        .unwrap();
    assert!(
        destroy.status.success(),
        "{}",
        String::from_utf8_lossy(&destroy.stderr)
    );
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let doc = read_json(&out);
    let row = runtime(&doc, "lambda", "x86_64-512mb");
    assert_eq!(row["modes"]["cold"]["ok"], 3);
    for s in samples(&doc, "cold") {
        assert!(s["reported"]["init_duration_ns"].as_u64().unwrap() > 0);
    }
}
