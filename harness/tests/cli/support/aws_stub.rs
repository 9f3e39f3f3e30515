//! Lambda without AWS, for the lambda runner's tests: moto in server mode is the
//! control plane (the real SDK client creates, updates, reads and publishes functions
//! there), and a stub Invoke endpoint behaves like Lambda's: it reads the function's
//! configuration from moto at each invocation and makes a new execution environment
//! (a real probe init, an `Init Duration` in its REPORT) only when that configuration
//! changed. So a harness that invoked before its update had landed would get reused
//! environments and invalid cold samples. Functions named `proactive-*`, `failing-*`,
//! `throttled-*` and `slowclock-*` answer like a pre-initialised environment, a
//! failing handler, a throttled account and a platform clock that disagrees with ours;
//! `flaky-*` fails every 7th invocation of a published version (its environment
//! lives on, as Lambda's does).

use super::coldstart;
use base64::Engine as _;
use probe_core::{InitParams, Probe};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROLE: &str = "arn:aws:iam::123456789012:role/coldstart";
pub const ACCOUNT: &str = "123456789012";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 exchange (Connection: close): status and body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let status = reply[9..12].parse().unwrap();
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}

fn auth(service: &str) -> String {
    format!("AWS4-HMAC-SHA256 Credential=testing/20261128/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0")
}

