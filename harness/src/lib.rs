//! coldstart: measures the real startup overhead of compute models side by side on
//! one probe workload.
//!
//! `main.rs` parses the command line and calls [`run`]; integration tests drive [`run`]
//! in-process or the binary. Layers point down: [`command`] → [`options`],
//! [`measure`], [`analysis`], [`report`], [`export`] → [`runner`], [`results`] →
//! [`stats`], [`phase`], [`host`], [`format`], [`error`]. README.md's "Layout" is the map.

pub mod analysis;
pub mod cli;
pub mod command;
pub mod error;
pub mod export;
pub mod format;
pub mod harness_work;
pub mod host;
pub mod measure;
pub mod options;
pub mod phase;
pub mod probes;
pub mod report;
pub mod results;
pub mod runner;
pub mod stats;

use cli::{Cli, Command};

/// Runs one command; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run(args) => command::run::run(*args).await,
        Command::Runtimes(args) => command::runtimes::list(args).await,
        Command::Report(args) => command::report::report(args),
        Command::Compare(args) => command::compare::compare(args),
        Command::Merge(args) => command::merge::merge(args),
        Command::History(args) => command::history::history(args),
        Command::Lambda(command) => command::lambda::run(command).await,
    }
}
