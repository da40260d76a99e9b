#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# arm64_test.sh BUILD_ROOT SOURCE_ROOT
#
# Cross-builds the static `weir` for arm64 (scripts/lib/cross.sh: Debian's
# cross toolchain and arm64 packages) in BUILD_ROOT/static-arm64, then runs
# the savepoint story with it in a chroot under qemu-user
# (story_in_chroot.sh). Installs the toolchain and qemu-user-static when
# missing; builds the whole library, so it is in the slow suite.
set -euo pipefail
build_root=$(realpath "$1")
src=$(realpath "$2")
cd "$src"
source scripts/lib/deps.sh
source scripts/lib/cross.sh
source scripts/lib/nats_static.sh
((EUID == 0)) || { echo "SKIP: needs root (apt-get, chroot)"; exit 77; }
weir_cross_prepare arm64 "$build_root/cross"
# The NATS C client for arm64, static (as in scripts/test: without it the
# binary has no NATS connectors).
nats_static_dir=
if weir_nats_static arm64; then
  nats_static_dir=$WEIR_NATS_STATIC_DIR
else
  echo "WARNING: no static NATS C client for arm64: a weir without NATS" >&2
fi
weir_setup "$build_root/static-arm64" --cross-file "$WEIR_CROSS_FILE" \
  --buildtype=release -Dstatic=true -Ddefault_library=static \
  -Dtests=disabled -Dbenchmarks=disabled -Dnats_static_dir="$nats_static_dir"
ninja -C "$build_root/static-arm64" -j "${JOBS:-2}" tools/weir/weir
bin=$build_root/static-arm64/tools/weir/weir
file "$bin"
ls -l "$bin"
exec tests/static/story_in_chroot.sh "$bin" "$src" \
  "$(command -v "qemu-$WEIR_CROSS_QEMU-static")"
