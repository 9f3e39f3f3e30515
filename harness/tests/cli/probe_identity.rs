//! The probe is one workload on every target: the probe core in the harness, the
//! native binary (one-shot and served) and the Wasm module in wasmtime all give the
//! checksums in fixtures/probe_checksums.json, which the native probe computed.

use crate::common::{probes_dir, read_json, repo_file};
use coldstart::probes::ProbeArtifacts;
use coldstart::runner::{self, Request, RunContext, RuntimeKind};
use probe_core::InitParams;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

struct Case {
    params: InitParams,
    invoke_iters: u64,
    checksum: u64,
}

fn cases() -> Vec<Case> {
    let doc = read_json(&repo_file("fixtures/probe_checksums.json"));
    let cases: Vec<Case> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            params: InitParams {
                init_kib: c["init_kib"].as_u64().unwrap(),
                init_iters: c["init_iters"].as_u64().unwrap(),
            },
            invoke_iters: c["invoke_iters"].as_u64().unwrap(),
            checksum: u64::from_str_radix(c["checksum"].as_str().unwrap(), 16).unwrap(),
        })
        .collect();
    assert!(cases.len() >= 5, "the fixture lost its cases");
    cases
}

#[test]
fn probe_core_gives_the_fixture_checksums() {
    for c in cases() {
        assert_eq!(
            probe_core::expected_checksum(c.params, c.invoke_iters),
            c.checksum,
            "{:?} / {}",
            c.params,
            c.invoke_iters
        );
    }
}

#[test]
fn native_probe_gives_the_fixture_checksums_once_and_served() {
    let probe = probes_dir().join("coldstart-probe");
    for c in cases() {
        let args = [
            "--init-kib".to_string(),
            c.params.init_kib.to_string(),
            "--init-iters".to_string(),
            c.params.init_iters.to_string(),
        ];
        let once = Command::new(&probe)
            .arg("once")
            .args(&args)
            .args(["--invoke-iters", &c.invoke_iters.to_string()])
            .output()
            .unwrap();
        assert!(once.status.success());
        let line = String::from_utf8(once.stdout).unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[0], "DONE", "{line}");
        assert_eq!(words[4], format!("{:016x}", c.checksum), "once: {line}");

        let mut child = Command::new(&probe)
            .arg("serve")
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "INVOKE 1 {0}\nINVOKE 2 {0}\nEXIT", c.invoke_iters).unwrap();
        let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map(Result::unwrap)
            .collect();
        assert!(child.wait().unwrap().success());
        assert_eq!(lines.len(), 3, "{lines:?}");
        let id = lines[0].strip_prefix("READY ").unwrap();
        for (i, line) in lines[1..].iter().enumerate() {
            let expected = format!("DONE {} {id} {i} {:016x}", i + 1, c.checksum);
            assert_eq!(line, &expected);
        }
    }
}

#[tokio::test]
async fn wasm_probe_gives_the_fixture_checksums_in_wasmtime() {
    let probes = ProbeArtifacts::locate(Some(&probes_dir())).unwrap();
    for c in cases() {
        let ctx = RunContext {
            probes: probes.clone(),
            params: c.params,
            timeout: Duration::from_secs(30),
            run_id: "test".into(),
            docker: Default::default(),
        };
        let built = runner::build(RuntimeKind::Wasm, &["jit", "pre"], &ctx)
            .await
            .unwrap();
        for b in built {
            let runner::Built::Ready(mut r) = b else {
                panic!("wasm must be available")
            };
            let start = r
                .cold_start(Request {
                    seq: 1,
                    iters: c.invoke_iters,
                })
                .await
                .unwrap();
            assert_eq!(
                start.response.checksum,
                c.checksum,
                "{} {:?}",
                r.key(),
                c.params
            );
            assert_eq!(start.response.index, 0);
            let mut instance = start.instance;
            let (warm, _) = instance
                .invoke(Request {
                    seq: 2,
                    iters: c.invoke_iters,
                })
                .await
                .unwrap();
            assert_eq!(warm.checksum, c.checksum);
            assert_eq!(warm.index, 1);
            assert_eq!(warm.instance_id, start.response.instance_id);
            instance.teardown().await.unwrap();
        }
    }
}
