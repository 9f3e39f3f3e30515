//! The timed cold start of one container: what lies between the clock's start and its
//! stop, and nothing else.
//!
//! Before the clock (untimed): for `*-image` the image is removed, so the load below
//! really loads it; the create body (built once per variant by [`container_config`]) is
//! cloned and given the start's instance nonce (`COLDSTART_INSTANCE_NONCE`), the
//! attach options are built and the sample's deadline is set. The clock
//! (`Stopwatch::start` in [`DockerRunner::start`]) then starts and laps, in order:
//!
//! * `image_load` (`*-image` only): the saved tar imported (`POST /images/load`);
//! * `create`: the create request returned the container's id;
//! * `attach`: stdin/stdout/stderr attached, before start, as `docker run` does, so no
//!   output is missed;
//! * `start`: the start request returned;
//! * `ready`: `READY` read from the attached stdout;
//! * `first_response`: `INVOKE` written to the attached stdin and `DONE` read back.
//!
//! The clock stops at that last lap, on the first response; checking that `READY` and
//! `DONE` came from the same instance, verifying the answer ([`crate::measure::verify`]) and
//! tearing the container down ([`super::instance`]) all happen after it. A sample that
//! fails has its container removed, untimed. Every step shares the sample's deadline
//! (`--timeout`). The preflight, one untimed start per variant when it is built, proves
//! the variant can start containers here at all.

use super::daemon::api_error;
use super::instance::Container;
use super::{image, sweep, DockerRunner, Settings, Variant, HOST_LABEL, PID_LABEL, RUN_LABEL};
use crate::phase::{PhaseTimes, Stopwatch};
use crate::runner::{
    line_protocol, ColdStart, Instance, Request, Response, SampleError, StartRequest,
};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{AttachContainerOptionsBuilder, ImportImageOptionsBuilder};
use bytes::Bytes;
use futures_util::StreamExt;
use probe_core::protocol::INSTANCE_NONCE_VAR;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Timeout of the preflight container, whatever the run's `--timeout`.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(60);

impl DockerRunner {
    /// Starts one container without init work and tears it down, untimed: proves
    /// this OCI runtime and network can start containers here at all (crun, for one,
    /// refuses hosts whose cgroups are in hybrid mode).
    pub(super) async fn preflight(&self) -> Result<(), String> {
        let mut quiet = self.config.clone();
        quiet.env = Some(vec![
            "COLDSTART_INIT_KIB=0".into(),
            "COLDSTART_INIT_ITERS=0".into(),
        ]);
        let started = self
            .launch(
                &quiet,
                PREFLIGHT_TIMEOUT,
                StartRequest {
                    instance_nonce: 0,
                    request: Request {
                        seq: 0,
                        nonce: 0,
                        iters: 1,
                    },
                },
            )
            .await;
        let start = started.map_err(|e| {
            let mut reason = format!(
                "a first container with {} did not start: {e}",
                self.variant.oci
            );
            if reason.contains("cgroups in hybrid mode") {
                reason.push_str(
                    " (crun needs the cgroup v2 hierarchy without controllers; binding the \
                     controller left there to cgroup v1, e.g. `mount -t cgroup -o hugetlb cgroup \
                     /sys/fs/cgroup/hugetlb`, lets it run)",
                );
            }
            reason
        })?;
        start
            .instance
            .teardown()
            .await
            .map(drop)
            .map_err(|e| format!("a first container did not stop cleanly: {e}"))
    }

    /// Loads the saved image (the timed `image_load` phase).
    async fn load_image(&self, tar: Bytes) -> Result<(), SampleError> {
        let options = ImportImageOptionsBuilder::new().quiet(true).build();
        let mut stream = self
            .docker
            .import_image(options, bollard::body_full(tar), None);
        while let Some(step) = stream.next().await {
            let step = step.map_err(|e| api_error(&self.at, "loading the image", e))?;
            if let Some(error) = step.error_detail.and_then(|d| d.message) {
                return Err(SampleError::Runtime(format!("loading the image: {error}")));
            }
        }
        Ok(())
    }

    /// A new container from `config` and its first response, removed again if any
    /// step fails: what a cold sample (and the preflight) is.
    pub(super) async fn launch(
        &self,
        config: &ContainerCreateBody,
        timeout: Duration,
        start: StartRequest,
    ) -> Result<ColdStart, SampleError> {
        let mut id = None;
        match self.start(config, timeout, start, &mut id).await {
            Ok((instance, response, times)) => Ok(ColdStart {
                instance,
                response,
                times,
                shared_instance_nonce: None,
                not_cold: None,
            }),
            Err(e) => {
                // Nothing a failed sample created is left behind.
                if let Some(id) = id {
                    let _ = sweep::remove_container(&self.docker, &id).await;
                }
                Err(e)
            }
        }
    }

