//! `coldstart merge`: result files of the same workload into one, histograms of
//! matching groups added ([`crate::results::merge`]).

use crate::cli::MergeArgs;
use crate::error::EXIT_OK;
use crate::{export, results};

pub fn merge(args: MergeArgs) -> anyhow::Result<i32> {
    let mut files = Vec::new();
    for path in &args.files {
        files.push((path.clone(), results::load::load(path)?));
    }
    let merged = results::merge::merge(&files, args.allow_mixed_hosts)?;
    export::json::write(&args.output, &merged)?;
    eprintln!(
        "merged {} runs ({} samples) into {}",
        files.len(),
        merged.samples.len(),
        args.output.display()
    );
    Ok(EXIT_OK)
}
