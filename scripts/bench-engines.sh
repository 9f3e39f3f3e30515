#!/usr/bin/env bash
# Benchmark of the container engines (issue 14), side by side on this machine:
# docker:runc-none, docker:crun-none, docker:runsc-none (gVisor) and podman:runc-none
# in one coldstart run, then each engine's own CLI (`docker run --rm` / `podman run
# --rm`, the same image by id, the same settings, the probe one-shot) under
# `hyperfine -N` in one hyperfine run, alternating in ROUNDS rounds. The harness's cold
# + teardown (the span the CLI covers) must not be slower than the CLI for the same
# lifecycle. Variants that cannot run here (crun on hybrid cgroups) are reported with
# their reason. Needs dockerd (runsc registered), Podman's service, hyperfine.
# Prints medians; raw files go to $OUT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require hyperfine "apt-get install -y hyperfine"
require podman "apt-get install -y podman"
rounds=${ROUNDS:-3}
runs=${RUNS:-30}
podman_host=${CONTAINER_HOST:-unix:///run/podman/podman.sock}
export CONTAINER_HOST=$podman_host
build_for_bench

# Which of the four can run here, as `coldstart runtimes` (with its preflight) says.
"$bin" runtimes >"$out/runtimes.txt" 2>/dev/null
wanted=(docker:runc-none docker:crun-none docker:runsc-none podman:runc-none)
runnable=()
for v in "${wanted[@]}"; do
  if grep -qE "^  $v\$" "$out/runtimes.txt"; then runnable+=("$v"); fi
done
list=$(IFS=,; echo "${runnable[*]}")
hardening="--read-only --cap-drop ALL --security-opt no-new-privileges --memory 256m"

for round in $(seq 1 "$rounds"); do
  "$bin" run --runtime "$list" --cold "$runs" --warm 100 --warmup 3 --seed "$round" \
    --export-json "$out/engines-$round.json" >/dev/null 2>"$out/engines-$round.err"
  image_of() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(r for r in d["runtimes"] if r["runtime"] + ":" + r["variant"] == sys.argv[2])["details"]["image_id"])' \
      "$out/engines-$round.json" "$1"
  }
  commands=()
  for v in "${runnable[@]}"; do
    engine=${v%%:*}
    oci=${v#*:}; oci=${oci%-none}
    id=$(image_of "$v")
    if [ "$engine" = docker ]; then
      commands+=("docker run --rm --network none --runtime $oci $hardening $id once")
    else
      commands+=("podman run --rm --network none $hardening $id once")
    fi
  done
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$out/hyperfine-$round.json" "${commands[@]}" >/dev/null
done

python3 - "$out" "$rounds" "${runnable[@]}" <<'PY'
import json, statistics, sys
out, rounds, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
ms = lambda ns: f"{ns / 1e6:.1f} ms"
print("not runnable here:")
for line in open(f"{out}/runtimes.txt"):
    for w in ["docker:runc-none", "docker:crun-none", "docker:runsc-none", "podman:runc-none"]:
        if line.strip().startswith(w + "  not available"):
            print(f"  {w}: {line.split('not available: ', 1)[1].strip()[:200]}")
for i, name in enumerate(names):
    cold, both, warm, cli = [], [], [], []
    for r in range(1, rounds + 1):
        d = json.load(open(f"{out}/engines-{r}.json"))
        e = next(x for x in d["runtimes"] if f"{x['runtime']}:{x['variant']}" == name)
        c = e["modes"]["cold"]["phases"]["total"]["p50_ns"]
        cold.append(c)
        both.append(c + e["teardown"]["p50_ns"])
        warm.append(e["modes"]["warm"]["phases"]["total"]["p50_ns"])
        cli.append(json.load(open(f"{out}/hyperfine-{r}.json"))["results"][i]["median"] * 1e9)
    m_both, m_cli = statistics.median(both), statistics.median(cli)
    print(f"{name}: coldstart cold p50 {ms(statistics.median(cold))}, cold + teardown p50 {ms(m_both)} "
          f"(rounds {[ms(x) for x in both]}); CLI median {ms(m_cli)} (rounds {[ms(x) for x in cli]}); "
          f"ratio {m_both / m_cli:.2f} (target <= 1.0); warm p50 {statistics.median(warm) / 1e3:.0f} µs")
PY
echo "raw results in $out" >&2
