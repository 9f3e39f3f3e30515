//! The commands that read result files (`report`, `compare`, `merge`, `history`) on
//! real result files: the committed fixture, the recorded runs of fixtures/compare/
//! and runs made here. The helpers below are what more than one of them reads.

mod compare;
mod compare_resplit;
mod history;
mod load;
mod merge;
mod report;

use crate::support::{coldstart, read_json, repo_file};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    repo_file("fixtures/results-small.json")
}

fn stdout_of(args: &[&str]) -> String {
    let out = coldstart()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A copy of a recorded run with `edit` applied, written into `dir`.
fn edited(dir: &Path, name: &str, from: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut doc = read_json(from);
    edit(&mut doc);
    write(dir, name, &doc.to_string())
}
