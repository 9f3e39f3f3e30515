//! The daemon, before anything is timed: connecting to it, reading which engine it is
//! and which OCI runtimes it has, and the errors that name it. The API version is
//! negotiated, so Engine 20.10 (API 1.41), Podman 4 and newer all work. Which engine
//! answers is read from `/version` (Podman names itself `Podman Engine` among the
//! components) and recorded; an endpoint of the other engine is refused with the flag
//! that measures it for what it is. A variant whose OCI runtime the engine cannot run
//! is skipped, saying how to make it available.

use super::{Engine, Settings, Variant};
use crate::runner::SampleError;
use bollard::Docker;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long to wait for the daemon to answer the first request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Engine {
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

/// An engine at an endpoint: what errors name.
#[derive(Debug, Clone)]
pub struct DaemonEndpoint {
    pub engine: Engine,
    pub endpoint: String,
}

impl std::fmt::Display for DaemonEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {}", self.engine.title(), self.endpoint)
    }
}

impl DaemonEndpoint {
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
pub async fn connect(
    engine: Engine,
    settings: &Settings,
) -> Result<(Docker, DaemonEndpoint), String> {
    let at = DaemonEndpoint {
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
pub(super) struct Daemon {
    pub(super) versions: BTreeMap<String, String>,
    /// OCI runtime name -> its path and arguments, as the engine reports them.
    pub(super) runtimes: BTreeMap<String, (Option<String>, Vec<String>)>,
    /// The runtime a container gets when it names none.
    default_runtime: Option<String>,
    /// Storage driver, cgroup driver and version: noise sources worth recording.
    pub(super) setup: BTreeMap<String, serde_json::Value>,
}

pub(super) async fn inspect_daemon(docker: &Docker, at: &DaemonEndpoint) -> Result<Daemon, String> {
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

pub(super) fn unavailable_variants(engine: Engine, daemon: &Daemon) -> Vec<(&'static str, String)> {
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
pub(super) fn gvisor_details(
    path: Option<&str>,
    args: &[String],
) -> BTreeMap<String, serde_json::Value> {
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

pub(super) fn api_error(at: &DaemonEndpoint, what: &str, e: bollard::errors::Error) -> SampleError {
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

#[cfg(test)]
mod tests {
    use super::*;

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
