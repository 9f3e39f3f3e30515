//! The result JSON, written atomically: to a temporary file in the same directory,
//! flushed, then renamed over the target, so a reader (or a crash) never sees half
//! a file. The run writes it when it starts, after its samples at each checkpoint of
//! density and bursts, and when it ends; while the samples are taken, its journal
//! stands in its place ([`crate::export::writer`]). A target that exists and is not a
//! regular file (`/dev/null`, a FIFO, a terminal) is written into, never replaced: a
//! rename over `/dev/null` as root would replace the device with a file.

use crate::results::ResultFile;
use anyhow::Context as _;
use std::io::Write;
use std::path::Path;

/// Writes `results` to `path` atomically.
pub fn write(path: &Path, results: &ResultFile) -> anyhow::Result<()> {
    write_atomic(path, to_string(results).as_bytes())
}

/// Writes `contents` to `path` atomically (any export, not only JSON); into it, as
/// it is, when it exists and is not a regular file.
pub fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() && !meta.is_dir() {
            let mut target = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            return target
                .write_all(contents)
                .with_context(|| format!("cannot write to {}", path.display()));
        }
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".coldstart-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(contents)
        .with_context(|| format!("cannot write to {}", dir.display()))?;
    // tempfile creates 0600; an export is meant to be read (and published).
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The results as pretty JSON text.
pub fn to_string(results: &ResultFile) -> String {
    serde_json::to_string_pretty(results).expect("results always serialize") + "\n"
}
