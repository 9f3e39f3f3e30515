#!/usr/bin/env bash
# Regenerates fixtures/probe_checksums.json: the checksum the probe itself answers
# (native binary, one-shot mode) for several parameter sets. The tests check that
# the probe core, the native binary and the Wasm module all give these values.
# Run it only when the workload changes on purpose.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$repo/scripts/build-probes.sh"
probe="$repo/probes/out/coldstart-probe"
sets="0 0 0|0 0 1|4 100 50|3 7 13|64 1000 1000|1024 10000 100000"
{
  echo '{'
  echo '  "generated_by": "scripts/gen-fixtures.sh (coldstart-probe once)",'
  echo '  "cases": ['
  first=1
  IFS='|'
  for set in $sets; do
    IFS=' ' read -r kib iters invoke <<<"$set"
    line=$("$probe" once --init-kib "$kib" --init-iters "$iters" --invoke-iters "$invoke")
    checksum=$(awk '{print $5}' <<<"$line")
    [ $first = 1 ] || echo ','
    first=0
    printf '    {"init_kib": %s, "init_iters": %s, "invoke_iters": %s, "checksum": "%s"}' "$kib" "$iters" "$invoke" "$checksum"
  done
  echo
  echo '  ]'
  echo '}'
} >"$repo/fixtures/probe_checksums.json"
cat "$repo/fixtures/probe_checksums.json"
