#!/usr/bin/env bash
# coverage.sh - line and branch coverage of src/ and port/posix/ (`make coverage`).
#
# 1. Builds the coverage profile in $BUILD_DIR/coverage: our code at -O0 -g
#    with --coverage (gcov), linked with the native profile's mbedTLS and
#    zlib copies (as the asan profile does; they are not measured).
# 2. Runs the cmocka unit tests and the suites that run our code against
#    real servers on 127.0.0.1, with the coverage build's binaries
#    (COUNTLY_SYNC, HTTPS_GET) and their scratch folders under
#    $BUILD_DIR/coverage/run, apart from `make test`'s:
#      tests/integration/test_https.sh   https_get: TLS, HTTP client, port
#      tests/e2e/test_sync.sh            the binary, E2E_USERS_PER_APP=1000
#      tests/paging/test_paging.sh       the binary, PAGING_USERS=10000
#      tests/faults/test_faults.sh       the binary against a faulty server
#    Left out (docs/coverage.md gives the measurements): tests/pipeline
#    (pipeline_run drives jstream/map/csv, which the unit tests already
#    cover: no line more, 51 s), tests/crash (processes killed with SIGKILL
#    never write their counters: 4 lines more, 240 s),
#    tests/sim (the simulator only), the fuzz targets (clang, libFuzzer's
#    own instrumentation), tests/cross and tests/lwip (other builds).
#    The smaller data sets cover the same lines as the suites' defaults.
# 3. gcovr over the counters: a table per file (lines, branches), the
#    totals of src/ and port/posix/; the uncovered lines and branches of
#    every file in $BUILD_DIR/coverage/report/{lines,branches}.txt and an
#    annotated HTML report in $BUILD_DIR/coverage/report/index.html.
#
# Exits non-zero when a test failed or did not run, or when src/ line
# coverage is below COVERAGE_MIN_LINES (default 90) percent.
#
# Environment: BUILD_DIR (default build), MAKE (default make), GCOV (the
# gcov program, default gcov; "llvm-cov gcov" for a CC=clang build),
# COVERAGE_MIN_LINES, E2E_USERS_PER_APP, PAGING_USERS.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
MAKE=${MAKE:-make}
GCOV=${GCOV:-gcov}
MIN_LINES=${COVERAGE_MIN_LINES:-90}
OUT=$BUILD_DIR/coverage
RUN=$OUT/run
REPORT=$OUT/report
t_start=$(date +%s)

command -v gcovr >/dev/null || {
    echo "coverage.sh: gcovr not found (make deps-test installs it)" >&2
    exit 1
}

# ---- 1. the coverage build -------------------------------------------------------
echo "== coverage: building $OUT (-O0 -g --coverage)"
$MAKE --no-print-directory BUILD_DIR="$BUILD_DIR" PROFILE=native mbedtls || exit 1
$MAKE --no-print-directory BUILD_DIR="$BUILD_DIR" PROFILE=coverage MBEDTLS_PROFILE=native \
    OPT="-O0 -g" PROFILE_CFLAGS="--coverage" PROFILE_LDFLAGS="--coverage" bin tests || exit 1

# Counters from an earlier run (or an older build) go; each object gets an
# empty counter file that anyone may write: the faults suite runs the
# binary once as `nobody` (read-only output folder), whose counters would
# otherwise be lost ("profiling: ... Cannot open") since it cannot create
# files in the build folder. An empty file is taken as a new one.
# (A faults run killed before its cleanup may have left mounts in $RUN.)
if [ -d "$RUN" ]; then
    awk -v t="$RUN/" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r |
        while read -r mp; do umount -l "$mp" 2>/dev/null; done
fi
rm -rf "$RUN" "$REPORT"
find "$OUT" -name '*.gcda' -delete
objs=("$OUT"/obj*) # obj/, and obj-hooks/ where the profile has a test-hooks build
while IFS= read -r gcno; do
    : >"${gcno%.gcno}.gcda" && chmod 0666 "${gcno%.gcno}.gcda"
done < <(find "${objs[@]}" -name '*.gcno')
mkdir -p "$RUN/logs" "$REPORT"

passed=0
failed=0
add() { # add PASSED FAILED LABEL
    passed=$((passed + $1))
    failed=$((failed + $2))
    echo "== $3: $1 passed, $2 failed"
}

