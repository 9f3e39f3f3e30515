#!/usr/bin/env bash
# Benchmark of the lambda runner's local emulator (issue 4): what Lambda's Runtime API
# round trip adds to the same probe, measured side by side with the process runner in
# one coldstart run per round (order blocks) (cargo-lambda's emulator; figures are local,
# not AWS's). Prints the medians over rounds of each p50 and their ratios; raw files
# go to $OUT. Needs cargo-lambda (pip install cargo-lambda).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require cargo-lambda "pip install cargo-lambda"
rounds=${ROUNDS:-3}
cold=${COLD:-200}
warm=${WARM:-2000}
build_for_bench

for round in $(seq 1 "$rounds"); do
  "$bin" run --runtime process,lambda:local-emulator --cold "$cold" --warm "$warm" --warmup 5 \
    --seed "$round" --export-json "$out/round-$round.json" >/dev/null
done

python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def p50(doc, runtime, mode, phase="total"):
    r = next(r for r in doc["runtimes"] if r["runtime"] == runtime)
    return r["modes"][mode]["phases"][phase]["p50_ns"]
us = lambda ns: f"{ns / 1e3:.0f} µs"
rows = {k: [] for k in ["pc", "pw", "lc", "lw", "spawn", "first"]}
for i in range(1, rounds + 1):
    d = json.load(open(f"{out}/round-{i}.json"))
    rows["pc"].append(p50(d, "process", "cold"))
    rows["pw"].append(p50(d, "process", "warm"))
    rows["lc"].append(p50(d, "lambda", "cold"))
    rows["lw"].append(p50(d, "lambda", "warm"))
    rows["spawn"].append(p50(d, "lambda", "cold", "spawn"))
    rows["first"].append(p50(d, "lambda", "cold", "first_response"))
m = {k: statistics.median(v) for k, v in rows.items()}
print(f"medians of {rounds} rounds of p50s (each round one run):")
print(f"  process cold {us(m['pc'])}   lambda:local-emulator cold {us(m['lc'])} "
      f"(spawn {us(m['spawn'])}, first_response {us(m['first'])})   ratio {m['lc'] / m['pc']:.2f}")
print(f"  process warm {us(m['pw'])}   lambda:local-emulator warm {us(m['lw'])}   ratio {m['lw'] / m['pw']:.1f}")
print(f"  the Runtime API adds {us(m['lc'] - m['pc'])} to a cold start and {us(m['lw'] - m['pw'])} to a warm one")
PY
