//! The probe is one workload on every target and in every language: the probe core
//! in the harness, the native binary (one-shot and served; the container image and
//! the VM guests run it too), the Wasm module in wasmtime, the Lambda bootstrap, and
//! the Python, Node.js, Java and Go probes (one-shot, served and through the Lambda
//! Runtime API, each started as the harness starts it) all give the
//! checksums in fixtures/probe_checksums.json, which the native probe computed, for
//! each case's request nonce and instance nonce; the same request with another
//! nonce gives another checksum on every target (a replay cannot verify), and so
//! does the same request to an instance started with another instance nonce (an
//! init state made for another start cannot verify). The instance nonce reaches
//! the native probe as an argument, from the environment (containers) and from the
//! kernel command line (VM guests, through the runner tests that boot them).

use crate::support::{probes_dir, read_json, repo_file};
use coldstart::probes::{Language, LanguageProbe, ProbeArtifacts};
use coldstart::runner::{self, Request, RunContext, RuntimeKind, StartRequest};
use probe_core::InitParams;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

struct Case {
    params: InitParams,
    invoke_iters: u64,
    nonce: u64,
    instance_nonce: u64,
    checksum: u64,
}

impl Case {
    /// The same request with another nonce.
    fn other_nonce(&self) -> u64 {
        self.nonce ^ 0x5555_5555_5555_5555
    }

    /// An instance started with another instance nonce.
    fn other_instance_nonce(&self) -> u64 {
        self.instance_nonce ^ 0xaaaa_aaaa_aaaa_aaaa
    }

    fn request(&self, seq: u64, nonce: u64) -> Request {
        Request {
            seq,
            nonce,
            iters: self.invoke_iters,
        }
    }

    /// What an instance started with `instance_nonce` answers to `nonce`.
    fn expected(&self, instance_nonce: u64, nonce: u64) -> u64 {
        probe_core::expected_checksum(self.params, instance_nonce, self.invoke_iters, nonce)
    }
}

fn hex(text: &serde_json::Value) -> u64 {
    u64::from_str_radix(text.as_str().unwrap(), 16).unwrap()
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
            nonce: hex(&c["nonce"]),
            instance_nonce: hex(&c["instance_nonce"]),
            checksum: hex(&c["checksum"]),
        })
        .collect();
    assert!(cases.len() >= 8, "the fixture lost its cases");
    let nonces: std::collections::HashSet<u64> = cases.iter().map(|c| c.nonce).collect();
    assert!(nonces.len() >= 5, "the fixture covers several nonces");
    let instance_nonces: std::collections::HashSet<u64> =
        cases.iter().map(|c| c.instance_nonce).collect();
    assert!(
        instance_nonces.len() >= 5,
        "the fixture covers several instance nonces"
    );
    // The Lambda tests take the first five: one of them must key real init memory
    // with an instance nonce that only parses as hexadecimal.
    assert!(
        cases.iter().take(5).any(|c| c.params.init_kib > 0
            && format!("{:016x}", c.instance_nonce).contains(|d: char| d.is_ascii_alphabetic())),
        "the Lambda test's cases include a hexadecimal instance nonce keying init memory"
    );
    cases
}

#[test]
fn probe_core_gives_the_fixture_checksums() {
    for c in cases() {
        assert_eq!(
            c.expected(c.instance_nonce, c.nonce),
            c.checksum,
            "{:?} / {} / {:016x} / {:016x}",
            c.params,
            c.invoke_iters,
            c.nonce,
            c.instance_nonce
        );
        assert_ne!(c.expected(c.instance_nonce, c.other_nonce()), c.checksum);
        assert_ne!(c.expected(c.other_instance_nonce(), c.nonce), c.checksum);
    }
}

/// One row per language: its probe, one-shot and served. A new language is a row.
#[test]
fn native_probe_gives_the_fixture_checksums_once_and_served() {
    line_probe_checksums(Language::Rust);
}

#[test]
fn python_probe_gives_the_fixture_checksums_once_and_served() {
    line_probe_checksums(Language::Python);
}

#[test]
fn node_probe_gives_the_fixture_checksums_once_and_served() {
    line_probe_checksums(Language::Node);
}

#[test]
fn java_probe_gives_the_fixture_checksums_once_and_served() {
    line_probe_checksums(Language::Java);
}

#[test]
fn go_probe_gives_the_fixture_checksums_once_and_served() {
    line_probe_checksums(Language::Go);
}

/// The language's probe as the process runner starts it (its interpreter, if any,
/// resolved by the harness); .ci/run installs every toolchain, so none is skipped.
fn located(language: Language) -> LanguageProbe {
    LanguageProbe::locate(language, &probes_dir()).unwrap_or_else(|e| panic!("{e}"))
}

fn probe_command(probe: &LanguageProbe) -> Command {
    let mut command = Command::new(&probe.program);
    command.args(&probe.args);
    command
}

