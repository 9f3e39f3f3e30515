//! `compare`'s calibration on the recorded runs of fixtures/compare/: the ten A/A
//! runs (aa-a/ and aa-b/, the same build and settings) re-split into every pair of
//! disjoint sides, so the false-alarm rate is measured over hundreds of comparisons
//! instead of one; detection on the recorded heavy-init runs and on real runs with
//! a synthetic shift. In-process (the library's `compare`), as the CLI decides.
//! No comparison has a run on both sides.

use crate::support::repo_file;
use coldstart::analysis::compare::{compare, Change, CompareResult, Settings};
use coldstart::results::{Mode, ResultFile};

fn load_dir(side: &str) -> Vec<ResultFile> {
    let dir = repo_file(&format!("fixtures/compare/{side}"));
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| coldstart::results::load::load(p).unwrap())
        .collect()
}

/// The ten A/A runs, in a fixed order (by run id).
fn aa_runs() -> Vec<ResultFile> {
    let mut runs = load_dir("aa-a");
    runs.extend(load_dir("aa-b"));
    runs.sort_by_key(|r| r.run_id.clone());
    assert_eq!(runs.len(), 10);
    runs
}

fn settings(threshold: f64) -> Settings {
    Settings {
        threshold,
        alpha: 0.05,
        phases: false,
        history: None,
        gate_single_run: false,
    }
}

/// Every way to pick `k` of `0..n`.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![Vec::new()];
    }
    if n < k {
        return Vec::new();
    }
    let mut out = subsets(n - 1, k);
    for mut s in subsets(n - 1, k - 1) {
        s.push(n - 1);
        out.push(s);
    }
    out
}

/// Every pair of disjoint sides of `a` and `b` runs out of `n`; with `a == b` and
/// not `ordered`, each unordered pair once (the side holding the lowest run is the
/// baseline). Whether anything is flagged either way does not depend on which side
/// is which; a shift applied to one side does, so detection takes both orders.
fn splits(n: usize, a: usize, b: usize, ordered: bool) -> Vec<(Vec<usize>, Vec<usize>)> {
    let mut out = Vec::new();
    for base in subsets(n, a) {
        let rest: Vec<usize> = (0..n).filter(|i| !base.contains(i)).collect();
        for pick in subsets(rest.len(), b) {
            let cand: Vec<usize> = pick.iter().map(|i| rest[*i]).collect();
            if a == b && !ordered && cand[0] < base[0] {
                continue;
            }
            out.push((base.clone(), cand));
        }
    }
    out
}

fn pick(runs: &[ResultFile], which: &[usize]) -> Vec<ResultFile> {
    which.iter().map(|i| runs[*i].clone()).collect()
}

/// A run made `factor` times slower in every valid sample (total and phases).
fn slowed(run: &ResultFile, factor: f64) -> ResultFile {
    let mut run = run.clone();
    for s in &mut run.samples {
        let scale = |v: &mut u64| *v = (*v as f64 * factor).round() as u64;
        if let Some(t) = s.total_ns.as_mut() {
            scale(t);
        }
        s.phases_ns.values_mut().for_each(scale);
    }
    run
}

/// Whether anything is flagged, either way.
fn flags_anything(r: &CompareResult) -> bool {
    r.compared
        .iter()
        .any(|c| matches!(c.change, Change::Regression | Change::Improvement))
}

/// A flag and its interval agree: flagged exactly when the interval lies beyond the
/// threshold on that side.
fn check_agreement(r: &CompareResult) {
    for c in r.compared.iter().filter(|c| c.p_regression_holm.is_some()) {
        let (up, down) = (1.0 + c.threshold, 1.0 / (1.0 + c.threshold));
        assert_eq!(c.change == Change::Regression, c.ci_low > up, "{c:?}");
        assert_eq!(c.change == Change::Improvement, c.ci_high < down, "{c:?}");
    }
}

