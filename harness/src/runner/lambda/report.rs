//! Lambda's own account of an invocation: the `REPORT` line at the end of the log
//! tail that `Invoke` returns base64-encoded in `LogResult` (with `LogType=Tail`).
//!
//! ```text
//! REPORT RequestId: <id>\tDuration: 1.52 ms\tBilled Duration: 24 ms\tMemory Size: 512 MB\tMax Memory Used: 15 MB\tInit Duration: 21.87 ms
//! ```
//!
//! `Init Duration` appears only when the invocation started a new execution
//! environment: a "cold" call whose REPORT lacks it was served by a proactive or reused
//! environment and must count as an invalid cold sample, never as a zero init.
//! SnapStart adds `Restore Duration` and `Billed Restore Duration`; failed runs add
//! `Status` and `Error Type`. Durations are parsed from their decimal text exactly,
//! to the nanosecond, without floating point. Used by [`super::invoke`].

use base64::Engine as _;

/// The figures of one REPORT line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    pub request_id: String,
    pub duration_ns: u64,
    pub billed_duration_ns: u64,
    pub memory_size_mb: u64,
    pub max_memory_used_mb: u64,
    /// Present only when the invocation started a new execution environment.
    pub init_duration_ns: Option<u64>,
    /// SnapStart: restoring the snapshot instead of init.
    pub restore_duration_ns: Option<u64>,
    pub billed_restore_duration_ns: Option<u64>,
    /// `error` or `timeout` on a failed run.
    pub status: Option<String>,
    pub error_type: Option<String>,
}

/// "12.34 ms" -> 12_340_000 ns, exactly.
fn millis(text: &str) -> Result<u64, String> {
    let number = text
        .strip_suffix(" ms")
        .ok_or_else(|| format!("{text:?} is not a duration in ms"))?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not a duration in ms"));
    }
    let whole: u64 = whole
        .parse()
        .map_err(|_| format!("{text:?} is not a duration in ms"))?;
    let fraction: u64 = format!("{fraction:0<6}").parse().unwrap_or(0);
    whole
        .checked_mul(1_000_000)
        .and_then(|ns| ns.checked_add(fraction))
        .ok_or_else(|| format!("{text:?} is out of range"))
}

/// "512 MB" -> 512.
fn megabytes(text: &str) -> Result<u64, String> {
    text.strip_suffix(" MB")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("{text:?} is not a size in MB"))
}

/// Parses one REPORT line.
pub fn parse_line(line: &str) -> Result<Report, String> {
    let rest = line
        .trim_end()
        .strip_prefix("REPORT ")
        .ok_or_else(|| format!("not a REPORT line: {line:?}"))?;
    let mut report = Report::default();
    let (mut duration, mut billed, mut memory, mut used) = (false, false, false, false);
    for field in rest.split('\t').filter(|f| !f.trim().is_empty()) {
        let (key, value) = field
            .split_once(": ")
            .ok_or_else(|| format!("REPORT field {field:?} has no value"))?;
        let value = value.trim();
        match key.trim() {
            "RequestId" => report.request_id = value.to_string(),
            "Duration" => (report.duration_ns, duration) = (millis(value)?, true),
            "Billed Duration" => (report.billed_duration_ns, billed) = (millis(value)?, true),
            "Memory Size" => (report.memory_size_mb, memory) = (megabytes(value)?, true),
            "Max Memory Used" => (report.max_memory_used_mb, used) = (megabytes(value)?, true),
            "Init Duration" => report.init_duration_ns = Some(millis(value)?),
            "Restore Duration" => report.restore_duration_ns = Some(millis(value)?),
            "Billed Restore Duration" => report.billed_restore_duration_ns = Some(millis(value)?),
            "Status" => report.status = Some(value.to_string()),
            "Error Type" => report.error_type = Some(value.to_string()),
            _ => {} // fields added later by AWS are not an error
        }
    }
    if report.request_id.is_empty() || !(duration && billed && memory && used) {
        return Err(format!("REPORT line lacks RequestId, Duration, Billed Duration, Memory Size or Max Memory Used: {line:?}"));
    }
    Ok(report)
}

