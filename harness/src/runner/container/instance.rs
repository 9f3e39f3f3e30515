//! A live container, after its cold start: spoken to over its attached stdin/stdout.
//! A warm sample is one `INVOKE`/`DONE` round trip on it, timed whole; its footprint is
//! what its memory cgroup and the process holding it use; its teardown (`EXIT`, wait
//! for it to stop, remove it) is timed apart and is not part of the cold start.

use super::daemon::{api_error, DaemonEndpoint};
use super::sweep;
use crate::phase::PhaseTimes;
use crate::runner::{
    footprint, line_protocol, Footprint, Instance, Request, Response, SampleError,
};
use async_trait::async_trait;
use bollard::container::LogOutput;
use bollard::Docker;
use futures_util::{Stream, StreamExt};
use probe_core::protocol::{HarnessLine, ProbeLine};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncWrite, AsyncWriteExt};

pub(super) type Output =
    Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;

/// A live container, spoken to over its attached stdin/stdout.
pub(super) struct Container {
    pub(super) docker: Docker,
    pub(super) at: Arc<DaemonEndpoint>,
    pub(super) id: String,
    pub(super) input: Pin<Box<dyn AsyncWrite + Send>>,
    pub(super) output: Output,
    /// Stdout bytes not yet consumed as lines.
    pub(super) stdout: Vec<u8>,
    pub(super) stderr: Vec<u8>,
    pub(super) timeout: Duration,
}

#[async_trait(?Send)]
impl line_protocol::LineStream for Container {
    async fn read(&mut self, deadline: Instant) -> Result<ProbeLine, SampleError> {
        loop {
            if let Some(end) = self.stdout.iter().position(|b| *b == b'\n') {
                let text: Vec<u8> = self.stdout.drain(..=end).collect();
                return line_protocol::parse(&String::from_utf8_lossy(&text));
            }
            let next = tokio::time::timeout_at(deadline.into(), self.output.next()).await;
            match next {
                Err(_) => return Err(SampleError::Timeout(self.timeout)),
                Ok(None) => {
                    return Err(SampleError::Crashed(
                        "the container closed its output".into(),
                    ))
                }
                Ok(Some(Err(e))) => {
                    return Err(api_error(&self.at, "reading the container's output", e))
                }
                Ok(Some(Ok(LogOutput::StdOut { message } | LogOutput::Console { message }))) => {
                    self.stdout.extend_from_slice(&message)
                }
                Ok(Some(Ok(LogOutput::StdErr { message }))) => {
                    self.stderr.extend_from_slice(&message)
                }
                Ok(Some(Ok(LogOutput::StdIn { .. }))) => {}
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), SampleError> {
        self.input
            .write_all(bytes)
            .await
            .map_err(|e| SampleError::Crashed(format!("writing the container's stdin: {e}")))?;
        self.input
            .flush()
            .await
            .map_err(|e| SampleError::Crashed(format!("writing the container's stdin: {e}")))
    }

    /// Adds the container's exit code and stderr to a crash.
    async fn explain(&mut self, error: SampleError) -> SampleError {
        match error {
            SampleError::Crashed(what) => {
                let state = self
                    .docker
                    .inspect_container(&self.id, None)
                    .await
                    .ok()
                    .and_then(|c| c.state);
                let exit = state
                    .and_then(|s| s.exit_code)
                    .map(|c| format!(", exit code {c}"))
                    .unwrap_or_default();
                line_protocol::crashed(&what, &exit, &self.stderr)
            }
            other => other,
        }
    }
}

#[async_trait(?Send)]
impl Instance for Container {
    async fn invoke(&mut self, request: Request) -> Result<(Response, PhaseTimes), SampleError> {
        line_protocol::warm_round_trip(self, request, self.timeout).await
    }

    /// The container's processes (its memory cgroup's, else its init) and the
    /// process that holds it: containerd's shim under Docker, conmon under Podman
    /// (the init's parent); the cgroup's charge where readable.
    async fn footprint(&self) -> Footprint {
        let pid = self
            .docker
            .inspect_container(&self.id, None)
            .await
            .ok()
            .and_then(|c| c.state)
            .and_then(|s| s.pid)
            .and_then(|p| u32::try_from(p).ok())
            .filter(|p| *p > 0);
        let Some(pid) = pid else {
            return Footprint::default();
        };
        let cgroup = footprint::memory_cgroup(pid);
        let mut pids = cgroup
            .as_ref()
            .map(|dir| footprint::cgroup_pids(dir))
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| vec![pid]);
        if let Some(holder) = footprint::parent(pid) {
            pids.push(holder);
        }
        Footprint {
            pids,
            cgroup_bytes: cgroup.as_ref().and_then(|d| footprint::cgroup_bytes(d)),
            in_harness_bytes: None,
        }
    }

    async fn teardown(mut self: Box<Self>) -> Result<Option<Duration>, SampleError> {
        let start = Instant::now();
        let _ =
            line_protocol::LineStream::send(&mut *self, &line_protocol::encode(HarnessLine::Exit))
                .await;
        let _ = self.input.shutdown().await;
        // The probe exits on EXIT; wait for that, then remove the container.
        let mut wait = self.docker.wait_container(&self.id, None);
        let waited = tokio::time::timeout(self.timeout, wait.next()).await;
        let removed = sweep::remove_container(&self.docker, &self.id).await;
        let took = start.elapsed();
        removed.map_err(|e| api_error(&self.at, "removing the container", e))?;
        match waited {
            Err(_) => Err(SampleError::Timeout(self.timeout)),
            _ => Ok(Some(took)),
        }
    }
}
