# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the scripts in scripts/: installs the Debian 12 packages that
# building, testing and formatting weir need, when any of them is missing.

WEIR_DEB_PACKAGES=(
  meson ninja-build pkg-config g++ git cmake
  librocksdb-dev libzstd-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libboost-dev
  # NATS JetStream connectors: the C client, and the broker the tests start
  libnats-dev nats-server
  # The static weir's NATS client, built from Debian's source package
  # (scripts/lib/nats_static.sh): dpkg-source, OpenSSL's static archives
  libssl-dev dpkg-dev
  # cpp-httplib: an HTTP client for the REST tests, independent of weir's
  libcpp-httplib-dev
  clang-format
)

weir_install_deps() {
  local pkg missing=()
  for pkg in "${WEIR_DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null |
      grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0

  if ! command -v apt-get >/dev/null; then
    echo "error: missing packages: ${missing[*]}; this needs Debian's apt-get" >&2
    return 1
  fi
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  echo "==> installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
}

# weir_setup BUILD_DIR [MESON_OPTION...]: configures BUILD_DIR, or
# reconfigures it with the given options when it already exists.
weir_setup() {
  local dir=$1
  shift
  if [[ -f $dir/build.ninja ]]; then
    meson setup --reconfigure "$dir" --wrap-mode=nodownload "$@"
  else
    meson setup "$dir" --wrap-mode=nodownload "$@"
  fi
}

# weir_build BUILD_DIR: builds with $JOBS parallel jobs (default 2).
weir_build() {
  ninja -C "$1" -j "${JOBS:-2}"
}
