//! The container runner, one for two engines: the static probe as the only file of a
//! FROM-scratch image, started as containers through the Docker Engine API (bollard),
//! as Docker's daemon and Podman's service (`podman system service`, its
//! Docker-compatible API) speak it.
//!
//! * **cold**: from the create request until the first invocation's verified response,
//!   phases `create`, `attach`, `start`, `ready`, `first_response` ([`cold_start`]).
//! * **warm**: one `INVOKE`/`DONE` round trip over the attached stdio of a live
//!   container ([`instance`]).
//! * **teardown** (timed apart, not part of cold): `EXIT`, wait for the container to
//!   stop, remove it.
//! * variant `*-image`: the image is absent before each cold start and is loaded from
//!   a local tar first (phase `image_load`, the nearest thing to a pull without a
//!   registry); its image has a layer of its own (a per-run nonce file), so the load
//!   really extracts it. No warm samples: those are `runc-none`'s.
//!
//! Variants are `<oci runtime>-<network>`: runc, crun or runsc (gVisor, a sandbox that
//! intercepts system calls in user space; Docker only), network `none` or `bridge`.
//! Which engine answers, and which variants it can run, is read from the daemon first
//! ([`daemon`]). Containers run with a read-only root filesystem, all capabilities
//! dropped, no-new-privileges and a memory limit unless `--docker-unhardened`, on both
//! engines. Every container carries the run's label, pid and host; what a run leaves,
//! and what dead runs left, is removed ([`sweep`]).

mod cold_start;
pub mod daemon;
pub mod image;
mod instance;
pub mod sweep;

use super::{
    Availability, Built, ColdStart, RunContext, Runner, RunnerInfo, RunnerKey, RuntimeKind,
    SampleError, StartRequest,
};
use crate::probes::{LanguageProbe, ProbeArtifacts};
use anyhow::Context as _;
use async_trait::async_trait;
use bollard::models::ContainerCreateBody;
use bollard::Docker;
use bytes::Bytes;
use cold_start::container_config;
use daemon::{connect, gvisor_details, inspect_daemon, unavailable_variants, DaemonEndpoint};
use futures_util::TryStreamExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

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

/// A variant's name, parsed: its OCI runtime, its network, and whether it loads the image.
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

/// Whether the engine answers and which variants it can run; starts nothing.
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

/// One runner per variant, each proven by a preflight container. Untimed: connecting,
/// sweeping stale containers, making the image (and the saved tar for `*-image`).
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
    // A static probe is the image's only file, whatever its language.
    let located =
        LanguageProbe::locate(ctx.language, &ctx.probes.dir).map_err(anyhow::Error::msg)?;
    let probe_path = located.artifact.clone();
    let probe = std::fs::read(&probe_path)
        .with_context(|| format!("cannot read the probe {}", probe_path.display()))?;
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
        let mut versions = daemon.versions.clone();
        versions.extend(located.versions.clone());
        let mut info = RunnerInfo {
            versions,
            artifact_bytes: image.bytes,
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
            info.artifact_bytes = image::reported_size(inspect.size);
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
            key: RunnerKey::new(engine.kind().name(), *name).in_language(ctx.language),
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

/// One variant on one engine (Podman's too): what its cold samples need, made once by
/// [`build`]; the timed start is [`cold_start`], the live container [`instance`].
struct DockerRunner {
    key: RunnerKey,
    docker: Docker,
    at: Arc<DaemonEndpoint>,
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

    async fn cold_start(&self, start: StartRequest) -> Result<ColdStart, SampleError> {
        self.launch(&self.config, self.timeout, start).await
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
}
