# SPDX-License-Identifier: Apache-2.0
#
# Sourced by scripts/release: what a static `weir` for another architecture
# needs, from Debian's packages.
#
# The cross compiler and qemu-user come from apt (crossbuild-essential-ARCH,
# qemu-user-static). The libraries do not: librocksdb-dev and
# libyaml-cpp-dev are not Multi-Arch: same, so installing their ARCH
# packages would remove this machine's own. Their .deb files (and those of
# the other libraries, for one consistent tree) are downloaded with
# `apt-get download` and unpacked into a private sysroot,
# build/sysroot-ARCH, which the Meson cross file points at. This adds ARCH
# to dpkg's foreign architectures (for apt's package lists) and installs
# nothing of ARCH.

# The -dev packages whose static archives and headers the binary needs.
WEIR_CROSS_PACKAGES=(
  librocksdb-dev libzstd-dev libxxhash-dev libyaml-cpp-dev
  libsnappy-dev liblz4-dev zlib1g-dev libbz2-dev
  libboost1.74-dev libcli11-dev nlohmann-json3-dev
  # The NATS C client's headers and pkg-config file (the connectors compile
  # against them), and OpenSSL for the client that scripts/lib/nats_static.sh
  # builds statically.
  libnats-dev libssl-dev
)

# weir_cross_prepare ARCH [DIR]: sets WEIR_CROSS_TRIPLET, WEIR_CROSS_QEMU
# (qemu's name for the machine), WEIR_CROSS_SYSROOT and WEIR_CROSS_FILE
# (DIR/cross-ARCH.ini),
# making the sysroot (DIR/sysroot-ARCH) and installing the toolchain first
# if needed. DIR: ./build by default.
weir_cross_prepare() {
  local arch=$1 dir=${2:-$PWD/build}
  case $arch in
    arm64) WEIR_CROSS_TRIPLET=aarch64-linux-gnu WEIR_CROSS_QEMU=aarch64 ;;
    *) echo "error: no cross build for '$arch' (known: arm64)" >&2; return 1 ;;
  esac
  local triplet=$WEIR_CROSS_TRIPLET
  local sysroot=$dir/sysroot-$arch
  WEIR_CROSS_SYSROOT=$sysroot
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  if ! command -v "$triplet-g++" >/dev/null || ! command -v "qemu-$WEIR_CROSS_QEMU-static" >/dev/null; then
    echo "==> installing crossbuild-essential-$arch qemu-user-static"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
      --no-install-recommends "crossbuild-essential-$arch" qemu-user-static
  fi
  # .complete names the packages the sysroot holds: a longer list remakes it.
  if [[ ! -f $sysroot/.complete ||
        $(<"$sysroot/.complete") != "${WEIR_CROSS_PACKAGES[*]}" ]]; then
    echo "==> unpacking ${WEIR_CROSS_PACKAGES[*]} ($arch) into $sysroot"
    if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
      "${sudo[@]}" dpkg --add-architecture "$arch"
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    rm -rf "$sysroot" "$sysroot.debs"
    mkdir -p "$sysroot.debs"
    local pkgs=() p deb
    for p in "${WEIR_CROSS_PACKAGES[@]}"; do
      # Architecture-independent packages (headers only) have no :ARCH.
      if [[ $(apt-cache show "$p" | sed -n '0,/^Architecture: /s/^Architecture: //p') == all ]]; then
        pkgs+=("$p")
      else
        pkgs+=("$p:$arch")
      fi
    done
    (cd "$sysroot.debs" && apt-get download "${pkgs[@]}")
    for deb in "$sysroot.debs"/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
    rm -rf "$sysroot.debs"
    echo "${WEIR_CROSS_PACKAGES[*]}" >"$sysroot/.complete"
  fi

  WEIR_CROSS_FILE=$dir/cross-$arch.ini
  cat > "$WEIR_CROSS_FILE" <<EOF
# Written by scripts/lib/cross.sh.
[binaries]
c = '$triplet-gcc'
cpp = '$triplet-g++'
ar = '$triplet-ar'
strip = '$triplet-strip'
pkgconfig = 'pkg-config'
exe_wrapper = ['qemu-$WEIR_CROSS_QEMU-static', '-L', '/usr/$triplet']

[properties]
sys_root = '$sysroot'
pkg_config_libdir = ['$sysroot/usr/lib/$triplet/pkgconfig', '$sysroot/usr/share/pkgconfig']
boost_includedir = '$sysroot/usr/include'
boost_librarydir = '$sysroot/usr/lib/$triplet'
# Where find_library() looks for the static archives without a .pc file.
weir_static_lib_dirs = ['$sysroot/usr/lib/$triplet']

[built-in options]
# The sysroot's headers as system headers (no warnings from them).
cpp_args = ['-isystem', '$sysroot/usr/include']

[host_machine]
system = 'linux'
cpu_family = 'aarch64'
cpu = 'aarch64'
endian = 'little'
EOF
}
