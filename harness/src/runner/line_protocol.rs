//! The probe's line protocol as the runners whose instance is reached through a
//! byte stream (a process's pipes, a container's attached stdio) speak it: what to
//! write and how to judge each line read back. Transport stays with each runner.

use super::{Request, Response, SampleError};
use crate::phase::{PhaseTimes, Stopwatch};
use async_trait::async_trait;
use probe_core::protocol::{HarnessLine, ProbeLine};
use std::time::{Duration, Instant};

/// An instance reached by lines over some byte stream.
#[async_trait(?Send)]
pub trait LineStream {
    /// The next probe line, by the deadline.
    async fn read(&mut self, deadline: Instant) -> Result<ProbeLine, SampleError>;
    /// Writes encoded harness lines.
    async fn send(&mut self, bytes: &[u8]) -> Result<(), SampleError>;
    /// Adds what the instance can tell about a failure (exit status, stderr).
    async fn explain(&mut self, error: SampleError) -> SampleError;
}

/// One INVOKE/DONE round trip, checking the echoed sequence number.
pub async fn round_trip(
    stream: &mut impl LineStream,
    request: Request,
    deadline: Instant,
) -> Result<Response, SampleError> {
    stream.send(&invoke(request)).await?;
    expect_done(stream.read(deadline).await?, request)
}

/// The end of every line-speaking cold start: `ready_phase` (until READY is read:
/// `ready` for a process or container, `boot` for a VM) and `first_response` (INVOKE
/// written, DONE read, from the same instance).
pub async fn ready_and_first_response(
    stream: &mut impl LineStream,
    sw: &mut Stopwatch,
    ready_phase: &'static str,
    request: Request,
    deadline: Instant,
) -> Result<Response, SampleError> {
    let result = async {
        let ready = expect_ready(stream.read(deadline).await?)?;
        sw.lap(ready_phase);
        let response = round_trip(stream, request, deadline).await?;
        sw.lap("first_response");
        check_same_instance(ready, &response)?;
        Ok(response)
    }
    .await;
    match result {
        Ok(response) => Ok(response),
        Err(e) => Err(stream.explain(e).await),
    }
}

/// A warm sample: one round trip, timed whole.
pub async fn warm_round_trip(
    stream: &mut impl LineStream,
    request: Request,
    timeout: Duration,
) -> Result<(Response, PhaseTimes), SampleError> {
    let deadline = Instant::now() + timeout;
    let sw = Stopwatch::start();
    let response = round_trip(stream, request, deadline).await?;
    Ok((response, PhaseTimes::total_only(sw.elapsed())))
}

/// The bytes of one harness line, newline included.
pub fn encode(line: HarnessLine) -> Vec<u8> {
    format!("{line}\n").into_bytes()
}

/// The `INVOKE` line for a request.
pub fn invoke(request: Request) -> Vec<u8> {
    encode(HarnessLine::Invoke {
        seq: request.seq,
        nonce: request.nonce,
        iters: request.iters,
    })
}

/// Parses one line of probe output; an `ERR` line is the probe refusing.
pub fn parse(line: &str) -> Result<ProbeLine, SampleError> {
    match line.parse::<ProbeLine>() {
        Ok(ProbeLine::Err(message)) => Err(SampleError::Protocol(format!(
            "probe refused the request: {message}"
        ))),
        Ok(line) => Ok(line),
        Err(e) => Err(SampleError::Protocol(e.to_string())),
    }
}

/// The instance id of a `READY` line.
pub fn expect_ready(line: ProbeLine) -> Result<u64, SampleError> {
    match line {
        ProbeLine::Ready { instance_id } => Ok(instance_id),
        other => Err(unexpected("READY", &other)),
    }
}

/// The response of the `DONE` line answering `request`.
pub fn expect_done(line: ProbeLine, request: Request) -> Result<Response, SampleError> {
    match line {
        ProbeLine::Done {
            seq,
            instance_id,
            index,
            checksum,
        } if seq == request.seq => Ok(Response {
            instance_id,
            index,
            checksum,
        }),
        other => Err(unexpected(&format!("DONE {}", request.seq), &other)),
    }
}

/// The first response must come from the instance that said READY.
pub fn check_same_instance(ready: u64, response: &Response) -> Result<(), SampleError> {
    if response.instance_id == ready {
        Ok(())
    } else {
        Err(SampleError::Protocol(format!(
            "READY said instance {ready:016x}, DONE said {:016x}",
            response.instance_id
        )))
    }
}

fn unexpected(wanted: &str, got: &ProbeLine) -> SampleError {
    SampleError::Protocol(format!("expected {wanted}, probe said {got:?}"))
}

/// A crash, told with how the instance exited (", exit status: 3") and the tail of
/// its stderr: what every line-speaking runner reports when its instance dies.
pub fn crashed(what: &str, exit: &str, stderr: &[u8]) -> SampleError {
    let stderr = tail(&String::from_utf8_lossy(stderr), 500);
    let stderr = if stderr.is_empty() {
        String::new()
    } else {
        format!("; stderr: {stderr}")
    };
    SampleError::Crashed(format!("{what}{exit}{stderr}"))
}

/// Keeps the last `limit` bytes of a text, for error messages.
pub fn tail(text: &str, limit: usize) -> String {
    let text = text.trim();
    if text.len() <= limit {
        return text.to_string();
    }
    let mut start = text.len() - limit;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("...{}", &text[start..])
}
