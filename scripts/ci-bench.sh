#!/usr/bin/env bash
# A scheduled benchmark run, the same on a CI runner and on this machine:
#   scripts/ci-bench.sh [SUITE]          (default: fixtures/suite-default.toml)
# 1. builds the probes and coldstart;
# 2. runs the suite into $RESULTS_DIR/<YYYY>/<YYYY-MM-DD>-<host label>.json (a second
#    run the same day gets -2, -3, ...), with the markdown and HTML reports beside it;
# 3. compares it, with CANDIDATE_RUNS-1 more back-to-back runs, against the last
#    BASELINE_RUNS published runs of this host label (`coldstart compare BASE/ CAND/`:
#    the gate needs 3 runs a side or more; with fewer on a side compare is advisory
#    and exits 0), printed and written as <name>.compare.md with how many runs each
#    side had, then makes it the new latest.json.
# Exits non-zero only on a flagged regression (1) or a failed run (its exit code);
# the results and reports are written either way.
# Environment: RESULTS_DIR (default results/), HOST_LABEL (default <hostname>-<N>cpu),
# COMPARE_THRESHOLD (default 10%), BASELINE_RUNS (default 5), CANDIDATE_RUNS (default
# 3; the extra runs are compared, not published), COLDSTART_RUN_ARGS (extra `coldstart run` flags),
# COLDSTART_BIN (a built coldstart to use as it is: nothing is built; the probes are
# then found as that binary finds them, e.g. through COLDSTART_PROBES_DIR).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
suite=${1:-$repo/fixtures/suite-default.toml}
results=${RESULTS_DIR:-$repo/results}
label=${HOST_LABEL:-$(hostname -s)-$(nproc)cpu}
label=$(tr -c 'A-Za-z0-9_.\n-' '-' <<<"$label")
threshold=${COMPARE_THRESHOLD:-10%}
baseline_runs=${BASELINE_RUNS:-5}
candidate_runs=${CANDIDATE_RUNS:-3}
[ -f "$suite" ] || { echo "error: no suite file $suite" >&2; exit 2; }

if [ -n "${COLDSTART_BIN:-}" ]; then
  bin=$COLDSTART_BIN
else
  "$repo/scripts/build-probes.sh"
  (cd "$repo" && cargo build --quiet --release -p coldstart)
  bin="$(target_dir)/release/coldstart"
fi

day=$(date -u +%Y-%m-%d)
mkdir -p "$results/${day%%-*}"
base="$results/${day%%-*}/$day-$label"
out=$base
n=1
while [ -e "$out.json" ]; do
  n=$((n + 1))
  out="$base-$n"
done

status=0
# shellcheck disable=SC2086 # COLDSTART_RUN_ARGS is a list of flags
"$bin" run --suite "$suite" ${COLDSTART_RUN_ARGS:-} --export-json "$out.json" || status=$?
if [ ! -s "$out.json" ]; then
  echo "ci-bench: the run wrote no results (exit $status)" >&2
  exit "$((status == 0 ? 1 : status))"
fi
"$bin" report "$out.json" --format markdown -o "$out.md"
"$bin" report "$out.json" --format html -o "$out.html"

# The baseline: the newest published runs of this host label, before this one,
# copied (coldstart reads no link out of a directory it is given).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/base" "$scratch/cand"
find "$results" -name "*-$label*.json" ! -name '*.compare.json' ! -path "$out.json" |
  sort | tail -n "$baseline_runs" | while read -r f; do cp "$f" "$scratch/base/"; done
cp "$out.json" "$scratch/cand/"
for i in $(seq 2 "$candidate_runs"); do
  # shellcheck disable=SC2086
  "$bin" run --suite "$suite" ${COLDSTART_RUN_ARGS:-} --export-json "$scratch/cand/run-$i.json" >/dev/null ||
    echo "ci-bench: candidate run $i failed" >&2
done
regression=0
if [ -n "$(ls -A "$scratch/base")" ]; then
  (
    echo "Baseline runs ($(ls "$scratch/base" | wc -l)): $(ls "$scratch/base" | tr '\n' ' ' | sed 's/ $//')"
    echo "Candidate runs ($(ls "$scratch/cand" | wc -l)): $(ls "$scratch/cand" | tr '\n' ' ' | sed 's/ $//')"
    echo
    if [ "$candidate_runs" -lt 3 ]; then
      echo "CANDIDATE_RUNS=$candidate_runs: below 3 runs a side compare cannot see run-to-run variance, so it does not gate (advisory)."
      echo
    fi
    "$bin" compare "$scratch/base" "$scratch/cand" --threshold "$threshold" --format markdown
  ) >"$out.compare.md" || regression=$?
  cat "$out.compare.md"
  if [ "$regression" -gt 1 ]; then
    echo "ci-bench: the published runs could not be compared (exit $regression)" >&2
    regression=0
  fi
else
  echo "ci-bench: no earlier published run of $label: nothing to compare with" | tee "$out.compare.md"
fi
cp "$out.json" "$results/latest.json.tmp"
mv "$results/latest.json.tmp" "$results/latest.json"
echo "ci-bench: $out.json (reports: $out.md, $out.html, $out.compare.md)"

if [ "$status" -ne 0 ]; then
  echo "ci-bench: the run failed (exit $status)" >&2
  exit "$status"
fi
exit "$regression"
