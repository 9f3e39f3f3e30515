//! One timed `Invoke` through aws-sdk-lambda, shared by the AWS variants and the
//! local emulator: the request is the probe's JSON, the answer is verified like
//! every other runner's, and Lambda's REPORT line (from `LogResult`) is decoded.
//!
//! What is timed: from the signed request handed to the HTTP client to its answer
//! read and parsed, by an interceptor on the SDK's `read_before_transmit` and
//! `read_after_deserialization` hooks ([`TransmitClock`]). Serializing the request,
//! resolving credentials and SigV4 signing run before that clock starts.
//!
//! The client has the SDK's retries off: a timed call is exactly one attempt. A
//! throttled call (429, TooManyRequestsException) is retried here after a bounded
//! backoff that is not timed: the clock restarts with each attempt, and the count
//! of attempts goes into the sample. A handler error
//! (`X-Amz-Function-Error`) is a failed sample carrying Lambda's error payload and
//! the REPORT's status.

use super::report::{self, Report};
use crate::runner::{Request, Response, SampleError};
use aws_sdk_lambda::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_lambda::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_lambda::error::BoxError;
use aws_sdk_lambda::error::SdkError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Throttled attempts before a sample fails.
const MAX_THROTTLED: u32 = 5;
/// The first backoff after a 429; doubled each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// A client for timed calls: one attempt, the run's timeout per operation.
pub fn timed_client(
    builder: aws_sdk_lambda::config::Builder,
    endpoint: Option<&str>,
    timeout: Duration,
) -> aws_sdk_lambda::Client {
    let mut builder = builder
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(timeout)
                .build(),
        );
    if let Some(url) = endpoint {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_lambda::Client::from_conf(builder.build())
}

/// The instants one attempt's signed request left and its answer was in, taken by
/// the SDK's own hooks: what it does before (serializing, signing) and after
/// (nothing but handing the output back) stays out of the window.
#[derive(Debug, Clone, Default)]
pub struct TransmitClock(Arc<Mutex<Window>>);

/// One attempt's window: `None` until the hook ran.
#[derive(Debug, Default, Clone, Copy)]
struct Window {
    sent: Option<Instant>,
    answered: Option<Instant>,
}

impl TransmitClock {
    fn window(&self) -> Window {
        *self.0.lock().expect("not poisoned")
    }
}

impl Intercept for TransmitClock {
    fn name(&self) -> &'static str {
        "coldstart::TransmitClock"
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.lock().expect("not poisoned").sent = Some(Instant::now());
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        _: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.lock().expect("not poisoned").answered = Some(Instant::now());
        Ok(())
    }
}

/// What one invocation gave.
#[derive(Debug)]
pub struct Invoked {
    pub response: Response,
    /// The round trip of the attempt that answered: its signed request sent until
    /// its answer was read.
    pub total: Duration,
    /// When that attempt's signed request was handed to the HTTP client.
    pub sent: Instant,
    /// When its answer was read.
    pub answered: Instant,
    /// Lambda's REPORT line; `None` where the endpoint returns no log tail (the emulator).
    pub report: Option<Report>,
    /// 429s before the answering attempt.
    pub throttled: u32,
}

impl Invoked {
    /// Attempts made, the answering one included.
    pub fn attempts(&self) -> u32 {
        self.throttled + 1
    }

    /// A note when Lambda's own figures (init + duration) exceed our measured round
    /// trip of the same call: the two clocks disagree, and a reader should know.
    pub fn clock_note(&self) -> Option<String> {
        let r = self.report.as_ref()?;
        let reported = r
            .init_duration_ns
            .or(r.restore_duration_ns)
            .unwrap_or(0)
            .saturating_add(r.duration_ns);
        let measured = crate::phase::nanos(self.total);
        (reported > measured).then(|| {
            format!(
                "Lambda reported {reported} ns (init + duration), more than the {measured} ns \
                 round trip we measured: the platform's clock and ours disagree"
            )
        })
    }

