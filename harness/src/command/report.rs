//! `coldstart report`: judges the claims (built in, or a file) against one result
//! file and renders the run's tables, plots and verdicts.

use crate::cli::{ReportArgs, ReportFormat};
use crate::error::{UsageError, EXIT_OK};
use crate::{analysis, report, results};

pub fn report(args: ReportArgs) -> anyhow::Result<i32> {
    let results = results::load::load(&args.results)?;
    let claims_text = match &args.claims {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?,
        None => analysis::claims::BUILTIN.to_string(),
    };
    let claims = analysis::claims::parse(&claims_text).map_err(|e| {
        let file = args.claims.as_ref().map(|p| p.display().to_string());
        UsageError(format!(
            "{}: {e}",
            file.unwrap_or_else(|| "built-in claims".into())
        ))
    })?;
    let verdicts = analysis::claims::evaluate(&claims, &results);
    let text = match args.format {
        ReportFormat::Text => report::text(&results, &verdicts, args.time_unit),
        ReportFormat::Markdown => report::markdown(&results, &verdicts, args.time_unit),
        ReportFormat::Html => {
            report::html::render(&results, &verdicts).map_err(anyhow::Error::msg)?
        }
    };
    super::emit(&text, args.output.as_deref())?;
    Ok(EXIT_OK)
}
