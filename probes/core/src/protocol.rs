//! The probe's line protocol on stdin/stdout, shared by the native probe (and the
//! container image built from it) and the harness, so both sides parse the same text.
//!
//! ```text
//! probe:   BOOTTIME <at_start_ns> <at_ready_ns>          in a VM only, before READY
//! probe:   READY <instance_id:016x>                      once init is done
//! harness: INVOKE <seq> <nonce:016x> <iters>
//! probe:   DONE <seq> <instance_id:016x> <index> <checksum:016x>
//! harness: EXIT                                          (or end of input)
//! probe:   ERR <message>                                 on a request it cannot parse
//! ```
//!
//! The nonce is a fresh random value per request; the checksum depends on it (see
//! [`crate::Probe::checksum`]), so an answer can only verify for its own request.
//! The instance nonce is not a line: it comes with the start, before init (an
//! argument, the environment, the kernel command line), since init is keyed by it.
//!
//! `BOOTTIME` is the guest's own clock (`CLOCK_BOOTTIME`, time since the guest kernel
//! started) when the probe started and when it was ready: a VM's probe sends it so
//! the harness can tell the VMM's and firmware's time from the guest's boot.

use std::fmt;

/// The environment variable that gives a start its instance nonce (16 hex digits)
/// where no argument can: containers, Lambda functions.
pub const INSTANCE_NONCE_VAR: &str = "COLDSTART_INSTANCE_NONCE";

/// The instance nonce from [`INSTANCE_NONCE_VAR`]; 0 when it is not set (a probe
/// run by hand or by hyperfine), an error when it is set to anything but a
/// hexadecimal u64.
pub fn instance_nonce_from_env() -> Result<u64, String> {
    match std::env::var(INSTANCE_NONCE_VAR) {
        Ok(text) => u64::from_str_radix(&text, 16)
            .map_err(|_| format!("{INSTANCE_NONCE_VAR}={text:?} is not a hexadecimal u64")),
        Err(std::env::VarError::NotPresent) => Ok(0),
        Err(std::env::VarError::NotUnicode(text)) => Err(format!(
            "{INSTANCE_NONCE_VAR}={text:?} is not a hexadecimal u64"
        )),
    }
}

/// A line the probe writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeLine {
    /// The guest's `CLOCK_BOOTTIME` at the probe's start and at READY (VMs only).
    Boottime { at_start_ns: u64, at_ready_ns: u64 },
    /// Init is done; the instance takes requests.
    Ready { instance_id: u64 },
    /// The answer to `INVOKE seq`.
    Done {
        seq: u64,
        instance_id: u64,
        index: u64,
        checksum: u64,
    },
    /// The probe could not serve a request.
    Err(String),
}

/// A line the harness writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HarnessLine {
    /// Run one invocation of `iters` hash rounds, mixing in `nonce`.
    Invoke { seq: u64, nonce: u64, iters: u64 },
    /// Exit cleanly.
    Exit,
}

/// A line that is not part of the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a probe protocol line: {:?}", self.0)
    }
}

impl std::error::Error for ParseError {}

impl fmt::Display for ProbeLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeLine::Boottime {
                at_start_ns,
                at_ready_ns,
            } => write!(f, "BOOTTIME {at_start_ns} {at_ready_ns}"),
            ProbeLine::Ready { instance_id } => write!(f, "READY {instance_id:016x}"),
            ProbeLine::Done {
                seq,
                instance_id,
                index,
                checksum,
            } => write!(f, "DONE {seq} {instance_id:016x} {index} {checksum:016x}"),
            ProbeLine::Err(message) => write!(f, "ERR {message}"),
        }
    }
}

impl fmt::Display for HarnessLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessLine::Invoke { seq, nonce, iters } => {
                write!(f, "INVOKE {seq} {nonce:016x} {iters}")
            }
            HarnessLine::Exit => f.write_str("EXIT"),
        }
    }
}

