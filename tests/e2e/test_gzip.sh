#!/usr/bin/env bash
# test_gzip.sh - gzip on the wire (http_compression) against the simulator
# behaving like Countly's stock nginx front (--gzip: JSON bodies of 256
# bytes or more are gzipped for clients that send Accept-Encoding: gzip).
#
#  1. a full sync with compression: every row equal to the truth, and the
#     bodies came gzipped (far fewer bytes on the wire than without);
#  2. http_compression false: the same rows, identity bodies;
#  3. a server that ignores Accept-Encoding: the same rows;
#  4. a corrupt gzip body once: retried, the run exact; on every attempt:
#     exit 65 with one line naming the page and the gzip error.
#  5. bodies scanned on a second thread (relay.h) or on one: the test-hooks
#     build with COUNTLY_SYNC_CPUS=1 (one thread) and =2 (two) gives the
#     same exact rows, gzipped and identity, and says which it did.
# Environment: COUNTLY_SYNC, COUNTLY_SYNC_HOOKS, COUNTLY_SYNC_WRAPPER, BUILD_DIR, TEST_TMP.
# Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=../lib/e2e.sh
. "$ROOT/tests/lib/e2e.sh"

e2e_paths gzip
PKI=$TMP/pki
RUNS=$TMP/runs
rm -rf "$TMP" && mkdir -p "$RUNS"

cleanup() { stop_sims; }
trap cleanup EXIT

e2e_require python3 curl openssl

sim_launch gz --seed 4 --apps 2 --users-per-app 2000 --gzip
sim_launch plain --seed 4 --apps 2 --users-per-app 2000
sim_wait gz
sim_wait plain
ADMIN=$(json_field "$(sim_get "${PORT[gz]}" /__sim/keys)" admin)
NOW=$(json_field "$(sim_get "${PORT[gz]}" /__sim/info)" now)
truth gz users "&app=*&full=$NOW" "$TMP/users.truth"
truth gz apps_db "" "$TMP/apps.truth"
PNOW=$(json_field "$(sim_get "${PORT[plain]}" /__sim/info)" now)
truth plain users "&app=*&full=$PNOW" "$TMP/users.plain.truth"
truth plain apps_db "" "$TMP/apps.plain.truth"

# gconf NAME SIM KEY=VALUE...: a configuration for SIM, output into $TMP/NAME.
gconf() {
    local name=$1 sim=$2
    shift 2
    write_config "$TMP/$name.json" "server_url=https://localhost:${PORT[$sim]}" "app_id=*" \
        "ca_file=$PKI/ca-ec.crt" "output_dir=$TMP/$name" "max_records_per_page=250" \
        "initial_sync_days=0" "retry_attempts=1" "$@"
}

# wire_kb NAME: the users stream's KB from the run summary.
wire_kb() {
    sed -n 's/.*users: [0-9]* rows, [0-9]* pages\?, \([0-9.]*\) KB.*/\1/p' "$RUNS/$1.err" | tail -n 1
}

exact_run() { # NAME [SUFFIX]: the run's users.csv and apps.csv equal the truth (of sim SUFFIX)
    compare "$1: users.csv" "$TMP/$1/users.csv" "$TMP/users${2:+.$2}.truth"
    compare "$1: apps.csv" "$TMP/$1/apps.csv" "$TMP/apps${2:+.$2}.truth"
}

# ---- 1. compressed -------------------------------------------------------------------

gconf zipped gz
run_cs zipped "$ADMIN" -vv -c "$TMP/zipped.json" sync
check_eq "compressed: exit 0" 0 "$RC"
exact_run zipped
# -vv: each gzipped exchange shows fewer bytes on the wire than in the body
# (the simulator, like nginx, gzips bodies of 256 bytes or more)
check_eq "compressed, -vv: every users page came gzipped, smaller on the wire" "0" \
    "$(grep -F -A1 'debug: GET /o/db?db=countly&collection=app_users' <<<"$ERR" |
        grep 'debug: HTTP 200: ' | awk '
            {
                b = $0; sub(/.*HTTP 200: /, "", b); sub(/ body bytes.*/, "", b)
                if (b + 0 < 256) next
                n++
                if ($0 !~ /body bytes \([0-9]+ on the wire\)/) next
                w = $0; sub(/.*body bytes \(/, "", w); sub(/ on the wire.*/, "", w)
                if (w + 0 < b + 0) ok++
            }
            END { print (n > 0 ? n - ok : -1) }')"
gconf identity gz "http_compression=false"
run_cs identity "$ADMIN" -vv -c "$TMP/identity.json" sync
check_eq "http_compression false: exit 0" 0 "$RC"
exact_run identity
check_nomatch "http_compression false, -vv: no exchange names bytes on the wire" "on the wire" "$ERR"
Z=$(wire_kb zipped)
I=$(wire_kb identity)
echo "# users bodies on the wire: $Z KB gzipped, $I KB identity"
check_true "compressed: at least 2.5x fewer body bytes on the wire ($Z KB vs $I KB)" "not" \
    awk -v z="$Z" -v i="$I" 'BEGIN { exit !(z > 0 && i / z >= 2.5) }'
check_match "the simulator gzips only for Accept-Encoding: gzip" "content-encoding: gzip" \
    "$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' --cacert "$PKI/ca-ec.crt" \
        "https://localhost:${PORT[gz]}/o/db?api_key=$ADMIN&db=countly&collection=apps" | tr -d '\r' |
        tr 'A-Z' 'a-z')"
