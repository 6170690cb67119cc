#!/bin/sh
# run_all.sh - the whole test suite, as `make test` runs it.
#
# 1. cmocka unit tests, built with AddressSanitizer + UndefinedBehaviorSanitizer
# 2. integration tests against real servers on 127.0.0.1 (sanitizer driver)
# 3. fuzz smoke runs (libFuzzer, ASan+UBSan), FUZZ_SECONDS each (default 30)
# 4. cppcheck over src/, port/ and the test tools
#
# Prints "N passed, N failed" as its last line (the totals of all parts)
# and exits non-zero when anything failed or did not run.
set -u

BUILD_DIR=${BUILD_DIR:-build}
SAN=$BUILD_DIR/asan
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0

add() { # add PASSED FAILED LABEL
    passed=$((passed + $1))
    failed=$((failed + $2))
    echo "== $3: $1 passed, $2 failed"
}

# ---- 1. unit tests -----------------------------------------------------------
units=$(ls "$SAN"/tests/test_* 2>/dev/null | grep -v '\.d$')
if [ -z "$units" ]; then
    add 0 1 "unit tests (none built)"
fi
for t in $units; do
    log=$BUILD_DIR/test-tmp/$(basename "$t").log
    mkdir -p "$(dirname "$log")"
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
    add "$p" "$f" "$(basename "$t")"
done

# ---- 2. integration: real servers on 127.0.0.1, sanitizer builds of the tools --------
export BUILD_DIR
export HTTPS_GET=$SAN/tests/https_get
export PIPELINE_RUN=$SAN/tests/pipeline_run
export COUNTLY_SYNC=$SAN/bin/countly-sync
# (tests/cross and tests/lwip have their own targets: make test-cross, make test-lwip)
for suite in tests/integration/test_*.sh tests/pipeline/test_*.sh tests/sim/test_*.sh \
    tests/e2e/test_*.sh tests/paging/test_*.sh tests/faults/test_*.sh tests/crash/test_*.sh; do
    [ -f "$suite" ] || continue
    log=$BUILD_DIR/test-tmp/$(basename "$suite").log
    bash "$suite" >"$log" 2>&1
    rc=$?
    cat "$log"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    p=${p:-0}
    f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
    fi
    add "$p" "$f" "$(basename "$suite")"
done

# ---- 3. fuzz smoke ----------------------------------------------------------------
for target in "$BUILD_DIR"/fuzz/fuzz_*; do
    [ -x "$target" ] || continue
    name=$(basename "$target")
    corpus=$BUILD_DIR/test-tmp/corpus-$name
    rm -rf "$corpus" && mkdir -p "$corpus"
    cp tests/fuzz/corpus/"${name#fuzz_}"/* "$corpus"/ 2>/dev/null
    log=$BUILD_DIR/test-tmp/$name.log
    if "$target" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
        -artifact_prefix="$BUILD_DIR/test-tmp/$name-" "$corpus" >"$log" 2>&1; then
        grep -E 'stat::number_of_executed_units|cov:' "$log" | tail -n 2
        add 1 0 "$name ($FUZZ_SECONDS s)"
    else
        tail -n 40 "$log"
        add 0 1 "$name ($FUZZ_SECONDS s)"
    fi
done

# ---- 4. static analysis --------------------------------------------------------------
if make --no-print-directory lint; then
    add 1 0 "cppcheck"
else
    add 0 1 "cppcheck"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
