#!/usr/bin/env bash
# test_failpoints.sh - every durable operation failing, one run each.
#
# The test-hooks build (COUNTLY_SYNC_HOOKS, port/posix/port_posix_hooks.h)
# makes durable operation K (fsync, truncate, rename, folder sync: the
# rollbacks and cuts of users.csv, the commits, the replaces of apps.csv,
# groups.csv and state.json) fail with EIO when COUNTLY_SYNC_FAIL_AT=K. Run
# K = 1, 2, 3, ... until a run never reaches K. Each failing run must end
# with exactly one error line that names the file, exit 73 (cannot write
# output), never a crash or a sanitizer report; and the next run without a
# failure must leave every user exactly once (the state and users.csv still
# agree, whatever the failure interrupted).
# Environment: COUNTLY_SYNC_HOOKS, BUILD_DIR, TEST_TMP. Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=../lib/e2e.sh
. "$ROOT/tests/lib/e2e.sh"

e2e_paths failpoints
BIN=${COUNTLY_SYNC_HOOKS:-$BUILD_DIR/asan/bin/countly-sync-hooks}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
PKI=$TMP/pki
RUNS=$TMP/runs
rm -rf "$TMP" && mkdir -p "$RUNS"
trap stop_sims EXIT

[ -x "$BIN" ] || { tl_fail "setup: binary" "$BIN not built (make asan-tests)"; tl_summary; exit 1; }
bash "$ROOT/tests/integration/gen_pki.sh" "$PKI" >/dev/null 2>&1 ||
    { tl_fail "setup: pki" "gen_pki.sh failed"; tl_summary; exit 1; }
start_sim fp --seed 9 --apps 2 --users-per-app 150 --bulk-import 70
ADMIN=$(json_field "$(sim_get "${PORT[fp]}" /__sim/keys)" admin)
INFO=$(sim_get "${PORT[fp]}" /__sim/info)
read -r -a APPS <<<"$(json_field "$INFO" apps)"
sim_get "${PORT[fp]}" "/__sim/ids?app=*&full=$(json_field "$INFO" now)" >"$TMP/users.ids"
truth fp apps_db "" "$TMP/apps.truth"
write_config "$TMP/fp.json" "server_url=https://localhost:${PORT[fp]}" "app_id=*" \
    "ca_file=$PKI/ca-ec.crt" "output_dir=$TMP/out" "max_records_per_page=50" \
    "initial_sync_days=0" "retry_attempts=0"

# fp_run NAME [FAIL_AT]: a run of the hooks build.
fp_run() {
    CS_PREFIX=(env ${2:+COUNTLY_SYNC_FAIL_AT=$2})
    run_cs "$1" "$ADMIN" -c "$TMP/fp.json" sync
    CS_PREFIX=()
}

failed=0 wrong=0 runs=0 stars=()
for ((k = 1; k <= 400; k++)); do
    rm -rf "$TMP/out"
    fp_run "fail$k" "$k"
    if ! grep -q "countly-sync-hooks: failing" <<<"$ERR"; then
        check_eq "failpoints: run $k finds no operation $k, so it completes" 0 "$RC"
        break
    fi
    runs=$((runs + 1))
    what=$(sed -n 's/^countly-sync-hooks: failing \([a-z]*\) .*/\1/p' <<<"$ERR")
    stars+=("$what")
    lines=$(grep -c '^countly-sync: error: ' <<<"$ERR")
    if [ "$RC" != 73 ] || [ "$lines" != 1 ] || grep -q 'Sanitizer\|runtime error' <<<"$ERR"; then
        wrong=$((wrong + 1))
        echo "# operation $k ($what): exit $RC, $lines error lines:"
        grep -v '^countly-sync: \(users\|apps\|groups\):' <<<"$ERR" | head -n 4 | cut -c1-200 | sed 's/^/#   /'
    fi
    # the run after it, without a failure, ends with every user exactly once
    fp_run "after$k"
    if [ "$RC" != 0 ]; then
        failed=$((failed + 1))
        echo "# after operation $k failed: the clean run exits $RC: $(grep '^countly-sync: error' <<<"$ERR" | head -n 1)"
        continue
    fi
    if ! python3 "$ROOT/tests/paging/idcheck.py" --csv "$TMP/out/users.csv" --ids "$TMP/users.ids" \
        >"$RUNS/check$k.txt" 2>&1 ||
        ! python3 "$ROOT/tests/e2e/compare.py" --csv "$TMP/out/apps.csv" --truth "$TMP/apps.truth" \
            >>"$RUNS/check$k.txt" 2>&1; then
        failed=$((failed + 1))
        echo "# after operation $k failed: the output is not exact:"
        grep -v '=0$' "$RUNS/check$k.txt" | head -n 4 | sed 's/^/#   /'
    fi
done
echo "# $runs durable operations failed one at a time: $(printf '%s\n' "${stars[@]}" | sort | uniq -c | tr '\n' ' ')"
check_ge "failpoints: operations failed one at a time" "$runs" 20
check_eq "failpoints: each failure is exit 73 with exactly one error line, no sanitizer report" 0 "$wrong"
check_eq "failpoints: after each failure, a clean run leaves every user and app exactly once" 0 "$failed"
check_match "failpoints: the rollbacks (truncate) were among them" "truncate" "${stars[*]}"
check_match "failpoints: the folder syncs were among them" "dirsync" "${stars[*]}"

# The API key appears in none of the captured outputs.
check_eq "failpoints: the API key in no output" "" "$(grep -rlF "$ADMIN" "$RUNS" 2>/dev/null)"
tl_summary
