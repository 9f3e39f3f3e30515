//! Running the commands a benchmark is made of: what must be installed, building the
//! probes and coldstart as `scripts/coldstart` does, and one command line at a time in
//! the foreground, its output sent where the benchmark keeps it.
//!
//! Nothing here measures a start: hyperfine times the peer's side and coldstart its
//! own, each into a file. The one clock of ours is [`Step::wall`], the wall time of a
//! whole command from its spawn to its exit (the shell scripts took `date` around it).
//!
//! The coldstart binary is copied into the output directory once built: the cargo
//! target directory may be shared with other checkouts, whose builds would otherwise
//! replace `release/coldstart` (and the probe directory compiled into it) in the
//! middle of a benchmark.

use anyhow::{bail, Context, Result};
use std::ffi::{OsStr, OsString};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A tool or service a benchmark needs is not there (exit code 2): what, and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {fix}")]
pub struct Missing {
    pub what: String,
    pub fix: String,
}

/// Fails with [`Missing`] unless `tool` is an executable on the `PATH`.
pub fn require(tool: &str, install: &str) -> Result<(), Missing> {
    if on_path(tool) {
        Ok(())
    } else {
        Err(Missing {
            what: format!("{tool} not found"),
            fix: install.into(),
        })
    }
}

fn on_path(tool: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        dir.join(tool)
            .metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// How long `docker info` may take: a dockerd that deadlocked never answers it.
const DAEMON_PATIENCE: Duration = Duration::from_secs(30);

/// Fails with [`Missing`] unless a Docker daemon answers `docker info`.
pub fn require_docker_daemon() -> Result<(), Missing> {
    require("docker", "apt-get install -y docker.io")?;
    let no_answer = |why: &str| Missing {
        what: format!("no Docker daemon answers `docker info` ({why})"),
        fix: "start dockerd (or restart it if it hangs)".into(),
    };
    let mut child = Command::new("docker")
        .arg("info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| no_answer(&e.to_string()))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(no_answer(&format!("it exited with {status}"))),
            Ok(None) if start.elapsed() > DAEMON_PATIENCE => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(no_answer("no answer within 30 s"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(no_answer(&e.to_string())),
        }
    }
}

/// The last non-empty line of a log, or a note that there is none.
pub fn last_line(path: &Path) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| {
            t.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(String::from)
        })
        .unwrap_or_else(|| format!("nothing in {}", path.display()))
}

/// The repository this binary was built from (the parent of `bench/`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ sits inside the repository")
        .to_path_buf()
}

/// What the command line says about where to work, before anything is built.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The output directory; `None`: a new one under the temporary directory.
    pub out: Option<PathBuf>,
    /// A built coldstart to use as it is; `None`: build it.
    pub coldstart_bin: Option<PathBuf>,
}

/// Where a benchmark works.
#[derive(Debug, Clone)]
pub struct Env {
    /// The benchmark's name, for progress lines.
    pub name: &'static str,
    pub repo: PathBuf,
    /// The coldstart binary every step of ours runs.
    pub coldstart: PathBuf,
    /// Raw files: hyperfine's exports, result files, logs.
    pub out: PathBuf,
}

