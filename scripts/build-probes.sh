#!/usr/bin/env bash
# Builds the one probe workload for every target and copies the results into
# probes/out/: coldstart-probe (static x86_64 musl binary, for the process runner and
# FROM-scratch images), coldstart_probe.wasm (wasm32-wasip1, for wasmtime) and
# bootstrap (the Lambda custom-runtime function, static x86_64 musl) and, where
# cargo-lambda is installed (its zig links it), bootstrap-arm64 (static aarch64 musl,
# for Lambda's arm64 functions). The probe in the other languages goes there too:
# python/coldstart_probe.py and node/coldstart-probe.mjs (copied), java/ (one class,
# javac --release 17) and coldstart-probe-go (static, CGO_ENABLED=0); a language
# whose toolchain is missing is left out with a note (the harness then skips it,
# saying what to install).
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
# The other languages: each its own probe folder, the same workload and protocol.
mkdir -p probes/out/python probes/out/node
install -m 0644 probes/python/coldstart_probe.py probes/out/python/coldstart_probe.py
install -m 0644 probes/node/coldstart-probe.mjs probes/out/node/coldstart-probe.mjs
if command -v javac >/dev/null; then
  if [ ! -f probes/out/java/ColdstartProbe.class ] ||
    [ probes/java/ColdstartProbe.java -nt probes/out/java/ColdstartProbe.class ]; then
    rm -rf probes/out/java
    javac --release 17 -Xlint:all -Werror -d probes/out/java probes/java/ColdstartProbe.java
  fi
else
  rm -rf probes/out/java
  echo "build-probes: javac is missing (apt-get install openjdk-17-jdk-headless): no Java probe" >&2
fi
if command -v go >/dev/null; then
  # Go caches its own builds (under the target directory, like the rest): an unchanged
  # probe links again in well under a second.
  (cd probes/go && GOCACHE="${GOCACHE:-$tdir/go-build}" CGO_ENABLED=0 GOFLAGS=-trimpath \
    go build -ldflags='-s -w' \
    -o "$repo/probes/out/coldstart-probe-go" .)
  go version >probes/out/coldstart-probe-go.version
else
  rm -f probes/out/coldstart-probe-go probes/out/coldstart-probe-go.version
  echo "build-probes: go is missing (apt-get install golang-go): no Go probe" >&2
fi
echo "build-probes: $(stat -c '%s bytes' probes/out/coldstart-probe) native, $(stat -c '%s bytes' probes/out/coldstart_probe.wasm) wasm in probes/out/" >&2
