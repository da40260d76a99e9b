# SPDX-License-Identifier: Apache-2.0
#
# Sourced by scripts/test, scripts/release and tests/static/arm64_test.sh:
# the NATS C client as a static library, for the `weir` that -Dstatic=true
# links (tools/weir/meson.build).
#
# Debian ships the client (libnats-dev) only as a shared library, so this
# builds Debian's own source package, nats.c, of the version that
# libnats-dev has here (its headers are the ones the connectors compile
# against): streaming (protobuf-c) off, TLS on against libssl-dev with
# OpenSSL's 1.1 API as Debian builds it, the static library only, position
# independent, no tests or examples.
#
# The source package comes through apt with a private configuration that
# touches nothing of the system's: deb-src entries for the Debian
# repositories that this machine's apt already uses (same mirrors, same
# keyring), their Sources lists and apt's cache under DIR/nats-static/apt.
# apt checks the downloaded files against the signed Sources list, and
# dpkg-source checks them against the .dsc when it unpacks them.

# weir_nats_static [ARCH [DIR]]: sets WEIR_NATS_STATIC_DIR to
# DIR/nats-static/ARCH, which holds lib/libnats_static.a and include/,
# building it first when missing. ARCH: this machine's (the default) or
# arm64 (after weir_cross_prepare arm64: Debian's cross compiler, and
# libssl-dev of arm64 in its sysroot). DIR: ./build by default. Fails
# (returns 1 after saying why) when the source package cannot be had.
weir_nats_static() {
  local arch=${1:-$(dpkg --print-architecture)} dir=${2:-$PWD/build}
  local top=$dir/nats-static
  local prefix=$top/$arch
  local version
  version=$(dpkg-query -W -f='${source:Version}' libnats-dev 2>/dev/null) || {
    echo "error: libnats-dev is not installed (scripts/lib/deps.sh)" >&2
    return 1
  }
  local cmake_args=(
    -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON
    -DNATS_BUILD_LIB_STATIC=ON -DNATS_BUILD_LIB_SHARED=OFF
    -DNATS_BUILD_STREAMING=OFF -DNATS_BUILD_USE_SODIUM=OFF
    -DNATS_BUILD_WITH_TLS=ON -DNATS_BUILD_OPENSSL_STATIC_LIBS=ON
    -DNATS_BUILD_TLS_USE_OPENSSL_1_1_API=ON
    -DNATS_BUILD_EXAMPLES=OFF -DBUILD_TESTING=OFF
  )
  if [[ $arch != "$(dpkg --print-architecture)" ]]; then
    # The cross compiler, and the libraries and headers (OpenSSL's) of the
    # sysroot that scripts/lib/cross.sh unpacked.
    local triplet=${WEIR_CROSS_TRIPLET:?run weir_cross_prepare $arch first}
    local sysroot=$WEIR_CROSS_SYSROOT
    [[ -d $sysroot/usr/include/openssl ]] || {
      echo "error: $sysroot has no libssl-dev of $arch (scripts/lib/cross.sh)" >&2
      return 1
    }
    cmake_args+=(
      -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR="${triplet%%-*}"
      -DCMAKE_C_COMPILER="$triplet-gcc" -DCMAKE_CXX_COMPILER="$triplet-g++"
      -DCMAKE_LIBRARY_ARCHITECTURE="$triplet"
      -DCMAKE_FIND_ROOT_PATH="$sysroot"
      -DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER
      -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY
      -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY
      -DCMAKE_C_FLAGS="-isystem $sysroot/usr/include/$triplet -isystem $sysroot/usr/include"
      # FindOpenSSL would take the host's pkg-config hints: named outright.
      -DOPENSSL_INCLUDE_DIR="$sysroot/usr/include"
      -DOPENSSL_SSL_LIBRARY="$sysroot/usr/lib/$triplet/libssl.a"
      -DOPENSSL_CRYPTO_LIBRARY="$sysroot/usr/lib/$triplet/libcrypto.a"
    )
  fi
  # What the build depends on; a change rebuilds.
  local stamp="nats.c $version $arch: ${cmake_args[*]}"
  if [[ -f $prefix/.complete && $(<"$prefix/.complete") == "$stamp" ]]; then
    WEIR_NATS_STATIC_DIR=$prefix
    return 0
  fi

  local src=$top/src/nats.c-$version
  if [[ ! -f $src/.complete ]]; then
    _weir_nats_source "$top" "$version" "$src" || return 1
  fi

  echo "==> building the NATS C client $version (static, $arch) in $prefix"
  local build=$top/build-$arch
  rm -rf "$build" "$prefix"
  cmake -S "$src" -B "$build" -G Ninja "${cmake_args[@]}" >"$top/cmake-$arch.log" 2>&1 &&
    ninja -C "$build" -j "${JOBS:-2}" >>"$top/cmake-$arch.log" 2>&1 &&
    ninja -C "$build" install >>"$top/cmake-$arch.log" 2>&1 || {
    tail -n 30 "$top/cmake-$arch.log" >&2
    echo "error: building the NATS C client failed ($top/cmake-$arch.log)" >&2
    return 1
  }
  rm -rf "$build"
  echo "$stamp" >"$prefix/.complete"
  WEIR_NATS_STATIC_DIR=$prefix
}

