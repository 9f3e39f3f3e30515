//! The probe's languages: the same workload and line protocol written in Rust (the
//! static native binary), Python, Node.js, Java and Go, one folder each under
//! `probes/`, built or copied into the probes directory by `scripts/build-probes.sh`.
//!
//! A language is an axis of the results, next to the compute model: each row is a
//! runtime's variant running one language's probe. What is started is the
//! language's own start: the interpreter or JVM with the probe's file, or the
//! language's binary. Which interpreter: Debian's package (`/usr/bin/<name>`) where
//! it is installed, else the first on `PATH`, resolved here once, before anything
//! is timed, and recorded in the row's `versions` and `details`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A language the probe is written in.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// The static native binary (`probes/native`), the harness's own probe core.
    #[default]
    Rust,
    /// `probes/python/coldstart_probe.py`, run by CPython.
    Python,
    /// `probes/node/coldstart-probe.mjs`, run by Node.js.
    Node,
    /// `probes/java/ColdstartProbe.java`, compiled to one class, run by the JVM.
    Java,
    /// `probes/go`, a static binary (`CGO_ENABLED=0`).
    Go,
}

/// An interpreter a language's probe needs, and the Debian package that has it.
struct Interpreter {
    program: &'static str,
    package: &'static str,
    /// The versions key and the flag that prints the version.
    version: (&'static str, &'static str),
}

impl Language {
    /// Every language, in report order.
    pub const ALL: [Language; 5] = [
        Language::Rust,
        Language::Python,
        Language::Node,
        Language::Java,
        Language::Go,
    ];

    /// The name on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Node => "node",
            Language::Java => "java",
            Language::Go => "go",
        }
    }

    /// Whether this is the default language, which row labels leave unmarked.
    pub fn is_rust(&self) -> bool {
        *self == Language::Rust
    }

    /// The probe's file (or, for Java, class directory) inside the probes directory.
    pub fn artifact(self) -> &'static str {
        match self {
            Language::Rust => super::NATIVE,
            Language::Python => "python/coldstart_probe.py",
            Language::Node => "node/coldstart-probe.mjs",
            Language::Java => "java",
            Language::Go => "coldstart-probe-go",
        }
    }

    fn interpreter(self) -> Option<Interpreter> {
        match self {
            Language::Rust | Language::Go => None,
            Language::Python => Some(Interpreter {
                program: "python3",
                package: "python3",
                version: ("python", "--version"),
            }),
            Language::Node => Some(Interpreter {
                program: "node",
                package: "nodejs",
                version: ("node", "--version"),
            }),
            Language::Java => Some(Interpreter {
                program: "java",
                package: "openjdk-17-jre-headless",
                version: ("java", "-version"),
            }),
        }
    }

    /// The names, for messages.
    pub fn known() -> String {
        Language::ALL.map(Language::name).join(", ")
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Language {
    type Err = String;

    fn from_str(text: &str) -> Result<Language, String> {
        Language::ALL
            .into_iter()
            .find(|l| l.name() == text.trim())
            .ok_or_else(|| {
                format!(
                    "unknown language {text:?}: coldstart's probe is written in {} (or `all`)",
                    Language::known()
                )
            })
    }
}

/// One `--language` entry: a language, or `all` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LanguageChoice {
    /// Every language whose probe and toolchain are on this host; the others are
    /// skipped with their reason.
    All,
    /// One language, named: that it cannot run here is bad input.
    One(Language),
}

impl std::str::FromStr for LanguageChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<LanguageChoice, String> {
        match text.trim() {
            "all" => Ok(LanguageChoice::All),
            one => one.parse().map(LanguageChoice::One),
        }
    }
}

/// How to start one language's probe on this host: resolved once, untimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageProbe {
    pub language: Language,
    /// What is executed: the probe binary, or its interpreter.
    pub program: PathBuf,
    /// Arguments before the probe's own (`serve`, `once`, ...): the script or class.
    pub args: Vec<String>,
    /// The probe's file (the class directory for Java), whose size and hash are recorded.
    pub artifact: PathBuf,
    /// The interpreter's version (`python` -> `Python 3.11.2`); empty for binaries.
    pub versions: BTreeMap<String, String>,
}

