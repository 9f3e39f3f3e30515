//! The checkpoint writer: the result file (and the markdown export) rewritten off
//! the measuring thread.
//!
//! The measurement loop hands each sample over a channel as soon as it is taken
//! and goes on; this thread keeps its own copy of the results, and at most every
//! [`CHECKPOINT_EVERY`] (and once more when the channel closes) derives the
//! statistics of that copy and rewrites the exports atomically. Nothing of this
//! runs between two samples on the measuring thread, and the work per sample is a
//! channel send: a run of 100,000 samples costs ten times one of 10,000 (criterion
//! keeps measurement and analysis apart the same way). The final write, with the
//! run's status, is done by the caller once measuring is over.

use crate::results::{ResultFile, RuntimeResult, Sample};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long at most between two checkpoints of the results.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(5);

/// How often the writer looks for new samples.
const POLL: Duration = Duration::from_millis(50);

/// Where the exports go.
pub struct Exports {
    pub json: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    /// One row per raw sample.
    pub csv: Option<PathBuf>,
    /// The unit of the markdown tables' times (each its own when `None`).
    pub time_unit: Option<crate::format::TimeUnit>,
    /// The first write that failed; measuring goes on, the run reports it at the end.
    pub failed: Option<anyhow::Error>,
}

impl Exports {
    pub fn json_to_stdout(&self) -> bool {
        self.json.as_deref() == Some(Path::new("-"))
    }

    pub fn write(&self, results: &ResultFile) -> anyhow::Result<()> {
        if let Some(path) = self.json.as_deref().filter(|p| *p != Path::new("-")) {
            super::json::write(path, results)?;
        }
        if let Some(path) = &self.markdown {
            super::json::write_atomic(
                path,
                super::markdown::render(results, self.time_unit).as_bytes(),
            )?;
        }
        if let Some(path) = &self.csv {
            super::json::write_atomic(path, super::csv::render(results).as_bytes())?;
        }
        Ok(())
    }

    /// A checkpoint: a failure is reported once and remembered; measuring goes on.
    pub fn checkpoint(&mut self, results: &ResultFile) {
        if let Err(e) = self.write(results) {
            if self.failed.is_none() {
                eprintln!("Error: writing the results failed (measuring goes on): {e:#}");
                self.failed = Some(e);
            }
        }
    }

    fn writes_anything(&self) -> bool {
        self.markdown.is_some()
            || self.csv.is_some()
            || (self.json.is_some() && !self.json_to_stdout())
    }
}

enum Message {
    Sample(Box<Sample>),
    Runtimes(Vec<RuntimeResult>),
}

/// Where each sample goes as soon as it is taken, and the runtimes' entries when
/// something beyond their samples changes (a note, an abandonment): the checkpoint
/// writer, off the measuring thread.
pub trait Sink {
    fn sample(&mut self, sample: &Sample);
    fn runtimes(&mut self, runtimes: &[RuntimeResult]);
}

/// The writer thread and the sending end of its channel: a [`Sink`].
pub struct Writer {
    tx: Option<mpsc::Sender<Message>>,
    thread: Option<JoinHandle<Exports>>,
}

impl Writer {
    /// Starts the thread with its own copy of `results` (runtimes, no samples yet).
    pub fn start(exports: Exports, results: &ResultFile) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel();
        let mut copy = results.clone();
        let started = Instant::now();
        let thread = std::thread::Builder::new()
            .name("coldstart-writer".into())
            .spawn(move || {
                let mut exports = exports;
                if !exports.writes_anything() {
                    // Nothing to write: sends to a closed channel are dropped (and
                    // ignored), so the measuring thread is never slowed.
                    drop(rx);
                    return exports;
                }
                let mut dirty = false;
                let mut last = Instant::now();
                let mut open = true;
                while open {
                    // Polled, not blocked on: a send to a blocked receiver wakes its
                    // thread, and a wake-up per sample on the other core is exactly
                    // the work that must not sit between two samples.
                    std::thread::sleep(POLL);
                    loop {
                        match rx.try_recv() {
                            Ok(Message::Sample(sample)) => copy.samples.push(*sample),
                            Ok(Message::Runtimes(runtimes)) => copy.runtimes = runtimes,
                            Err(mpsc::TryRecvError::Empty) => break,
                            Err(mpsc::TryRecvError::Disconnected) => {
                                open = false;
                                break;
                            }
                        }
                        dirty = true;
                    }
                    if open && dirty && last.elapsed() >= CHECKPOINT_EVERY {
                        copy.wall_time_ns = crate::phase::nanos(started.elapsed());
                        copy.derive_statistics();
                        exports.checkpoint(&copy);
                        dirty = false;
                        last = Instant::now();
                    }
                }
                exports
            })?;
        Ok(Writer {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Closes the channel and waits for the thread; returns the exports for the
    /// final write (which the caller makes with the run's final status).
    pub fn finish(mut self) -> Exports {
        drop(self.tx.take());
        self.thread
            .take()
            .expect("finished once")
            .join()
            .expect("the writer thread does not panic")
    }
}

impl Sink for Writer {
    fn sample(&mut self, sample: &Sample) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Message::Sample(Box::new(sample.clone())));
        }
    }

    fn runtimes(&mut self, runtimes: &[RuntimeResult]) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Message::Runtimes(runtimes.to_vec()));
        }
    }
}
