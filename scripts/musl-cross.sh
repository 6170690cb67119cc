#!/bin/sh
# musl-cross.sh - a static musl C library and gcc wrapper for a cross target.
#
# Usage: scripts/musl-cross.sh ARCH DEPS_DIR     (ARCH: aarch64 | armhf)
# Prints the wrapper's path (DEPS_DIR/musl-ARCH/bin/musl-gcc) on stdout.
#
# Debian has musl only for the build machine (musl-tools). For ARM, musl is
# built here from Debian's musl source package (scripts/fetch-source.sh),
# configured with CROSS_COMPILE for Debian's cross gcc, static library
# only, and installed into DEPS_DIR/musl-ARCH together with musl's own
# `musl-gcc` spec wrapper: it runs the cross gcc with -nostdinc and musl's
# headers, musl's crt files and libc.a, and the cross gcc's libgcc. So
# nothing from /usr/include or the glibc sysroot can leak in. About 45 s
# per architecture on 2 cores, once (the result is kept; `make distclean`
# removes it). MUSL_SRC=/path/to/musl uses an existing source tree.
set -eu

arch=$1
deps=$(mkdir -p "$2" && cd "$2" && pwd)
case $arch in
aarch64) triplet=aarch64-linux-gnu ;;
armhf) triplet=arm-linux-gnueabihf ;;
*)
    echo "musl-cross: unknown ARCH '$arch' (use aarch64 or armhf)" >&2
    exit 64
    ;;
esac
prefix=$deps/musl-$arch
wrapper=$prefix/bin/musl-gcc
if [ -x "$wrapper" ] && [ -f "$prefix/lib/libc.a" ] && [ -f "$prefix/.built" ]; then
    echo "$wrapper"
    exit 0
fi
if ! command -v "$triplet-gcc" >/dev/null; then
    echo "musl-cross: $triplet-gcc not installed (run: make deps)" >&2
    exit 1
fi

src=${MUSL_SRC:-}
[ -n "$src" ] || src=$(sh "$(dirname "$0")/fetch-source.sh" musl "$deps")
src=$(cd "$src" && pwd)
build=$deps/musl-build-$arch
rm -rf "$build" "$prefix"
mkdir -p "$build"
echo "musl: $src -> $prefix ($triplet-gcc)" >&2
(
    # Our make's command-line variables (ARCH=armhf) reach sub-makes through
    # MAKEFLAGS and would override musl's own ARCH (arm): start clean.
    unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL
    cd "$build"
    "$src/configure" --prefix="$prefix" --syslibdir="$prefix/lib" --disable-shared \
        --enable-wrapper=gcc CROSS_COMPILE="$triplet-" CC="$triplet-gcc" >build.log 2>&1 &&
        make -j"$(nproc)" >>build.log 2>&1 &&
        make install >>build.log 2>&1
) || {
    echo "musl-cross: build failed; see $build/build.log:" >&2
    tail -n 20 "$build/build.log" >&2
    exit 1
}
# The wrapper calls the cross gcc by name; the spec file names absolute paths.
grep -q "$triplet-gcc" "$wrapper" || {
    echo "musl-cross: $wrapper does not call $triplet-gcc" >&2
    exit 1
}
rm -rf "$build"
touch "$prefix/.built"
echo "$wrapper"
