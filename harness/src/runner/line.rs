//! The probe's line protocol as the runners whose instance is reached through a
//! byte stream (a process's pipes, a container's attached stdio) speak it: what to
//! write and how to judge each line read back. Transport stays with each runner.

use super::{Request, Response, SampleError};
use probe_core::protocol::{HarnessLine, ProbeLine};

/// The bytes of one harness line, newline included.
pub fn encode(line: HarnessLine) -> Vec<u8> {
    format!("{line}\n").into_bytes()
}

/// The `INVOKE` line for a request.
pub fn invoke(request: Request) -> Vec<u8> {
    encode(HarnessLine::Invoke {
        seq: request.seq,
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
