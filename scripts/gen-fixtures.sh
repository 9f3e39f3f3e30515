#!/usr/bin/env bash
# Regenerates fixtures/probe_checksums.json: the checksum the probe itself answers
# (native binary, one-shot mode) for several parameter sets, request nonces and
# instance nonces (the start's nonce that keys the init state). The
# tests check that the probe core, the native binary, the Wasm module and the Lambda
# bootstrap all give these values, and that another nonce or instance nonce gives
# another checksum.
# Run it only when the workload changes on purpose.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$repo/scripts/build-probes.sh"
probe="$repo/probes/out/coldstart-probe"
# init_kib init_iters invoke_iters nonce instance_nonce
sets="0 0 0 0000000000000000 0000000000000000|4 100 50 0123456789abcdef c0ffee00000000a1|0 0 1 0000000000000000 0000000000000000|0 0 1 0000000000000001 0000000000000000|0 0 1 0000000000000001 0000000000000001|4 100 50 0000000000000000 0000000000000000|4 100 50 9e3779b97f4a7c15 0000000000000000|4 100 50 9e3779b97f4a7c15 00000000000000ff|4 100 50 ffffffffffffffff ffffffffffffffff|3 7 13 0123456789abcdef fedcba9876543210|64 1000 1000 00000000deadbeef 8000000000000000|1024 10000 100000 8000000000000000 00000000deadbeef"
{
  echo '{'
  echo '  "generated_by": "scripts/gen-fixtures.sh (coldstart-probe once)",'
  echo '  "cases": ['
  first=1
  IFS='|'
  for set in $sets; do
    IFS=' ' read -r kib iters invoke nonce instance <<<"$set"
    line=$("$probe" once --instance-nonce "$instance" --init-kib "$kib" --init-iters "$iters" --invoke-iters "$invoke" --nonce "$nonce")
    checksum=$(awk '{print $5}' <<<"$line")
    [ $first = 1 ] || echo ','
    first=0
    printf '    {"init_kib": %s, "init_iters": %s, "invoke_iters": %s, "nonce": "%s", "instance_nonce": "%s", "checksum": "%s"}' "$kib" "$iters" "$invoke" "$nonce" "$instance" "$checksum"
  done
  echo
  echo '  ]'
  echo '}'
} >"$repo/fixtures/probe_checksums.json"
cat "$repo/fixtures/probe_checksums.json"
