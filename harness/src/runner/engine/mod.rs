//! The container runner, one for two engines: the static probe as the only file of a
//! FROM-scratch image, started as containers through the Docker Engine API (bollard),
//! spoken by Docker's daemon and by Podman's service (`podman system service`, its
//! Docker-compatible API). The API version is negotiated, so Engine 20.10 (API 1.41),
//! Podman 4 and newer all work. Which engine answers is read from `/version` (Podman
//! names itself `Podman Engine` among the components) and recorded; an endpoint of
//! the other engine is refused with the flag that measures it for what it is.
//!
//! * **cold**: from the create request until the first invocation's verified
//!   response. Phases: `create` (create returned), `attach` (stdin/stdout attached,
//!   before start, as `docker run` does, so no output is missed), `start` (start
//!   returned), `ready` (`READY` read from the attached stdout), `first_response`
//!   (`INVOKE` written to the attached stdin, `DONE` read).
//! * **warm**: one `INVOKE`/`DONE` round trip over the attached stdio of a live container.
//! * **teardown** (timed apart, not part of cold): `EXIT`, wait for the container to
//!   stop, remove it.
//! * variant `*-image`: the image is absent before each cold start and is loaded
//!   from a local tar first (phase `image_load`: the nearest thing to a pull without
//!   a registry). Its image has a layer of its own (a per-run nonce file beside the
//!   probe), so the load really extracts it rather than finding it in place. It
//!   takes no warm samples: those are the same as `runc-none`'s.
//!
//! Variants are `<oci runtime>-<network>`: runc, crun, or runsc (gVisor, a sandbox
//! that intercepts the container's system calls in user space; Docker only, when
//! registered with the daemon), network `none` or `bridge` (real services get a
//! network, and it costs time). Containers run with a read-only root filesystem, all
//! capabilities dropped, no-new-privileges and a memory limit, unless
//! `--docker-unhardened`: the same settings on both engines.
//!
//! Every container is labelled `coldstart.run=<run id>` with the harness's pid and
//! host. It is removed after its sample; `close` removes whatever is left with the
//! run's label; and at start, containers of earlier runs whose harness is gone are
//! removed and reported.

pub mod image;
pub mod sweep;

use super::{
    line, Availability, Built, ColdStart, Instance, Request, Response, RunContext, Runner,
    RunnerInfo, RunnerKey, RuntimeKind, SampleError,
};
use crate::phase::{PhaseTimes, Stopwatch};
use crate::probes::ProbeArtifacts;
use anyhow::Context as _;
use async_trait::async_trait;
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{AttachContainerOptionsBuilder, ImportImageOptionsBuilder};
use bollard::Docker;
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use probe_core::protocol::{HarnessLine, ProbeLine};
use std::collections::{BTreeMap, HashMap};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Docker's variants: `<oci runtime>-<network>`, and the image-load variant.
pub const DOCKER_VARIANTS: &[&str] = &[
    "runc-none",
    "runc-bridge",
    "crun-none",
    "crun-bridge",
    "runsc-none",
    "runsc-bridge",
    "runc-none-image",
];

/// Podman's: as Docker's, without gVisor. Its Docker-compatible API runs every
/// container with its default OCI runtime (containers.conf `[engine] runtime`),
/// whatever the request names, so only the variants of that runtime run.
pub const PODMAN_VARIANTS: &[&str] = &[
    "runc-none",
    "runc-bridge",
    "crun-none",
    "crun-bridge",
    "runc-none-image",
];

/// The label every container of a run carries.
pub const RUN_LABEL: &str = "coldstart.run";
pub(crate) const PID_LABEL: &str = "coldstart.pid";
pub(crate) const HOST_LABEL: &str = "coldstart.host";

/// How long to wait for the daemon to answer the first request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Timeout of the preflight container, whatever the run's `--timeout`.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(60);

/// Podman's rootful service socket, where `--podman-host` and `CONTAINER_HOST` are unset.
pub const PODMAN_DEFAULT_HOST: &str = "unix:///run/podman/podman.sock";

/// The two engines that speak the Engine API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
}