/// The REPORT of an `Invoke` response's `LogResult` (base64 of the log tail).
pub fn from_log_result(log_result: &str) -> Result<Report, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(log_result.trim())
        .map_err(|e| format!("LogResult is not base64: {e}"))?;
    let log = String::from_utf8_lossy(&bytes);
    let line = log
        .lines()
        .rev()
        .find(|l| l.starts_with("REPORT "))
        .ok_or("the log tail has no REPORT line (was LogType=Tail set?)")?;
    parse_line(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines in the format Lambda writes (tab-separated, trailing tab).
    const COLD: &str = "REPORT RequestId: 3604209a-e9a3-11e6-939a-754dd98c7be3\tDuration: 1.52 ms\tBilled Duration: 24 ms\tMemory Size: 512 MB\tMax Memory Used: 15 MB\tInit Duration: 21.87 ms\t";
    const WARM: &str = "REPORT RequestId: 8e5c2a5e-1c7e-4c59-9b0a-5c3f0e1a2b3c\tDuration: 0.98 ms\tBilled Duration: 1 ms\tMemory Size: 512 MB\tMax Memory Used: 15 MB\t";
    const SNAPSTART: &str = "REPORT RequestId: 1d2c3b4a-0000-4000-8000-000000000001\tDuration: 13.47 ms\tBilled Duration: 255 ms\tMemory Size: 1024 MB\tMax Memory Used: 101 MB\tRestore Duration: 474.16 ms\tBilled Restore Duration: 241 ms\t";
    const ERROR: &str = "REPORT RequestId: 5f1e2d3c-0000-4000-8000-000000000002\tDuration: 2.01 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 19 MB\tInit Duration: 30.5 ms\tStatus: error\tError Type: Runtime.ExitError\t";

    #[test]
    fn cold_report_has_init_duration() {
        let r = parse_line(COLD).unwrap();
        assert_eq!(r.request_id, "3604209a-e9a3-11e6-939a-754dd98c7be3");
        assert_eq!(r.duration_ns, 1_520_000);
        assert_eq!(r.billed_duration_ns, 24_000_000);
        assert_eq!((r.memory_size_mb, r.max_memory_used_mb), (512, 15));
        assert_eq!(r.init_duration_ns, Some(21_870_000));
        assert_eq!(r.status, None);
    }

    #[test]
    fn warm_report_has_no_init_duration() {
        let r = parse_line(WARM).unwrap();
        assert_eq!(r.init_duration_ns, None);
        assert_eq!(r.duration_ns, 980_000);
    }

    #[test]
    fn snapstart_and_errors_are_read() {
        let r = parse_line(SNAPSTART).unwrap();
        assert_eq!(r.restore_duration_ns, Some(474_160_000));
        assert_eq!(r.billed_restore_duration_ns, Some(241_000_000));
        assert_eq!(r.init_duration_ns, None);
        let e = parse_line(ERROR).unwrap();
        assert_eq!(e.status.as_deref(), Some("error"));
        assert_eq!(e.error_type.as_deref(), Some("Runtime.ExitError"));
        assert_eq!(e.init_duration_ns, Some(30_500_000));
    }

    #[test]
    fn log_result_tail_is_decoded() {
        let tail =
            format!("START RequestId: x Version: $LATEST\nhello\nEND RequestId: x\n{COLD}\n");
        let b64 = base64::engine::general_purpose::STANDARD.encode(tail);
        assert_eq!(from_log_result(&b64).unwrap(), parse_line(COLD).unwrap());
        let none = base64::engine::general_purpose::STANDARD.encode("START RequestId: x\n");
        assert!(from_log_result(&none)
            .unwrap_err()
            .contains("no REPORT line"));
        assert!(from_log_result("***").unwrap_err().contains("not base64"));
    }

    #[test]
    fn malformed_lines_are_refused() {
        for line in [
            "START RequestId: x",
            "REPORT RequestId: x\tDuration: 1 ms",
            "REPORT RequestId: x\tDuration: 1.5\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB",
            "REPORT RequestId: x\tDuration: 1.1234567 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB",
            "REPORT RequestId: x\tDuration: -1 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB",
        ] {
            assert!(parse_line(line).is_err(), "{line:?} parsed");
        }
        assert_eq!(millis("7 ms").unwrap(), 7_000_000);
        assert_eq!(millis("0.000001 ms").unwrap(), 1);
    }
}