    /// From create to the first response; the container id is known once created.
    async fn start(
        &self,
        config: &ContainerCreateBody,
        timeout: Duration,
        start: StartRequest,
        id: &mut Option<String>,
    ) -> Result<(Box<dyn Instance>, Response, PhaseTimes), SampleError> {
        if self.load.is_some() {
            // Untimed: the image must be absent before the timed load.
            image::remove_image(&self.docker, &self.tag)
                .await
                .map_err(|e| SampleError::Runtime(format!("{e:#}")))?;
        }
        // Untimed: the request body (with the start's instance nonce) and options are
        // ready before the clock starts.
        let mut body = config.clone();
        body.env.get_or_insert_with(Vec::new).push(format!(
            "{INSTANCE_NONCE_VAR}={:016x}",
            start.instance_nonce
        ));
        let attach = AttachContainerOptionsBuilder::new()
            .stdin(true)
            .stdout(true)
            .stderr(true)
            .stream(true)
            .build();
        let deadline = Instant::now() + timeout;
        let mut sw = Stopwatch::start();
        if let Some(tar) = &self.load {
            within(deadline, timeout, self.load_image(tar.clone())).await?;
            sw.lap("image_load");
        }
        let created = within(deadline, timeout, async {
            self.docker
                .create_container(None, body)
                .await
                .map_err(|e| api_error(&self.at, "creating the container", e))
        })
        .await?;
        *id = Some(created.id.clone());
        sw.lap("create");
        let attached = within(deadline, timeout, async {
            self.docker
                .attach_container(&created.id, Some(attach))
                .await
                .map_err(|e| api_error(&self.at, "attaching to the container", e))
        })
        .await?;
        sw.lap("attach");
        within(deadline, timeout, async {
            self.docker
                .start_container(&created.id, None)
                .await
                .map_err(|e| api_error(&self.at, "starting the container", e))
        })
        .await?;
        sw.lap("start");
        let mut instance = Container {
            docker: self.docker.clone(),
            at: self.at.clone(),
            id: created.id.clone(),
            input: attached.input,
            output: attached.output,
            stdout: Vec::new(),
            stderr: Vec::new(),
            timeout,
        };
        let response = line_protocol::ready_and_first_response(
            &mut instance,
            &mut sw,
            "ready",
            start.request,
            deadline,
        )
        .await?;
        Ok((Box::new(instance), response, sw.finish()))
    }
}

/// The container every sample of a variant creates: the probe image, its init
/// parameters, the run's labels, the variant's OCI runtime and network, hardening.
pub(super) fn container_config(
    variant: Variant,
    tag: &str,
    env: Vec<String>,
    settings: &Settings,
    run_id: &str,
    host: &str,
) -> ContainerCreateBody {
    let labels = HashMap::from([
        (RUN_LABEL.to_string(), run_id.to_string()),
        (PID_LABEL.to_string(), std::process::id().to_string()),
        (HOST_LABEL.to_string(), host.to_string()),
    ]);
    let mut host_config = HostConfig {
        network_mode: Some(variant.network.into()),
        runtime: Some(variant.oci.into()),
        memory: Some(settings.memory_bytes as i64),
        auto_remove: Some(false),
        ..Default::default()
    };
    if settings.hardened {
        host_config.readonly_rootfs = Some(true);
        host_config.cap_drop = Some(vec!["ALL".into()]);
        host_config.security_opt = Some(vec!["no-new-privileges".into()]);
    }
    ContainerCreateBody {
        image: Some(tag.to_string()),
        env: Some(env),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        open_stdin: Some(true),
        stdin_once: Some(false),
        tty: Some(false),
        labels: Some(labels),
        host_config: Some(host_config),
        ..Default::default()
    }
}

/// Runs `work` until the sample's deadline.
async fn within<T>(
    deadline: Instant,
    timeout: Duration,
    work: impl std::future::Future<Output = Result<T, SampleError>>,
) -> Result<T, SampleError> {
    tokio::time::timeout_at(deadline.into(), work)
        .await
        .unwrap_or(Err(SampleError::Timeout(timeout)))
}