fn line_probe_checksums(language: Language) {
    let probe = located(language);
    // Bad input is the same one-line error and exit 2 in every language.
    let bad = probe_command(&probe)
        .args(["once", "--init-kib", "x"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{language}: {bad:?}");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("--init-kib \"x\" is not a non-negative integer"),
        "{language}: {stderr}"
    );
    for c in cases() {
        let args = [
            "--init-kib".to_string(),
            c.params.init_kib.to_string(),
            "--init-iters".to_string(),
            c.params.init_iters.to_string(),
        ];
        let once = |instance_nonce: u64, by_env: bool| {
            let mut command = probe_command(&probe);
            command
                .arg("once")
                .args(&args)
                .args(["--invoke-iters", &c.invoke_iters.to_string()])
                .args(["--nonce", &format!("{:016x}", c.nonce)]);
            let instance_nonce = format!("{instance_nonce:016x}");
            if by_env {
                command.env("COLDSTART_INSTANCE_NONCE", &instance_nonce);
            } else {
                command.args(["--instance-nonce", &instance_nonce]);
            }
            let once = command.output().unwrap();
            assert!(once.status.success(), "{language}: {once:?}");
            let line = String::from_utf8(once.stdout).unwrap();
            let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            assert_eq!(words[0], "DONE", "{line}");
            u64::from_str_radix(&words[4], 16).unwrap()
        };
        for by_env in [false, true] {
            assert_eq!(
                once(c.instance_nonce, by_env),
                c.checksum,
                "{language} once, env {by_env}"
            );
            // Another instance nonce, another init state: the nonce reaches init.
            let other = c.other_instance_nonce();
            assert_eq!(once(other, by_env), c.expected(other, c.nonce));
        }

        let mut child = probe_command(&probe)
            .arg("serve")
            .args(["--instance-nonce", &format!("{:016x}", c.instance_nonce)])
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // A line that is not the protocol gets an ERR, and the instance serves on.
        writeln!(
            stdin,
            "INVOKE 1 {:016x} {2}\nINVOKE 2 0123 {2}\nINVOKE 3 {:016x} {2}\nEXIT",
            c.nonce,
            c.other_nonce(),
            c.invoke_iters
        )
        .unwrap();
        let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map(Result::unwrap)
            .collect();
        assert!(child.wait().unwrap().success(), "{language}");
        assert_eq!(lines.len(), 4, "{language}: {lines:?}");
        let id = lines[0].strip_prefix("READY ").unwrap();
        assert_eq!(id.len(), 16, "{language}: {lines:?}");
        assert_eq!(
            lines[1],
            format!("DONE 1 {id} 0 {:016x}", c.checksum),
            "{language}"
        );
        assert!(lines[2].starts_with("ERR "), "{language}: {lines:?}");
        let other = c.expected(c.instance_nonce, c.other_nonce());
        assert_eq!(
            lines[3],
            format!("DONE 3 {id} 1 {other:016x}"),
            "{language}"
        );
        assert_ne!(other, c.checksum);
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
            timeout_given: true,
            run_id: "test".into(),
            engine: Default::default(),
            lambda: Default::default(),
            vm: Default::default(),
            most_live: 0,
            test_sleep: None,
            language: Default::default(),
        };
        let built = runner::build(RuntimeKind::Wasm, &["jit", "pre"], &ctx)
            .await
            .unwrap();
        for b in built {
            let runner::Built::Ready(r) = b else {
                panic!("wasm must be available")
            };
            let start = r
                .cold_start(StartRequest {
                    instance_nonce: c.instance_nonce,
                    request: c.request(1, c.nonce),
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
            let other_start = r
                .cold_start(StartRequest {
                    instance_nonce: c.other_instance_nonce(),
                    request: c.request(4, c.nonce),
                })
                .await
                .unwrap();
            assert_eq!(
                other_start.response.checksum,
                c.expected(c.other_instance_nonce(), c.nonce),
                "the instance nonce reaches coldstart_init"
            );
            other_start.instance.teardown().await.unwrap();
            assert_eq!(start.response.index, 0);
            let mut instance = start.instance;
            let (warm, _) = instance.invoke(c.request(2, c.nonce)).await.unwrap();
            assert_eq!(warm.checksum, c.checksum);
            let (other, _) = instance
                .invoke(c.request(3, c.other_nonce()))
                .await
                .unwrap();
            assert_ne!(other.checksum, c.checksum, "the nonce reaches the module");
            assert_eq!(
                other.checksum,
                c.expected(c.instance_nonce, c.other_nonce())
            );
            assert_eq!(warm.index, 1);
            assert_eq!(other.index, 2);
            assert_eq!(warm.instance_id, start.response.instance_id);
            instance.teardown().await.unwrap();
        }
    }
}

/// The Lambda `bootstrap` speaks the real Lambda Runtime API; cargo-lambda's emulator
/// serves that API here, and its Invoke endpoint takes the requests.
#[test]
fn lambda_probe_gives_the_fixture_checksums_through_the_runtime_api() {
    lambda_probe_checksums(bootstrap("bootstrap"));
}

/// Each language's probe in its `lambda` mode: its own Runtime API loop.
#[test]
fn python_probe_gives_the_fixture_checksums_through_the_runtime_api() {
    lambda_probe_checksums(lambda_mode(Language::Python));
}

#[test]
fn node_probe_gives_the_fixture_checksums_through_the_runtime_api() {
    lambda_probe_checksums(lambda_mode(Language::Node));
}

#[test]
fn java_probe_gives_the_fixture_checksums_through_the_runtime_api() {
    lambda_probe_checksums(lambda_mode(Language::Java));
}

#[test]
fn go_probe_gives_the_fixture_checksums_through_the_runtime_api() {
    lambda_probe_checksums(lambda_mode(Language::Go));
}

/// How a function's runtime is started.
struct Function {
    program: std::path::PathBuf,
    args: Vec<String>,
}

fn bootstrap(file: &str) -> Function {
    let bootstrap = probes_dir().join(file);
    assert!(
        bootstrap.is_file(),
        "run scripts/build-probes.sh (arm64 needs cargo-lambda): {} is missing",
        bootstrap.display()
    );
    Function {
        program: bootstrap,
        args: Vec::new(),
    }
}

fn lambda_mode(language: Language) -> Function {
    let probe = located(language);
    let mut args = probe.args.clone();
    args.push("lambda".into());
    Function {
        program: probe.program,
        args,
    }
}

/// The arm64 `bootstrap` (for Lambda's arm64 functions) gives the same checksums,
/// run under qemu's user-mode emulation (Debian's qemu-user-static; .ci/run installs it).
#[test]
fn arm64_lambda_probe_gives_the_fixture_checksums_under_qemu() {
    let qemu = "qemu-aarch64-static";
    assert!(
        Command::new(qemu).arg("--version").output().is_ok(),
        "{qemu} is needed: apt-get install qemu-user-static (.ci/run does)"
    );
    let arm64 = bootstrap("bootstrap-arm64").program;
    lambda_probe_checksums(Function {
        program: qemu.into(),
        args: vec![arm64.display().to_string()],
    });
}

fn lambda_probe_checksums(Function { program, args }: Function) {
    use std::io::Read;
    // cargo-lambda reads a Cargo project where it starts; give it an empty one.
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("Cargo.toml"),
        "[package]\nname = \"emulator\"\nversion = \"0.0.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::create_dir(project.path().join("src")).unwrap();
    std::fs::write(project.path().join("src/main.rs"), "fn main() {}\n").unwrap();
    for c in cases().into_iter().take(5) {
        // A fresh emulator per case: a killed runtime leaves no poll behind to answer.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut emulator = Kill(
            Command::new("cargo")
                .args([
                    "lambda",
                    "watch",
                    "--only-lambda-apis",
                    "-A",
                    "127.0.0.1",
                    "-P",
                    &port.to_string(),
                ])
                .current_dir(project.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("cargo-lambda is needed: pip install cargo-lambda (.ci/run does)"),
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the emulator did not listen"
            );
            assert!(
                emulator.0.try_wait().unwrap().is_none(),
                "the emulator exited"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let _function = Kill(
            Command::new(&program)
                .args(&args)
                .env(
                    "AWS_LAMBDA_RUNTIME_API",
                    format!("http://127.0.0.1:{port}/.rt"),
                )
                .env("AWS_LAMBDA_FUNCTION_NAME", "_")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
                .env("COLDSTART_INIT_KIB", c.params.init_kib.to_string())
                .env("COLDSTART_INIT_ITERS", c.params.init_iters.to_string())
                .env(
                    "COLDSTART_INSTANCE_NONCE",
                    format!("{:016x}", c.instance_nonce),
                )
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let mut instance = None;
        for seq in 1..=2u64 {
            // The second request carries another nonce: another checksum must come back.
            let (nonce, checksum) = match seq {
                1 => (c.nonce, c.checksum),
                _ => (
                    c.other_nonce(),
                    c.expected(c.instance_nonce, c.other_nonce()),
                ),
            };
            let body = format!(
                "{{\"seq\":{seq},\"nonce\":\"{nonce:016x}\",\"iters\":{}}}",
                c.invoke_iters
            );
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .unwrap();
            write!(
                stream,
                "POST /2015-03-31/functions/_/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            let mut reply = String::new();
            stream.read_to_string(&mut reply).unwrap();
            assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
            let json: serde_json::Value =
                serde_json::from_str(reply.split("\r\n\r\n").nth(1).unwrap().trim())
                    .unwrap_or_else(|e| panic!("{e}: {reply}"));
            assert_eq!(json["seq"], seq);
            assert_eq!(json["index"], seq - 1, "{json}");
            assert_eq!(
                json["checksum"],
                format!("{checksum:016x}"),
                "{:?} / {}",
                c.params,
                c.invoke_iters
            );
            let id = json["instance_id"].as_str().unwrap().to_string();
            assert_eq!(id.len(), 16);
            assert_eq!(
                instance.get_or_insert(id.clone()),
                &id,
                "one execution environment"
            );
        }
    }
}

/// Kills the child when the test is done with it (or fails).
struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
