//! Integration tests of coldstart: the real binary and `run` in-process, against
//! the real probes (built by scripts/build-probes.sh) and real wasmtime.

mod common;
mod crowd;
mod docker;
mod engines;
mod errors;
mod faults;
mod lambda;
mod mock_run;
mod probe_identity;
mod reports;
mod runs;
mod scheduled;
mod stopwatch;
mod vm;
