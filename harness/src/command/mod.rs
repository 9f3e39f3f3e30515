//! The commands: each reads its parsed arguments, calls the layers below
//! (options, measurement, analysis, reports, exports) and returns the exit code.

pub mod compare;
pub mod history;
pub mod lambda;
pub mod merge;
pub mod report;
pub mod run;
pub mod runtimes;

use crate::export;
use std::path::Path;

/// Writes `text` to `path`, or to stdout (a failed write is exit code 3).
pub(crate) fn emit(text: &str, path: Option<&Path>) -> anyhow::Result<()> {
    match path {
        Some(path) => export::json::write_atomic(path, text.as_bytes()),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
