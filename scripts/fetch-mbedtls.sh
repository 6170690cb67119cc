#!/bin/sh
# fetch-mbedtls.sh - obtain the mbedTLS 3.6 LTS source tree at build time.
#
# Usage: scripts/fetch-mbedtls.sh DEPS_DIR
# Prints the path of the unpacked source tree on stdout.
#
# Debian 12 ships mbedTLS 2.28 only; the 3.6 source is in the next release's
# source package. It is fetched with a private apt state under DEPS_DIR, so
# the system's apt configuration is never touched: the source list is
# derived from the system's own (deb -> deb-src, bookworm -> trixie). The
# tarball is cached in DEPS_DIR: a rebuild needs no network.
set -eu

deps=$(mkdir -p "$1" && cd "$1" && pwd)
tree=$(ls -d "$deps"/mbedtls-3.6.* 2>/dev/null | head -n 1 || true)
if [ -n "$tree" ] && [ -f "$tree/include/mbedtls/build_info.h" ]; then
    echo "$tree"
    exit 0
fi

tarball=$(ls "$deps"/mbedtls_3.6.*.orig.tar.* 2>/dev/null | head -n 1 || true)
if [ -z "$tarball" ]; then
    apt_dir=$deps/apt
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/parts"
    src=/etc/apt/sources.list.d/debian.sources
    if [ ! -f "$src" ]; then
        echo "fetch-mbedtls: $src not found; set MBEDTLS_SRC=/path/to/mbedtls-3.6" >&2
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
    (cd "$deps" && apt-get $opts -qq source --download-only mbedtls >&2)
    tarball=$(ls "$deps"/mbedtls_3.6.*.orig.tar.* 2>/dev/null | head -n 1 || true)
    if [ -z "$tarball" ]; then
        echo "fetch-mbedtls: no mbedtls 3.6 source package found; set MBEDTLS_SRC=/path/to/mbedtls-3.6" >&2
        exit 1
    fi
fi

tar xf "$tarball" -C "$deps"
tree=$(ls -d "$deps"/mbedtls-3.6.* | head -n 1)
echo "$tree"
