#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A Meson project that vendors weir (subprojects/weir, here a link to the
# source tree) builds examples/embed with dependency('weir') and its
# fallback, and runs it. Builds the whole library again, so it is in the
# slow suite.
#
# Usage: subproject_test.sh SOURCE_DIR
set -euo pipefail
src=$(realpath "$1")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-subproject-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$tmp/subprojects"
ln -s "$src" "$tmp/subprojects/weir"
cp "$src/examples/embed/embed.cc" "$tmp/"
cat >"$tmp/meson.build" <<'MESON'
project('vendor', 'cpp', default_options: ['cpp_std=c++20'])
weir = dependency('weir', fallback: ['weir'],
  default_options: ['tests=disabled', 'benchmarks=disabled',
                    'default_library=static'])
executable('embed', 'embed.cc', dependencies: weir)
MESON
(cd "$tmp" && meson setup out --wrap-mode=nodownload --force-fallback-for=weir &&
  ninja -C out -j "${JOBS:-2}" embed) || fail "weir as a subproject"
"$tmp/out/embed" 600 >/dev/null || fail "the embed example built as a subproject"
echo "subproject test passed"
