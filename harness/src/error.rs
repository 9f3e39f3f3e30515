//! Bad input and exit codes: what every command returns to `main`.

/// Bad input: a flag, a file, a runtime that cannot run. Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Exit code: success (everything measured and valid; no regression flagged).
pub const EXIT_OK: i32 = 0;
/// Exit code: what was measured says something is wrong: some samples failed or
/// were invalid, a teardown failed or left something behind, a variant was abandoned
/// (all of it is in the results), or `compare` flagged a regression.
pub const EXIT_SAMPLES_FAILED: i32 = 1;
/// Exit code: bad input (a flag, a file, a runtime named that cannot run); nothing
/// was measured.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: an internal or environment failure (the results could not be
/// written, a resource of the system failed); what was measured is kept where it
/// could be.
pub const EXIT_ENVIRONMENT: i32 = 3;
/// Exit code: interrupted (Ctrl-C, SIGTERM); what was measured is in the results.
pub const EXIT_INTERRUPTED: i32 = 130;
