#!/usr/bin/env bash
# test_gzip_output.sh - output_compression "gzip" (the append layout)
# against the simulator.
#
# Each simulator has a bulk import (hundreds of users sharing one lac
# second): the page before it is cut back to where that second began, past
# the 32 KiB hold (GZOUT_HOLD_SIZE), so the mark becomes a full-flush point.
#
#  1. a full sync: apps.csv.gz, groups.csv.gz and users.csv.gz (no .csv,
#     no .tmp), each passes `gzip -t`, its text equals the truth, the files
#     get file_mode; users.csv.gz is a few members (header, then one per
#     commit) and the state's users_csv_bytes is its size;
#  2. an incremental run after touching users: users.csv.gz grows by whole
#     members, its first run's bytes are unchanged, it passes `gzip -t`, and
#     the rows appended are exactly the touched users;
#  3. kill -9 (the test-hooks build, COUNTLY_SYNC_CRASH_AT) at every durable
#     operation of a gzip run in turn, each run resuming the one before, and
#     torn writes (COUNTLY_SYNC_CRASH_WRITE): after every kill the file cut
#     to the state's committed size passes `gzip -t`; at the end the file
#     passes `gzip -t` and holds every user exactly once;
#  4. the small profile (build/static-small, when built) refuses the key
#     with exit 78 and one line that says why.
# Environment: COUNTLY_SYNC, COUNTLY_SYNC_HOOKS, COUNTLY_SYNC_WRAPPER, BUILD_DIR, TEST_TMP,
# GZOUT_KILL_STRIDE (crash points skipped between kills, default 1: every one).
# Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=../lib/e2e.sh
. "$ROOT/tests/lib/e2e.sh"

e2e_paths gzip_output
PKI=$TMP/pki
RUNS=$TMP/runs
CHECK=$ROOT/tests/crash/crashcheck.py
STRIDE=${GZOUT_KILL_STRIDE:-1}
rm -rf "$TMP" && mkdir -p "$RUNS"

cleanup() { stop_sims; }
trap cleanup EXIT

for tool in python3 curl openssl gzip; do
    command -v $tool >/dev/null || { tl_fail "setup: $tool" "not installed"; tl_summary; exit 1; }
done
[ -x "$BIN" ] || { tl_fail "setup: binary" "$BIN not built"; tl_summary; exit 1; }
bash "$ROOT/tests/integration/gen_pki.sh" "$PKI" >/dev/null 2>&1 ||
    { tl_fail "setup: pki" "gen_pki.sh failed"; tl_summary; exit 1; }

sim_launch big --seed 8 --apps 2 --users-per-app 1500 --bulk-import 300
sim_launch small --seed 9 --apps 1 --users-per-app 500 --bulk-import 150
sim_wait big
sim_wait small
ADMIN=$(json_field "$(sim_get "${PORT[big]}" /__sim/keys)" admin)
SADMIN=$(json_field "$(sim_get "${PORT[small]}" /__sim/keys)" admin)
NOW=$(json_field "$(sim_get "${PORT[big]}" /__sim/info)" now)
APPS=$(json_field "$(sim_get "${PORT[big]}" /__sim/info)" apps)
truth big users "&app=*&full=$NOW" "$TMP/users.truth"
truth big apps_db "" "$TMP/apps.truth"
truth big groups "" "$TMP/groups.truth"

# gconf NAME SIM KEY=VALUE...: a gzip configuration for SIM, output into $TMP/NAME.
gconf() {
    local name=$1 sim=$2
    shift 2
    write_config "$TMP/$name.json" "server_url=https://localhost:${PORT[$sim]}" "app_id=*" \
        "ca_file=$PKI/ca-ec.crt" "output_dir=$TMP/$name" "max_records_per_page=200" \
        "initial_sync_days=0" "retry_attempts=2" "output_compression=gzip" "$@"
}

