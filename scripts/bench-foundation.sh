#!/usr/bin/env bash
# Benchmark of the measurement itself (issues 2 and 10), side by side on this machine,
# like for like. Prints medians (and says which); raw files go to $OUT.
#  1. Harness tax. `hyperfine -N` times a whole `coldstart-probe once` (spawn, init,
#     one invocation, exit, reaping); coldstart's process cold start stops at the
#     first response and its teardown (EXIT until reaped) is timed apart. So compare
#     per-sample medians: coldstart cold total / hyperfine median (cold excludes the
#     exit, so it must come in under 1) and coldstart cold + teardown / hyperfine
#     median (the same span hyperfine times; target <= 1.15). Rounds alternate so a
#     drift of the machine hits both alike.
#  2. Shadow. The default suite with Docker (order `blocks`), then right after it a
#     `wasm:pre` run alone: the suite's wasm:pre p50s over the alone run's (targets:
#     cold <= 1.5, warm <= 2).
#  3. Scaling. wasm:pre with 10,000 and 100,000 warm samples: wall time ratio
#     (target <= 11: the checkpoints run off the measuring thread).
# PIN=1 runs step 1 with both tools pinned to one CPU (taskset -c 1): on a VM whose
# vCPUs are costly to cross, hyperfine's child landing on the other vCPU makes
# hyperfine itself slower, so the unpinned ratio flatters coldstart.
# Needs hyperfine (apt-get install hyperfine) and, for 2, a Docker daemon.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require hyperfine "apt-get install -y hyperfine"
rounds=${ROUNDS:-5}
runs=${RUNS:-200}
build_for_bench
probe="$repo/probes/out/coldstart-probe"
pin=()
[ -n "${PIN:-}" ] && pin=(taskset -c 1)

for round in $(seq 1 "$rounds"); do
  "${pin[@]}" hyperfine -N --warmup 20 --runs "$runs" --export-json "$out/hyperfine-$round.json" "$probe once" >/dev/null
  "${pin[@]}" "$bin" run --runtime process --cold "$runs" --warm 0 --warmup 20 --seed "$round" \
    --export-json "$out/process-$round.json" >/dev/null
done

"$bin" run --seed 1 --export-json "$out/default-suite.json" >/dev/null 2>"$out/default-suite.log" || true
"$bin" run --runtime wasm:pre --seed 1 --export-json "$out/pre-alone.json" >/dev/null

timed() { # wall seconds of a command
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  python3 -c "print($end - $start)"
}
w10k=$(timed "$bin" run --runtime wasm:pre --cold 0 --warm 10000 --warmup 3 --seed 1 --export-json "$out/warm-10k.json")
w100k=$(timed "$bin" run --runtime wasm:pre --cold 0 --warm 100000 --warmup 3 --seed 1 --export-json "$out/warm-100k.json")

python3 - "$out" "$rounds" "$w10k" "$w100k" "${PIN:-}" <<'PY'
import json, statistics, sys
out, rounds, w10k, w100k, pinned = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), bool(sys.argv[5])
med = statistics.median
def rt(doc, runtime, variant):
    return next(r for r in doc["runtimes"] if r["runtime"] == runtime and r["variant"] == variant)
us = lambda ns: f"{ns / 1000:.1f} us"
hf_median, hf_mean, cold, cold_td = [], [], [], []
for i in range(1, rounds + 1):
    h = json.load(open(f"{out}/hyperfine-{i}.json"))["results"][0]
    hf_median.append(h["median"] * 1e9); hf_mean.append(h["mean"] * 1e9)
    samples = [s for s in json.load(open(f"{out}/process-{i}.json"))["samples"] if s["ok"] and s["mode"] == "cold"]
    cold.append(med([s["total_ns"] for s in samples]))
    cold_td.append(med([s["total_ns"] + s["teardown_ns"] for s in samples]))
hf = med(hf_median)
print(f"1. harness tax ({rounds} alternating rounds of {len(samples)} samples; medians of per-round medians{'; both pinned to CPU 1' if pinned else ''})")
print(f"   hyperfine -N 'coldstart-probe once': median {us(hf)} (mean {us(med(hf_mean))})  rounds {[us(x) for x in hf_median]}")
print(f"   coldstart process cold total:         {us(med(cold))}  rounds {[us(x) for x in cold]}")
print(f"   coldstart process cold + teardown:    {us(med(cold_td))}  rounds {[us(x) for x in cold_td]}")
print(f"   ratio cold / hyperfine median:            {med(cold) / hf:.3f}  (target <= 1.0)")
print(f"   ratio cold + teardown / hyperfine median: {med(cold_td) / hf:.3f}  (target <= 1.15)")
suite = json.load(open(f"{out}/default-suite.json"))
alone = json.load(open(f"{out}/pre-alone.json"))
p50 = lambda doc, mode: rt(doc, "wasm", "pre")["modes"][mode]["phases"]["total"]["p50_ns"]
measured = [f"{r['runtime']}:{r['variant']}" for r in suite["runtimes"] if r["available"]]
print(f"2. shadow: default suite (order {suite['parameters']['order']}, {len(measured)} variants: {', '.join(measured)})")
for mode, target in [("cold", 1.5), ("warm", 2.0)]:
    a, b = p50(suite, mode), p50(alone, mode)
    print(f"   wasm:pre {mode} p50: in the suite {us(a)}, alone right after {us(b)}: ratio {a / b:.2f} (target <= {target})")
print(f"3. scaling: wasm:pre warm 10,000 samples {w10k:.2f} s, 100,000 samples {w100k:.2f} s wall: ratio {w100k / w10k:.2f} (target <= 11)")
for name in ["warm-10k", "warm-100k"]:
    doc = json.load(open(f"{out}/{name}.json"))
    print(f"   {name}: measurement {doc['wall_time_ns'] / 1e9:.2f} s, warm p50 {us(p50(doc, 'warm'))}")
print(f"raw files: {out}")
PY
