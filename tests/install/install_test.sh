#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs the build into a temporary DESTDIR (`meson install --destdir`)
# and uses it as a service would, from outside the tree:
#   - every public header compiles on its own, with -Wall -Wextra -Werror;
#   - examples/embed builds with `pkg-config --cflags --libs weir`, with the
#     static library and `pkg-config --static --libs weir`, and with CMake's
#     pkg_check_modules, and runs;
#   - libweir.so exports the weir:: API and nothing else;
#   - the installed `weir` binary answers --version.
#
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1")
src=$(realpath "$2")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet ||
  fail "meson install"
read -r prefix libdir < <(meson introspect "$build" --buildoptions |
  python3 -c 'import json,sys; o={x["name"]: x["value"] for x in json.load(sys.stdin)}; print(o["prefix"], o["libdir"])')
root=$tmp/root$prefix
[[ $libdir = /* ]] || libdir=$prefix/$libdir
lib=$tmp/root$libdir
pc=$(find "$lib" -name weir.pc -print -quit)
[[ -n $pc ]] || fail "no weir.pc under $lib"
export PKG_CONFIG_PATH=$(dirname "$pc")
pkgconf=(pkg-config --define-variable=prefix="$root")
cxx=${CXX:-c++}

echo "== headers on their own"
headers=$(cd "$root/include" && find weir -maxdepth 1 -name '*.h' | sort)
[[ -n $headers ]] || fail "no headers installed under $root/include/weir"
for h in $headers; do
  echo "#include <$h>" >"$tmp/one.cc"
  "$cxx" -std=c++20 -Wall -Wextra -Werror -fsyntax-only \
    $("${pkgconf[@]}" --cflags weir) "$tmp/one.cc" || fail "$h alone"
done

echo "== examples/embed with pkg-config"
"$cxx" -std=c++20 -Wall -Wextra -Werror -o "$tmp/embed" \
  "$src/examples/embed/embed.cc" $("${pkgconf[@]}" --cflags --libs weir) ||
  fail "embed with pkg-config"
out=$(LD_LIBRARY_PATH=$lib "$tmp/embed" 600) || fail "embed run"
echo "$out" | head -3
[[ $(echo "$out" | wc -l) -ge 1 ]] || fail "embed printed nothing"

echo "== examples/embed linked with the static library"
if [[ -f $lib/libweir.a ]]; then
  static_libs=$("${pkgconf[@]}" --static --libs weir | sed -E 's/(^| )-lweir( |$)/ /')
  "$cxx" -std=c++20 -o "$tmp/embed-static" "$src/examples/embed/embed.cc" \
    $("${pkgconf[@]}" --cflags weir) "$lib/libweir.a" $static_libs ||
    fail "embed with libweir.a and pkg-config --static"
  ! ldd "$tmp/embed-static" | grep -q libweir || fail "libweir.so is linked"
  env -u LD_LIBRARY_PATH "$tmp/embed-static" 600 >/dev/null ||
    fail "static embed run"
fi

echo "== examples/embed with CMake"
mkdir -p "$tmp/cmake"
cat >"$tmp/cmake/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.16)
project(embed CXX)
set(CMAKE_CXX_STANDARD 20)
find_package(PkgConfig REQUIRED)
pkg_check_modules(WEIR REQUIRED IMPORTED_TARGET weir)
add_executable(embed "$src/examples/embed/embed.cc")
target_link_libraries(embed PRIVATE PkgConfig::WEIR)
CMAKE
(cd "$tmp/cmake" &&
  cmake -S . -B out -DCMAKE_BUILD_TYPE=Debug \
    "-DPKG_CONFIG_ARGN=--define-variable=prefix=$root" >/dev/null &&
  cmake --build out >/dev/null) || fail "embed with CMake"
LD_LIBRARY_PATH=$lib "$tmp/cmake/out/embed" 600 >/dev/null || fail "CMake embed run"

echo "== libweir.so exports only weir::"
so=$(find "$lib" -name 'libweir.so.*' -type f -print -quit)
[[ -n $so ]] || fail "no libweir.so under $lib"
# Every defined dynamic symbol but the version node names a weir:: entity.
foreign=$(nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' | c++filt |
  grep -v 'weir::' || true)
[[ -z $foreign ]] || fail "libweir.so exports more than weir::: $(echo "$foreign" | head -5)"
exported=$(nm -D --defined-only "$so" | c++filt)
grep -q 'weir::Job::' <<<"$exported" || fail "libweir.so does not export weir::Job"
echo "$(wc -l <<<"$exported") symbols, all weir::"

echo "== weir --version"
LD_LIBRARY_PATH=$lib "$root/bin/weir" --version || fail "weir --version"
echo "install test passed"
