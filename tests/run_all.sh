#!/bin/sh
# run_all.sh - the whole test suite, as `make test` runs it.
#
# 1. cmocka unit tests, built with AddressSanitizer + UndefinedBehaviorSanitizer
#    (and the relay's under ThreadSanitizer)
# 2. integration tests against real servers on 127.0.0.1 (sanitizer builds;
#    the fault and kill -9 suites run the test-hooks build, countly-sync-hooks),
#    TEST_LANES (default 2) suites at a time; and make install / make uninstall
#    of the static build into scratch folders (tests/package/test_install.sh)
# 3. fuzz corpus replay: every input of tests/fuzz/corpus/<target>/ through
#    its libFuzzer target once (ASan+UBSan); random fuzzing is `make fuzz`
# 4. cppcheck over src/, port/ and the test tools
#
# Prints one line per part, "== NAME: N passed, N failed (S s)", and
# "N passed, N failed" as its last line (the totals of all parts); exits
# non-zero when anything failed or did not run.
set -u
. tests/lib/counts.sh # suite_counts

BUILD_DIR=${BUILD_DIR:-build}
SAN=$BUILD_DIR/asan
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$BUILD_DIR/test-tmp"

# python3 resolved once to the interpreter it starts: a version manager's
# shim (pyenv's is a shell script) costs about 0.15 s per start, and the
# suites start python3 a few thousand times.
PY_REAL=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ -n "$PY_REAL" ] && [ -x "$PY_REAL" ] && [ "$PY_REAL" != "$(command -v python3)" ]; then
    PY_DIR=$(cd "$BUILD_DIR/test-tmp" && pwd)/bin
    mkdir -p "$PY_DIR" && ln -sf "$PY_REAL" "$PY_DIR/python3" && PATH=$PY_DIR:$PATH
    export PATH
fi

passed=0
failed=0
T_ALL=$(date +%s)

add() { # add PASSED FAILED LABEL SECONDS
    passed=$((passed + $1))
    failed=$((failed + $2))
    echo "== $3: $1 passed, $2 failed ($4 s)"
}

# ---- 1. unit tests -----------------------------------------------------------
units=$(ls "$SAN"/tests/test_* "$BUILD_DIR"/tsan/tests/test_* 2>/dev/null | grep -v '\.d$')
if [ -z "$units" ]; then
    add 0 1 "unit tests (none built)" 0
fi
for t in $units; do
    log=$BUILD_DIR/test-tmp/$(basename "$t").log
    t0=$(date +%s)
    "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    p=${p:-0}
    f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1 # crashed or sanitizer abort
    fi
    add "$p" "$f" "$(basename "$t")" $(($(date +%s) - t0))
done

# ---- 2. integration: real servers on 127.0.0.1, sanitizer builds of the tools --------
# TEST_LANES suites run at a time (default 2; 1 = one after the other), the
# longest first, each into its own log and scratch folder (free ports,
# private simulators and clusters); the logs and result lines are printed
# in the order below once all have ended. A suite's time is its wall time.
export BUILD_DIR
export HTTPS_GET=$SAN/tests/https_get
export PIPELINE_RUN=$SAN/tests/pipeline_run
export COUNTLY_SYNC=$SAN/bin/countly-sync
export COUNTLY_SYNC_HOOKS=$SAN/bin/countly-sync-hooks
# (tests/cross and tests/lwip have their own targets: make test-cross, make test-lwip;
# of tests/package the manual page, the units and the x86_64 make install /
# uninstall suites run here, a few seconds once make static's build is there:
# the deb, release and deps suites are make test-package)
SUITES=$(for s in tests/integration/test_*.sh tests/pipeline/test_*.sh tests/sim/test_*.sh \
    tests/e2e/test_*.sh tests/paging/test_*.sh tests/faults/test_*.sh tests/crash/test_*.sh \
    tests/package/test_manpage.sh tests/package/test_units.sh tests/package/test_install.sh; do
    [ -f "$s" ] && echo "$s"
done)
# the order the lanes take them in: the longest first (the rest after)
LONGEST="tests/paging/test_paging.sh tests/faults/test_faults.sh tests/crash/test_kill9.sh
tests/pipeline/test_pipeline.sh tests/e2e/test_sync.sh tests/sim/test_sim.sh"
QUEUE=$(for s in $LONGEST $SUITES; do echo "$s"; done | awk 'NF && !seen[$0]++')
CLAIMS=$BUILD_DIR/test-tmp/claims
rm -rf "$CLAIMS" && mkdir -p "$CLAIMS"
rm -f "$BUILD_DIR"/test-tmp/*.log.result

# lane: takes the next unclaimed suite of QUEUE (mkdir claims it) until none is left.
lane() {
    for suite in $QUEUE; do
        mkdir "$CLAIMS/$(basename "$suite")" 2>/dev/null || continue
        log=$BUILD_DIR/test-tmp/$(basename "$suite").log
        t0=$(date +%s)
        bash "$suite" >"$log" 2>&1
        echo "$? $(($(date +%s) - t0))" >"$log.result"
    done
}

LANES=${TEST_LANES:-2}
i=0
while [ "$i" -lt "$LANES" ]; do
    lane &
    i=$((i + 1))
done
wait

for suite in $SUITES; do
    log=$BUILD_DIR/test-tmp/$(basename "$suite").log
    read -r rc secs 2>/dev/null <"$log.result" || { rc=1; secs=0; }
    cat "$log"
    counts=$(suite_counts "$log" "$rc")
    p=${counts% *}
    f=${counts#* }
    add "$p" "$f" "$(basename "$suite")" "$secs"
done

# ---- 3. fuzz corpus replay ------------------------------------------------------------
# Each committed input runs once (libFuzzer runs the files it is given and
# stops); a crash, a sanitizer report or a missing corpus fails the target.
for target in "$BUILD_DIR"/fuzz/fuzz_*; do
    [ -f "$target" ] && [ -x "$target" ] || continue
    name=$(basename "$target")
    log=$BUILD_DIR/test-tmp/$name.log
    t0=$(date +%s)
    set -- tests/fuzz/corpus/"${name#fuzz_}"/*
    if [ ! -f "$1" ]; then
        echo "$name: no corpus in tests/fuzz/corpus/${name#fuzz_}/"
        add 0 1 "$name (corpus replay)" 0
        continue
    fi
    if "$target" -artifact_prefix="$BUILD_DIR/test-tmp/$name-" "$@" >"$log" 2>&1 &&
        [ "$(grep -c '^Executed ' "$log")" -eq "$#" ]; then
        echo "$name: $# corpus inputs replayed"
        add 1 0 "$name (corpus replay, $# inputs)" $(($(date +%s) - t0))
    else
        tail -n 40 "$log"
        add 0 1 "$name (corpus replay, $# inputs)" $(($(date +%s) - t0))
    fi
done

# ---- 4. static analysis --------------------------------------------------------------
t0=$(date +%s)
if make --no-print-directory lint; then
    add 1 0 "cppcheck" $(($(date +%s) - t0))
else
    add 0 1 "cppcheck" $(($(date +%s) - t0))
fi

echo "# run_all.sh: $(($(date +%s) - T_ALL)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
