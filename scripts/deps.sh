#!/bin/sh
# deps.sh - make sure the Debian packages countly-sync needs are installed.
#
# Usage: scripts/deps.sh [build|cross|test|all]
#   build: what `make` needs (compiler, archive tools, apt source fetch)
#   cross: build + the ARM cross compilers (`make cross`)
#   test:  build + what `make test` needs (cmocka, musl, servers, sanitizers,
#          the ARM cross compilers and qemu-user for `make cross`/`test-cross`,
#          gcovr for `make coverage`, python3-prometheus-client for test_ops's
#          metrics parser)
# As root, installs whatever is missing with apt-get; otherwise prints the
# exact apt-get line to run and fails.
set -eu

want=${1:-all}

build_pkgs="gcc make libc6-dev bzip2 tar ca-certificates apt file binutils libjsmn-dev"
cross_pkgs="gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf"
test_pkgs="libcmocka-dev musl-tools python3 python3-prometheus-client openssl nginx curl clang libclang-rt-14-dev cppcheck valgrind sqlite3 postgresql jq gcovr
           mandoc groff-base bash-completion systemd man-db
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

if [ "$(id -u)" -ne 0 ]; then
    echo "countly-sync: missing Debian packages:$missing" >&2
    echo "run: sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi

echo "countly-sync: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