    /// The sample's times on our stopwatch: this call's round trip, as a phase
    /// named `round_trip` when given (else it only counts into `total`). The
    /// REPORT's figures stay apart.
    pub fn times(&self, round_trip: Option<&'static str>) -> crate::phase::PhaseTimes {
        let call = crate::phase::nanos(self.total);
        self.with_phases(
            round_trip.map(|name| (name, call)).into_iter().collect(),
            call,
        )
    }

    /// The times of a start whose `before` laps (e.g. `spawn`) ended at
    /// `before_ended`: then `request`, from that instant until the request was sent
    /// (the SDK building it, signing it where the client signs, and any throttled
    /// attempts before the answering one), and the lap named `last`, the answering
    /// round trip. The laps are contiguous and add up to `total`: nothing is lost
    /// between clocks.
    pub fn times_after(
        &self,
        before: Vec<(&'static str, u64)>,
        before_ended: Instant,
        last: &'static str,
    ) -> crate::phase::PhaseTimes {
        let request = crate::phase::nanos(self.sent.saturating_duration_since(before_ended));
        let lap = crate::phase::nanos(self.answered.saturating_duration_since(self.sent));
        let total_ns = before.iter().map(|(_, ns)| ns).sum::<u64>() + request + lap;
        let mut phases = before;
        phases.push(("request", request));
        phases.push((last, lap));
        self.with_phases(phases, total_ns)
    }

    fn with_phases(
        &self,
        phases: Vec<(&'static str, u64)>,
        total_ns: u64,
    ) -> crate::phase::PhaseTimes {
        crate::phase::PhaseTimes {
            phases,
            total_ns,
            reported: self.reported(),
            attempts: Some(self.attempts()),
            notes: self.clock_note().into_iter().collect(),
        }
    }

    /// The REPORT's figures, as the sample's `reported`: the platform's clock.
    pub fn reported(&self) -> BTreeMap<&'static str, u64> {
        let mut out = BTreeMap::new();
        if let Some(r) = &self.report {
            out.insert("duration_ns", r.duration_ns);
            out.insert("billed_duration_ns", r.billed_duration_ns);
            out.insert("memory_size_mb", r.memory_size_mb);
            out.insert("max_memory_used_mb", r.max_memory_used_mb);
            for (key, value) in [
                ("init_duration_ns", r.init_duration_ns),
                ("restore_duration_ns", r.restore_duration_ns),
                ("billed_restore_duration_ns", r.billed_restore_duration_ns),
            ] {
                if let Some(v) = value {
                    out.insert(key, v);
                }
            }
        }
        out
    }
}

/// The probe's answer, as the bootstrap writes it.
#[derive(serde::Deserialize)]
struct Answer {
    seq: u64,
    instance_id: String,
    index: u64,
    checksum: String,
}

fn hex_u64(what: &str, text: &str) -> Result<u64, SampleError> {
    u64::from_str_radix(text, 16)
        .map_err(|_| SampleError::Protocol(format!("{what} {text:?} is not 16 hex digits")))
}

/// Parses the function's response payload into a [`Response`] for request `seq`.
pub fn parse_answer(payload: &[u8], seq: u64) -> Result<Response, SampleError> {
    let answer: Answer = serde_json::from_slice(payload).map_err(|e| {
        SampleError::Protocol(format!(
            "the function answered {:?}, not the probe's JSON: {e}",
            String::from_utf8_lossy(&payload[..payload.len().min(300)])
        ))
    })?;
    if answer.seq != seq {
        return Err(SampleError::Protocol(format!(
            "answer to request {}, expected {seq}",
            answer.seq
        )));
    }
    Ok(Response {
        instance_id: hex_u64("instance_id", &answer.instance_id)?,
        index: answer.index,
        checksum: hex_u64("checksum", &answer.checksum)?,
    })
}

/// Invokes `function` (at `qualifier`, if any) with `request`, timing the attempt
/// that answers.
pub async fn invoke(
    client: &aws_sdk_lambda::Client,
    function: &str,
    qualifier: Option<&str>,
    request: Request,
    timeout: Duration,
) -> Result<Invoked, SampleError> {
    let payload = serde_json::json!({
        "seq": request.seq,
        "nonce": format!("{:016x}", request.nonce),
        "iters": request.iters,
    })
    .to_string();
    let mut throttled = 0;
    loop {
        let clock = TransmitClock::default();
        let result = client
            .invoke()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .invocation_type(InvocationType::RequestResponse)
            .log_type(LogType::Tail)
            .payload(Blob::new(payload.as_bytes()))
            .customize()
            .interceptor(clock.clone())
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(SdkError::ServiceError(e)) if e.err().is_too_many_requests_exception() => {
                throttled += 1;
                if throttled > MAX_THROTTLED {
                    return Err(SampleError::Runtime(format!(
                        "invoking {function}: throttled (429) {throttled} times in a row; \
                         lower the concurrency on the account or raise its limit"
                    )));
                }
                tokio::time::sleep(FIRST_BACKOFF * 2u32.pow(throttled - 1)).await;
                continue;
            }
            Err(SdkError::TimeoutError(_)) => return Err(SampleError::Timeout(timeout)),
            Err(e) => {
                return Err(SampleError::Runtime(format!(
                    "invoking {function}: {}",
                    super::sdk::describe(&e)
                )))
            }
        };
        let report = match output.log_result() {
            Some(log) => Some(report::from_log_result(log).map_err(SampleError::Protocol)?),
            None => None,
        };
        let body = output.payload().map(|b| b.as_ref()).unwrap_or_default();
        if let Some(kind) = output.function_error() {
            let status = report
                .as_ref()
                .and_then(|r| r.status.as_deref())
                .map(|s| format!(" (REPORT status {s})"))
                .unwrap_or_default();
            return Err(SampleError::Crashed(format!(
                "the function failed with {kind}{status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(500)]).trim()
            )));
        }
        let Window {
            sent: Some(sent),
            answered: Some(answered),
        } = clock.window()
        else {
            return Err(SampleError::Runtime(
                "the SDK answered without running its transmit hooks: nothing was timed".into(),
            ));
        };
        return Ok(Invoked {
            response: parse_answer(body, request.seq)?,
            total: answered.saturating_duration_since(sent),
            sent,
            answered,
            report,
            throttled,
        });
    }
}

