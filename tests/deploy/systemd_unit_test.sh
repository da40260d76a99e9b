#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `systemd-analyze verify` on weir@.service as the build configured it,
# installed into a temporary directory as the instance weir@test with a
# fake job file, and the binary it names replaced by the one just built
# (verify checks that ExecStart is executable). Any complaint about the
# unit fails the test. Exit status 77 (skipped) without systemd-analyze.
#
#   systemd_unit_test.sh UNIT WEIR_BINARY INSTALLED_BINARY SOURCE_ROOT
set -euo pipefail

unit=$1 weir=$(realpath "$2") installed=$3 src=$4
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "systemd-analyze not found: skipped"
  exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/etc/weir/jobs" "$tmp/units"
cp "$src/examples/config/config.yaml" "$tmp/etc/weir/config.yaml"
cat >"$tmp/etc/weir/jobs/test.yaml" <<'JOB'
name: test
operators:
  - uid: gen
    type: generator
    count: 10
  - uid: out
    type: null-sink
JOB
grep -q "^ExecStart=$installed run --resume /etc/weir/jobs/%i.yaml\$" "$unit" || {
  echo "ExecStart of $unit does not run $installed run --resume"
  exit 1
}
sed -e "s|$installed|$weir|g" -e "s|/etc/weir|$tmp/etc/weir|g" "$unit" \
  >"$tmp/units/weir@.service"
cp "$tmp/units/weir@.service" "$tmp/units/weir@test.service"

status=0
out=$(cd "$tmp/units" && systemd-analyze verify --man=no ./weir@test.service 2>&1) || status=$?
echo "$out"
if [[ $status -ne 0 ]]; then
  echo "systemd-analyze verify failed with status $status"
  exit 1
fi
if grep -q 'weir@' <<<"$out"; then
  echo "systemd-analyze verify complained about the unit"
  exit 1
fi

# The example configuration and the job the unit would run are valid:
# `weir list` reads the configuration file (and fails on a bad key).
WEIR_CONF_DIR="$tmp/etc/weir" WEIR_RUNTIME_DIR="$tmp/runtime" "$weir" list
echo "ok: weir@.service verifies, with the example configuration"