impl Engine {
    pub fn kind(self) -> RuntimeKind {
        match self {
            Engine::Docker => RuntimeKind::Docker,
            Engine::Podman => RuntimeKind::Podman,
        }
    }

    /// As it names itself.
    pub fn title(self) -> &'static str {
        match self {
            Engine::Docker => "Docker",
            Engine::Podman => "Podman",
        }
    }

    pub fn variants(self) -> &'static [&'static str] {
        match self {
            Engine::Docker => DOCKER_VARIANTS,
            Engine::Podman => PODMAN_VARIANTS,
        }
    }

    /// Where the engine is: `DOCKER_HOST` or Docker's socket; `--podman-host`,
    /// `CONTAINER_HOST` or Podman's rootful socket.
    pub fn endpoint(self, settings: &Settings) -> String {
        match self {
            Engine::Docker => std::env::var("DOCKER_HOST")
                .unwrap_or_else(|_| "unix:///var/run/docker.sock".into()),
            Engine::Podman => settings
                .podman_host
                .clone()
                .unwrap_or_else(|| PODMAN_DEFAULT_HOST.into()),
        }
    }

    /// What to do when nothing answers.
    fn start_hint(self) -> &'static str {
        match self {
            Engine::Docker => "start dockerd (or set DOCKER_HOST)",
            Engine::Podman => {
                "start Podman's service, e.g. `podman system service --time=0 \
                 unix:///run/podman/podman.sock &` (or pass --podman-host / set CONTAINER_HOST)"
            }
        }
    }

    /// How to register an OCI runtime with dockerd (Podman's compatible API cannot
    /// choose one per container: see `unavailable_variants`).
    fn register_hint(oci: &str) -> String {
        match oci {
            "runsc" => "register it in /etc/docker/daemon.json \
                 (\"runtimes\": {\"runsc\": {\"path\": \"/usr/bin/runsc\", \"runtimeArgs\": \
                 [\"--network=none\"]}}; Debian's package `runsc`) and reload dockerd (SIGHUP)"
                .into(),
            _ => format!(
                "register it in /etc/docker/daemon.json (\"runtimes\": {{\"{oci}\": {{\"path\": \
                 \"/usr/bin/{oci}\"}}}}) and reload dockerd (SIGHUP)"
            ),
        }
    }
}

/// Container settings from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Memory limit of each container.
    pub memory_bytes: u64,
    /// Read-only root filesystem, all capabilities dropped, no-new-privileges.
    pub hardened: bool,
    /// Podman's service endpoint (`--podman-host`, `CONTAINER_HOST`).
    pub podman_host: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            memory_bytes: 256 << 20,
            hardened: true,
            podman_host: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Variant {
    oci: &'static str,
    network: &'static str,
    image_load: bool,
}

impl Variant {
    fn parse(name: &str) -> Variant {
        let image_load = name.ends_with("-image");
        let base = name.trim_end_matches("-image");
        let (oci, network) = base.split_once('-').expect("variants are <oci>-<network>");
        let pick = |options: &[&'static str], value: &str| {
            *options
                .iter()
                .find(|o| **o == value)
                .unwrap_or_else(|| unreachable!("container variant {name:?} is not known"))
        };
        Variant {
            oci: pick(&["runc", "crun", "runsc"], oci),
            network: pick(&["none", "bridge"], network),
            image_load,
        }
    }
}

/// An engine at an endpoint: what errors name.
#[derive(Debug, Clone)]
pub struct At {
    pub engine: Engine,
    pub endpoint: String,
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {}", self.engine.title(), self.endpoint)
    }
}

impl At {
    fn no_daemon(&self, what: impl std::fmt::Display) -> String {
        let service = match self.engine {
            Engine::Docker => "Docker daemon",
            Engine::Podman => "Podman service",
        };
        format!(
            "no {service} at {}: {what}: {}, or pass --runtime process,wasm",
            self.endpoint,
            self.engine.start_hint()
        )
    }
}