/// moto in server mode, Lambda's Docker backend off, with the role Lambda assumes.
pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts moto on a free port; another one if a parallel test took that port first.
    pub fn start() -> Moto {
        for _ in 0..5 {
            if let Some(moto) = Moto::try_start() {
                return moto;
            }
        }
        panic!("moto did not start on a free port in 5 attempts");
    }

    fn try_start() -> Option<Moto> {
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto is needed: pip install 'moto[server,awslambda]' (.ci/run does)");
        let mut moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not listen");
            if moto.child.try_wait().unwrap().is_some() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Listening, and still alive: the port is moto's, not another test's server.
        std::thread::sleep(Duration::from_millis(200));
        if moto.child.try_wait().unwrap().is_some() {
            return None;
        }
        let (status, _) = http(
            port,
            "POST",
            "/moto-api/config",
            &[("Content-Type", "application/json")],
            r#"{"lambda": {"use_docker": false}}"#,
        );
        assert!(status < 300, "moto config: {status}");
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let form = format!(
            "Action=CreateRole&Version=2010-05-08&RoleName=coldstart&AssumeRolePolicyDocument={}",
            policy
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect::<String>()
        );
        let (status, body) = http(
            port,
            "POST",
            "/",
            &[
                ("Authorization", &auth("iam")),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &form,
        );
        assert_eq!(status, 200, "CreateRole: {body}");
        Some(moto)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The function's configuration (at a version), or None when moto has none.
    pub fn configuration(&self, function: &str, qualifier: Option<&str>) -> Option<Value> {
        configuration(self.port, function, qualifier)
    }

    pub fn deploy(&self, prefix: &str, extra: &[&str]) {
        let out = aws(coldstart())
            .args([
                "lambda", "deploy", "--role", ROLE, "--arch", "x86_64", "--memory", "128",
            ])
            .args(["--lambda-prefix", prefix, "--lambda-endpoint", &self.url()])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "deploy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn configuration(port: u16, function: &str, qualifier: Option<&str>) -> Option<Value> {
    let path = match qualifier {
        Some(q) => format!("/2015-03-31/functions/{function}/configuration?Qualifier={q}"),
        None => format!("/2015-03-31/functions/{function}/configuration"),
    };
    let (status, body) = http(
        port,
        "GET",
        &path,
        &[("Authorization", &auth("lambda"))],
        "",
    );
    (status == 200).then(|| serde_json::from_str(&body).unwrap())
}

/// moto's test credentials and region (`coldstart()` has removed the machine's).
pub fn aws(mut cmd: assert_cmd::Command) -> assert_cmd::Command {
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1");
    cmd
}

/// What the stub saw of one invocation.
#[derive(Debug, Clone)]
pub struct Call {
    pub function: String,
    pub qualifier: Option<String>,
    pub env: HashMap<String, String>,
    pub new_environment: bool,
    pub status: u16,
}

/// Lambda's Invoke API, as far as the harness can tell.
pub struct InvokeStub {
    port: u16,
    calls: Arc<Mutex<Vec<Call>>>,
    dry_runs: Arc<Mutex<u32>>,
}

struct Environment {
    config: String,
    probe: Probe,
}

impl InvokeStub {
    pub fn start(moto_port: u16) -> InvokeStub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let dry_runs = Arc::new(Mutex::new(0));
        let environments: Arc<Mutex<HashMap<String, Environment>>> = Default::default();
        let (log, dry) = (calls.clone(), dry_runs.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, dry, environments) = (log.clone(), dry.clone(), environments.clone());
                std::thread::spawn(move || serve(stream, moto_port, &log, &dry, &environments));
            }
        });
        InvokeStub {
            port,
            calls,
            dry_runs,
        }
    }

    /// DryRun invokes received (no function code run).
    pub fn dry_runs(&self) -> u32 {
        *self.dry_runs.lock().unwrap()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    moto_port: u16,
    log: &Mutex<Vec<Call>>,
    dry_runs: &Mutex<u32>,
    environments: &Mutex<HashMap<String, Environment>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut length = 0;
        let mut dry_run = false;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap();
                }
                if k.eq_ignore_ascii_case("x-amz-invocation-type") && v.trim() == "DryRun" {
                    dry_run = true;
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let (status, headers, reply) = if dry_run {
            // Lambda checks the request and runs no function code: 204, no body.
            *dry_runs.lock().unwrap() += 1;
            (204, Vec::new(), String::new())
        } else {
            invoke(&target, &body, moto_port, log, environments)
        };
        let mut response = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", reply.len());
        for (k, v) in headers {
            response.push_str(&format!("{k}: {v}\r\n"));
        }
        response.push_str("\r\n");
        response.push_str(&reply);
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn report(init: Option<Duration>, handler: Duration, failed: bool) -> String {
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    let mut line = format!(
        "REPORT RequestId: 3f2a\tDuration: {}\tBilled Duration: {} ms\tMemory Size: 128 MB\tMax Memory Used: 17 MB\t",
        ms(handler),
        handler.as_millis() + 1
    );
    if let Some(init) = init {
        line.push_str(&format!("Init Duration: {}\t", ms(init)));
    }
    if failed {
        line.push_str("Status: error\tError Type: Runtime.ExitError\t");
    }
    let log = format!("START RequestId: 3f2a Version: $LATEST\n{line}\n");
    base64::engine::general_purpose::STANDARD.encode(log)
}

type Reply = (u16, Vec<(&'static str, String)>, String);

fn invoke(
    target: &str,
    body: &[u8],
    moto_port: u16,
    log: &Mutex<Vec<Call>>,
    environments: &Mutex<HashMap<String, Environment>>,
) -> Reply {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let function = path
        .strip_prefix("/2015-03-31/functions/")
        .and_then(|p| p.strip_suffix("/invocations"))
        .expect("an Invoke path")
        .to_string();
    let qualifier = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("Qualifier="))
        .map(str::to_string);
    let config = configuration(moto_port, &function, qualifier.as_deref()).expect("moto has it");
    let env: HashMap<String, String> =
        serde_json::from_value(config["Environment"]["Variables"].clone()).unwrap_or_default();
    let mut call = Call {
        function: function.clone(),
        qualifier: qualifier.clone(),
        env: env.clone(),
        new_environment: false,
        status: 200,
    };
    let throttle = function.starts_with("throttled-")
        && log
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.function == function)
            .count()
            % 2
            == 0;
    if throttle {
        call.status = 429;
        log.lock().unwrap().push(call);
        return (
            429,
            vec![("x-amzn-ErrorType", "TooManyRequestsException".into())],
            r#"{"Type":"User","message":"Rate Exceeded."}"#.into(),
        );
    }
    let request: Value = serde_json::from_slice(body).unwrap();
    let key = format!("{function}:{}", qualifier.as_deref().unwrap_or("$LATEST"));
    let config_text = config.to_string();
    let mut environments = environments.lock().unwrap();
    let mut init = None;
    let fresh = environments
        .get(&key)
        .is_none_or(|e| e.config != config_text);
    if fresh {
        let number = |k: &str, default: u64| env.get(k).map_or(default, |v| v.parse().unwrap());
        let params = InitParams {
            init_kib: number("COLDSTART_INIT_KIB", InitParams::DEFAULT.init_kib),
            init_iters: number("COLDSTART_INIT_ITERS", InitParams::DEFAULT.init_iters),
        };
        let instance_nonce = env
            .get("COLDSTART_INSTANCE_NONCE")
            .map_or(0, |v| u64::from_str_radix(v, 16).unwrap());
        let start = Instant::now();
        let probe = Probe::init(rand_id(), instance_nonce, params);
        init = Some(start.elapsed());
        environments.insert(
            key.clone(),
            Environment {
                config: config_text,
                probe,
            },
        );
    }
    call.new_environment = fresh;
    log.lock().unwrap().push(call);
    if function.starts_with("proactive-") {
        init = None; // initialised ahead of the request: no Init Duration
    }
    if function.starts_with("slowclock-") {
        // A platform clock that disagrees with ours: an Init Duration longer than
        // any round trip the harness can measure here.
        init = Some(Duration::from_secs(30));
    }
    let start = Instant::now();
    let flaky = function.starts_with("flaky-")
        && qualifier.is_some()
        && log
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.function == function && c.qualifier.is_some())
            .count()
            % 7
            == 0;
    if function.starts_with("failing-") || flaky {
        return (
            200,
            vec![
                ("X-Amz-Function-Error", "Unhandled".into()),
                ("X-Amz-Log-Result", report(init, start.elapsed(), true)),
            ],
            r#"{"errorType":"Runtime.ExitError","errorMessage":"the handler panicked"}"#.into(),
        );
    }
    let nonce = u64::from_str_radix(request["nonce"].as_str().expect("a nonce"), 16).unwrap();
    let done = environments
        .get_mut(&key)
        .unwrap()
        .probe
        .invoke(request["iters"].as_u64().unwrap(), nonce);
    let answer = json!({
        "seq": request["seq"],
        "instance_id": format!("{:016x}", done.instance_id),
        "index": done.index,
        "checksum": format!("{:016x}", done.checksum),
    });
    (
        200,
        vec![
            ("Content-Type", "application/json".into()),
            (
                "X-Amz-Executed-Version",
                qualifier.unwrap_or_else(|| "$LATEST".into()),
            ),
            ("X-Amz-Log-Result", report(init, start.elapsed(), false)),
        ],
        answer.to_string(),
    )
}

fn rand_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // Each RandomState has fresh random keys: a new id per environment.
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}
