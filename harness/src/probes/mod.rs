//! Where the built probe artifacts are, and what they are.
//!
//! `scripts/build-probes.sh` builds the one probe workload for each target and copies
//! the results into `probes/out/`: `coldstart-probe` (static x86_64 musl binary) and
//! `coldstart_probe.wasm` (wasm32-wasip1). The harness looks there, or in
//! `--probes-dir` / `COLDSTART_PROBES_DIR`, and refuses to run without them. The
//! probes in other languages are there too ([`language`]); a run needs only those
//! of the languages it measures.

pub mod language;

pub use language::{Language, LanguageChoice, LanguageProbe};

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// File name of the native probe inside the probes directory.
pub const NATIVE: &str = "coldstart-probe";
/// File name of the Wasm probe inside the probes directory.
pub const WASM: &str = "coldstart_probe.wasm";

/// The probes directory of this source tree, used when none is given.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../probes/out")
}

/// The located probe artifacts.
#[derive(Debug, Clone)]
pub struct ProbeArtifacts {
    pub dir: PathBuf,
}

impl ProbeArtifacts {
    /// Checks that the directory holds both probes; the error says how to build them.
    pub fn locate(dir: Option<&Path>) -> Result<ProbeArtifacts, String> {
        let dir = dir.map(Path::to_path_buf).unwrap_or_else(default_dir);
        let artifacts = ProbeArtifacts { dir };
        for path in [artifacts.native(), artifacts.wasm()] {
            if !path.is_file() {
                return Err(format!(
                    "probe artifact {} is missing: build the probes with scripts/build-probes.sh \
                     (it needs `rustup target add x86_64-unknown-linux-musl wasm32-wasip1`), \
                     or point --probes-dir at a directory that has them",
                    path.display()
                ));
            }
        }
        Ok(artifacts)
    }

    /// The static native probe binary.
    pub fn native(&self) -> PathBuf {
        self.dir.join(NATIVE)
    }

    /// The wasm32-wasip1 probe module.
    pub fn wasm(&self) -> PathBuf {
        self.dir.join(WASM)
    }
}

/// Size of a file in bytes, for `artifact_bytes`.
pub fn file_bytes(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// SHA-256 of a file's contents, hex: identifies exactly which probe was measured.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
