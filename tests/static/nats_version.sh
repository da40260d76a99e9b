#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# nats_version.sh WEIR VERSION
#
# WEIR, a `weir` built with the NATS C client, names the client's VERSION
# in `weir --version`, as the library linked in reports it
# (nats_GetVersion()); with -Dstatic=true that library is the static one
# of scripts/lib/nats_static.sh, and story_in_chroot.sh checks that no
# shared NATS or OpenSSL library is needed.
set -euo pipefail
out=$("$1" --version)
echo "$out"
if ! grep -qF "NATS C client $2" <<<"$out"; then
  echo "FAIL: '$1 --version' does not name NATS C client $2" >&2
  exit 1
fi
