//! Integration tests of coldstart: the real binary and `run` in-process, against
//! the real probes (built by scripts/build-probes.sh) and real wasmtime. The folders
//! follow the code: command/ (report, compare, merge, history), runner/ (docker,
//! podman, gvisor, lambda, vm, each against the real thing), measure/ (the loop, the
//! stopwatch, faults, density and bursts) and support/ (shared helpers and the AWS
//! stub); whole-tool runs, bad input, scheduled benchmarks and the probe's identity
//! across targets sit at the top.

mod command;
mod errors;
mod languages;
mod measure;
mod probe_identity;
mod runner;
mod runs;
mod scheduled;
mod support;
