//! Cleanup of containers: every container a run makes carries the labels
//! `coldstart.run=<run id>`, `coldstart.pid` and `coldstart.host`. After a run (also
//! after Ctrl-C) whatever still carries its label is removed and named as a
//! leftover; at start, containers of earlier runs whose harness is gone are removed
//! and reported. Untimed.

use super::daemon::{is_not_found, DaemonEndpoint};
use super::{HOST_LABEL, PID_LABEL, RUN_LABEL};
use anyhow::Context as _;
use bollard::query_parameters::RemoveContainerOptionsBuilder;
use bollard::Docker;
use std::collections::HashMap;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A container as the list endpoint shows it: only what the sweep needs.
#[derive(Debug, serde::Deserialize)]
struct Listed {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Names", default)]
    names: Vec<String>,
    #[serde(rename = "Labels", default)]
    labels: Option<HashMap<String, String>>,
}

/// Containers (running or not) with `label`, read with a plain HTTP request rather
/// than bollard's typed list: Podman reports states Docker's API does not know
/// (`stopped`), and one such container would make the whole typed list fail.
async fn list_labelled(at: &DaemonEndpoint, label: &str) -> anyhow::Result<Vec<Listed>> {
    let filters = serde_json::json!({ "label": [label] }).to_string();
    let encoded: String = filters
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    let request =
        format!("GET /containers/json?all=1&filters={encoded} HTTP/1.0\r\nHost: engine\r\n\r\n");
    let response = match at.endpoint.strip_prefix("unix://") {
        Some(path) => exchange(tokio::net::UnixStream::connect(path).await?, &request).await?,
        None => {
            let host = at
                .endpoint
                .trim_start_matches("tcp://")
                .trim_start_matches("http://")
                .trim_end_matches('/');
            exchange(tokio::net::TcpStream::connect(host).await?, &request).await?
        }
    };
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("{at} sent no HTTP response"))?;
    let status = head.split_whitespace().nth(1).unwrap_or("?");
    if status != "200" {
        anyhow::bail!(
            "{at} answered the container list with HTTP {status}: {}",
            body.trim()
        );
    }
    serde_json::from_str(body)
        .with_context(|| format!("{at} sent a container list that is not JSON"))
}

async fn exchange(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    request: &str,
) -> std::io::Result<Vec<u8>> {
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    Ok(response)
}

/// Removes containers labelled by runs whose harness process is gone; returns notes.
pub async fn remove_stale(docker: &Docker, at: &DaemonEndpoint) -> anyhow::Result<Vec<String>> {
    let containers = list_labelled(at, RUN_LABEL)
        .await
        .context("listing containers left by earlier runs")?;
    let me = hostname();
    let mut notes = Vec::new();
    for container in containers {
        let labels = container.labels.unwrap_or_default();
        let id = container.id;
        if labels.get(HOST_LABEL) != Some(&me) {
            continue; // another machine's run on a shared daemon
        }
        let owner_alive = labels
            .get(PID_LABEL)
            .and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).ok())
            .is_some_and(|comm| comm.trim() == "coldstart");
        if owner_alive {
            continue;
        }
        remove_container(docker, &id).await.ok();
        notes.push(format!(
            "removed container {} left by run {}",
            &id[..id.len().min(12)],
            labels.get(RUN_LABEL).map(String::as_str).unwrap_or("?")
        ));
    }
    Ok(notes)
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

pub async fn remove_container(docker: &Docker, id: &str) -> Result<(), bollard::errors::Error> {
    let options = RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    match docker.remove_container(id, Some(options)).await {
        Err(e) if !is_not_found(&e) => Err(e),
        _ => Ok(()),
    }
}

/// Removes every container that still carries the run's label; returns one note per
/// container, naming it (each one is a teardown that did not happen).
pub async fn sweep_run(docker: &Docker, at: &DaemonEndpoint, run_id: &str) -> Vec<String> {
    let mut notes = Vec::new();
    let label = format!("{RUN_LABEL}={run_id}");
    match list_labelled(at, &label).await {
        Ok(left) => {
            let mut answering = true;
            for container in left {
                let id = container.id;
                let names: Vec<&str> = container
                    .names
                    .iter()
                    .map(|n| n.trim_start_matches('/'))
                    .collect();
                let name = format!("{} ({})", &id[..id.len().min(12)], names.join(", "));
                if !answering {
                    // A removal the daemon never answered: the rest would wait as long
                    // each. Named, not waited for.
                    notes.push(format!(
                        "could not remove container {name}: the daemon stopped answering; restart it and remove the run's containers (label {label})"
                    ));
                    continue;
                }
                match remove_container(docker, &id).await {
                    Ok(()) => notes.push(format!(
                        "container {name} was left behind by this run and removed by the final sweep"
                    )),
                    Err(e) => {
                        answering = !matches!(e, bollard::errors::Error::RequestTimeoutError);
                        notes.push(format!("could not remove container {name}: {e}"))
                    }
                }
            }
        }
        Err(e) => notes.push(format!("could not list this run's containers: {e}")),
    }
    notes
}