impl LanguageProbe {
    /// Finds the language's probe in `dir` and its interpreter on this host; the
    /// error says what to install or build.
    pub fn locate(language: Language, dir: &Path) -> Result<LanguageProbe, String> {
        let artifact = dir.join(language.artifact());
        let present = match language {
            Language::Java => artifact.join("ColdstartProbe.class").is_file(),
            _ => artifact.is_file(),
        };
        if !present {
            return Err(format!(
                "the {language} probe {} is missing: build the probes with \
                 scripts/build-probes.sh{}",
                artifact.display(),
                match language {
                    Language::Go => " (it needs Debian's golang-go)",
                    Language::Java => " (it needs Debian's openjdk-17-jdk-headless)",
                    _ => "",
                }
            ));
        }
        let Some(interpreter) = language.interpreter() else {
            // The Go toolchain that built the binary, as the build script wrote it down.
            let mut versions = BTreeMap::new();
            if language == Language::Go {
                let noted = dir.join("coldstart-probe-go.version");
                if let Ok(text) = std::fs::read_to_string(noted) {
                    versions.insert("go".to_string(), text.trim().to_string());
                }
            }
            return Ok(LanguageProbe {
                language,
                program: artifact.clone(),
                args: Vec::new(),
                artifact,
                versions,
            });
        };
        let program = find_program(interpreter.program).ok_or_else(|| {
            format!(
                "the {language} probe needs `{}`, which is not installed: apt-get install {}",
                interpreter.program, interpreter.package
            )
        })?;
        let (key, flag) = interpreter.version;
        let version = program_version(&program, flag).map_err(|e| {
            format!(
                "the {language} probe needs `{}`, which does not run ({e}): apt-get install {}",
                program.display(),
                interpreter.package
            )
        })?;
        let script = artifact.display().to_string();
        let args = match language {
            Language::Java => vec!["-cp".into(), script, "ColdstartProbe".into()],
            _ => vec![script],
        };
        Ok(LanguageProbe {
            language,
            program,
            args,
            artifact,
            versions: BTreeMap::from([(key.to_string(), version)]),
        })
    }

    /// The probe's size on disk: a file's bytes, a class directory's files summed.
    pub fn artifact_bytes(&self) -> Option<u64> {
        if self.artifact.is_dir() {
            let entries = std::fs::read_dir(&self.artifact).ok()?;
            entries.map(|e| Some(e.ok()?.metadata().ok()?.len())).sum()
        } else {
            super::file_bytes(&self.artifact)
        }
    }

    /// SHA-256 of the probe: which probe was measured. For Java, of its class
    /// files' names and contents, in name order.
    pub fn sha256(&self) -> std::io::Result<String> {
        if !self.artifact.is_dir() {
            return super::file_sha256(&self.artifact);
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.artifact)?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()?;
        files.sort();
        let mut hasher = Sha256::new();
        for file in files {
            hasher.update(file.file_name().unwrap_or_default().as_encoded_bytes());
            hasher.update(std::fs::read(&file)?);
        }
        Ok(hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect())
    }
}

/// Debian's `/usr/bin/<name>` if it is there, else the first `<name>` on `PATH`.
fn find_program(name: &str) -> Option<PathBuf> {
    let debian = Path::new("/usr/bin").join(name);
    if debian.is_file() {
        return Some(debian);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// The first line a program prints for its version flag (Java prints it on stderr).
fn program_version(program: &Path, flag: &str) -> Result<String, String> {
    let out = std::process::Command::new(program)
        .arg(flag)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "`{} {flag}` exited with {}",
            program.display(),
            out.status
        ));
    }
    let text = [out.stdout, out.stderr].concat();
    let text = String::from_utf8_lossy(&text);
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
        .ok_or_else(|| format!("`{} {flag}` printed nothing", program.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_list_the_known() {
        for language in Language::ALL {
            assert_eq!(language.name().parse::<Language>(), Ok(language));
        }
        let err = "cobol".parse::<Language>().unwrap_err();
        assert!(err.contains("rust, python, node, java, go"), "{err}");
    }

    #[test]
    fn a_missing_probe_says_how_to_build_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = LanguageProbe::locate(Language::Go, dir.path()).unwrap_err();
        assert!(err.contains("scripts/build-probes.sh"), "{err}");
        assert!(err.contains("golang-go"), "{err}");
    }
}