/// One `Invoke` with `InvocationType=DryRun`: Lambda checks the request and
/// permissions and runs no function code, so its round trip is the network's and
/// the front end's share of every invocation. Returns that round trip.
pub async fn dry_run(
    client: &aws_sdk_lambda::Client,
    function: &str,
    qualifier: Option<&str>,
    timeout: Duration,
) -> Result<Duration, SampleError> {
    let clock = TransmitClock::default();
    let result = client
        .invoke()
        .function_name(function)
        .set_qualifier(qualifier.map(str::to_string))
        .invocation_type(InvocationType::DryRun)
        .customize()
        .interceptor(clock.clone())
        .send()
        .await;
    match result {
        Ok(_) => match clock.window() {
            Window {
                sent: Some(sent),
                answered: Some(answered),
            } => Ok(answered.saturating_duration_since(sent)),
            _ => Err(SampleError::Runtime(
                "the SDK answered without running its transmit hooks: nothing was timed".into(),
            )),
        },
        Err(SdkError::TimeoutError(_)) => Err(SampleError::Timeout(timeout)),
        Err(e) => Err(SampleError::Runtime(format!(
            "DryRun invoke of {function}: {}",
            super::sdk::describe(&e)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::{future, ProvideCredentials};
    use aws_sdk_lambda::config::{BehaviorVersion, Credentials, IdentityCache, Region};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Credentials that take 50 ms to resolve, on every call.
    #[derive(Debug)]
    struct SlowCredentials;

    const RESOLVE: Duration = Duration::from_millis(50);

    impl ProvideCredentials for SlowCredentials {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            future::ProvideCredentials::new(async {
                tokio::time::sleep(RESOLVE).await;
                Ok(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            })
        }
    }

    /// A local endpoint that answers each request at once with the probe's JSON, and
    /// keeps each request's head.
    async fn local_endpoint() -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let heads = Arc::new(Mutex::new(Vec::new()));
        let kept = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    let mut got = Vec::new();
                    loop {
                        let n = conn.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        got.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&got).to_string();
                        let Some(head_end) = text.find("\r\n\r\n") else {
                            continue;
                        };
                        let length: usize = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap())
                            })
                            .unwrap_or(0);
                        if got.len() < head_end + 4 + length {
                            continue;
                        }
                        kept.lock()
                            .unwrap()
                            .push(text[..head_end].to_ascii_lowercase());
                        got.clear();
                        let body = r#"{"seq":1,"instance_id":"00000000000000ff","index":0,"checksum":"00000000000000aa"}"#;
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        conn.write_all(answer.as_bytes()).await.unwrap();
                    }
                });
            }
        });
        (url, heads)
    }

    const REQUEST: Request = Request {
        seq: 1,
        nonce: 7,
        iters: 1,
    };

    #[tokio::test(flavor = "current_thread")]
    async fn the_emulator_client_does_not_sign() {
        let (url, heads) = local_endpoint().await;
        let signed = aws_sdk_lambda::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("local"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"));
        for (config, signs) in [
            (signed, true),
            (super::super::emulator::unsigned_config(), false),
        ] {
            let client = timed_client(config, Some(&url), Duration::from_secs(10));
            invoke(&client, "probe", None, REQUEST, Duration::from_secs(10))
                .await
                .unwrap();
            let head = heads.lock().unwrap().pop().unwrap();
            assert_eq!(
                head.contains("\nauthorization: aws4-hmac-sha256"),
                signs,
                "{head}"
            );
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn what_the_sdk_does_before_sending_is_out_of_the_clock() {
        let (url, _) = local_endpoint().await;
        // Identity resolution runs, uncached, before signing: 50 ms on every call.
        let builder = aws_sdk_lambda::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SlowCredentials)
            .identity_cache(IdentityCache::no_cache());
        let client = timed_client(builder, Some(&url), Duration::from_secs(10));
        for _ in 0..3 {
            let called = Instant::now();
            let invoked = invoke(&client, "probe", None, REQUEST, Duration::from_secs(10))
                .await
                .unwrap();
            let outside = called.elapsed();
            assert_eq!(invoked.response.checksum, 0xaa);
            assert!(outside >= RESOLVE, "the credentials took {outside:?}");
            assert!(
                invoked.total < RESOLVE / 2,
                "resolving credentials and signing are inside the clock: {:?} of {outside:?}",
                invoked.total
            );
            assert!(invoked.sent >= called + RESOLVE && invoked.answered >= invoked.sent);
        }
    }

    #[test]
    fn answers_are_parsed_and_checked() {
        let ok = br#"{"seq":7,"instance_id":"00000000000000ff","index":2,"checksum":"ec69f17e50eb06b1"}"#;
        let r = parse_answer(ok, 7).unwrap();
        assert_eq!(r.instance_id, 255);
        assert_eq!(r.index, 2);
        assert_eq!(r.checksum, 0xec69f17e50eb06b1);
        assert!(parse_answer(ok, 8)
            .unwrap_err()
            .to_string()
            .contains("expected 8"));
        let err = parse_answer(b"{\"errorMessage\":\"boom\"}", 1).unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");
        let bad = br#"{"seq":1,"instance_id":"zz","index":0,"checksum":"1"}"#;
        assert!(parse_answer(bad, 1)
            .unwrap_err()
            .to_string()
            .contains("instance_id"));
    }
}
