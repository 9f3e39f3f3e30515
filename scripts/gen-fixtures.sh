#!/usr/bin/env bash
# Regenerates fixtures/probe_checksums.json: the checksum the probe itself answers
# (native binary, one-shot mode) for several parameter sets and request nonces. The
# tests check that the probe core, the native binary, the Wasm module and the Lambda
# bootstrap all give these values, and that another nonce gives another checksum.
# Run it only when the workload changes on purpose.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$repo/scripts/build-probes.sh"
probe="$repo/probes/out/coldstart-probe"
sets="0 0 0 0000000000000000|0 0 1 0000000000000000|0 0 1 0000000000000001|4 100 50 0000000000000000|4 100 50 9e3779b97f4a7c15|4 100 50 ffffffffffffffff|3 7 13 0123456789abcdef|64 1000 1000 00000000deadbeef|1024 10000 100000 8000000000000000"
{
  echo '{'
  echo '  "generated_by": "scripts/gen-fixtures.sh (coldstart-probe once)",'
  echo '  "cases": ['
  first=1
  IFS='|'
  for set in $sets; do
    IFS=' ' read -r kib iters invoke nonce <<<"$set"
    line=$("$probe" once --init-kib "$kib" --init-iters "$iters" --invoke-iters "$invoke" --nonce "$nonce")
    checksum=$(awk '{print $5}' <<<"$line")
    [ $first = 1 ] || echo ','
    first=0
    printf '    {"init_kib": %s, "init_iters": %s, "invoke_iters": %s, "nonce": "%s", "checksum": "%s"}' "$kib" "$iters" "$invoke" "$nonce" "$checksum"
  done
  echo
  echo '  ]'
  echo '}'
} >"$repo/fixtures/probe_checksums.json"
cat "$repo/fixtures/probe_checksums.json"
