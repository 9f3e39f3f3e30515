# Shared by the scripts: the repository root and cargo's target directory.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target_dir() {
  cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}
