#!/usr/bin/env bash
# How often `coldstart compare` cries wolf, and whether it still catches a real change
# (issue 15), on this machine:
#  - A/A: PAIRS pairs of sides, each side RUNS back-to-back runs of the same build and
#    settings. Each pair compared with RUNS runs a side (directories), and with one run
#    a side (the first of each). Target: at most 1 of 10 pairs flags anything with 5
#    runs a side.
#  - A/B: each pair's first side against RUNS runs with --init-iters $INIT_ITERS (cold
#    total must be flagged for every variant) and with --invoke-iters $INVOKE_ITERS (warm
#    total must be flagged). Target: 10 of 10 pairs.
# Runs are in $OUT (default: a temp directory), comparisons as JSON beside them.
# Environment: PAIRS (10), RUNS (5), ARGS (the runs' flags), INIT_ITERS (2000000),
# INVOKE_ITERS (2000000; 200000 takes a tenth of the time and is still a >100x change
# of a warm round trip).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
pairs=${PAIRS:-10}
runs=${RUNS:-5}
args=${ARGS:---runtime process,wasm:aot,wasm:pre --cold 30 --warm 100}
init_iters=${INIT_ITERS:-2000000}
invoke_iters=${INVOKE_ITERS:-2000000}
build_for_bench

seed=0
run() { # DIR EXTRA...: one more run into DIR
  local dir=$1
  shift
  mkdir -p "$dir"
  seed=$((seed + 1))
  # shellcheck disable=SC2086 # ARGS is a list of flags
  "$bin" run $args "$@" --seed "$seed" --export-json "$dir/run-$(printf %02d "$seed").json" >/dev/null 2>&1 ||
    echo "bench-compare-aa: a run into $dir failed" >&2
}
for p in $(seq 1 "$pairs"); do
  for r in $(seq 1 "$runs"); do
    run "$out/aa/$p/a"
    run "$out/aa/$p/b"
    run "$out/init/$p" --init-iters "$init_iters"
    run "$out/invoke/$p" --invoke-iters "$invoke_iters"
  done
done

compare() { # NAME BASE CAND
  # --force: the heavy init and invocation runs stand in for a slower build by their
  # probe parameters, which compare otherwise refuses as another workload.
  "$bin" compare "$2" "$3" --format json --force >"$out/$1.json" || true
}
for p in $(seq 1 "$pairs"); do
  compare "aa-$p-runs" "$out/aa/$p/a" "$out/aa/$p/b"
  compare "aa-$p-one" "$(ls "$out/aa/$p/a"/*.json | head -n1)" "$(ls "$out/aa/$p/b"/*.json | head -n1)"
  compare "init-$p-runs" "$out/aa/$p/a" "$out/init/$p"
  compare "init-$p-one" "$(ls "$out/aa/$p/a"/*.json | head -n1)" "$(ls "$out/init/$p"/*.json | head -n1)"
  compare "invoke-$p-runs" "$out/aa/$p/a" "$out/invoke/$p"
  compare "invoke-$p-one" "$(ls "$out/aa/$p/a"/*.json | head -n1)" "$(ls "$out/invoke/$p"/*.json | head -n1)"
done

python3 - "$out" "$pairs" "$runs" "$init_iters" "$invoke_iters" <<'PY'
import json, sys
out, pairs, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
iters = {"init": sys.argv[4], "invoke": sys.argv[5]}
def load(name):
    return json.load(open(f"{out}/{name}.json"))
def flagged(doc):
    return [f"{c['group']['runtime']}:{c['group']['variant']} {c['group']['mode']} {c['group']['phase']} ×{c['ratio']:.2f}"
            for c in doc["compared"] if c["change"] == "regression"]
def caught(doc, mode):
    totals = [c for c in doc["compared"] if c["group"]["phase"] == "total" and c["group"]["mode"] == mode]
    return bool(totals) and all(c["change"] == "regression" for c in totals), [round(c["ratio"], 1) for c in totals]
for kind, label in [("runs", f"{runs} runs a side"), ("one", "1 run a side")]:
    aa = [flagged(load(f"aa-{p}-{kind}")) for p in range(1, pairs + 1)]
    false = sum(1 for f in aa if f)
    print(f"A/A, {label}: {false} of {pairs} comparisons flag anything")
    for p, f in enumerate(aa, 1):
        if f:
            print(f"   pair {p}: {'; '.join(f)}")
    for change, mode in [("init", "cold"), ("invoke", "warm")]:
        results = [caught(load(f"{change}-{p}-{kind}"), mode) for p in range(1, pairs + 1)]
        hits = sum(1 for ok, _ in results if ok)
        print(f"A/B --{change}-iters {iters[change]}, {label}: {mode} total of every variant flagged in {hits} of {pairs}; ratios {[r for _, r in results][:3]}...")
print(f"raw files: {out}")
PY
