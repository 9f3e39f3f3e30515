//! The peer tool most benchmarks measure against: how hyperfine is called, and its
//! JSON export read back.
//!
//! Always `hyperfine -N` (no intermediate shell: hyperfine splits the command line
//! itself, quotes respected), so what it times is one spawn of the command to its
//! exit and reaping, per run, after `--warmup` unrecorded runs. Its export holds the
//! times in seconds; they are turned into nanoseconds here.

use crate::exec::Step;
use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One `hyperfine -N` invocation: its commands, one after another.
#[derive(Debug, Clone)]
pub struct Hyperfine {
    pub warmup: u64,
    pub runs: u64,
    /// Where its JSON export goes.
    pub export: PathBuf,
    pub commands: Vec<String>,
}

impl Hyperfine {
    /// The step; its stdout (hyperfine's own summary) is dropped, stderr shown.
    pub fn step(&self) -> Step {
        Step::new("hyperfine")
            .args(["-N", "--warmup", &self.warmup.to_string()])
            .args(["--runs", &self.runs.to_string()])
            .arg("--export-json")
            .arg(&self.export)
            .args(&self.commands)
            .stdout(crate::exec::Sink::Null)
    }
}

/// hyperfine's `--export-json` file, the fields read here.
#[derive(Debug, Clone, Deserialize)]
pub struct Export {
    /// One per command, in the order given.
    pub results: Vec<CommandResult>,
}

/// One command's figures, seconds.
#[derive(Debug, Clone, Deserialize)]
pub struct CommandResult {
    pub mean: f64,
    pub median: f64,
    /// Every run's time, in the order taken.
    pub times: Vec<f64>,
}

impl CommandResult {
    pub fn median_ns(&self) -> f64 {
        self.median * 1e9
    }

    pub fn mean_ns(&self) -> f64 {
        self.mean * 1e9
    }
}

/// Reads one export.
pub fn load(path: &Path) -> Result<Export> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read hyperfine's export {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a hyperfine JSON export", path.display()))
}

/// The `index`-th command of an export.
pub fn command(export: &Export, index: usize, path: &Path) -> Result<CommandResult> {
    export.results.get(index).cloned().with_context(|| {
        format!(
            "{}: hyperfine's export has {} commands, not {}",
            path.display(),
            export.results.len(),
            index + 1
        )
    })
}