# state_bytes DIR: users_csv_bytes of DIR/state.json (0 without one).
state_bytes() {
    python3 -c 'import json,sys
try: print(json.load(open(sys.argv[1])).get("users_csv_bytes", 0))
except FileNotFoundError: print(0)' "$1/state.json"
}

# members FILE: how many gzip members FILE holds (fails on a bad one).
members() {
    python3 -c 'import sys,zlib
data = open(sys.argv[1], "rb").read()
n = 0
while data:
    d = zlib.decompressobj(31)
    d.decompress(data)
    if not d.eof: sys.exit("truncated member")
    data = d.unused_data
    n += 1
print(n)' "$1"
}

file_mode() { stat -c %a "$1"; }

# gz_valid NAME FILE [BYTES]: FILE (its first BYTES) passes gzip -t.
gz_valid() {
    local out
    if [ -n "${3:-}" ]; then
        out=$(head -c "$3" "$2" | gzip -t 2>&1)
    else
        out=$(gzip -t "$2" 2>&1)
    fi
    check_eq "$1: gzip -t" "" "$out"
}

# ---- 1. a full sync ---------------------------------------------------------------------

D=$TMP/full
gconf full big
run_cs full "$ADMIN" -c "$TMP/full.json" --report "$TMP/full.report.json" sync
check_eq "full: exit 0" 0 "$RC"
[ "$RC" -eq 0 ] || printf '%s\n' "$ERR" | tail -n 5 | sed 's/^/#   /'
check_eq "full: the report's sha256 of apps.csv.gz and groups.csv.gz are the files'" \
    "$(cd "$D" && sha256sum apps.csv.gz groups.csv.gz | awk '{ print $2 "=" $1 }' | tr '\n' ' ')" \
    "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(" ".join("%s=%s" % (f["path"], f.get("sha256")) for f in r["files"] if f["complete"]) + " ")' "$TMP/full.report.json")"
check_eq "full: the files are .csv.gz only" "apps.csv.gz groups.csv.gz state.json state.json.lock users.csv.gz" \
    "$(cd "$D" && echo *)"
for t in apps groups users; do
    gz_valid "full: $t.csv.gz" "$D/$t.csv.gz"
    gzip -dc "$D/$t.csv.gz" >"$TMP/full.$t.csv"
    check_eq "full: $t.csv.gz mode 600 (file_mode default)" 600 "$(file_mode "$D/$t.csv.gz")"
done
compare "full: users.csv.gz" "$TMP/full.users.csv" "$TMP/users.truth"
compare "full: apps.csv.gz" "$TMP/full.apps.csv" "$TMP/apps.truth"
compare "full: groups.csv.gz" "$TMP/full.groups.csv" "$TMP/groups.truth"
check_eq "full: state's users_csv_bytes is the file's size" "$(stat -c %s "$D/users.csv.gz")" \
    "$(state_bytes "$D")"
FULL_MEMBERS=$(members "$D/users.csv.gz")
check_ge "full: users.csv.gz holds the header's member and the commits' ($FULL_MEMBERS)" \
    "$FULL_MEMBERS" 2
check_eq "full: apps.csv.gz is one member" 1 "$(members "$D/apps.csv.gz")"
RAW=$(stat -c %s "$TMP/full.users.csv")
ZIPPED=$(stat -c %s "$D/users.csv.gz")
echo "# users: $RAW bytes of CSV in $ZIPPED bytes of gzip"
check_true "full: users.csv.gz at least 3x smaller than its text ($RAW / $ZIPPED)" "not" \
    awk -v r="$RAW" -v z="$ZIPPED" 'BEGIN { exit !(z > 0 && r / z >= 3) }'

gconf moded big "file_mode=0640"
run_cs moded "$ADMIN" -c "$TMP/moded.json" sync
check_eq "file_mode 0640: exit 0" 0 "$RC"
check_eq "file_mode 0640: users.csv.gz and apps.csv.gz" "640 640" \
    "$(file_mode "$TMP/moded/users.csv.gz") $(file_mode "$TMP/moded/apps.csv.gz")"