fn dec(word: Option<&str>) -> Option<u64> {
    word?.parse().ok()
}

fn hex(word: Option<&str>) -> Option<u64> {
    let word = word?;
    if word.len() != 16 {
        return None;
    }
    u64::from_str_radix(word, 16).ok()
}

impl std::str::FromStr for ProbeLine {
    type Err = ParseError;

    fn from_str(line: &str) -> Result<Self, ParseError> {
        let line = line.trim_end_matches(['\r', '\n']);
        let bad = || ParseError(line.to_string());
        if let Some(message) = line.strip_prefix("ERR ") {
            return Ok(ProbeLine::Err(message.to_string()));
        }
        let mut words = line.split(' ');
        let parsed = match words.next() {
            Some("BOOTTIME") => ProbeLine::Boottime {
                at_start_ns: dec(words.next()).ok_or_else(bad)?,
                at_ready_ns: dec(words.next()).ok_or_else(bad)?,
            },
            Some("READY") => ProbeLine::Ready {
                instance_id: hex(words.next()).ok_or_else(bad)?,
            },
            Some("DONE") => ProbeLine::Done {
                seq: dec(words.next()).ok_or_else(bad)?,
                instance_id: hex(words.next()).ok_or_else(bad)?,
                index: dec(words.next()).ok_or_else(bad)?,
                checksum: hex(words.next()).ok_or_else(bad)?,
            },
            _ => return Err(bad()),
        };
        match words.next() {
            None => Ok(parsed),
            Some(_) => Err(bad()),
        }
    }
}

impl std::str::FromStr for HarnessLine {
    type Err = ParseError;

    fn from_str(line: &str) -> Result<Self, ParseError> {
        let line = line.trim_end_matches(['\r', '\n']);
        let bad = || ParseError(line.to_string());
        let mut words = line.split(' ');
        let parsed = match words.next() {
            Some("INVOKE") => HarnessLine::Invoke {
                seq: dec(words.next()).ok_or_else(bad)?,
                nonce: hex(words.next()).ok_or_else(bad)?,
                iters: dec(words.next()).ok_or_else(bad)?,
            },
            Some("EXIT") => HarnessLine::Exit,
            _ => return Err(bad()),
        };
        match words.next() {
            None => Ok(parsed),
            Some(_) => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let lines = [
            ProbeLine::Ready {
                instance_id: 0x00ab_cdef_0123_4567,
            },
            ProbeLine::Done {
                seq: 7,
                instance_id: u64::MAX,
                index: 3,
                checksum: 1,
            },
            ProbeLine::Err("bad request".into()),
            ProbeLine::Boottime {
                at_start_ns: 812_000_000,
                at_ready_ns: 812_400_000,
            },
        ];
        for line in lines {
            assert_eq!(line.to_string().parse::<ProbeLine>().unwrap(), line);
        }
        let invoke = HarnessLine::Invoke {
            seq: 1,
            nonce: u64::MAX - 5,
            iters: 50,
        };
        for line in [invoke, HarnessLine::Exit] {
            assert_eq!(line.to_string().parse::<HarnessLine>().unwrap(), line);
        }
    }

    #[test]
    fn malformed_lines_are_rejected() {
        for line in [
            "",
            "READY",
            "READY 12",
            "READY 00000000000000zz",
            "DONE 1 0000000000000001 0",
            "DONE 1 0000000000000001 0 0000000000000002 extra",
            "HELLO",
            "BOOTTIME 1",
            "BOOTTIME 1 x",
        ] {
            assert!(line.parse::<ProbeLine>().is_err(), "{line:?} parsed");
        }
        for line in [
            "INVOKE",
            "INVOKE 1",
            "INVOKE 1 2",
            "INVOKE 1 000000000000000g 2",
            "INVOKE x 0000000000000001 2",
            "EXIT now",
        ] {
            assert!(line.parse::<HarnessLine>().is_err(), "{line:?} parsed");
        }
    }
}
