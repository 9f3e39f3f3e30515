//! The probe's container image: FROM scratch, the static probe as its only file,
//! built through the Engine API from an in-memory context (no registry, no
//! Dockerfile on disk), tagged by the hash of its content and built only when no
//! image of that content exists. Nothing here is timed: images are made before
//! measuring (the `*-image` variant times only loading a saved one, in the runner).

use super::daemon::is_not_found;
use anyhow::Context as _;
use bollard::query_parameters::{BuildImageOptionsBuilder, RemoveImageOptionsBuilder};
use bollard::Docker;
use bytes::Bytes;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

pub const DOCKERFILE: &str =
    "FROM scratch\nCOPY rootfs/ /\nENTRYPOINT [\"/coldstart-probe\", \"serve\"]\n";

/// A build context (tar) of the Dockerfile and a rootfs holding the probe and any
/// extra files.
pub fn build_context(probe: &[u8], extra: &[(&str, &[u8])]) -> anyhow::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |path: &str, mode: u32, data: &[u8]| -> std::io::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, path, data)
    };
    add("Dockerfile", 0o644, DOCKERFILE.as_bytes())?;
    add("rootfs/coldstart-probe", 0o755, probe)?;
    for (name, data) in extra {
        add(&format!("rootfs/{name}"), 0o644, data)?;
    }
    Ok(tar.into_inner()?)
}

/// Builds an image from a context through the Engine API (no registry involved).
pub async fn build_image(docker: &Docker, tag: &str, context: Vec<u8>) -> anyhow::Result<()> {
    let options = BuildImageOptionsBuilder::new()
        .t(tag)
        .rm(true)
        .forcerm(true)
        .build();
    let mut stream = docker.build_image(
        options,
        None,
        Some(bollard::body_full(Bytes::from(context))),
    );
    while let Some(step) = stream.next().await {
        let step = step.with_context(|| format!("building image {tag}"))?;
        if let Some(error) = step.error_detail.and_then(|d| d.message) {
            anyhow::bail!("building image {tag}: {error}");
        }
    }
    Ok(())
}

/// The probe image, built only when no image of this exact content exists.
pub struct Image {
    pub tag: String,
    pub id: String,
    /// `None`: the daemon did not say.
    pub bytes: Option<u64>,
    pub built_now: bool,
}

pub async fn ensure_probe_image(docker: &Docker, probe: &[u8]) -> anyhow::Result<Image> {
    let digest: String = Sha256::new()
        .chain_update(probe)
        .chain_update(DOCKERFILE)
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let tag = format!("coldstart-probe:{}", &digest[..16]);
    let mut built_now = false;
    let inspect = match docker.inspect_image(&tag).await {
        Ok(image) => image,
        Err(e) if is_not_found(&e) => {
            build_image(docker, &tag, build_context(probe, &[])?).await?;
            built_now = true;
            docker
                .inspect_image(&tag)
                .await
                .with_context(|| format!("inspecting the image {tag} just built"))?
        }
        Err(e) => return Err(e).with_context(|| format!("inspecting image {tag}")),
    };
    Ok(Image {
        tag,
        id: inspect.id.unwrap_or_default(),
        bytes: reported_size(inspect.size),
        built_now,
    })
}

/// The image size the daemon reported: one it does not report, or reports as
/// negative, is unknown, never 0 (a 0 would read "smaller than claimed").
pub(super) fn reported_size(size: Option<i64>) -> Option<u64> {
    size.and_then(|size| u64::try_from(size).ok())
}

pub async fn remove_image(docker: &Docker, tag: &str) -> anyhow::Result<()> {
    let options = RemoveImageOptionsBuilder::new().force(true).build();
    match docker.remove_image(tag, Some(options), None).await {
        Err(e) if !is_not_found(&e) => Err(e).with_context(|| format!("removing image {tag}")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_the_daemon_does_not_give_is_unknown() {
        assert_eq!(reported_size(None), None);
        assert_eq!(reported_size(Some(-1)), None);
        assert_eq!(reported_size(Some(439_000)), Some(439_000));
    }

    #[test]
    fn build_context_holds_the_probe() {
        let tar = build_context(b"probe", &[("coldstart-nonce", b"x")]).unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "Dockerfile",
                "rootfs/coldstart-probe",
                "rootfs/coldstart-nonce"
            ]
        );
    }
}