# ---- 2. incremental -----------------------------------------------------------------------

BEFORE=$(stat -c %s "$D/users.csv.gz")
head -c "$BEFORE" "$D/users.csv.gz" >"$TMP/before.gz"
declare -A CURSOR=()
: >"$TMP/touched"
for app in $APPS; do
    CURSOR[$app]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["apps"][sys.argv[2]])' "$D/state.json" "$app")
    sim_get "${PORT[big]}" "/__sim/touch?app=$app&count=40&seed=3" |
        python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["touched"]))' >>"$TMP/touched"
done
sleep 1.2 # the next run starts after the touch, on the server's clock
run_cs incr "$ADMIN" -c "$TMP/full.json" sync
check_eq "incremental: exit 0" 0 "$RC"
gz_valid "incremental: users.csv.gz" "$D/users.csv.gz"
check_eq "incremental: the first run's bytes are unchanged" "" \
    "$(cmp -n "$BEFORE" "$TMP/before.gz" "$D/users.csv.gz" 2>&1)"
check_ge "incremental: more members" "$(members "$D/users.csv.gz")" $((FULL_MEMBERS + 1))
check_eq "incremental: state's users_csv_bytes is the file's size" \
    "$(stat -c %s "$D/users.csv.gz")" "$(state_bytes "$D")"
: >"$TMP/incr.truth"
for app in $APPS; do
    sim_get "${PORT[big]}" "/__sim/truth?table=users&app=$app&gte=${CURSOR[$app]}&lt=9999999999" >>"$TMP/incr.truth"
done
gzip -dc "$D/users.csv.gz" >"$TMP/incr.users.csv"
CMP=$(python3 "$CHECK" users --csv "$TMP/incr.users.csv" --truth "$TMP/incr.truth" \
    --from-byte "$RAW" --keys-out "$TMP/incr.keys" 2>&1)
check_eq "incremental: appended rows exactly as the truth says" 0 $?
check_eq "incremental: appended users = the touched ones, each once" \
    "$(sort "$TMP/touched")" "$(sort "$TMP/incr.keys")"

# ---- 3. kill -9 at every durable operation, and torn writes --------------------------------

