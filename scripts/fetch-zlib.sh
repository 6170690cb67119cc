#!/bin/sh
# fetch-zlib.sh - obtain the zlib source tree at build time (gzip on the wire).
#
# Usage: scripts/fetch-zlib.sh DEPS_DIR
# Prints the path of the unpacked source tree on stdout.
#
# Like mbedTLS, zlib is built from the distribution's source package for
# every profile (scripts/fetch-source.sh: a private apt state under
# DEPS_DIR, the tarball cached there), with the profile's compiler, so the
# static and cross binaries link a zlib built for their C library and CPU.
# Set ZLIB_SRC=/path/to/zlib to use another tree (offline builds).
set -eu

tree=$(sh "$(dirname "$0")/fetch-source.sh" zlib "$1") || {
    echo "fetch-zlib: set ZLIB_SRC=/path/to/zlib" >&2
    exit 1
}
if [ ! -f "$tree/inflate.c" ] || [ ! -f "$tree/zlib.h" ]; then
    echo "fetch-zlib: $tree is not a zlib tree; set ZLIB_SRC=/path/to/zlib" >&2
    exit 1
fi
echo "$tree"
