#!/usr/bin/env bash
# Benchmark of density and bursts (issue 12) on this machine:
# 1. 100 concurrent docker:runc-none cold starts (BURST_ROUNDS rounds): every sample
#    answered and verified, no container of the run left afterwards;
# 2. 10,000 concurrent wasm:pre instantiations (the pooling allocator sized for them,
#    on a pool of one thread per core): every sample answered and verified;
# 3. density: `--density DENSITY` (default 20) of process, wasm:pre, docker:runc-none
#    and vm:minimal-tcg in one run, so the container-density claim gets its verdict;
#    the report's burst table and plot from a 1,10,50 run of process, wasm:pre and
#    docker:runc-none.
# Prints the figures (medians); raw files and reports go to $OUT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require docker "apt-get install -y docker.io"
rounds=${BURST_ROUNDS:-3}
density=${DENSITY:-20}
build_for_bench

field() { # FILE RUNTIME VARIANT PYTHON-EXPRESSION-ON-r
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=next(r for r in d["runtimes"] if r["runtime"]==sys.argv[2] and r["variant"]==sys.argv[3]); print(eval(sys.argv[4]))' "$@"
}

echo "== 100 concurrent docker:runc-none cold starts × $rounds rounds"
# Each sample's timeout runs from its own start: 100 container starts on 2 cores take
# longer than the default 10 s for the last ones.
"$bin" run --runtime docker:runc-none --cold 0 --warm 0 --burst 100 --burst-rounds "$rounds" \
  --timeout 120s --export-json "$out/docker-100.json" >"$out/docker-100.txt" 2>&1 || true
run_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$out/docker-100.json")
left=$(docker ps -aq --filter "label=coldstart.run=$run_id" | wc -l)
field "$out/docker-100.json" docker runc-none '"ok %d invalid %d failed %d of %d; p50 %.1f ms p99 %.1f ms; makespan p50 %.2f s; %.1f starts/s" % (r["bursts"][0]["ok"], r["bursts"][0]["invalid"], r["bursts"][0]["failed"], 100*r["bursts"][0]["rounds"], r["bursts"][0]["phases"]["total"]["p50_ns"]/1e6, r["bursts"][0]["phases"]["total"]["p99_ns"]/1e6, r["bursts"][0]["makespan_ns"]["p50_ns"]/1e9, r["bursts"][0]["starts_per_second"]["median"])'
echo "containers of the run left: $left"

echo "== 10,000 concurrent wasm:pre instantiations × 2 rounds"
"$bin" run --runtime wasm:pre --cold 0 --warm 0 --burst 10000 --burst-rounds 2 \
  --export-json "$out/wasm-10000.json" >"$out/wasm-10000.txt" 2>&1 || true
field "$out/wasm-10000.json" wasm pre '"ok %d invalid %d failed %d of %d; p50 %.1f ms p99 %.1f ms; makespan p50 %.2f s; %.0f starts/s; pool %s; %s" % (r["bursts"][0]["ok"], r["bursts"][0]["invalid"], r["bursts"][0]["failed"], 10000*r["bursts"][0]["rounds"], r["bursts"][0]["phases"]["total"]["p50_ns"]/1e6, r["bursts"][0]["phases"]["total"]["p99_ns"]/1e6, r["bursts"][0]["makespan_ns"]["p50_ns"]/1e9, r["bursts"][0]["starts_per_second"]["median"], r["details"]["pool_instances"], r["bursts"][0]["method"])'

echo "== density $density: process, wasm:pre, docker:runc-none, vm:minimal-tcg"
"$bin" run --runtime process,wasm:pre,docker:runc-none,vm:minimal-tcg --cold 10 --warm 10 \
  --density "$density" --export-json "$out/density.json" >"$out/density.txt" 2>&1 || true
for v in process:native wasm:pre docker:runc-none vm:minimal-tcg; do
  field "$out/density.json" "${v%%:*}" "${v#*:}" '"'"$v"': host %.0f KiB, PSS %.0f KiB per instance (medians of %d rounds; reached %s); bring-up of all %.2f s" % (r["density"]["host_bytes_per_instance"]["median"]/1024, r["density"]["pss_bytes_per_instance"]["median"]/1024, r["density"]["rounds"], [x["reached"] for x in r["density"]["raw"]], r["density"]["bring_up_ns"]["median"]/1e9)' || true
done
"$bin" report "$out/density.json" | grep -E "^(container-density|wasm-instance-memory|container-instance-memory) " || true

echo "== bursts 1,10,50: process, wasm:pre, docker:runc-none (report with the plot)"
"$bin" run --runtime process,wasm:pre,docker:runc-none --cold 10 --warm 10 --burst 1,10,50 \
  --timeout 60s --export-json "$out/bursts.json" >"$out/bursts.txt" 2>&1 || true
"$bin" report "$out/bursts.json" --format html -o "$out/bursts.html"
sed -n '/^Bursts:/,/^$/p' "$out/bursts.txt"
echo "raw files and reports: $out"