# _weir_nats_source TOP VERSION SRC: downloads Debian's source package
# nats.c VERSION with a private apt configuration under TOP/apt and unpacks
# it into SRC.
_weir_nats_source() {
  local top=$1 version=$2 src=$3
  local apt=$top/apt
  mkdir -p "$apt"/{lists/partial,cache/archives/partial,sources.list.d} \
    "$top/download"
  # The deb-src twins of the Debian repositories apt knows here (their
  # Release files say Origin: Debian); apt learns them at its first update.
  local repos
  repos=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
    'Origin: Debian' 'Created-By: Packages' | sort -u)
  if [[ -z $repos ]]; then
    local sudo=()
    ((EUID == 0)) || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    repos=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
      'Origin: Debian' 'Created-By: Packages' | sort -u)
  fi
  [[ -n $repos ]] || {
    echo "error: apt knows no Debian repository here, so no deb-src for nats.c" >&2
    return 1
  }
  sed 's|^|deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] |' \
    <<<"$repos" >"$apt/sources.list"
  local opts=(
    -o Dir::Etc::SourceList="$apt/sources.list"
    -o Dir::Etc::SourceParts="$apt/sources.list.d"
    -o Dir::State::Lists="$apt/lists"
    -o Dir::Cache="$apt/cache"
  )
  # apt's download sandbox user cannot write into a build tree; the files
  # are checked against the signed lists all the same.
  ((EUID != 0)) || opts+=(-o APT::Sandbox::User=root)
  echo "==> downloading Debian's source package nats.c $version"
  apt-get "${opts[@]}" -q update >"$top/apt.log" 2>&1 || {
    cat "$top/apt.log" >&2
    echo "error: apt-get update of the deb-src lists ($apt) failed" >&2
    return 1
  }
  rm -rf "$top/download" "$src"
  mkdir -p "$top/download" "$(dirname "$src")"
  (cd "$top/download" &&
    apt-get "${opts[@]}" -q source --download-only "nats.c=$version") ||
    {
      echo "error: could not download Debian's source package nats.c $version;" \
        "the static weir cannot link NATS without it" >&2
      return 1
    }
  # Checks the files against the .dsc's checksums and applies Debian's
  # patches.
  dpkg-source -x "$top/download/nats.c_${version#*:}.dsc" "$src" >/dev/null || {
    echo "error: dpkg-source could not unpack nats.c $version" >&2
    return 1
  }
  touch "$src/.complete"
  rm -rf "$top/download"
}
