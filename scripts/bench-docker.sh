#!/usr/bin/env bash
# Benchmark of the docker runner (issue 3), side by side in one run on this machine:
#  1. docker cold total p50 (coldstart, runc, network none) vs `hyperfine -N` mean of
#     `docker run --rm` of the same image in one-shot mode with the same container
#     settings, alternating in rounds; target ratio <= 0.9 (the harness times the
#     start itself, without the CLI's process and round trips);
#  2. crun vs runc cold p50, interleaved in one coldstart run.
# Needs a Docker daemon and hyperfine. Prints medians; raw files go to $OUT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require hyperfine "apt-get install -y hyperfine"
docker info >/dev/null 2>&1 || { echo "error: no Docker daemon answers: start dockerd" >&2; exit 2; }
rounds=${ROUNDS:-3}
runs=${RUNS:-30}
build_for_bench

# Builds the image if needed and tells its tag.
"$bin" run --runtime docker:runc-none --cold 1 --warm 0 --warmup 0 --export-json "$out/image.json" >/dev/null
image=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(r for r in d["runtimes"] if r["variant"]=="runc-none")["details"]["image"])' "$out/image.json")
same_settings="--rm --network none --runtime runc --read-only --cap-drop ALL --security-opt no-new-privileges --memory 256m"

for round in $(seq 1 "$rounds"); do
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$out/hyperfine-$round.json" \
    "docker run $same_settings $image once" >/dev/null
  "$bin" run --runtime docker:runc-none --cold "$runs" --warm 0 --warmup 3 --seed "$round" \
    --export-json "$out/docker-$round.json" >/dev/null
done
crun=1
"$bin" run --runtime docker:runc-none,docker:crun-none --cold "$((runs * 2))" --warm 0 --warmup 3 --seed 7 \
  --export-json "$out/runc-vs-crun.json" >/dev/null 2>"$out/runc-vs-crun.err" || crun=0

python3 - "$out" "$rounds" "$crun" <<'PY'
import json, statistics, sys
out, rounds, crun = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
def rt(doc, variant):
    return next(r for r in doc["runtimes"] if r["runtime"] == "docker" and r["variant"] == variant)
ms = lambda ns: f"{ns / 1e6:.1f} ms"
hf, cs, cs_td = [], [], []
for i in range(1, rounds + 1):
    hf.append(json.load(open(f"{out}/hyperfine-{i}.json"))["results"][0]["mean"] * 1e9)
    r = rt(json.load(open(f"{out}/docker-{i}.json")), "runc-none")
    cs.append(r["modes"]["cold"]["phases"]["total"]["p50_ns"])
    cs_td.append(r["modes"]["cold"]["phases"]["total"]["p50_ns"] + r["teardown"]["p50_ns"])
print(f"docker cold total p50 (coldstart, runc, none), median of {rounds} rounds: {ms(statistics.median(cs))}  rounds: {[ms(x) for x in cs]}")
print(f"hyperfine -N 'docker run --rm ... once' mean, median of {rounds} rounds: {ms(statistics.median(hf))}  rounds: {[ms(x) for x in hf]}")
print(f"ratio coldstart p50 / hyperfine mean: {statistics.median(cs) / statistics.median(hf):.3f}  (target <= 0.9)")
print(f"for scale: coldstart cold p50 + teardown p50 = {ms(statistics.median(cs_td))} (what docker run --rm also waits for)")
if crun:
    d = json.load(open(f"{out}/runc-vs-crun.json"))
    for v in ["runc-none", "crun-none"]:
        r = rt(d, v)
        if r["available"]:
            c = r["modes"]["cold"]["phases"]
            print(f"{v}: cold total p50 {ms(c['total']['p50_ns'])} (start {ms(c['start']['p50_ns'])}, create {ms(c['create']['p50_ns'])}), n={c['total']['count']}")
        else:
            print(f"{v}: skipped: {r['skipped_reason']}")
else:
    print("crun vs runc: not measured: " + open(f"{out}/runc-vs-crun.err").read().strip().splitlines()[-1])
PY