impl Setup {
    /// Makes the output directory and, unless a coldstart binary was given, builds the
    /// probes (`scripts/build-probes.sh`) and coldstart (`cargo build --release -p
    /// coldstart`) and copies the binary into the output directory.
    pub fn prepare(&self, name: &'static str) -> Result<Env> {
        let repo = repo();
        let out = match &self.out {
            Some(dir) => dir.clone(),
            None => std::env::temp_dir().join(format!(
                "coldstart-bench-{name}-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            )),
        };
        std::fs::create_dir_all(&out)
            .with_context(|| format!("cannot create the output directory {}", out.display()))?;
        let coldstart = match &self.coldstart_bin {
            Some(bin) => {
                if !bin.is_file() {
                    bail!(
                        "--coldstart-bin {}: no such file (build it with `cargo build --release -p coldstart`)",
                        bin.display()
                    );
                }
                bin.clone()
            }
            None => {
                eprintln!("[{name}] building the probes and coldstart (release)");
                Step::new(repo.join("scripts/build-probes.sh")).check()?;
                Step::new(cargo())
                    .args(["build", "--quiet", "--release", "-p", "coldstart"])
                    .current_dir(&repo)
                    .check()?;
                let built = target_dir(&repo)?.join("release/coldstart");
                let copy = out.join("coldstart");
                std::fs::copy(&built, &copy).with_context(|| {
                    format!("cannot copy {} to {}", built.display(), copy.display())
                })?;
                copy
            }
        };
        Ok(Env {
            name,
            repo,
            coldstart,
            out,
        })
    }
}

/// The cargo that runs this benchmark (`cargo run` sets `CARGO`), else the one on the PATH.
fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Cargo's target directory for the workspace, as `cargo metadata` says.
fn target_dir(repo: &Path) -> Result<PathBuf> {
    let text = Step::new(cargo())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(repo.join("Cargo.toml"))
        .text()?;
    let metadata: serde_json::Value =
        serde_json::from_str(&text).context("cargo metadata printed no JSON")?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata names no target_directory")
}

impl Env {
    /// A path in the output directory.
    pub fn file(&self, name: impl AsRef<Path>) -> PathBuf {
        self.out.join(name)
    }

    /// A step running coldstart with `args`.
    pub fn coldstart<I, S>(&self, args: I) -> Step
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Step::new(&self.coldstart).args(args)
    }

    /// A progress line on stderr.
    pub fn say(&self, message: impl std::fmt::Display) {
        eprintln!("[{}] {message}", self.name);
    }
}

/// Where a step's output goes.
#[derive(Debug, Clone)]
pub enum Sink {
    Inherit,
    Null,
    /// Created (truncated) before the step starts.
    File(PathBuf),
}

impl Sink {
    fn stdio(&self) -> Result<Stdio> {
        Ok(match self {
            Sink::Inherit => Stdio::inherit(),
            Sink::Null => Stdio::null(),
            Sink::File(path) => std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?
                .into(),
        })
    }
}

/// One command line, run in the foreground.
#[derive(Debug, Clone)]
pub struct Step {
    program: OsString,
    args: Vec<OsString>,
    dir: Option<PathBuf>,
    stdout: Sink,
    stderr: Sink,
    pinned: bool,
}

impl Step {
    pub fn new(program: impl AsRef<OsStr>) -> Step {
        Step {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            dir: None,
            stdout: Sink::Inherit,
            stderr: Sink::Inherit,
            pinned: false,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Step {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Step
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Runs it under `taskset -c 1` when `pin` is set (the tool and all it starts on
    /// one CPU).
    pub fn pinned(mut self, pin: bool) -> Step {
        self.pinned = pin;
        self
    }

    pub fn stdout(mut self, sink: Sink) -> Step {
        self.stdout = sink;
        self
    }

    pub fn stderr(mut self, sink: Sink) -> Step {
        self.stderr = sink;
        self
    }

    pub fn current_dir(mut self, dir: &Path) -> Step {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// The command line, for messages.
    pub fn line(&self) -> String {
        let mut words = Vec::new();
        if self.pinned {
            words.push("taskset -c 1".to_string());
        }
        words.push(self.program.to_string_lossy().into_owned());
        for arg in &self.args {
            let arg = arg.to_string_lossy();
            if arg.contains(' ') {
                words.push(format!("'{arg}'"));
            } else {
                words.push(arg.into_owned());
            }
        }
        words.join(" ")
    }

    fn command(&self) -> Result<Command> {
        let mut command = if self.pinned {
            let mut c = Command::new("taskset");
            c.args(["-c", "1"]).arg(&self.program);
            c
        } else {
            Command::new(&self.program)
        };
        command
            .args(&self.args)
            .stdout(self.stdout.stdio()?)
            .stderr(self.stderr.stdio()?);
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        Ok(command)
    }

    fn exit_code(&self, status: ExitStatus) -> Result<i32> {
        match status.code() {
            Some(code) => Ok(code),
            None => bail!(
                "`{}` was killed by signal {}",
                self.line(),
                status.signal().unwrap_or(0)
            ),
        }
    }

    /// Where to look when it failed.
    fn look_at(&self) -> String {
        match &self.stderr {
            Sink::File(path) => format!(" (its stderr: {})", path.display()),
            _ => String::new(),
        }
    }

    /// Runs it; its exit code.
    pub fn code(self) -> Result<i32> {
        let status = self
            .command()?
            .status()
            .with_context(|| format!("cannot run `{}`", self.line()))?;
        self.exit_code(status)
    }

    /// Runs it; an error unless it exits 0.
    pub fn check(self) -> Result<()> {
        let line = self.line();
        let look = self.look_at();
        match self.code()? {
            0 => Ok(()),
            code => bail!("`{line}` exited with {code}{look}"),
        }
    }

    /// Runs a `coldstart run`: exit 0 goes on; exit 1 (some samples failed or did not
    /// verify, or a teardown failed: the result file says which, and its figures hold
    /// only verified samples) goes on with a warning; any other exit is an error.
    pub fn check_measured(self) -> Result<()> {
        let line = self.line();
        let look = self.look_at();
        match self.code()? {
            0 => Ok(()),
            1 => {
                eprintln!(
                    "warning: `{line}` exited with 1: some samples failed or did not verify, \
                     or a teardown failed (its result file says which){look}"
                );
                Ok(())
            }
            code => bail!("`{line}` exited with {code}{look}"),
        }
    }

    /// Runs it and times it, spawn to exit; an error unless it exits 0.
    pub fn wall(self) -> Result<Duration> {
        let line = self.line();
        let mut command = self.command()?;
        let start = Instant::now();
        let status = command
            .status()
            .with_context(|| format!("cannot run `{line}`"))?;
        let wall = start.elapsed();
        match self.exit_code(status)? {
            0 => Ok(wall),
            code => bail!("`{line}` exited with {code}{}", self.look_at()),
        }
    }

    /// Runs it with its stdout captured.
    fn output(&self) -> Result<std::process::Output> {
        let mut command = self.command()?;
        command.stdout(Stdio::piped());
        command
            .output()
            .with_context(|| format!("cannot run `{}`", self.line()))
    }

    /// Runs it and returns its stdout; an error unless it exits 0.
    pub fn text(self) -> Result<String> {
        let output = self.output()?;
        let line = self.line();
        match self.exit_code(output.status)? {
            0 => String::from_utf8(output.stdout)
                .with_context(|| format!("`{line}` printed text that is not UTF-8")),
            code => bail!("`{line}` exited with {code}{}", self.look_at()),
        }
    }

    /// Runs it and returns its stdout whatever its exit code (for `|| true` steps).
    pub fn text_anyway(self) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.output()?.stdout).into_owned())
    }
}
