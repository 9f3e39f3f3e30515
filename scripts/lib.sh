# Shared by the scripts: the repository root and cargo's target directory.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target_dir() {
  cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}
# Exits with a clear message when a command the script needs is missing.
require() {
  command -v "$1" >/dev/null || { echo "error: $1 is missing: $2" >&2; exit 2; }
}
# For the benchmark scripts: builds the probes and coldstart (release), sets `bin` to
# the binary and `out` to $OUT (default: a new temporary directory), and enters the repo.
build_for_bench() {
  "$repo/scripts/build-probes.sh"
  cd "$repo"
  cargo build --quiet --release -p coldstart
  bin="$(target_dir)/release/coldstart"
  out=${OUT:-$(mktemp -d)}
  mkdir -p "$out"
}
