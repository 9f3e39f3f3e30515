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
