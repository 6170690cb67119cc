#!/usr/bin/env bash
# run.sh - the packaging suites, as `make test-package` runs them.
#
#   test_deps.sh     only make deps / demo / test install packages
#   test_install.sh  make install / make uninstall (three sets of variables)
#   test_release.sh  make release: three archives and SHA256SUMS
#   test_deb.sh      make deb for x86_64, aarch64, armhf: lintian, dpkg -i/-r/-P
#
# The suites build what they need through make (make static, make cross
# ARCH=...: about 1 min each on a cold tree, cached after make test-cross).
# Prints each suite's output and "== NAME: N passed, N failed (S s)", then
# "N passed, N failed" as its last line; exits non-zero when anything
# failed or a suite ended without its summary.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/tests/lib/counts.sh" # suite_counts
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
export BUILD_DIR
mkdir -p "$BUILD_DIR/test-tmp"

passed=0
failed=0
T_ALL=$(date +%s)
for suite in test_deps test_install test_release test_deb; do
    log=$BUILD_DIR/test-tmp/package-$suite.log
    t0=$(date +%s)
    bash "$HERE/$suite.sh" >"$log" 2>&1
    rc=$?
    cat "$log"
    counts=$(suite_counts "$log" "$rc")
    p=${counts% *}
    f=${counts#* }
    passed=$((passed + p))
    failed=$((failed + f))
    echo "== $suite: $p passed, $f failed ($(($(date +%s) - t0)) s)"
done
echo "# tests/package: $(($(date +%s) - T_ALL)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
