#!/usr/bin/env bash
# Benchmark of the foundation (issue 2), side by side in one run on this machine:
#  1. process cold total p50 (coldstart) vs `hyperfine -N` mean of the probe's one-shot
#     mode, alternating in rounds so drifts of the machine hit both alike;
#     target ratio <= 1.05 (the harness adds no tax);
#  2. wasm `pre` cold total p50 (target <= 10 us) and warm p50 (target <= 1 us), alone
#     and inside the default suite, next to the bare wasmtime loop (cargo bench);
#  3. the default suite's wall time.
# Prints medians; writes the raw files to $OUT (default: a temp directory).
# Needs hyperfine (apt-get install hyperfine).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require hyperfine "apt-get install -y hyperfine"
rounds=${ROUNDS:-5}
runs=${RUNS:-200}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
"$repo/scripts/build-probes.sh"
cd "$repo"
cargo build --quiet --release -p coldstart
bin="$(target_dir)/release/coldstart"
probe="$repo/probes/out/coldstart-probe"

for round in $(seq 1 "$rounds"); do
  hyperfine -N --warmup 20 --runs "$runs" --export-json "$out/hyperfine-$round.json" "$probe once" >/dev/null
  "$bin" run --runtime process --cold "$runs" --warm 0 --warmup 20 --seed "$round" \
    --export-json "$out/process-$round.json" >/dev/null
done
"$bin" run --runtime wasm:pre --cold 1000 --warm 5000 --seed 1 --export-json "$out/pre-alone.json" >/dev/null
start=$(date +%s.%N)
"$bin" run --seed 1 --export-json "$out/default-suite.json" >/dev/null
end=$(date +%s.%N)
cargo bench --quiet -p coldstart --bench bare_wasmtime 2>/dev/null | tee "$out/bare-wasmtime.txt"

python3 - "$out" "$rounds" "$start" "$end" <<'PY'
import json, statistics, sys
out, rounds, start, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
def rt(doc, runtime, variant):
    return next(r for r in doc["runtimes"] if r["runtime"] == runtime and r["variant"] == variant)
hf_mean, hf_median, cs_p50 = [], [], []
for i in range(1, rounds + 1):
    h = json.load(open(f"{out}/hyperfine-{i}.json"))["results"][0]
    hf_mean.append(h["mean"] * 1e9); hf_median.append(h["median"] * 1e9)
    cs = json.load(open(f"{out}/process-{i}.json"))
    cs_p50.append(rt(cs, "process", "native")["modes"]["cold"]["phases"]["total"]["p50_ns"])
us = lambda ns: f"{ns / 1000:.1f} us"
print(f"process cold total p50 (coldstart), median of {rounds} rounds: {us(statistics.median(cs_p50))}  rounds: {[us(x) for x in cs_p50]}")
print(f"hyperfine -N 'coldstart-probe once' mean, median of {rounds} rounds: {us(statistics.median(hf_mean))}  (its median: {us(statistics.median(hf_median))})  rounds: {[us(x) for x in hf_mean]}")
print(f"ratio coldstart p50 / hyperfine mean: {statistics.median(cs_p50) / statistics.median(hf_mean):.3f}  (target <= 1.05)")
for label, path in [("alone", "pre-alone.json"), ("in the default suite", "default-suite.json")]:
    pre = rt(json.load(open(f"{out}/{path}")), "wasm", "pre")["modes"]
    cold, warm = pre["cold"]["phases"], pre["warm"]["phases"]["total"]
    phases = ", ".join(f"{k} {v['p50_ns'] / 1000:.2f} us" for k, v in cold.items() if k != "total")
    print(f"wasm pre {label}: cold total p50 {cold['total']['p50_ns'] / 1000:.2f} us (target <= 10 us) [{phases}], warm p50 {warm['p50_ns'] / 1000:.3f} us (target <= 1 us)")
suite = json.load(open(f"{out}/default-suite.json"))
print(f"default suite: {len(suite['samples'])} samples, wall time {end - start:.1f} s (measurement {suite['wall_time_ns'] / 1e9:.1f} s)")
print(f"raw files: {out}")
PY