/// Connects to an engine and negotiates the API version.
pub async fn connect(engine: Engine, settings: &Settings) -> Result<(Docker, At), String> {
    let at = At {
        engine,
        endpoint: engine.endpoint(settings),
    };
    let client = match engine {
        Engine::Docker => Docker::connect_with_defaults(),
        Engine::Podman => match at.endpoint.strip_prefix("unix://") {
            Some(path) => Docker::connect_with_unix(path, 120, bollard::API_DEFAULT_VERSION),
            None => Docker::connect_with_http(&at.endpoint, 120, bollard::API_DEFAULT_VERSION),
        },
    };
    let docker = client
        .map_err(|e| at.no_daemon(e))?
        .with_timeout(Duration::from_secs(120));
    match tokio::time::timeout(CONNECT_TIMEOUT, docker.negotiate_version()).await {
        Ok(Ok(docker)) => Ok((docker, at)),
        Ok(Err(e)) => Err(at.no_daemon(e)),
        Err(_) => Err(at.no_daemon(format!(
            "no answer within {}",
            humantime::format_duration(CONNECT_TIMEOUT)
        ))),
    }
}

/// What the engine is and which OCI runtimes it has.
struct Daemon {
    versions: BTreeMap<String, String>,
    /// OCI runtime name -> its path and arguments, as the engine reports them.
    runtimes: BTreeMap<String, (Option<String>, Vec<String>)>,
    /// The runtime a container gets when it names none.
    default_runtime: Option<String>,
    /// Storage driver, cgroup driver and version: noise sources worth recording.
    setup: BTreeMap<String, serde_json::Value>,
}

async fn inspect_daemon(docker: &Docker, at: &At) -> Result<Daemon, String> {
    let version = docker.version().await.map_err(|e| at.no_daemon(e))?;
    let info = docker.info().await.map_err(|e| at.no_daemon(e))?;
    // Podman lists itself among the components; Docker does not.
    let podman = version
        .components
        .iter()
        .flatten()
        .find(|c| c.name.contains("Podman"));
    let actual = if podman.is_some() {
        Engine::Podman
    } else {
        Engine::Docker
    };
    if actual != at.engine {
        let (what, flag) = match actual {
            Engine::Podman => (
                format!(
                    "Podman Engine {}",
                    podman.map(|c| c.version.as_str()).unwrap_or("?")
                ),
                format!("--runtime podman --podman-host {}", at.endpoint),
            ),
            Engine::Docker => (
                format!(
                    "Docker Engine {}",
                    version.version.as_deref().unwrap_or("?")
                ),
                format!("--runtime docker with DOCKER_HOST={}", at.endpoint),
            ),
        };
        return Err(format!(
            "the endpoint {} is {what}, not {}: measure it as what it is ({flag})",
            at.endpoint,
            at.engine.title()
        ));
    }
    let mut versions = BTreeMap::new();
    let prefix = match actual {
        Engine::Docker => "docker",
        Engine::Podman => "podman",
    };
    let engine_version = podman
        .map(|c| c.version.clone())
        .or(version.version)
        .unwrap_or_else(|| "unknown".into());
    versions.insert(format!("{prefix}_engine"), engine_version);
    let api = docker.client_version();
    versions.insert(
        format!("{prefix}_api"),
        format!("{}.{}", api.major_version, api.minor_version),
    );
    if let Some(runc) = info
        .runc_commit
        .and_then(|c| c.id)
        .filter(|c| !c.is_empty())
    {
        versions.insert("runc_commit".to_string(), runc);
    }
    let mut setup = BTreeMap::new();
    setup.insert("engine".to_string(), prefix.into());
    if let Some(driver) = info.driver {
        setup.insert("storage_driver".to_string(), driver.into());
    }
    if let Some(driver) = info.cgroup_driver {
        setup.insert("cgroup_driver".to_string(), driver.to_string().into());
    }
    if let Some(version) = info.cgroup_version {
        setup.insert("cgroup_version".to_string(), version.to_string().into());
    }
    let default_runtime = info.default_runtime.clone();
    let runtimes = info
        .runtimes
        .unwrap_or_default()
        .into_iter()
        .map(|(name, r)| (name, (r.path, r.runtime_args.unwrap_or_default())))
        .collect();
    Ok(Daemon {
        versions,
        runtimes,
        default_runtime,
        setup,
    })
}

