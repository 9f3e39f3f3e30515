//! The checkpoint writer: the run's journal appended off the measuring thread.
//!
//! The measurement loop hands each sample over a channel as soon as it is taken and
//! goes on; this thread appends it to the journal that stands in the JSON export's
//! place while the samples are taken ([`crate::results::journal`]): one line per
//! sample, flushed and synced at most every [`CHECKPOINT_EVERY`] and once more when
//! the channel closes. Nothing is derived or rendered meanwhile: the statistics, the
//! markdown and the CSV are made once, by the caller, when measuring is over (the
//! final write, with the run's status, which replaces the journal; criterion keeps
//! measurement and analysis apart the same way). The work per sample is a channel
//! send on the measuring thread and one line on this one, so a run of 100,000
//! samples costs ten times one of 10,000. A JSON export to standard output, or to
//! something that is not a regular file (`/dev/null`, a FIFO, a terminal), gets no
//! journal, only the final file; a run without a journal that exports markdown or
//! CSV keeps a copy of its results here and rewrites those whole at each checkpoint
//! instead, so a run killed outright still leaves its samples somewhere.

use crate::results::journal::{self, Entry};
use crate::results::{ResultFile, RuntimeResult, Sample};
use anyhow::Context as _;
use std::io::Write as _;
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
        self.write_reports(results)
    }

    /// The markdown and CSV exports.
    fn write_reports(&self, results: &ResultFile) -> anyhow::Result<()> {
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

    /// A checkpoint of the whole file (after the samples: density, bursts): a
    /// failure is reported once and remembered; measuring goes on.
    pub fn checkpoint(&mut self, results: &ResultFile) {
        if let Err(e) = self.write(results) {
            self.fail(e);
        }
    }

    fn fail(&mut self, e: anyhow::Error) {
        if self.failed.is_none() {
            eprintln!("Error: writing the results failed (measuring goes on): {e:#}");
            self.failed = Some(e);
        }
    }

    /// Where the journal goes: the JSON export, unless it is standard output or
    /// exists and is not a regular file.
    fn journal_path(&self) -> Option<&Path> {
        let path = self.json.as_deref().filter(|p| *p != Path::new("-"))?;
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => None,
            _ => Some(path),
        }
    }
}

/// The journal being appended to.
struct Journal {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl Journal {
    /// Replaces the JSON export with the journal's first line (atomically), then
    /// opens it for appending.
    fn create(path: &Path, results: &ResultFile) -> anyhow::Result<Journal> {
        super::json::write_atomic(path, journal::header_line(results).as_bytes())?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        Ok(Journal {
            path: path.to_path_buf(),
            file: std::io::BufWriter::new(file),
        })
    }

    fn append(&mut self, entry: &Entry) -> anyhow::Result<()> {
        self.file
            .write_all(journal::entry_line(entry).as_bytes())
            .with_context(|| format!("cannot write to {}", self.path.display()))
    }

    /// Everything appended so far on disk.
    fn sync(&mut self) -> anyhow::Result<()> {
        self.file
            .flush()
            .and_then(|()| self.file.get_ref().sync_data())
            .with_context(|| format!("cannot write to {}", self.path.display()))
    }
}

impl Keeping {
    fn take(&mut self, entry: Entry) -> anyhow::Result<()> {
        match self {
            Keeping::Journal(journal) => journal.append(&entry),
            Keeping::Copy(copy) => {
                match entry {
                    Entry::Sample(sample) => copy.samples.push(*sample),
                    Entry::Runtimes(runtimes) => copy.runtimes = runtimes,
                    Entry::WallTime(ns) => copy.wall_time_ns = ns,
                }
                Ok(())
            }
        }
    }

    /// The journal's time so far and a sync; or the markdown and CSV rewritten.
    fn checkpoint(&mut self, exports: &Exports, wall_time_ns: u64) -> anyhow::Result<()> {
        match self {
            Keeping::Journal(journal) => {
                journal.append(&Entry::WallTime(wall_time_ns))?;
                journal.sync()
            }
            Keeping::Copy(copy) => {
                copy.wall_time_ns = wall_time_ns;
                copy.derive_statistics();
                exports.write_reports(copy)
            }
        }
    }
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
    tx: Option<mpsc::Sender<Entry>>,
    thread: Option<JoinHandle<Exports>>,
}

/// What the writer keeps while the samples are taken.
enum Keeping {
    /// The JSON export's journal, appended to.
    Journal(Journal),
    /// No journal can be kept (no JSON file: none asked for, standard output, a
    /// device or a FIFO): a copy of the results, from which the markdown and CSV
    /// exports are rewritten whole at each checkpoint, as they would otherwise hold
    /// nothing of a run killed outright.
    Copy(Box<ResultFile>),
}

impl Writer {
    /// Replaces the JSON export with a journal of `results` (runtimes, no samples
    /// yet), or keeps a copy of them for the other exports, and starts the thread.
    pub fn start(mut exports: Exports, results: &ResultFile) -> std::io::Result<Writer> {
        let keeping = match exports.journal_path().map(|p| Journal::create(p, results)) {
            Some(Ok(journal)) => Some(Keeping::Journal(journal)),
            Some(Err(e)) => {
                exports.fail(e);
                None
            }
            None if exports.markdown.is_some() || exports.csv.is_some() => {
                Some(Keeping::Copy(Box::new(results.clone())))
            }
            None => None,
        };
        let (tx, rx) = mpsc::channel();
        let started = Instant::now();
        let thread = std::thread::Builder::new()
            .name("coldstart-writer".into())
            .spawn(move || {
                let mut exports = exports;
                let Some(mut keeping) = keeping else {
                    // Nothing to write: sends to a closed channel are dropped (and
                    // ignored), so the measuring thread is never slowed.
                    drop(rx);
                    return exports;
                };
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
                            Ok(entry) => {
                                if let Err(e) = keeping.take(entry) {
                                    // A line half written stays the journal's last.
                                    exports.fail(e);
                                    return exports;
                                }
                                dirty = true;
                            }
                            Err(mpsc::TryRecvError::Empty) => break,
                            Err(mpsc::TryRecvError::Disconnected) => {
                                open = false;
                                break;
                            }
                        }
                    }
                    if dirty && (!open || last.elapsed() >= CHECKPOINT_EVERY) {
                        let wall_time_ns = crate::phase::nanos(started.elapsed());
                        if let Err(e) = keeping.checkpoint(&exports, wall_time_ns) {
                            exports.fail(e);
                            return exports;
                        }
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
            let _ = tx.send(Entry::Sample(Box::new(sample.clone())));
        }
    }

    fn runtimes(&mut self, runtimes: &[RuntimeResult]) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Entry::Runtimes(runtimes.to_vec()));
        }
    }
}
