#!/bin/sh
# fetch-mbedtls.sh - obtain the mbedTLS 3.6 LTS source tree at build time.
#
# Usage: scripts/fetch-mbedtls.sh DEPS_DIR
# Prints the path of the unpacked source tree on stdout.
#
# Debian 12 ships mbedTLS 2.28 only; the 3.6 source is in the next release's
# source package, fetched by scripts/fetch-source.sh with a private apt
# state under DEPS_DIR (the system's apt configuration is never touched).
# The tarball is cached in DEPS_DIR: a rebuild needs no network.
set -eu

tree=$(sh "$(dirname "$0")/fetch-source.sh" mbedtls "$1" '3.6.*') || {
    echo "fetch-mbedtls: set MBEDTLS_SRC=/path/to/mbedtls-3.6" >&2
    exit 1
}
if [ ! -f "$tree/include/mbedtls/build_info.h" ]; then
    echo "fetch-mbedtls: $tree is not an mbedTLS tree; set MBEDTLS_SRC=/path/to/mbedtls-3.6" >&2
    exit 1
fi
echo "$tree"