# ---- 2. the tests ------------------------------------------------------------------
units=$(find "$OUT/tests" -maxdepth 1 -type f -name 'test_*' ! -name '*.*' | sort)
[ -n "$units" ] || add 0 1 "unit tests (none built)"
for t in $units; do
    name=$(basename "$t")
    log=$RUN/logs/$name.log
    "$t" >"$log" 2>&1
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    p=${p:-0}
    f=${f:-0}
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    [ "$f" -ne 0 ] && tail -n 40 "$log"
    add "$p" "$f" "$name"
done

export BUILD_DIR=$RUN
export COUNTLY_SYNC=$OUT/bin/countly-sync
export HTTPS_GET=$OUT/tests/https_get
export PIPELINE_RUN=$OUT/tests/pipeline_run
export E2E_USERS_PER_APP=${E2E_USERS_PER_APP:-1000}
export PAGING_USERS=${PAGING_USERS:-10000}
unset COUNTLY_SYNC_WRAPPER HTTPS_GET_WRAPPER
for suite in tests/integration/test_https.sh tests/e2e/test_sync.sh \
    tests/paging/test_paging.sh tests/faults/test_faults.sh; do
    name=$(basename "$suite" .sh)
    log=$RUN/logs/$name.log
    t0=$(date +%s)
    TEST_TMP=$RUN/test-tmp/$name bash "$suite" >"$log" 2>&1 </dev/null
    rc=$?
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    p=${p:-0}
    f=${f:-0}
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    [ "$f" -ne 0 ] && tail -n 40 "$log"
    add "$p" "$f" "$name ($(($(date +%s) - t0)) s)"
done
echo "$passed passed, $failed failed"

# ---- 3. the report -------------------------------------------------------------------
# A counter file no process wrote (still empty) is not a gcov data file.
find "${objs[@]}" "$OUT/tests" -name '*.gcda' -size 0 -delete
gcovr --root "$ROOT" --gcov-executable "$GCOV" --filter "$ROOT/src/" \
    --filter "$ROOT/port/posix/" --json "$REPORT/coverage.json" \
    --json-summary "$REPORT/summary.json" --txt "$REPORT/lines.txt" \
    --html-details "$REPORT/index.html" --html-title "countly-sync coverage" \
    "${objs[@]}" || exit 1
gcovr --root "$ROOT" --add-tracefile "$REPORT/coverage.json" --branches \
    --txt "$REPORT/branches.txt" || exit 1

python3 - "$REPORT/summary.json" "$MIN_LINES" <<'EOF'
import json, sys

summary = json.load(open(sys.argv[1]))
min_lines = float(sys.argv[2])


def pct(covered, total):
    return 100.0 * covered / total if total else 100.0


def row(name, lc, lt, bc, bt):
    print(f"{name:32s} {lc:5d}/{lt:<5d} {pct(lc, lt):6.1f} %   {bc:5d}/{bt:<5d} {pct(bc, bt):6.1f} %")


print()
print(f"{'file':32s} {'lines':>11s} {'':8s}   {'branches':>11s}")
groups = {"src/": [0, 0, 0, 0], "port/posix/": [0, 0, 0, 0]}
for f in sorted(summary["files"], key=lambda f: f["filename"]):
    n = f["filename"]
    c = (f["line_covered"], f["line_total"], f["branch_covered"], f["branch_total"])
    row(n, *c)
    for g, t in groups.items():
        if n.startswith(g):
            for i in range(4):
                t[i] += c[i]
print("-" * 75)
for g, t in groups.items():
    row("total " + g, *t)
row("total", *[sum(t[i] for t in groups.values()) for i in range(4)])
src = pct(groups["src/"][0], groups["src/"][1])
verdict = "ok" if src >= min_lines else "FAILED"
print(f"coverage: src/ lines {src:.1f} % (minimum {min_lines:g} %): {verdict}")
sys.exit(0 if src >= min_lines else 1)
EOF
cov_rc=$?
echo "coverage: uncovered lines and branches in $REPORT/lines.txt, branches.txt;" \
    "annotated sources in $REPORT/index.html ($(($(date +%s) - t_start)) s)"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] && [ "$cov_rc" -eq 0 ]