fn unavailable_variants(engine: Engine, daemon: &Daemon) -> Vec<(&'static str, String)> {
    engine
        .variants()
        .iter()
        .filter_map(|name| {
            let variant = Variant::parse(name);
            let oci = variant.oci;
            let reason = match engine {
                Engine::Podman => {
                    let default = daemon.default_runtime.as_deref().unwrap_or("unknown");
                    (default != oci).then(|| {
                        format!(
                            "Podman's Docker-compatible API runs every container with its default \
                             OCI runtime ({default} here), whatever the request names: set \
                             `[engine] runtime = \"{oci}\"` in containers.conf and restart the \
                             service to measure podman:{oci}-*"
                        )
                    })
                }
                Engine::Docker => match daemon.runtimes.get(oci) {
                    None => Some(format!(
                        "Docker has no OCI runtime {oci:?}: {}",
                        Engine::register_hint(oci)
                    )),
                    Some((_, args))
                        if oci == "runsc"
                            && variant.network == "bridge"
                            && args.iter().any(|a| a == "--network=none") =>
                    {
                        Some(
                            "runsc is registered with --network=none (gVisor's own network \
                             off), so the sandbox cannot use a bridge network: register runsc \
                             without it to measure runsc-bridge (where gVisor networking works; \
                             on hosts like this one it fails with \"cannot run with network \
                             enabled in root network namespace\")"
                                .to_string(),
                        )
                    }
                    Some(_) => None,
                },
            };
            reason.map(|r| (*name, r))
        })
        .collect()
}

/// gVisor's version and platform (ptrace, systrap, kvm), as the engine runs it.
fn gvisor_details(path: Option<&str>, args: &[String]) -> BTreeMap<String, serde_json::Value> {
    let mut d = BTreeMap::new();
    d.insert("sandbox".into(), "gvisor".into());
    let path = path.unwrap_or("runsc");
    if let Ok(out) = std::process::Command::new(path).arg("--version").output() {
        let text = String::from_utf8_lossy(&out.stdout);
        if let Some(v) = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("runsc version "))
        {
            d.insert("gvisor_version".into(), v.trim().into());
        }
    }
    let platform = args
        .iter()
        .find_map(|a| a.strip_prefix("--platform=").map(str::to_string))
        .unwrap_or_else(|| "ptrace (runsc's default; no --platform in runtimeArgs)".into());
    d.insert("gvisor_platform".into(), platform.into());
    d.insert("runtime_args".into(), args.to_vec().into());
    d
}

pub async fn detect(
    engine: Engine,
    probes: &Result<ProbeArtifacts, String>,
    settings: &Settings,
) -> Availability {
    let mut availability = Availability {
        runtime: engine.kind(),
        variants: engine.variants(),
        versions: BTreeMap::new(),
        unavailable: None,
        unavailable_variants: Vec::new(),
    };
    if let Err(e) = probes {
        availability.unavailable = Some(e.clone());
        return availability;
    }
    let daemon = match connect(engine, settings).await {
        Ok((docker, at)) => inspect_daemon(&docker, &at).await,
        Err(e) => Err(e),
    };
    match daemon {
        Ok(daemon) => {
            availability.unavailable_variants = unavailable_variants(engine, &daemon);
            availability.versions = daemon.versions;
        }
        Err(e) => availability.unavailable = Some(e),
    }
    availability
}

fn api_error(at: &At, what: &str, e: bollard::errors::Error) -> SampleError {
    use bollard::errors::Error;
    match e {
        // The daemon went away (stopped, crashed, socket gone) mid-run.
        Error::HyperLegacyError { .. } | Error::IOError { .. } => {
            SampleError::Runtime(format!("{what}: lost {at}: {e}"))
        }
        e => SampleError::Runtime(format!("{what}: {e}")),
    }
}

pub(crate) fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

