#!/usr/bin/env bash
# Benchmark of the vm runner (issue 11), side by side in one run on this machine:
#  1. vm:minimal and vm:full (each KVM where a preflight guest answers, TCG always) next
#     to process:native and docker:runc-none: cold p50/p99 with the phases' p50s, warm
#     p50, teardown p50, and the guest's own clock at READY (p50);
#  2. the peer tool: `hyperfine -N` of the same QEMU command line booting the minimal
#     guest with the probe in one-shot mode (boot, one invocation, power off): QEMU's own
#     whole life of a guest, against coldstart's cold + teardown;
#  3. a CPU-bound invocation (--invoke-iters 2000000) inside vm:minimal and as
#     process:native: the warm p50 ratio, which is the hypervisor's overhead under KVM
#     and only the emulator's slowdown under TCG.
# Needs QEMU, a guest kernel, hyperfine, Docker, and for vm:full the image
# (scripts/build-vm-image.sh; built here if absent). Prints medians; raw files go to $OUT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require hyperfine "apt-get install -y hyperfine"
require qemu-system-x86_64 "apt-get install -y qemu-system-x86"
docker info >/dev/null 2>&1 || { echo "error: no Docker daemon answers: start dockerd" >&2; exit 2; }
runs=${RUNS:-10}
build_for_bench
[ -e probes/out/vm-full.img ] || scripts/build-vm-image.sh
kernel=$(ls /boot/vmlinuz-* | sort | tail -n 1)

# 1. One run, no counts on the command line: process and docker take the defaults (100
# cold + 1000 warm), the VMs their own (10 + 100; 3 + 20 for full under TCG).
"$bin" run --runtime process:native,docker:runc-none,vm --seed 11 \
  --export-json "$out/vm.json" 2>"$out/vm.err" >/dev/null || true

# 2. QEMU's own: the minimal guest's whole life, as coldstart boots it, one-shot.
initramfs=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(r for r in d["runtimes"] if r["variant"]=="minimal-tcg")["details"]["initrd"])' "$out/vm.json")
qemu="qemu-system-x86_64 -M pc,accel=tcg -cpu max -m 256 -smp 1 -nodefaults -no-user-config -display none -no-reboot -kernel $kernel -initrd $initramfs -append 'console=ttyS0 quiet loglevel=1 panic=-1 rdinit=/init -- once' -chardev null,id=console -device isa-serial,chardev=console"
hyperfine -N --warmup 1 --runs "$runs" --export-json "$out/hyperfine-qemu.json" "$qemu" >/dev/null

# 3. CPU-bound invocations inside and outside the guest.
"$bin" run --runtime process:native,vm:minimal-tcg --cold 2 --warm 20 --invoke-iters 2000000 \
  --export-json "$out/overhead.json" 2>"$out/overhead.err" >/dev/null

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
def fmt(ns):
    return f"{ns/1e9:.2f} s" if ns >= 1e9 else f"{ns/1e6:.1f} ms" if ns >= 1e6 else f"{ns/1e3:.0f} µs"
def rows(doc):
    for r in doc["runtimes"]:
        name = f'{r["runtime"]}:{r["variant"]}'
        if not r["available"]:
            print(f"{name}: skipped: {r['skipped_reason']}")
            continue
        c, w = r["modes"]["cold"], r["modes"]["warm"]
        if "total" not in c["phases"]:
            print(f"{name}: no valid cold sample ({c['failed']} failed, {c['invalid']} invalid)")
            continue
        t = c["phases"]["total"]
        phases = ", ".join(f"{p} {fmt(c['phases'][p]['p50_ns'])}" for p in r["phase_order"] if p != "total")
        line = f"{name}: cold n={t['count']} p50 {fmt(t['p50_ns'])} p99 {fmt(t['p99_ns'])} ({phases})"
        if "total" in w["phases"]:
            line += f"; warm n={w['phases']['total']['count']} p50 {fmt(w['phases']['total']['p50_ns'])}"
        if r.get("teardown"):
            line += f"; teardown p50 {fmt(r['teardown']['p50_ns'])}"
        rep = c.get("reported", {})
        if "guest_ready_ns" in rep:
            line += f"; guest uptime at READY p50 {fmt(rep['guest_ready_ns']['p50_ns'])}"
        print(line)
        if r["runtime"] == "vm":
            print(f"    accel {r['details']['accel']}: {r['details']['accel_reason'][:160]}")
print("== side by side, one run (process and docker: 100 cold + 1000 warm; VMs: their own counts) ==")
rows(json.load(open(f"{out}/vm.json")))
hf = json.load(open(f"{out}/hyperfine-qemu.json"))["results"][0]
print(f"== hyperfine -N, QEMU booting the minimal guest with the probe one-shot (boot, invoke, power off), n={len(hf['times'])}: "
      f"median {fmt(hf['median']*1e9)}, mean {fmt(hf['mean']*1e9)}")
vm = json.load(open(f"{out}/vm.json"))
m = next(r for r in vm["runtimes"] if r["variant"] == "minimal-tcg")
if "total" in m["modes"]["cold"]["phases"]:
    both = m["modes"]["cold"]["phases"]["total"]["p50_ns"] + m["teardown"]["p50_ns"]
    print(f"   coldstart vm:minimal-tcg cold p50 + teardown p50 = {fmt(both)}; ratio to hyperfine's median {both / (hf['median']*1e9):.3f}")
o = json.load(open(f"{out}/overhead.json"))
get = lambda v: next(r for r in o["runtimes"] if r["variant"] == v)["modes"]["warm"]["phases"]["total"]["p50_ns"]
p, v = get("native"), get("minimal-tcg")
print(f"== CPU-bound warm invocation (2,000,000 rounds): process:native p50 {fmt(p)}, vm:minimal-tcg p50 {fmt(v)}: "
      f"{v/p:.2f}x (TCG emulation, not a hypervisor's overhead)")
PY
echo "raw results in $out" >&2