check_nomatch "the simulator sends identity without it" "content-encoding" \
    "$(curl -s -D - -o /dev/null --cacert "$PKI/ca-ec.crt" \
        "https://localhost:${PORT[gz]}/o/db?api_key=$ADMIN&db=countly&collection=apps" | tr 'A-Z' 'a-z')"

# ---- 3. a server that ignores Accept-Encoding ----------------------------------------------

gconf ignored plain
run_cs ignored "$ADMIN" -c "$TMP/ignored.json" sync
check_eq "server without gzip: exit 0" 0 "$RC"
exact_run ignored plain
check_eq "server without gzip: same bytes on the wire as identity" "$I" "$(wire_kb ignored)"

# ---- 4. corrupt gzip bodies --------------------------------------------------------------------

APP=$(json_field "$(sim_get "${PORT[gz]}" /__sim/info)" apps | cut -d' ' -f2)
sim_get "${PORT[gz]}" "/__sim/fault?kind=corrupt_gzip&count=1&collection=app_users$APP&after=1" >/dev/null
gconf once gz
run_cs once "$ADMIN" -c "$TMP/once.json" sync
check_eq "corrupt gzip once: exit 0" 0 "$RC"
check_match "corrupt gzip once: the retry is logged" "retry 1/1 in [0-9.]+ s: gzip body: corrupt gzip data" "$ERR"
exact_run once
sim_get "${PORT[gz]}" /__sim/reset-faults >/dev/null
sim_get "${PORT[gz]}" "/__sim/fault?kind=corrupt_gzip&count=-1&collection=app_users$APP&after=1" >/dev/null
gconf always gz
run_cs always "$ADMIN" -c "$TMP/always.json" sync
check_eq "corrupt gzip always: exit 65" 65 "$RC"
check_eq "corrupt gzip always: one error line" 1 "$(grep -c '^countly-sync: error: ' <<<"$ERR")"
check_match "corrupt gzip always: names the page and the gzip error" \
    "error: users of app $APP, page 2: gzip body: corrupt gzip data \\(GET .*gave up after 2 attempts\\)" "$ERR"
sim_get "${PORT[gz]}" /__sim/reset-faults >/dev/null

# ---- 5. one thread or two ---------------------------------------------------------------------

HOOKS=${COUNTLY_SYNC_HOOKS:-$BUILD_DIR/asan/bin/countly-sync-hooks}
if [ -x "$HOOKS" ]; then
    SAVED_BIN=$BIN
    BIN=$HOOKS
    for cpus in 1 2; do
        for comp in true false; do
            name=cpus$cpus-$comp
            gconf "$name" gz "http_compression=$comp"
            CS_PREFIX=(env COUNTLY_SYNC_CPUS=$cpus)
            run_cs "$name" "$ADMIN" -c "$TMP/$name.json" -v sync
            CS_PREFIX=()
            check_eq "$cpus cpu(s), http_compression $comp: exit 0" 0 "$RC"
            exact_run "$name"
            if [ "$cpus" = 1 ]; then
                check_nomatch "1 cpu: bodies scanned on the agent's thread" "second thread" "$ERR"
            else
                check_match "2 cpus: bodies scanned on a second thread" \
                    "bodies are scanned on a second thread" "$ERR"
            fi
        done
    done
    BIN=$SAVED_BIN
else
    tl_fail "one thread or two" "$HOOKS not built (make hooks)"
fi

tl_summary
