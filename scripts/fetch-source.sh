#!/bin/sh
# fetch-source.sh - obtain a Debian source package's upstream tree at build time.
#
# Usage: scripts/fetch-source.sh PACKAGE DEPS_DIR [VERSION_GLOB]
# Prints the path of the unpacked tree (DEPS_DIR/PACKAGE-VERSION) on stdout.
#
# The source comes from the next Debian release (Debian 12 ships mbedTLS
# 2.28 only; musl and mbedTLS are taken from the same suite). It is fetched
# with a private apt state under DEPS_DIR/apt, so the system's apt
# configuration is never touched: the source list is derived from the
# system's own (deb -> deb-src, bookworm -> trixie). Only the upstream
# tarball is unpacked (no Debian patches: dpkg-source is not needed). The
# tarball is cached in DEPS_DIR: a rebuild needs no network.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: fetch-source.sh PACKAGE DEPS_DIR [VERSION_GLOB]" >&2
    exit 64
fi
pkg=$1
ver=${3:-*}
deps=$(mkdir -p "$2" && cd "$2" && pwd)

# A tree is only ever renamed into place once fully unpacked.
tree=$(ls -d "$deps/$pkg-"$ver 2>/dev/null | head -n 1 || true)
if [ -n "$tree" ] && [ -d "$tree" ] && [ -n "$(ls -A "$tree")" ]; then
    echo "$tree"
    exit 0
fi

find_tarball() { ls "$deps/${pkg}_"$ver.orig.tar.* 2>/dev/null | head -n 1 || true; }
# One fetch at a time: a parallel make fetches mbedTLS and zlib at once, and
# apt locks its (private) lists folder.
exec 9>"$deps/.fetch.lock"
flock 9
tree=$(ls -d "$deps/$pkg-"$ver 2>/dev/null | head -n 1 || true)
if [ -n "$tree" ] && [ -d "$tree" ] && [ -n "$(ls -A "$tree")" ]; then
    echo "$tree" # unpacked by the fetch we waited for
    exit 0
fi
tarball=$(find_tarball)
if [ -z "$tarball" ]; then
    apt_dir=$deps/apt
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/parts"
    src=/etc/apt/sources.list.d/debian.sources
    if [ ! -f "$src" ]; then
        echo "fetch-source: $src not found; cannot fetch $pkg (point the build at a source tree)" >&2
        exit 1
    fi
    sed -e 's/^Types: deb$/Types: deb-src/' \
        -e 's/^Suites: .*-security$/Suites: trixie-security/' \
        -e 's/^Suites: bookworm bookworm-updates$/Suites: trixie/' \
        -e 's/^Suites: bookworm$/Suites: trixie/' \
        "$src" >"$apt_dir/parts/src.sources"
    opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$apt_dir/parts"
    opts="$opts -o Dir::State::Lists=$apt_dir/lists -o APT::Sandbox::User=root"
    # shellcheck disable=SC2086
    apt-get $opts -qq update >&2
    # shellcheck disable=SC2086
    # Only the upstream tarball is used: a missing .dsc or Debian patch set
    # (a mirror without that revision) does not matter once it is here.
    (cd "$deps" && apt-get $opts -qq source --download-only "$pkg" >&2) || true
    tarball=$(find_tarball)
    if [ -z "$tarball" ]; then
        echo "fetch-source: no $pkg source package matching version $ver found" >&2
        exit 1
    fi
fi

# DEPS/pkg_1.2.5.orig.tar.gz -> DEPS/pkg-1.2.5, whatever the tarball's top folder.
base=$(basename "$tarball")
version=${base#"${pkg}_"}
version=${version%%.orig.tar.*}
tmp=$(mktemp -d "$deps/.unpack-$pkg.XXXXXX")
tar xf "$tarball" -C "$tmp"
top=$(ls -A "$tmp")
if [ "$(printf '%s\n' "$top" | wc -l)" -eq 1 ] && [ -d "$tmp/$top" ]; then
    rm -rf "$deps/$pkg-$version"
    mv "$tmp/$top" "$deps/$pkg-$version"
    rmdir "$tmp"
else
    rm -rf "$deps/$pkg-$version"
    mv "$tmp" "$deps/$pkg-$version"
fi
echo "$deps/$pkg-$version"
