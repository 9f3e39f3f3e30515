//! The article's claims, judged against a result file.
//!
//! A claim (`fixtures/claims.toml`, read by [`parse`]) names what tests it — a
//! runtime's phase time, an artifact size, memory per instance, or a ratio or
//! overhead of two from the same run — and the claimed range. [`evaluate`] picks the
//! rows each claim reads (`select`) and hands them to the judging function of the
//! claim's measure kind (`judge`), which makes one [`Verdict`] per row: `holds` only
//! when the 95% interval of the measured p50 lies wholly inside the range,
//! `inconclusive` when it straddles a bound, `not enough samples` below the claim's
//! `min_samples`, and `not measured`, with the reason, when nothing was: never guessed.

mod file;
mod judge;
mod select;
mod verdict;

pub use file::{
    parse, Claim, Measure, MemoryTarget, MemoryView, Range, SizeTarget, Target, BUILTIN,
    DEFAULT_MIN_SAMPLES,
};
pub use verdict::{Counted, Figure, Interval, Outcome, Verdict};

use crate::results::ResultFile;
use judge::{
    judge_language_ratio, judge_latency, judge_memory, judge_memory_ratio, judge_overhead,
    judge_ratio, judge_size, judge_size_ratio, judge_unmeasured, LanguagePair,
};

