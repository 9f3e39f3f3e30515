//! A test-only probe behaviour: sleep at a known point, so the harness's tests can
//! check that the time lands in the phase that contains that point (and in no
//! other). The harness passes `COLDSTART_TEST_SLEEP` to a probe only when its own
//! environment has it, which only the tests set; a normal run never sleeps.
//!
//! `COLDSTART_TEST_SLEEP=init:200ms` sleeps once at the end of the init work,
//! `invoke:200ms` in every invocation; both may be given, comma-separated. Units:
//! `ms` or `us`.

use std::time::Duration;

/// The variable the probes read.
pub const VAR: &str = "COLDSTART_TEST_SLEEP";

/// Where to sleep and for how long.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestSleep {
    pub init: Duration,
    pub invoke: Duration,
}

impl TestSleep {
    /// Parses the variable's value; anything unreadable is an error (a test that
    /// means to sleep must not silently measure without sleeping).
    pub fn parse(text: &str) -> Result<TestSleep, String> {
        let mut sleep = TestSleep::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (point, amount) = part
                .split_once(':')
                .ok_or_else(|| format!("{VAR}: {part:?} is not <point>:<duration>"))?;
            let duration = parse_duration(amount)
                .ok_or_else(|| format!("{VAR}: {amount:?} is not a duration like 200ms"))?;
            match point {
                "init" => sleep.init = duration,
                "invoke" => sleep.invoke = duration,
                other => return Err(format!("{VAR}: unknown point {other:?} (init, invoke)")),
            }
        }
        Ok(sleep)
    }

    /// Reads [`VAR`] from the environment: no sleep when it is absent.
    pub fn from_env() -> Result<TestSleep, String> {
        match std::env::var(VAR) {
            Ok(text) => TestSleep::parse(&text),
            Err(_) => Ok(TestSleep::default()),
        }
    }

    /// Sleeps for `d` if it is not zero.
    pub fn nap(d: Duration) {
        if !d.is_zero() {
            std::thread::sleep(d);
        }
    }
}

fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Some(ms) = text.strip_suffix("ms") {
        return ms.parse().ok().map(Duration::from_millis);
    }
    if let Some(us) = text.strip_suffix("us") {
        return us.parse().ok().map(Duration::from_micros);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_points_and_refuses_nonsense() {
        assert_eq!(
            TestSleep::parse("init:200ms, invoke:50us").unwrap(),
            TestSleep {
                init: Duration::from_millis(200),
                invoke: Duration::from_micros(50)
            }
        );
        assert_eq!(TestSleep::parse("").unwrap(), TestSleep::default());
        for bad in ["init", "init:2s", "boot:1ms", "init:xms"] {
            assert!(TestSleep::parse(bad).is_err(), "{bad}");
        }
    }
}