pub async fn build(
    engine: Engine,
    variants: &[&'static str],
    ctx: &RunContext,
) -> anyhow::Result<Vec<Built>> {
    let (docker, at) = connect(engine, &ctx.engine)
        .await
        .map_err(anyhow::Error::msg)?;
    let daemon = inspect_daemon(&docker, &at)
        .await
        .map_err(anyhow::Error::msg)?;
    let stale = sweep::remove_stale(&docker, &at).await?;
    for note in &stale {
        eprintln!("{}: {note}", engine.kind());
    }
    let probe_path = ctx.probes.native();
    let probe = std::fs::read(&probe_path)
        .with_context(|| format!("cannot read the native probe {}", probe_path.display()))?;
    let image = image::ensure_probe_image(&docker, &probe).await?;
    let missing = unavailable_variants(engine, &daemon);
    let host = sweep::hostname();
    let at = Arc::new(at);

    let mut built = Vec::new();
    for name in variants {
        if let Some((_, reason)) = missing.iter().find(|(v, _)| v == name) {
            built.push(Built::Skipped {
                variant: name,
                reason: reason.clone(),
            });
            continue;
        }
        let variant = Variant::parse(name);
        let mut info = RunnerInfo {
            versions: daemon.versions.clone(),
            artifact_bytes: Some(image.bytes),
            ..Default::default()
        };
        let mut tag = image.tag.clone();
        let mut load = None;
        if variant.image_load {
            // An image with a layer of its own, saved to a tar and then removed.
            tag = format!("coldstart-probe-load:{}", ctx.run_id);
            let nonce = format!("{}\n", ctx.run_id);
            let context = image::build_context(&probe, &[("coldstart-nonce", nonce.as_bytes())])?;
            image::build_image(&docker, &tag, context).await?;
            let tar: Vec<Bytes> = docker
                .export_image(&tag)
                .try_collect()
                .await
                .with_context(|| format!("saving image {tag}"))?;
            let tar = Bytes::from(tar.concat());
            let inspect = docker
                .inspect_image(&tag)
                .await
                .context("inspecting the load image")?;
            info.artifact_bytes = Some(inspect.size.unwrap_or(0).max(0) as u64);
            info.details
                .insert("image_tar_bytes".into(), tar.len().into());
            image::remove_image(&docker, &tag).await?;
            load = Some(tar);
        }
        let d = &mut info.details;
        d.extend(daemon.setup.clone());
        d.insert("image".into(), tag.clone().into());
        d.insert("image_id".into(), image.id.clone().into());
        d.insert("image_built_this_run".into(), image.built_now.into());
        d.insert("oci_runtime".into(), variant.oci.into());
        d.insert("network".into(), variant.network.into());
        d.insert("memory_limit_bytes".into(), ctx.engine.memory_bytes.into());
        d.insert("hardened".into(), ctx.engine.hardened.into());
        d.insert("endpoint".into(), at.endpoint.clone().into());
        if variant.oci == "runsc" {
            let (path, args) = daemon.runtimes.get("runsc").cloned().unwrap_or_default();
            d.extend(gvisor_details(path.as_deref(), &args));
        }
        if !stale.is_empty() {
            d.insert("stale_containers_removed".into(), stale.clone().into());
        }
        let mut env = vec![
            format!("COLDSTART_INIT_KIB={}", ctx.params.init_kib),
            format!("COLDSTART_INIT_ITERS={}", ctx.params.init_iters),
        ];
        env.extend(ctx.passed_env().iter().map(|(k, v)| format!("{k}={v}")));
        let runner = DockerRunner {
            key: RunnerKey::new(engine.kind().name(), *name),
            docker: docker.clone(),
            at: at.clone(),
            config: container_config(variant, &tag, env, &ctx.engine, &ctx.run_id, &host),
            variant,
            tag,
            load,
            run_id: ctx.run_id.clone(),
            timeout: ctx.timeout,
            info,
        };
        built.push(match runner.preflight().await {
            Ok(()) => Built::Ready(Box::new(runner)),
            Err(reason) => {
                let mut runner = runner;
                runner.close().await;
                Built::Skipped {
                    variant: name,
                    reason,
                }
            }
        });
    }
    Ok(built)
}

struct DockerRunner {
    key: RunnerKey,
    docker: Docker,
    at: Arc<At>,
    variant: Variant,
    tag: String,
    /// The saved image, for the image-load variant.
    load: Option<Bytes>,
    run_id: String,
    /// Built once: nothing is assembled (or read from /proc) inside a timed phase.
    config: ContainerCreateBody,
    timeout: Duration,
    info: RunnerInfo,
}

impl DockerRunner {
    /// Starts one container without init work and tears it down, untimed: proves
    /// this OCI runtime and network can start containers here at all (crun, for one,
    /// refuses hosts whose cgroups are in hybrid mode).
    async fn preflight(&self) -> Result<(), String> {
        let mut quiet = self.config.clone();
        quiet.env = Some(vec![
            "COLDSTART_INIT_KIB=0".into(),
            "COLDSTART_INIT_ITERS=0".into(),
        ]);
        let started = self
            .launch(
                &quiet,
                PREFLIGHT_TIMEOUT,
                Request {
                    seq: 0,
                    nonce: 0,
                    iters: 1,
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
    async fn launch(
        &self,
        config: &ContainerCreateBody,
        timeout: Duration,
        request: Request,
    ) -> Result<ColdStart, SampleError> {
        let mut id = None;
        match self.start(config, timeout, request, &mut id).await {
            Ok((instance, response, times)) => Ok(ColdStart {
                instance,
                response,
                times,
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
        request: Request,
        id: &mut Option<String>,
    ) -> Result<(Box<dyn Instance>, Response, PhaseTimes), SampleError> {
        if self.load.is_some() {
            // Untimed: the image must be absent before the timed load.
            image::remove_image(&self.docker, &self.tag)
                .await
                .map_err(|e| SampleError::Runtime(format!("{e:#}")))?;
        }
        // Untimed: the request body and options are ready before the clock starts.
        let body = config.clone();
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
        let response =
            line::ready_and_first_response(&mut instance, &mut sw, "ready", request, deadline)
                .await?;
        Ok((Box::new(instance), response, sw.finish()))
    }
}

/// The container every sample of a variant creates: the probe image, its init
/// parameters, the run's labels, the variant's OCI runtime and network, hardening.
fn container_config(
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

#[async_trait(?Send)]
impl Runner for DockerRunner {
    fn key(&self) -> &RunnerKey {
        &self.key
    }

    fn cold_phases(&self) -> &'static [&'static str] {
        if self.variant.image_load {
            &[
                "image_load",
                "create",
                "attach",
                "start",
                "ready",
                "first_response",
            ]
        } else {
            &["create", "attach", "start", "ready", "first_response"]
        }
    }

    fn info(&self) -> RunnerInfo {
        self.info.clone()
    }

    fn supports_warm(&self) -> bool {
        !self.variant.image_load
    }

    async fn cold_start(&self, request: Request) -> Result<ColdStart, SampleError> {
        self.launch(&self.config, self.timeout, request).await
    }

    async fn close(&mut self) -> Vec<String> {
        let mut notes = sweep::sweep_run(&self.docker, &self.at, &self.run_id).await;
        if self.load.is_some() {
            if let Err(e) = image::remove_image(&self.docker, &self.tag).await {
                notes.push(format!("{e:#}"));
            }
        }
        notes
    }
}

type Output = Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;

/// A live container, spoken to over its attached stdin/stdout.
struct Container {
    docker: Docker,
    at: Arc<At>,
    id: String,
    input: Pin<Box<dyn AsyncWrite + Send>>,
    output: Output,
    /// Stdout bytes not yet consumed as lines.
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    timeout: Duration,
}

#[async_trait(?Send)]
impl line::LineStream for Container {
    async fn read(&mut self, deadline: Instant) -> Result<ProbeLine, SampleError> {
        loop {
            if let Some(end) = self.stdout.iter().position(|b| *b == b'\n') {
                let text: Vec<u8> = self.stdout.drain(..=end).collect();
                return line::parse(&String::from_utf8_lossy(&text));
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
                line::crashed(&what, &exit, &self.stderr)
            }
            other => other,
        }
    }
}

#[async_trait(?Send)]
impl Instance for Container {
    async fn invoke(&mut self, request: Request) -> Result<(Response, PhaseTimes), SampleError> {
        line::warm_round_trip(self, request, self.timeout).await
    }

    /// The container's processes (its memory cgroup's, else its init) and the
    /// process that holds it: containerd's shim under Docker, conmon under Podman
    /// (the init's parent); the cgroup's charge where readable.
    async fn footprint(&self) -> super::Footprint {
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
            return super::Footprint::default();
        };
        let cgroup = super::footprint::memory_cgroup(pid);
        let mut pids = cgroup
            .as_ref()
            .map(|dir| super::footprint::cgroup_pids(dir))
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| vec![pid]);
        if let Some(holder) = super::footprint::parent(pid) {
            pids.push(holder);
        }
        super::Footprint {
            pids,
            cgroup_bytes: cgroup
                .as_ref()
                .and_then(|d| super::footprint::cgroup_bytes(d)),
            in_harness_bytes: None,
        }
    }

    async fn teardown(mut self: Box<Self>) -> Result<Option<Duration>, SampleError> {
        let start = Instant::now();
        let _ = line::LineStream::send(&mut *self, &line::encode(HarnessLine::Exit)).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_parse() {
        for name in DOCKER_VARIANTS.iter().chain(PODMAN_VARIANTS) {
            let v = Variant::parse(name);
            assert_eq!(v.image_load, name.ends_with("-image"));
        }
        assert_eq!(
            Variant::parse("crun-bridge"),
            Variant {
                oci: "crun",
                network: "bridge",
                image_load: false
            }
        );
    }

    #[test]
    fn variants_need_their_oci_runtime() {
        let daemon = |runtimes: &[(&str, &[&str])], default: &str| Daemon {
            versions: BTreeMap::new(),
            runtimes: runtimes
                .iter()
                .map(|(n, args)| {
                    (
                        n.to_string(),
                        (None, args.iter().map(|a| a.to_string()).collect()),
                    )
                })
                .collect(),
            default_runtime: Some(default.into()),
            setup: BTreeMap::new(),
        };
        let names = |missing: &[(&str, String)]| -> Vec<String> {
            missing.iter().map(|(v, _)| v.to_string()).collect()
        };
        let plain = daemon(&[("runc", &[]), ("io.containerd.runc.v2", &[])], "runc");
        let missing = unavailable_variants(Engine::Docker, &plain);
        assert_eq!(
            names(&missing),
            ["crun-none", "crun-bridge", "runsc-none", "runsc-bridge"]
        );
        assert!(missing[0].1.contains("/etc/docker/daemon.json"));
        assert!(missing[2].1.contains("runtimeArgs"), "{}", missing[2].1);
        // gVisor without its own network cannot use a bridge.
        let gvisor = daemon(
            &[("runc", &[]), ("crun", &[]), ("runsc", &["--network=none"])],
            "runc",
        );
        let missing = unavailable_variants(Engine::Docker, &gvisor);
        assert_eq!(names(&missing), ["runsc-bridge"]);
        let networked = daemon(&[("runc", &[]), ("crun", &[]), ("runsc", &[])], "runc");
        assert!(unavailable_variants(Engine::Docker, &networked).is_empty());
        // Podman runs its default runtime whatever is asked: only that one's variants.
        let podman = daemon(&[("runc", &[]), ("crun", &[]), ("runsc", &[])], "runc");
        let missing = unavailable_variants(Engine::Podman, &podman);
        assert_eq!(names(&missing), ["crun-none", "crun-bridge"]);
        assert!(
            missing[0].1.contains("[engine] runtime"),
            "{}",
            missing[0].1
        );
        let podman = daemon(&[("runc", &[]), ("crun", &[])], "crun");
        assert_eq!(
            names(&unavailable_variants(Engine::Podman, &podman)),
            ["runc-none", "runc-bridge", "runc-none-image"]
        );
    }
}
