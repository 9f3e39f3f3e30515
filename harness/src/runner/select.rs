//! Which runners a run builds, and what a variant that cannot run here means: a
//! skip written into the results when the run measures "all available", bad input
//! (exit code 2) when it was named.

use super::{build, detect, Built, RunContext, RunnerKey, RuntimeKind};
use crate::error::UsageError;

/// One runtime to measure: its variants and how it was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub kind: RuntimeKind,
    pub variants: Vec<&'static str>,
    /// Runtimes were named (`--runtime` or a suite's `runtimes`): a runtime that
    /// cannot run at all is bad input.
    pub explicit: bool,
    /// `--runtime KIND` with no variant: none of its variants able to run is bad input.
    pub bare: bool,
    /// Variants named as `KIND:VARIANT`: each that cannot run is bad input.
    pub named_variants: Vec<&'static str>,
}

/// Detects and builds the variants of one selected runtime, in the selection's order.
///
/// In a language the runtime cannot run, every variant is skipped with the reason,
/// named or not: the pair does not exist here, and the other languages still run.
pub async fn build_selection(sel: &Selection, ctx: &RunContext) -> Result<Vec<Built>, UsageError> {
    let kind = sel.kind;
    if let Some(reason) = kind.language_unsupported(ctx.language) {
        return Ok(sel
            .variants
            .iter()
            .map(|variant| Built::Skipped {
                variant,
                reason: reason.clone(),
            })
            .collect());
    }
    let available = detect(
        kind,
        &Ok(ctx.probes.clone()),
        &ctx.lambda,
        &ctx.engine,
        &ctx.vm,
    )
    .await;
    let built = match available.unavailable {
        Some(reason) => Err(reason),
        None => build(kind, &sel.variants, ctx)
            .await
            .map_err(|e| format!("{e:#}")),
    };
    let built = match built {
        Ok(built) => built,
        Err(reason) if sel.explicit => {
            return Err(UsageError(format!(
                "runtime {kind}{} cannot run here: {reason}",
                in_language(ctx)
            )))
        }
        Err(reason) => sel
            .variants
            .iter()
            .map(|variant| Built::Skipped {
                variant,
                reason: reason.clone(),
            })
            .collect(),
    };
    if sel.bare && !built.iter().any(|b| matches!(b, Built::Ready(_))) {
        let mut reasons: Vec<&str> = Vec::new();
        for b in &built {
            if let Built::Skipped { reason, .. } = b {
                if !reasons.contains(&reason.as_str()) {
                    reasons.push(reason);
                }
            }
        }
        return Err(UsageError(format!(
            "runtime {kind}{} cannot run here: {}",
            in_language(ctx),
            reasons.join("; ")
        )));
    }
    for b in &built {
        if let Built::Skipped { variant, reason } = b {
            if sel.named_variants.contains(variant) {
                let key = RunnerKey::new(kind.name(), *variant).in_language(ctx.language);
                return Err(UsageError(format!("{key} cannot run here: {reason}")));
            }
        }
    }
    Ok(built)
}

/// ` (the python probe)` for a language other than Rust, for messages.
fn in_language(ctx: &RunContext) -> String {
    match ctx.language.is_rust() {
        true => String::new(),
        false => format!(" (the {} probe)", ctx.language),
    }
}
