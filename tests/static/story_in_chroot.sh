#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# story_in_chroot.sh WEIR SOURCE_ROOT [QEMU]
#
# Proves that WEIR (a `weir` built with -Dstatic=true) needs nothing of the
# system but the C library: the binary may name only glibc's own objects,
# and the savepoint story of scripts/lib/story.sh (run, savepoint, cancel,
# resume an upgraded job from the savepoint, stop with a savepoint, every
# purchase counted once) runs with the binary in a root that holds only the
# binary, those objects, /proc and /dev, in a mount namespace of its own.
#
# With QEMU (a static qemu-user binary, such as /usr/bin/qemu-aarch64-static)
# WEIR is for that machine: the root then holds QEMU too, and the C library
# of Debian's cross toolchain (/usr/TRIPLET/lib) instead of this machine's.
#
# Needs root (a mount namespace and chroot); skips (77) without it.
set -euo pipefail
bin=$(realpath "$1")
src=$(realpath "$2")
qemu=${3:-}
source "$src/scripts/lib/story.sh"

skip() { echo "SKIP: $*"; exit 77; }
((EUID == 0)) || skip "needs root for a mount namespace and chroot"
unshare --mount true 2>/dev/null || skip "mount namespaces are not allowed here"

# What the binary names: its program interpreter and its shared objects.
interp=$(readelf -l "$bin" |
  sed -n 's/.*Requesting program interpreter: \(.*\)\]$/\1/p')
names=$(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]$/\1/p')
echo "$bin: interpreter $interp; shared objects:" $names
glibc='^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux[-a-z0-9_.]*\.so\.[0-9])$'
for name in $names; do
  if ! [[ $name =~ $glibc ]]; then
    echo "FAIL: $bin needs $name; only the C library may stay shared" \
      "(configure with -Dstatic=true)" >&2
    exit 1
  fi
done
# Where each of them is on this machine, and where it goes in the root.
declare -A copy  # path in the root -> path here
if [[ -z $qemu ]]; then
  echo "ldd $bin:"
  ldd "$bin" | sed 's/^/    /'
  for name in $names; do
    [[ $name != "$(basename "$interp")" ]] || continue
    path=$(ldd "$bin" | awk -v n="$name" '$1 == n { print $3 }')
    copy[$path]=$path
  done
  copy[$interp]=$interp
else
  machine=$(readelf -h "$bin" | sed -n 's/^ *Machine: *//p')
  case $machine in
    AArch64) triplet=aarch64-linux-gnu ;;
    *) echo "FAIL: no cross C library known for $machine" >&2; exit 1 ;;
  esac
  # The directories the loader of a Debian system searches.
  libdir=/usr/$triplet/lib
  for name in $names; do
    [[ $name != "$(basename "$interp")" ]] || continue
    copy[/lib/$triplet/$name]=$libdir/$name
  done
  copy[$interp]=$libdir/$(basename "$interp")
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/weir-chroot.XXXXXX")
root=$work/root
trap 'rm -rf "$work"' EXIT
mkdir -p "$root"/{proc,dev,tmp,story}
cp "$bin" "$root/weir"
for path in "${!copy[@]}"; do
  [[ -f ${copy[$path]} ]] || { echo "FAIL: ${copy[$path]} not found" >&2; exit 1; }
  mkdir -p "$root$(dirname "$path")"
  cp -L "${copy[$path]}" "$root$path"
done
run=(/weir)
if [[ -n $qemu ]]; then
  cp "$qemu" "$root/qemu"
  run=(/qemu /weir)
fi
echo "the root holds:"
(cd "$root" && find . -type f | sort | sed 's/^/    /')

# weir ARGS... in the root, with /story as its working directory. Each call
# gets a mount namespace of its own for /proc and /dev; a detached job keeps
# its namespace until it exits, and nothing is mounted outside.
in_root() {
  unshare --mount --fork -- "$BASH" -c '
    root=$1; shift
    mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" &&
      exec unshare --root="$root" --wd=/story "$@"' in_root "$root" "${run[@]}" "$@"
}
WEIR=(in_root)
export WEIR_RUNTIME_DIR=/story/runtime TMPDIR=/tmp
# No configuration of this machine reaches the job.
unset WEIR_CONF_DIR

story_prepare "$root/story" "$src/examples/jobs/sums"
cd "$root/story"
story_run
# The detached jobs have ended (stop and cancel wait for them); their mount
# namespaces with them.
