//! The `coldstart` binary: parse, build the runtime, call [`coldstart::run`].

use clap::Parser;
use coldstart::cli::Cli;
use coldstart::error::{UsageError, EXIT_ENVIRONMENT, EXIT_USAGE};

fn main() {
    let cli = Cli::parse();
    // One thread drives the measurement: no work-stealing scheduler between the
    // harness and the instance it is timing.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot build the Tokio runtime");
    let code = match runtime.block_on(coldstart::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            if e.downcast_ref::<UsageError>().is_some() {
                EXIT_USAGE
            } else {
                EXIT_ENVIRONMENT
            }
        }
    };
    std::process::exit(code);
}
