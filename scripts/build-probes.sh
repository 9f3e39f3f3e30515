#!/usr/bin/env bash
# Builds the one probe workload for every target and copies the results into
# probes/out/: coldstart-probe (static x86_64 musl binary, for the process runner and
# FROM-scratch images), coldstart_probe.wasm (wasm32-wasip1, for wasmtime) and
# bootstrap (the Lambda custom-runtime function, static x86_64 musl) and, where
# cargo-lambda is installed (its zig links it), bootstrap-arm64 (static aarch64 musl,
# for Lambda's arm64 functions).
# Incremental: a second run with nothing changed takes about a second.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
native=x86_64-unknown-linux-musl
wasm=wasm32-wasip1
for target in "$native" "$wasm"; do
  if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    echo "build-probes: installing the Rust target $target" >&2
    rustup target add "$target" >&2 || {
      echo "error: the Rust target $target is missing and could not be installed: run \`rustup target add $target\`" >&2
      exit 2
    }
  fi
done
cd "$repo"
cargo build --quiet --profile probe -p coldstart-probe --target "$native"
cargo build --quiet --profile probe -p coldstart-probe-wasm --target "$wasm"
cargo build --quiet --profile probe -p coldstart-probe-lambda --target "$native"
tdir=$(target_dir)
mkdir -p probes/out
install -m 0755 "$tdir/$native/probe/coldstart-probe" probes/out/coldstart-probe
install -m 0644 "$tdir/$wasm/probe/coldstart_probe.wasm" probes/out/coldstart_probe.wasm
install -m 0755 "$tdir/$native/probe/bootstrap" probes/out/bootstrap
# arm64: cargo-lambda cross-links with zig; without it the arm64 bootstrap is skipped
# (`coldstart lambda deploy --arch arm64` then says how to get it).
arm=aarch64-unknown-linux-musl
if command -v cargo-lambda >/dev/null; then
  if ! rustup target list --installed 2>/dev/null | grep -qx "$arm"; then
    rustup target add "$arm" >&2 || echo "build-probes: cannot install $arm: no arm64 bootstrap" >&2
  fi
  if rustup target list --installed 2>/dev/null | grep -qx "$arm"; then
    cargo lambda build --quiet --profile probe --target "$arm" -p coldstart-probe-lambda \
      --lambda-dir "$tdir/lambda-$arm" >&2
    install -m 0755 "$tdir/lambda-$arm/bootstrap/bootstrap" probes/out/bootstrap-arm64
  fi
else
  echo "build-probes: cargo-lambda is not installed (pip install cargo-lambda): no arm64 bootstrap" >&2
fi
echo "build-probes: $(stat -c '%s bytes' probes/out/coldstart-probe) native, $(stat -c '%s bytes' probes/out/coldstart_probe.wasm) wasm in probes/out/" >&2
