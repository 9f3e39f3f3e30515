//! Cleanup of containers: every container a run makes carries the labels
//! `coldstart.run=<run id>`, `coldstart.pid` and `coldstart.host`. After a run (also
//! after Ctrl-C) whatever still carries its label is removed and named as a
//! leftover; at start, containers of earlier runs whose harness is gone are removed
//! and reported. Untimed.

use super::{is_not_found, HOST_LABEL, PID_LABEL, RUN_LABEL};
use anyhow::Context as _;
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};
use bollard::Docker;
use std::collections::HashMap;

/// Removes containers labelled by runs whose harness process is gone; returns notes.
pub async fn remove_stale(docker: &Docker) -> anyhow::Result<Vec<String>> {
    let filters = HashMap::from([("label", vec![RUN_LABEL])]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let containers = docker
        .list_containers(Some(options))
        .await
        .context("listing containers left by earlier runs")?;
    let me = hostname();
    let mut notes = Vec::new();
    for container in containers {
        let labels = container.labels.unwrap_or_default();
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
        let id = container.id.unwrap_or_default();
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
pub async fn sweep_run(docker: &Docker, run_id: &str) -> Vec<String> {
    let mut notes = Vec::new();
    let label = format!("{RUN_LABEL}={run_id}");
    let filters = HashMap::from([("label", vec![label.as_str()])]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    match docker.list_containers(Some(options)).await {
        Ok(left) => {
            for container in left {
                let id = container.id.unwrap_or_default();
                let names: Vec<&str> = container
                    .names
                    .iter()
                    .flatten()
                    .map(|n| n.trim_start_matches('/'))
                    .collect();
                let name = format!("{} ({})", &id[..id.len().min(12)], names.join(", "));
                match remove_container(docker, &id).await {
                    Ok(()) => notes.push(format!(
                        "container {name} was left behind by this run and removed by the final sweep"
                    )),
                    Err(e) => notes.push(format!("could not remove container {name}: {e}")),
                }
            }
        }
        Err(e) => notes.push(format!("could not list this run's containers: {e}")),
    }
    notes
}