/// Compares every split in two threads (this machine has two cores).
fn compare_all(
    splits: &[(Vec<usize>, Vec<usize>)],
    decide: impl Fn(&[usize], &[usize]) -> CompareResult + Sync,
) -> Vec<CompareResult> {
    let half = splits.len().div_ceil(2);
    std::thread::scope(|s| {
        let handles: Vec<_> = splits
            .chunks(half.max(1))
            .map(|chunk| {
                let decide = &decide;
                s.spawn(move || chunk.iter().map(|(a, b)| decide(a, b)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

#[test]
fn aa_resplits_flag_at_most_one_comparison_in_twenty() {
    let runs = aa_runs();
    for (a, b, expected) in [(5, 5, 126), (5, 3, 2520), (3, 3, 2100)] {
        let splits = splits(10, a, b, false);
        assert_eq!(splits.len(), expected);
        // At the default threshold, and at 0% (any change at all: the previous
        // bootstrap gate, 10ddfd2's binary on the same splits, flagged 16 of the 126
        // 5-vs-5 splits, 7 as a regression).
        for threshold in [0.10, 0.0] {
            let results = compare_all(&splits, |x, y| {
                compare(&pick(&runs, x), &pick(&runs, y), &settings(threshold))
            });
            results.iter().for_each(check_agreement);
            let alarms = results.iter().filter(|r| flags_anything(r)).count();
            let rate = alarms as f64 / splits.len() as f64;
            eprintln!(
                "A/A {a}v{b}, threshold {threshold}: {alarms} of {} flag anything ({:.1}%)",
                splits.len(),
                rate * 100.0
            );
            assert!(
                rate <= 0.05,
                "{a}v{b} at {threshold}: {alarms} of {}",
                splits.len()
            );
            for r in &results {
                assert_eq!(r.tested, 6, "every total is tested with {a} runs a side");
            }
        }
    }
}

#[test]
fn one_candidate_run_never_fails_the_gate_without_gate_single_run() {
    let runs = aa_runs();
    let splits = splits(10, 5, 1, false);
    assert_eq!(splits.len(), 1260);
    let results = compare_all(&splits, |x, y| {
        compare(&pick(&runs, x), &pick(&runs, y), &settings(0.10))
    });
    for r in &results {
        assert_eq!(r.regressions(), 0);
        assert_eq!(r.tested, 0);
        for c in &r.compared {
            let expected = if c.group.phase == "total" {
                Change::Advisory
            } else {
                Change::NotGated
            };
            assert_eq!(c.change, expected, "{c:?}");
            assert!(c.ci_low <= c.ratio && c.ratio <= c.ci_high, "{c:?}");
        }
        assert!(
            r.notes.iter().any(|n| n.contains("advisory")),
            "{:?}",
            r.notes
        );
    }
    // With --gate-single-run the history (the baseline's own five runs) gates it on
    // a prediction bound. Reported, not bounded: five runs under-estimate a spread
    // this heavy-tailed (one run in five of process:native cold is ×1.6 slower), and
    // it shows (the README).
    let gated = compare_all(&splits, |x, y| {
        let base = pick(&runs, x);
        let settings = Settings {
            history: Some(base.clone()),
            gate_single_run: true,
            ..settings(0.10)
        };
        compare(&base, &pick(&runs, y), &settings)
    });
    gated.iter().for_each(check_agreement);
    let alarms = gated.iter().filter(|r| flags_anything(r)).count();
    eprintln!("A/A 5v1 --gate-single-run: {alarms} of 1260 flag anything");
    assert!(gated.iter().all(|r| r.tested == 6));
}

/// The share of comparisons that flag `mode`'s total of each variant as a regression.
fn detection(results: &[CompareResult], mode: Mode) -> Vec<(String, f64)> {
    let mut names: Vec<String> = results[0]
        .compared
        .iter()
        .filter(|c| c.group.mode == mode && c.group.phase == "total")
        .map(|c| format!("{}:{}", c.group.runtime, c.group.variant))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let hits = results
                .iter()
                .filter(|r| {
                    r.compared.iter().any(|c| {
                        format!("{}:{}", c.group.runtime, c.group.variant) == name
                            && c.group.mode == mode
                            && c.group.phase == "total"
                            && c.change == Change::Regression
                    })
                })
                .count();
            (name, hits as f64 / results.len() as f64)
        })
        .collect()
}

#[test]
fn heavy_init_is_flagged_on_every_cold_total_against_every_five_aa_runs() {
    let runs = aa_runs();
    let heavy = load_dir("heavy-init");
    let fives = subsets(10, 5);
    assert_eq!(fives.len(), 252);
    let results = compare_all(
        &fives
            .iter()
            .map(|s| (s.clone(), Vec::new()))
            .collect::<Vec<_>>(),
        |x, _| compare(&pick(&runs, x), &heavy, &settings(0.10)),
    );
    for r in &results {
        check_agreement(r);
        let cold: Vec<_> = r
            .compared
            .iter()
            .filter(|c| c.group.phase == "total" && c.group.mode == Mode::Cold)
            .collect();
        assert_eq!(cold.len(), 3);
        assert!(
            cold.iter().all(|c| c.change == Change::Regression),
            "{cold:?}"
        );
        assert!(r
            .compared
            .iter()
            .filter(|c| c.group.phase == "total" && c.group.mode == Mode::Warm)
            .all(|c| c.change == Change::NoChange));
    }
}

#[test]
fn a_shift_of_real_runs_is_detected_as_often_as_their_noise_allows() {
    let runs = aa_runs();
    let mut at_1_5_5v5 = Vec::new();
    for (a, b) in [(5, 5), (5, 3), (3, 3)] {
        let splits = splits(10, a, b, true);
        for factor in [1.25, 1.5] {
            let results = compare_all(&splits, |x, y| {
                let cand: Vec<ResultFile> = y.iter().map(|i| slowed(&runs[*i], factor)).collect();
                compare(&pick(&runs, x), &cand, &settings(0.10))
            });
            results.iter().for_each(check_agreement);
            let cold = detection(&results, Mode::Cold);
            let warm = detection(&results, Mode::Warm);
            let show = |d: &[(String, f64)]| {
                d.iter()
                    .map(|(n, r)| format!("{n} {:.0}%", r * 100.0))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            eprintln!(
                "×{factor} {a}v{b} ({} splits): cold {} | warm {}",
                splits.len(),
                show(&cold),
                show(&warm)
            );
            if (a, b, factor) == (5, 5, 1.5) {
                at_1_5_5v5 = cold;
            }
        }
    }
    // ×1.5 with five runs a side is caught at least 9 times in 10 on the cold totals
    // whose runs are steady (between-run SD of log medians 0.08–0.11 here). Not on
    // process:native's (SD 0.21: one run in five is ×1.6 slower), which is reported:
    // it needs about 15 runs a side for that (the README).
    assert_eq!(at_1_5_5v5.len(), 3);
    for (name, rate) in &at_1_5_5v5 {
        if name != "process:native" {
            assert!(*rate >= 0.90, "{name}: {rate}");
        }
    }
}
