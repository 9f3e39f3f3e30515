//! How samples are taken and checked: the measurement loop on the mock runner, where
//! the stopwatch sits, faults that become failed or invalid samples, and density and
//! bursts on the real runtimes.

mod density_and_bursts;
mod faults;
mod mock_run;
mod stopwatch;
