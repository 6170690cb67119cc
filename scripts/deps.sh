#!/bin/sh
# deps.sh - check, or install, the Debian packages countly-sync needs.
#
# Usage: scripts/deps.sh [--check] [build|cross|test|all]
#   build: what `make`, `make static`, `make install`, `make deb` and
#          `make release` need (compiler, musl-gcc, archive tools, `file`,
#          jsmn, and apt for fetching the mbedTLS/zlib/musl sources when no
#          MBEDTLS_SRC / ZLIB_SRC / MUSL_SRC tree is given)
#   cross: build + the ARM cross compilers (`make cross`)
#   test:  build + what the tests need (cmocka, servers, sanitizers, the ARM
#          cross compilers and qemu-user for `make cross`/`test-cross`,
#          gcovr for `make coverage`, python3-prometheus-client for test_ops's
#          metrics parser, lintian for `make test-package`)
#   all:   the same as test
#
# --check: only check. When something is missing, print one line naming the
# packages and the command that installs them, and fail. Every make target
# checks this way; only `make deps`, `make demo` and `make test` install.
#
# Without --check: as root, install whatever is missing with apt-get;
# otherwise print the same line and fail.
set -eu

check_only=0
if [ "${1:-}" = "--check" ]; then
    check_only=1
    shift
fi
want=${1:-all}

build_pkgs="gcc make libc6-dev musl-tools bzip2 tar ca-certificates apt file binutils libjsmn-dev"
cross_pkgs="gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf"
test_pkgs="libcmocka-dev python3 python3-prometheus-client openssl nginx curl clang libclang-rt-14-dev cppcheck valgrind sqlite3 postgresql jq gcovr
           mandoc groff-base bash-completion systemd man-db lintian
           $cross_pkgs qemu-user"

case "$want" in
build) pkgs=$build_pkgs ;;
cross) pkgs="$build_pkgs $cross_pkgs" ;;
test | all) pkgs="$build_pkgs $test_pkgs" ;;
*)
    echo "deps.sh: unknown set '$want' (use build, cross, test or all)" >&2
    exit 64
    ;;
esac

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "$check_only" -eq 1 ] || [ "$(id -u)" -ne 0 ]; then
    echo "countly-sync: missing Debian packages:$missing; install them with: sudo apt-get install -y$missing (or: sudo make deps, which also installs what the tests need)" >&2
    exit 1
fi

echo "countly-sync: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