HOOKS=${COUNTLY_SYNC_HOOKS:-$BUILD_DIR/asan/bin/countly-sync-hooks}
case $HOOKS in /*) ;; *) HOOKS=$ROOT/$HOOKS ;; esac
STRUTH=$TMP/small.truth
SNOW=$(json_field "$(sim_get "${PORT[small]}" /__sim/info)" now)
truth small users "&app=*&full=$SNOW" "$STRUTH"

# hook_run NAME CONF VAR=VALUE...: one run with a hook armed: RC (137 when killed).
hook_run() {
    local name=$1 cfg=$2
    shift 2
    (
        env "$@" COUNTLY_API_KEY="$SADMIN" "$HOOKS" -q -c "$cfg" sync >"$RUNS/$name.out" 2>"$RUNS/$name.err"
        exit $?
    ) 2>/dev/null
    RC=$?
}

# after_kill DIR: the committed prefix of users.csv.gz is a gzip file;
# counts problems in BAD.
after_kill() {
    local f=$1/users.csv.gz bytes
    bytes=$(state_bytes "$1")
    [ -f "$f" ] || return 0
    if [ "$(stat -c %s "$f")" -lt "$bytes" ]; then
        BAD=$((BAD + 1))
        echo "#   PROBLEM $f shorter than the committed $bytes"
    elif [ "$bytes" -gt 0 ] && ! head -c "$bytes" "$f" | gzip -t 2>/dev/null; then
        BAD=$((BAD + 1))
        echo "#   PROBLEM $f cut to the committed $bytes is not a gzip file"
    fi
}

if [ -x "$HOOKS" ]; then
    K=$TMP/kill
    gconf kill small "max_records_per_page=100"
    KILLS=0
    BAD=0
    for ((n = 1; n <= 2000; n += STRIDE)); do
        hook_run "kill-$n" "$TMP/kill.json" COUNTLY_SYNC_CRASH_AT=$n COUNTLY_SYNC_CLOCK_STEP=1000
        if [ "$RC" -eq 137 ]; then
            KILLS=$((KILLS + 1))
            after_kill "$K"
        elif [ "$RC" -eq 0 ]; then
            break
        else
            tl_fail "kill run $n" "exit $RC without being killed"
            tail -n 3 "$RUNS/kill-$n.err" | sed 's/^/#   /'
            break
        fi
    done
    echo "# kill -9: $KILLS kills before a run completed"
    check_ge "kill -9: a kill at crash point N of run N until one completed" "$KILLS" 20
    check_eq "kill -9: after every kill the committed users.csv.gz is a gzip file" 0 "$BAD"
    run_cs kill-final "$SADMIN" -c "$TMP/kill.json" sync
    check_eq "kill -9: the final run exit 0" 0 "$RC"
    gz_valid "kill -9: users.csv.gz after the reruns" "$K/users.csv.gz"
    gzip -dc "$K/users.csv.gz" >"$TMP/kill.users.csv"
    CMP=$(python3 "$CHECK" users --csv "$TMP/kill.users.csv" --truth "$STRUTH" 2>&1)
    check_eq "kill -9: every user exactly once, every column as the truth says" 0 $?
    [ "$(cmp_field duplicates)" = 0 ] || printf '%s\n' "$CMP" | head -n 12 | sed 's/^/#   /'
    gz_valid "kill -9: apps.csv.gz" "$K/apps.csv.gz"
    echo "# kill -9: $(cmp_field rows) rows in $(members "$K/users.csv.gz") members"
    # torn writes: the N-th file write cut in half, then death, each run
    # resuming the one before
    K=$TMP/torn
    gconf torn small "max_records_per_page=100"
    TORN=0
    BAD=0
    for ((n = 2; n <= 40; n += 3)); do
        hook_run "torn-$n" "$TMP/torn.json" COUNTLY_SYNC_CRASH_WRITE=$n COUNTLY_SYNC_CLOCK_STEP=1000
        if [ "$RC" -eq 137 ]; then
            TORN=$((TORN + 1))
            after_kill "$K"
        fi
    done
    echo "# torn writes: $TORN runs died in a half-done write"
    check_ge "torn writes: runs killed in a write" "$TORN" 5
    check_eq "torn writes: the committed users.csv.gz stays a gzip file" 0 "$BAD"
    run_cs torn-final "$SADMIN" -c "$TMP/torn.json" sync
    check_eq "torn writes: the final run exit 0" 0 "$RC"
    gz_valid "torn writes: users.csv.gz after the reruns" "$K/users.csv.gz"
    gzip -dc "$K/users.csv.gz" >"$TMP/torn.users.csv"
    CMP=$(python3 "$CHECK" users --csv "$TMP/torn.users.csv" --truth "$STRUTH" 2>&1)
    check_eq "torn writes: every user exactly once, every column as the truth says" 0 $?
else
    tl_fail "kill -9" "$HOOKS not built (make asan-tests)"
fi

# ---- 4. the small profile refuses the key ----------------------------------------------

SMALL_BIN=$BUILD_DIR/static-small/bin/countly-sync
if [ -x "$SMALL_BIN" ]; then
    gconf smallprof small
    SAVED=$BIN
    BIN=$SMALL_BIN
    run_cs smallprof "$SADMIN" -c "$TMP/smallprof.json" sync
    BIN=$SAVED
    check_eq "small profile: output_compression gzip exits 78" 78 "$RC"
    check_match "small profile: one line saying why" \
        "error: .*key 'output_compression': \"gzip\" is not available in this build" "$ERR"
    check_eq "small profile: nothing written" "" "$(ls -A "$TMP/smallprof" 2>/dev/null)"
else
    echo "# small profile not built (make static SMALL=1): its refusal is tested by test_config_nogzip"
fi

tl_summary