/// Judges every claim against one result file, in the claims' order.
pub fn evaluate(claims: &[Claim], results: &ResultFile) -> Vec<Verdict> {
    claims
        .iter()
        .flat_map(|claim| match &claim.measure {
            Measure::Unmeasured { what } => judge_unmeasured(claim, what),
            Measure::Latency(t) => judge_latency(claim, results, t),
            Measure::Overhead {
                inside,
                outside,
                min_invoke_iters,
            } => judge_overhead(claim, results, inside, outside, *min_invoke_iters),
            Measure::Size(t) => judge_size(claim, results, t),
            Measure::Ratio {
                numerator,
                denominator,
            } => judge_ratio(claim, results, numerator, denominator),
            Measure::Memory(t) => judge_memory(claim, results, t),
            Measure::MemoryRatio {
                numerator,
                denominator,
            } => judge_memory_ratio(claim, results, numerator, denominator),
            Measure::SizeRatio {
                numerator,
                denominator,
            } => judge_size_ratio(claim, results, numerator, denominator),
            Measure::LanguageRatio {
                numerator,
                denominator,
                mode,
                phase,
                exclude_runtimes,
            } => judge_language_ratio(
                claim,
                results,
                LanguagePair {
                    numerator: *numerator,
                    denominator: *denominator,
                    mode: *mode,
                    phase,
                    exclude_runtimes,
                },
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Mode, RunnerKey, RuntimeResult};

    /// A real run's file with its runtimes replaced by `rows`: (runtime, variant,
    /// accel, cold p50, warm p50), each summary made of 30 equal samples.
    fn results(rows: &[(&str, &str, Option<&str>, u64, u64)], invoke_iters: u64) -> ResultFile {
        let text = include_str!("../../../../fixtures/compare/aa-a/run-01.json");
        let mut file = crate::results::load::parse(text).unwrap();
        file.parameters.invoke_iters = invoke_iters;
        // The figures come from the summaries below alone.
        file.samples.clear();
        file.runtimes = rows
            .iter()
            .map(|(runtime, variant, accel, cold, warm)| {
                let mut r =
                    RuntimeResult::skipped(&RunnerKey::new(*runtime, *variant), String::new());
                r.available = true;
                r.skipped_reason = None;
                if let Some(accel) = accel {
                    r.details.insert("accel".into(), (*accel).into());
                }
                for (mode, ns) in [(Mode::Cold, cold), (Mode::Warm, warm)] {
                    let summary = crate::stats::summarize(&crate::stats::record(vec![*ns; 30]));
                    r.modes.get_mut(mode).ok = 30;
                    r.modes
                        .get_mut(mode)
                        .phases
                        .insert("total".into(), summary.unwrap());
                }
                r
            })
            .collect();
        file
    }

    #[test]
    fn a_language_ratio_pairs_rows_of_one_compute_model_only() {
        use crate::probes::Language;
        let claims = parse(BUILTIN).unwrap();
        // Java 120 ms and Python 20 ms as processes; in containers Java 400 ms next
        // to Python 300 ms; Python alone in a VM; both in the emulator, which is a
        // stand-in and never judged. Were rows paired across compute models, a
        // "process:native:java / docker:runc-none:python" row (0.4) would appear.
        let mut file = results(
            &[
                ("process", "native", None, 120_000_000, 400_000),
                ("process", "native", None, 20_000_000, 200_000),
                ("docker", "runc-none", None, 400_000_000, 300_000),
                ("docker", "runc-none", None, 300_000_000, 300_000),
                ("vm", "full-kvm", Some("kvm"), 900_000_000, 300_000),
                ("lambda", "local-emulator", None, 600_000_000, 300_000),
                ("lambda", "local-emulator", None, 80_000_000, 300_000),
            ],
            50,
        );
        let languages = [
            Language::Java,
            Language::Python,
            Language::Java,
            Language::Python,
            Language::Python,
            Language::Java,
            Language::Python,
        ];
        for (r, language) in file.runtimes.iter_mut().zip(languages) {
            r.language = language;
        }
        for r in file.runtimes.iter_mut().filter(|r| r.runtime == "lambda") {
            r.details
                .insert("location".into(), "local: emulator".into());
        }
        let verdicts = evaluate(&claims, &file);
        let java = verdicts_of(&verdicts, "java-slower-than-python");
        let on: Vec<&str> = java.iter().map(|v| v.on.as_str()).collect();
        assert_eq!(
            on,
            [
                "process:native:java / process:native:python",
                "docker:runc-none:java / docker:runc-none:python"
            ]
        );
        for v in java {
            assert!(matches!(v.outcome, Outcome::Holds), "{v:?}");
        }
        // No compute model ran both Go and Python: one row saying so.
        let go = verdicts_of(&verdicts, "go-faster-than-python");
        assert_eq!(go.len(), 1);
        assert!(
            matches!(&go[0].outcome, Outcome::NotMeasured(why) if why.contains("--language go,python")),
            "{:?}",
            go[0].outcome
        );
        // The compute-model claims read the Rust probe's rows only: none here.
        let container = verdicts_of(&verdicts, "container-startup");
        assert!(
            !container.is_empty()
                && container
                    .iter()
                    .all(|v| matches!(v.outcome, Outcome::NotMeasured(_))),
            "a Java or Python row judged as the container floor: {container:?}"
        );
        // Go under Java, per compute model: 30 ms / 120 ms holds, 500 ms / 400 ms is
        // above the claimed bound of 1.
        for r in file.runtimes.iter_mut() {
            if r.language == Language::Python && r.runtime != "lambda" {
                r.language = Language::Go;
                let cold = if r.runtime == "process" {
                    30_000_000
                } else {
                    500_000_000
                };
                let summary = crate::stats::summarize(&crate::stats::record(vec![cold; 30]));
                r.modes
                    .get_mut(Mode::Cold)
                    .phases
                    .insert("total".into(), summary.unwrap());
            }
        }
        let verdicts = evaluate(&claims, &file);
        let go = verdicts_of(&verdicts, "go-faster-than-java");
        let outcomes: Vec<(&str, bool, bool)> = go
            .iter()
            .map(|v| {
                (
                    v.on.as_str(),
                    matches!(v.outcome, Outcome::Holds),
                    matches!(v.outcome, Outcome::Above),
                )
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                ("process:native:go / process:native:java", true, false),
                ("docker:runc-none:go / docker:runc-none:java", false, true),
            ]
        );
    }

    fn verdicts_of<'a>(verdicts: &'a [Verdict], id: &str) -> Vec<&'a Verdict> {
        verdicts.iter().filter(|v| v.claim.id == id).collect()
    }

    #[test]
    fn an_emulated_boot_is_an_upper_bound() {
        let claims = parse(BUILTIN).unwrap();
        // 16 s under TCG: faster than 30 s even so. 45 s under TCG: inside the claimed
        // range, but hardware may be faster: inconclusive. 45 s under KVM: holds.
        let file = results(
            &[
                ("vm", "full-tcg", Some("tcg"), 16_000_000_000, 800_000),
                ("vm", "full-kvm", Some("kvm"), 45_000_000_000, 800_000),
                ("vm", "minimal-tcg", Some("tcg"), 45_000_000_000, 800_000),
            ],
            50,
        );
        let verdicts = evaluate(&claims, &file);
        let boot = verdicts_of(&verdicts, "vm-boot");
        assert_eq!(boot.len(), 2, "minimal guests are not a full OS boot");
        assert_eq!(boot[0].on, "vm:full-tcg");
        assert_eq!(boot[0].outcome, Outcome::Below);
        assert!(
            boot[0].words().contains("upper bound"),
            "{}",
            boot[0].words()
        );
        let mut slow = file.clone();
        slow.runtimes[0].modes.get_mut(Mode::Cold).phases.insert(
            "total".into(),
            crate::stats::summarize(&crate::stats::record(vec![45_000_000_000; 30])).unwrap(),
        );
        let verdicts = evaluate(&claims, &slow);
        let boot = verdicts_of(&verdicts, "vm-boot");
        assert!(
            matches!(boot[0].outcome, Outcome::Inconclusive(_)),
            "{:?}",
            boot[0].outcome
        );
        assert_eq!(boot[1].on, "vm:full-kvm");
        assert_eq!(boot[1].outcome, Outcome::Holds);
    }

    #[test]
    fn hypervisor_overhead_is_judged_only_on_kvm_rows_with_cpu_bound_work() {
        let claims = parse(BUILTIN).unwrap();
        let rows = [
            ("process", "native", None, 1_000_000, 100_000_000),
            ("vm", "minimal-kvm", Some("kvm"), 500_000_000, 107_000_000),
            ("vm", "minimal-tcg", Some("tcg"), 2_000_000_000, 900_000_000),
        ];
        // Light invocations: the serial line's round trip would be what is compared.
        let light = evaluate(&claims, &results(&rows, 50));
        let light = verdicts_of(&light, "hypervisor-overhead");
        assert_eq!(light.len(), 1);
        assert!(
            light[0].words().contains("--invoke-iters"),
            "{}",
            light[0].words()
        );

        let heavy = evaluate(&claims, &results(&rows, 2_000_000));
        let heavy = verdicts_of(&heavy, "hypervisor-overhead");
        assert_eq!(heavy.len(), 2);
        assert_eq!(heavy[0].on, "vm:minimal-kvm / process:native");
        assert_eq!(heavy[0].outcome, Outcome::Holds, "7% is inside 5-10%");
        assert!(
            heavy[0].measured().starts_with("+7.0%"),
            "{}",
            heavy[0].measured()
        );
        assert_eq!(heavy[1].on, "vm:minimal-tcg / process:native");
        assert_eq!(
            heavy[1].words(),
            "not measured: emulated CPU (TCG), not hardware virtualization"
        );
    }

    #[test]
    fn sandboxed_containers_are_judged_but_listed_apart_with_a_note() {
        let claims = parse(BUILTIN).unwrap();
        let mut file = results(
            &[
                ("docker", "runsc-none", None, 360_000_000, 400_000),
                ("docker", "runc-none", None, 180_000_000, 200_000),
                ("podman", "runc-none", None, 90_000_000, 200_000),
            ],
            50,
        );
        file.runtimes[0]
            .details
            .insert("sandbox".into(), "gvisor".into());
        let verdicts = evaluate(&claims, &file);
        let docker = verdicts_of(&verdicts, "container-startup");
        let on: Vec<&str> = docker.iter().map(|v| v.on.as_str()).collect();
        assert_eq!(on, ["docker:runc-none", "docker:runsc-none"]);
        assert_eq!(docker[0].words(), "faster than claimed");
        assert!(
            docker[1]
                .words()
                .starts_with("faster than claimed (sandboxed (gvisor"),
            "{}",
            docker[1].words()
        );
        let podman = verdicts_of(&verdicts, "container-startup-podman");
        assert_eq!(podman.len(), 1);
        assert_eq!(podman[0].on, "podman:runc-none");
    }

    /// Replaces the `total` of one row's mode by a summary of `values`.
    fn set_values(file: &mut ResultFile, row: usize, mode: Mode, values: Vec<u64>) {
        let m = file.runtimes[row].modes.get_mut(mode);
        m.ok = values.len() as u64;
        let summary = crate::stats::summarize(&crate::stats::record(values)).unwrap();
        m.phases.insert("total".into(), summary);
    }

    #[test]
    fn too_few_samples_are_not_enough_whatever_the_p50() {
        let claims = parse(BUILTIN).unwrap();
        let mut file = results(&[("wasm", "pre", None, 50_000, 1_000)], 50);
        set_values(&mut file, 0, Mode::Cold, vec![50_000; 5]);
        let verdicts = evaluate(&claims, &file);
        let v = verdicts_of(&verdicts, "wasm-startup-microseconds");
        assert_eq!(
            v[0].outcome,
            Outcome::TooFew {
                n: 5,
                min: 30,
                of: Counted::Samples
            }
        );
        assert_eq!(v[0].words(), "not enough samples (n=5 < 30)");
        // A claims file may set its own minimum, globally or per claim.
        let lenient = format!(
            "min_samples = 5\n{}",
            BUILTIN.replace("min_samples = 30\n", "")
        );
        let verdicts = evaluate(&parse(&lenient).unwrap(), &file);
        let v = verdicts_of(&verdicts, "wasm-startup-microseconds");
        assert_eq!(v[0].outcome, Outcome::Holds);
        assert!(parse("min_samples = 0\n[[claim]]\nid = \"x\"\nquote = \"q\"\nline = 1\nmeasure = { kind = \"size\", runtime = \"wasm\" }\nrange = {}\n").is_err());
    }

    #[test]
    fn an_interval_across_a_bound_is_inconclusive_and_one_inside_holds() {
        let claims = parse(BUILTIN).unwrap();
        // wasm-startup-microseconds claims 1 µs – 1 ms. Medians near 1 ms with a wide
        // spread: the interval of the median crosses 1 ms.
        let mut file = results(&[("wasm", "pre", None, 0, 0)], 50);
        let wide: Vec<u64> = (0..40).map(|i| 700_000 + i * 15_000).collect();
        set_values(&mut file, 0, Mode::Cold, wide);
        let verdicts = evaluate(&claims, &file);
        let v = verdicts_of(&verdicts, "wasm-startup-microseconds")[0].clone();
        assert!(
            matches!(v.outcome, Outcome::Inconclusive(_)),
            "{:?}",
            v.outcome
        );
        let Interval { lo, hi } = v.ci.unwrap();
        assert!(lo < 1e6 && hi > 1e6, "{lo} {hi}");
        assert!(v.measured().contains("95% CI"), "{}", v.measured());
        // The same spread around 100 µs lies wholly inside.
        let narrow: Vec<u64> = (0..40).map(|i| 70_000 + i * 1_500).collect();
        set_values(&mut file, 0, Mode::Cold, narrow);
        let verdicts = evaluate(&claims, &file);
        assert_eq!(
            verdicts_of(&verdicts, "wasm-startup-microseconds")[0].outcome,
            Outcome::Holds
        );
    }

    #[test]
    fn a_local_stand_in_is_never_judged_whatever_the_claims_say() {
        // A user's claims file without `exclude`, with a ratio on the emulator too.
        let claims = parse(
            r#"
[[claim]]
id = "faas"
quote = "q"
line = 1
measure = { kind = "latency", runtime = "lambda", mode = "cold", phase = "total" }
range = { min = 100e6 }

[[claim]]
id = "faas-vs-process"
quote = "q"
line = 1
measure = { kind = "ratio", numerator = { runtime = "lambda", mode = "cold", phase = "total" }, denominator = { runtime = "process", mode = "cold", phase = "total" } }
range = { min = 10 }

[[claim]]
id = "faas-size"
quote = "q"
line = 1
measure = { kind = "size_ratio", numerator = { runtime = "lambda" }, denominator = { runtime = "process" } }
range = { min = 1 }
"#,
        )
        .unwrap();
        let mut file = results(
            &[
                ("lambda", "local-emulator", None, 200_000_000, 1_000_000),
                ("process", "native", None, 1_000_000, 10_000),
            ],
            50,
        );
        file.runtimes[0].details.insert(
            "location".into(),
            "local: cargo-lambda's Runtime API emulator on this machine, not AWS".into(),
        );
        file.runtimes[0].artifact_bytes = Some(1 << 20);
        file.runtimes[1].artifact_bytes = Some(1 << 19);
        let verdicts = evaluate(&claims, &file);
        assert_eq!(verdicts.len(), 3);
        for v in &verdicts {
            assert!(v.figure.is_none(), "{}: {:?}", v.claim.id, v.figure);
            assert!(v.words().contains("ran locally"), "{}", v.words());
        }
    }

    /// One density round of 20 instances as a run records it: `host` and `pss`
    /// bytes per instance, settled.
    fn round(host: f64, pss: f64) -> crate::results::DensityRound {
        let before = 10u64 << 30;
        crate::results::DensityRound {
            round: 0,
            reached: 20,
            stopped: None,
            failed: 0,
            errors: Vec::new(),
            mem_available_before_bytes: before,
            mem_available_after_bytes: (before as f64 - host * 20.0) as u64,
            mem_available_noise_bytes: Some(0),
            settled: true,
            pss_bytes: Some((pss * 20.0) as u64),
            harness_pss_delta_bytes: None,
            cgroup_bytes: None,
            linear_memory_bytes: None,
            bring_up_ns: 1,
        }
    }

    /// Density rounds on a row (its summary as the run derives it).
    fn with_rounds(r: &mut RuntimeResult, raw: Vec<crate::results::DensityRound>) {
        r.density = Some(crate::results::Density::summarize(20, raw));
    }

    /// Three rounds within 2% of `host` and `pss` bytes per instance.
    fn with_density(r: &mut RuntimeResult, host: f64, pss: f64) {
        with_rounds(
            r,
            [0.99, 1.0, 1.01]
                .iter()
                .map(|k| round(host * k, pss * k))
                .collect(),
        );
    }

    #[test]
    fn memory_needs_rounds_instances_and_a_reading_out_of_its_noise() {
        let claims = parse(BUILTIN).unwrap();
        let mut file = results(
            &[
                ("docker", "runc-none", None, 180_000_000, 200_000),
                ("vm", "minimal-kvm", Some("kvm"), 2_000_000_000, 900_000),
            ],
            50,
        );
        with_density(&mut file.runtimes[1], 200e6, 150e6);
        let judged = |file: &ResultFile, id: &str| {
            let verdicts = evaluate(&claims, file);
            verdicts_of(&verdicts, id)[0].clone()
        };
        // Two rounds: not enough to judge, however clear each is.
        with_rounds(
            &mut file.runtimes[0],
            vec![round(4e6, 3e6), round(4e6, 3e6)],
        );
        let v = judged(&file, "container-instance-memory");
        assert_eq!(v.words(), "not enough rounds (n=2 < 3)");
        // Three rounds of 3 instances: one instance's share of a shim dominates.
        let mut few = vec![round(4e6, 3e6); 3];
        for r in &mut few {
            r.reached = 3;
        }
        file.runtimes[0].density = Some(crate::results::Density::summarize(3, few));
        let v = judged(&file, "container-instance-memory");
        assert_eq!(v.words(), "not enough instances a round (n=3 < 5)");
        // A round that did not reach every instance, or whose host reading did not
        // stand out of its noise (recomputed from the noise, not read from the
        // file's `settled`; unknown noise, as in older files, never does), is left
        // out of the host-view verdicts.
        let mut rounds = vec![round(4e6, 3e6); 5];
        rounds[0].reached = 12;
        rounds[0].stopped = Some("memory floor".into());
        rounds[1].mem_available_noise_bytes = Some(4 << 20); // > 2% of an 80 MB drop
        rounds[2].mem_available_noise_bytes = None;
        with_rounds(&mut file.runtimes[0], rounds);
        let v = judged(&file, "container-density");
        assert_eq!(v.words(), "not enough rounds (n=2 < 3)", "{v:?}");
        let v = judged(&file, "container-instance-memory");
        assert_eq!(
            v.outcome,
            Outcome::Holds,
            "PSS rounds need no settle: {v:?}"
        );
        // A host reading within its noise of zero: its rounds straddle 0. The ratio
        // over it would read anything (here ×4000): it decides nothing.
        with_rounds(
            &mut file.runtimes[0],
            vec![round(-30e3, 3e6), round(50e3, 3e6), round(20e3, 3e6)],
        );
        let v = judged(&file, "container-density");
        assert!(
            matches!(&v.outcome, Outcome::Inconclusive(why) if why.contains("cannot be told from zero")),
            "{v:?}"
        );
        // Rounds that spread across a claimed bound: inconclusive on the interval.
        with_rounds(
            &mut file.runtimes[0],
            vec![round(4e6, 0.5e6), round(4e6, 1.5e6), round(4e6, 3e6)],
        );
        let v = judged(&file, "container-instance-memory");
        assert!(v.ci.is_some(), "{v:?}");
        assert!(
            matches!(&v.outcome, Outcome::Inconclusive(why) if why.contains("straddles")),
            "{v:?}"
        );
    }

    #[test]
    fn density_is_judged_from_measured_memory_and_names_its_view() {
        let claims = parse(BUILTIN).unwrap();
        let mut file = results(
            &[
                ("docker", "runc-none", None, 180_000_000, 200_000),
                ("vm", "minimal-kvm", Some("kvm"), 2_000_000_000, 900_000),
                ("wasm", "pre", None, 50_000, 1_000),
            ],
            50,
        );
        with_density(&mut file.runtimes[0], 4e6, 3e6);
        with_density(&mut file.runtimes[1], 200e6, 150e6);
        with_density(&mut file.runtimes[2], 1e5, 1.2e6);
        let verdicts = evaluate(&claims, &file);
        let density = verdicts_of(&verdicts, "container-density");
        assert_eq!(density.len(), 1);
        assert_eq!(density[0].on, "vm:minimal-kvm / docker:runc-none");
        // 200 MB per VM over 4 MB per container: 50×, more than the 3-10× claimed.
        assert_eq!(density[0].figure, Some(Figure::SizeRatio(50.0)));
        assert_eq!(density[0].outcome, Outcome::Above);
        assert!(
            density[0].words().contains("host view"),
            "{}",
            density[0].words()
        );
        let wasm = verdicts_of(&verdicts, "wasm-instance-memory");
        assert_eq!(wasm[0].outcome, Outcome::Above, "1.2 MB is not kilobytes");
        assert!(wasm[0].words().contains("PSS view"));
        let container = verdicts_of(&verdicts, "container-instance-memory");
        assert_eq!(container[0].outcome, Outcome::Holds, "3 MB is megabytes");
        // The same guest under TCG: an upper bound, so "more than claimed" cannot follow.
        file.runtimes[1].variant = "minimal-tcg".into();
        file.runtimes[1]
            .details
            .insert("accel".into(), "tcg".into());
        let verdicts = evaluate(&claims, &file);
        let density = verdicts_of(&verdicts, "container-density");
        assert!(
            matches!(density[0].outcome, Outcome::Inconclusive(_)),
            "{:?}",
            density[0].outcome
        );
        // Without --density: not measured, and says how to measure it.
        file.runtimes[0].density = None;
        let verdicts = evaluate(&claims, &file);
        let density = verdicts_of(&verdicts, "container-density");
        assert!(
            density[0].words().contains("run with --density N"),
            "{}",
            density[0].words()
        );
    }

    #[test]
    fn a_variant_left_out_of_density_by_the_suite_is_not_a_missing_figure() {
        // Density measured for docker and the minimal VM only (a suite's `[density]
        // runtimes`): the full VM, also a `vm` row, is left out of the VM/container
        // ratio instead of reading "not measured: run with --density N".
        let claims = parse(BUILTIN).unwrap();
        let mut file = results(
            &[
                ("docker", "runc-none", None, 180_000_000, 200_000),
                ("vm", "minimal-kvm", Some("kvm"), 2_000_000_000, 900_000),
                ("vm", "full-kvm", Some("kvm"), 9_000_000_000, 900_000),
            ],
            50,
        );
        with_density(&mut file.runtimes[0], 4e6, 3e6);
        with_density(&mut file.runtimes[1], 200e6, 150e6);
        let verdicts = evaluate(&claims, &file);
        let density = verdicts_of(&verdicts, "container-density");
        assert_eq!(
            density.len(),
            2,
            "without the suite's list both VMs are read"
        );
        file.parameters.density_runtimes =
            Some(vec!["docker:runc-none".into(), "vm:minimal-kvm".into()]);
        let verdicts = evaluate(&claims, &file);
        let density = verdicts_of(&verdicts, "container-density");
        assert_eq!(density.len(), 1);
        assert_eq!(density[0].on, "vm:minimal-kvm / docker:runc-none");
        assert_eq!(density[0].outcome, Outcome::Above);
        // None of a claim's rows measured: the reason names what was.
        file.runtimes[1].density = None;
        let verdicts = evaluate(&claims, &file);
        let words = verdicts_of(&verdicts, "container-density")[0].words();
        assert!(
            words.contains("density was measured for docker:runc-none, vm:minimal-kvm only"),
            "{words}"
        );
    }

    #[test]
    fn a_claims_interval_resamples_blocks_not_single_samples() {
        // wasm:pre's 60 cold starts of one run in six blocks of ten, each block at its
        // own level (a run's state lasts longer than one sample): the median, ~875 µs,
        // is inside the claim's 1 ms, but three of six blocks are slower. Resampled by
        // block, the interval reaches past 1 ms: inconclusive. The same values with no
        // lasting state (each sample its own block) would hold.
        let claims = parse(BUILTIN).unwrap();
        let levels = [600_000u64, 700_000, 800_000, 950_000, 1_200_000, 1_400_000];
        let with_blocks = |blocky: bool| {
            let mut file = results(&[("wasm", "pre", None, 875_000, 1_000)], 50);
            let template = crate::results::load::parse(include_str!(
                "../../../../fixtures/compare/aa-a/run-01.json"
            ))
            .unwrap()
            .samples
            .into_iter()
            .find(|s| s.variant == "pre" && s.mode == Mode::Cold)
            .unwrap();
            let mut values = Vec::new();
            for (b, level) in levels.iter().enumerate() {
                for i in 0..10u64 {
                    let mut s = template.clone();
                    s.seq = values.len() as u64;
                    s.block = Some(if blocky { b as u64 } else { s.seq });
                    s.total_ns = Some(level + i * 100);
                    values.push(level + i * 100);
                    file.samples.push(s);
                }
            }
            let r = &mut file.runtimes[0];
            r.modes.get_mut(Mode::Cold).ok = 60;
            r.modes.get_mut(Mode::Cold).phases.insert(
                "total".into(),
                crate::stats::summarize(&crate::stats::record(values)).unwrap(),
            );
            file
        };
        let judged = |file: &ResultFile| {
            let verdicts = evaluate(&claims, file);
            verdicts_of(&verdicts, "wasm-startup-microseconds")[0]
                .outcome
                .clone()
        };
        let blocky = judged(&with_blocks(true));
        assert!(matches!(blocky, Outcome::Inconclusive(_)), "{blocky:?}");
        assert_eq!(judged(&with_blocks(false)), Outcome::Holds);
    }
}
