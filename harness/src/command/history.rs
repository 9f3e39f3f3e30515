//! `coldstart history`: the trend of each group's p50/p99 across the result files
//! under a directory, as markdown or an HTML page.

use crate::cli::{HistoryArgs, HistoryFormat};
use crate::error::EXIT_OK;
use crate::{analysis, report, results};

pub fn history(args: HistoryArgs) -> anyhow::Result<i32> {
    let results::load::Runs { runs, notes } = results::load::load_runs(&args.dir)?;
    for note in notes {
        eprintln!("{note}");
    }
    let trends = analysis::history::trends(&runs);
    let text = match args.format {
        HistoryFormat::Markdown => report::history::markdown(&runs, &trends),
        HistoryFormat::Html => report::history::html(&runs, &trends).map_err(anyhow::Error::msg)?,
    };
    super::emit(&text, args.output.as_deref())?;
    Ok(EXIT_OK)
}
