#!/usr/bin/env bash
# test_faults.sh - countly-sync against a misbehaving Countly (fault injection).
#
# Environment: COUNTLY_SYNC (the binary, default build/native/bin/countly-sync),
# COUNTLY_SYNC_HOOKS (a test-hooks build, used instead when set and there is
# no wrapper: `make test` sets build/asan/bin/countly-sync-hooks),
# COUNTLY_SYNC_WRAPPER (a command prefix such as valgrind), BUILD_DIR, TEST_TMP.
#
# Backoff waits: the test-hooks binary runs with COUNTLY_SYNC_FAKE_SLEEP=1
# (port/posix/port_posix_hooks.h): its sleeps return at once, its clock
# moves on by them, and each wait it asked for is logged; the checks then
# compare those waits, to the millisecond, with the schedule (Retry-After
# exactly, jittered backoff below its cap) and with the logged retries. Any
# other binary (valgrind runs the native one) waits for real and the checks
# measure the run time instead. The request timeout is real time either way.
#
# One simulator (tests/sim, 3 apps x 600 users, pages of 100) serves every
# case; each case arms faults (/__sim/fault), runs the real binary into a
# fresh folder and then checks the exit code, the one error line, and the
# output against the simulator's truth: apps.csv, groups.csv and users.csv
# row by row (tests/e2e/compare.py: nothing lost, nothing duplicated, no
# torn row). After a failed run the state is checked against users.csv
# (fault_check.py state: users_csv_bytes = file size, and the file holds
# exactly the rows the state claims), then a clean run must complete the
# data exactly. Cases: dropped connection, 500s, 429 with and without
# Retry-After, a server that hangs, truncated chunked body, invalid JSON, a
# record over JSTREAM_RECORD_MAX, refused certificates (expired, wrong
# host, other CA), a key revoked mid-run, a full disk (tmpfs and ulimit -f),
# a read-only output folder (read-only bind mount, unprivileged user),
# HTTP/1.0 answers, a server clock 400 days behind and 3 days ahead,
# nginx 502/503/504 pages, retries running out. Mounts and user switches
# need root; without root those cases are skipped (said so, not counted).
# Finally every captured output is searched for the API keys.
# Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=../lib/e2e.sh
. "$ROOT/tests/lib/e2e.sh"

e2e_paths faults
FAKE_SLEEP=0
if [ -n "${COUNTLY_SYNC_HOOKS:-}" ] && [ "${#WRAP[@]}" -eq 0 ]; then
    BIN=$COUNTLY_SYNC_HOOKS
    case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
    export COUNTLY_SYNC_FAKE_SLEEP=1
    FAKE_SLEEP=1
fi
PKI=$TMP/pki
RUNS=$TMP/runs
CHECK=$HERE/fault_check.py
MOUNTS=() # mount points to undo, innermost last
NOBODY_DIR= # the folder handed to user nobody (case 11b)
IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

cleanup() {
    local i
    stop_sims
    [ -n "$NOBODY_DIR" ] && rm -rf "$NOBODY_DIR"
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        umount "${MOUNTS[$i]}" 2>/dev/null || umount -l "${MOUNTS[$i]}" 2>/dev/null
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A previous run's mounts (killed before its trap) must not survive rm -rf.
if [ -d "$TMP" ]; then
    while read -r mp; do umount -l "$mp" 2>/dev/null; done < <(awk -v t="$TMP/" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r)
fi
rm -rf "$TMP" && mkdir -p "$RUNS"

# ---- helpers ------------------------------------------------------------------------------

# cfg NAME KEY=VALUE...: $TMP/NAME.json for the ee simulator, output into $TMP/NAME/out.
cfg() {
    local name=$1
    shift
    write_config "$TMP/$name.json" "server_url=https://localhost:${PORT[ee]}" "app_id=*" \
        "ca_file=$PKI/ca-ec.crt" "output_dir=$TMP/$name/out" "max_records_per_page=100" \
        "initial_sync_days=0" "retry_attempts=3" "request_timeout_seconds=10" "$@"
}

# csync NAME [RUN]: runs `sync` with $TMP/NAME.json (RUN names the captured output).
csync() {
    run_cs "${2:-$1}" "$ADMIN" -c "$TMP/$1.json" sync
}

# arm NAME QUERY: arms one fault on the ee simulator.
arm() {
    local got
    got=$(sim_get "${PORT[ee]}" "/__sim/fault?$2")
    setup_match "$1: fault armed ($2)" '"armed"' "$got"
}

reset_faults() { sim_get "${PORT[ee]}" /__sim/reset-faults >/dev/null; }

# fired KIND: how often a fault kind fired on ee since the start.
fired() {
    sim_get "${PORT[ee]}" /__sim/stats |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["faults_fired"].get(sys.argv[1], 0))' "$1"
}

# expect_exit NAME CODE: the run's exit code; shows the end of stderr if not.
expect_exit() {
    check_eq "$1: exit $2" "$2" "$RC"
    [ "$RC" = "$2" ] || printf '%s\n' "$ERR" | tail -n 4 | cut -c1-300 | sed 's/^/#   /'
}

# error_line NAME REGEX: exactly one error line, and it says REGEX.
error_line() {
    local lines
    lines=$(grep -c '^countly-sync: error: ' <<<"$ERR")
    check_eq "$1: one error line" 1 "$lines"
    check_match "$1: message" "$2" "$(grep '^countly-sync: error: ' <<<"$ERR" | head -n 1)"
}

no_error_line() {
    check_eq "$1: no error line" 0 "$(grep -c '^countly-sync: error: ' <<<"$ERR")"
}

# processed_at DIR: the run start written into DIR/apps.csv.
processed_at() {
    python3 - "$1/apps.csv" "$ROOT/tests/pipeline" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import csvcheck
h, rows = csvcheck.read_csv(sys.argv[1])
print(rows[0][h.index("processed_at")] if rows else "")
PY
}

# exact NAME DIR [ISO...]: apps.csv and groups.csv equal the truth, and
# users.csv holds every user of every app exactly once, each row as the
# truth has it, written by one of the runs that started at ISO... (default:
# the run that wrote apps.csv).
exact() {
    local name=$1 dir=$2 allowed
    shift 2
    compare "$name: apps.csv" "$dir/apps.csv" "$TMP/apps.truth"
    local run
    run=$(cmp_field processed_at)
    compare "$name: groups.csv" "$dir/groups.csv" "$TMP/groups.truth"
    allowed=$(IFS=,; echo "${*:-$run}")
    local u
    local u rc
    u=$(python3 "$CHECK" unify --csv "$dir/users.csv" --out "$dir/users.unified.csv" --allowed "$allowed" 2>&1)
    rc=$?
    check_eq "$name: users.csv parses, processed_at = a run start" 0 "$rc"
    [ $rc -eq 0 ] || sed 's/^/#   /' <<<"$u"
    compare "$name: users.csv (all apps, each user once)" "$dir/users.unified.csv" "$TMP/users.truth"
    check_eq "$name: users.csv no duplicates" 0 "$(cmp_field duplicates)"
}

# state_ok NAME DIR: the state file and users.csv agree (see fault_check.py);
# its key=value lines in STATE.
state_ok() {
    STATE=$(python3 "$CHECK" state --dir "$2" --truth "$TMP/users.truth" --raw "$TMP/users.raw.json" \
        --apps "$(IFS=,; echo "${APPS[*]}")" 2>&1)
    local rc=$?
    check_eq "$1: state consistent with users.csv (size, rows, order)" 0 "$rc"
    [ $rc -eq 0 ] || sed 's/^/#   /' <<<"$STATE"
}

state_field() { sed -n "s/^$1=//p" <<<"$STATE"; }

# retry_waits: the waits of the logged retries, in ms, space-separated.
retry_waits() {
    sed -n 's/.*: retry [0-9]*\/[0-9]* in \([0-9.]*\) s: .*/\1/p' <<<"$ERR" |
        awk '{printf "%s%d", (NR > 1 ? " " : ""), $1 * 1000 + 0.5}'
}

sum() { local s=0 v; for v in "$@"; do s=$((s + v)); done; echo "$s"; }

# slept: the waits (ms) the last run asked for (fake-sleep mode), space-separated.
slept() { [ -f "$RUNS/$CS_LAST.sleeps" ] && tr '\n' ' ' <"$RUNS/$CS_LAST.sleeps" | sed 's/ $//'; }

# close_lists A B: two lists of ms of the same length, pairwise within 50 ms
# (the log shows a wait rounded to 0.1 s).
close_lists() {
    local -a a b
    local i d
    read -r -a a <<<"$1"
    read -r -a b <<<"$2"
    [ "${#a[@]}" -eq "${#b[@]}" ] || return 1
    for ((i = 0; i < ${#a[@]}; i++)); do
        d=$((a[i] - b[i]))
        [ "${d#-}" -le 50 ] || return 1
    done
}

# waits_slept NAME: fake-sleep mode: the last run slept exactly its logged retry waits.
waits_slept() {
    [ "$FAKE_SLEEP" = 1 ] || return 0
    local asked logged
    asked=$(slept)
    logged=$(retry_waits)
    check_true "$1: slept what the retries logged (asked ${asked:-nothing} ms, logged ${logged:-nothing} ms)" \
        "they differ" close_lists "$asked" "$logged"
}

# ---- setup ---------------------------------------------------------------------------------

e2e_require python3 curl openssl

sim_launch ee --seed 11 --apps 3 --users-per-app 600
sim_launch past --seed 12 --apps 2 --users-per-app 300 --clock-offset $((-86400 * 400))
sim_launch future --seed 13 --apps 2 --users-per-app 300 --clock-offset $((86400 * 3))
for c in expired wronghost othca; do
    sim_launch "$c" --seed 14 --apps 1 --users-per-app 5 --cert "$PKI/server-$c.crt" --key "$PKI/server-$c.key"
done
# The three refused-certificate servers answer no TLS client: probe by port file.
for c in expired wronghost othca; do
    for ((i = 0; i < 300; i++)); do [ -s "$TMP/$c.port" ] && break; sleep 0.1; done
    PORT[$c]=$(cat "$TMP/$c.port" 2>/dev/null)
done
sim_wait ee
sim_wait past
sim_wait future

KEYS=$(sim_get "${PORT[ee]}" /__sim/keys)
ADMIN=$(json_field "$KEYS" admin)
USER=$(json_field "$KEYS" user)
INFO=$(sim_get "${PORT[ee]}" /__sim/info)
read -r -a APPS <<<"$(json_field "$INFO" apps)"
setup_eq "simulator has 3 apps" 3 "${#APPS[@]}"
truth ee apps_db "" "$TMP/apps.truth"
truth ee groups "" "$TMP/groups.truth"
# The data does not change: every run start after data_now reads the same users.
truth ee users "&app=*&full=$(json_field "$INFO" now)" "$TMP/users.truth"
# Every user's raw lac (the state's position is on lac seconds and _ids).
python3 "$CHECK" raw --sim "https://localhost:${PORT[ee]}" --ca "$PKI/ca-ec.crt" --key "$ADMIN" \
    --apps "$(IFS=,; echo "${APPS[*]}")" --out "$TMP/users.raw.json" ||
    { tl_fail "setup: raw users" "fault_check.py raw failed"; tl_summary; exit 1; }
# Page 1 of an all-history window (page size 100): the app's users without lac, by _id.
PAGE1=$(python3 "$CHECK" nth-null --raw "$TMP/users.raw.json" --app "${APPS[1]}" --count)
[ "$PAGE1" -gt 100 ] && PAGE1=100
echo "# $(wc -l <"$TMP/users.truth") users in the truth; binary $BIN ${WRAP[*]:+under ${WRAP[*]}}$([ "$FAKE_SLEEP" = 1 ] && echo "; fake sleep")"

# ---- 0. a clean run: the reference for time windows -----------------------------------------

cfg base
csync base
expect_exit "baseline" 0
exact "baseline" "$TMP/base/out"
state_ok "baseline" "$TMP/base/out"
BASE_MS=$ELAPSED_MS
# What a run may take beyond its waits: a clean run's time and a second;
# under a wrapper (valgrind) on a loaded machine a run's own time varies
# more than that, so twice it and two seconds.
SLACK_MS=$((BASE_MS + 1000))
[ -n "${COUNTLY_SYNC_WRAPPER:-}" ] && SLACK_MS=$((2 * BASE_MS + 2000))
# A run that ends at its first answer (a refused key): start-up, one handshake, one request.
run_cs fast 0123456789abcdef0123456789abcdef -c "$TMP/base.json" sync
expect_exit "baseline refused key" 77
FAST_MS=$ELAPSED_MS
echo "# clean full sync: $BASE_MS ms; a run that fails on its first answer: $FAST_MS ms"

# ---- 1. connection dropped mid-body ----------------------------------------------------------

reset_faults
cfg drop
arm drop "kind=drop_mid_body&count=2&path=/o/db&collection=app_users${APPS[1]}&after=2"
csync drop
expect_exit "drop_mid_body" 0
no_error_line "drop_mid_body"
check_eq "drop_mid_body: two retries logged" 2 "$(grep -c 'retry [12]/3 in [0-9.]* s: response truncated' <<<"$ERR")"
check_eq "drop_mid_body: fired twice" 2 "$(fired drop_mid_body)"
waits_slept "drop_mid_body"
exact "drop_mid_body" "$TMP/drop/out"
state_ok "drop_mid_body" "$TMP/drop/out"

# ---- 2. 500 bursts ---------------------------------------------------------------------------

reset_faults
cfg s500
arm s500 "kind=status&code=500&count=2&collection=app_users${APPS[0]}&after=3"
csync s500
expect_exit "HTTP 500 x2" 0
no_error_line "HTTP 500 x2"
check_match "HTTP 500 x2: retry 1 logged" "retry 1/3 in [0-9.]+ s: HTTP 500 from localhost: Server error \\(GET /o/db\\?" "$ERR"
check_match "HTTP 500 x2: retry 2 logged" "retry 2/3 in [0-9.]+ s: HTTP 500 " "$ERR"
waits_slept "HTTP 500 x2"
exact "HTTP 500 x2" "$TMP/s500/out"

# ---- 3. 429 with and without Retry-After -----------------------------------------------------

reset_faults
cfg s429
arm s429 "kind=status&code=429&retry_after=1&count=2&collection=app_users${APPS[2]}&after=1"
csync s429
expect_exit "429 Retry-After: 1" 0
no_error_line "429 Retry-After: 1"
check_eq "429 Retry-After: 1: both waits are the server's 1.0 s" "1000 1000" "$(retry_waits)"
check_match "429 Retry-After: 1: retry logged" "retry 1/3 in 1\\.0 s: HTTP 429 from localhost: Too Many Requests" "$ERR"
if [ "$FAKE_SLEEP" = 1 ]; then
    check_eq "429 Retry-After: 1: asked to wait exactly 2 x 1000 ms" "1000 1000" "$(slept)"
else
    # Two waits of 1 s: the run takes 2 s longer than a clean one (plus noise of the order of a clean run).
    check_between "429 Retry-After: 1: waited about 2 x 1 s ($ELAPSED_MS ms, clean run $BASE_MS ms)" \
        2000 $((2000 + SLACK_MS)) "$ELAPSED_MS"
fi
exact "429 Retry-After: 1" "$TMP/s429/out"

reset_faults
cfg s429j
arm s429j "kind=status&code=429&count=2&path=/o/groups"
csync s429j
expect_exit "429 without Retry-After" 0
read -r -a waits <<<"$(retry_waits)"
check_eq "429 without Retry-After: two retries logged" 2 "${#waits[@]}"
# Jitter below 1 s and 2 s, logged rounded to 0.1 s.
check_le "429 without Retry-After: first wait <= 1.0 s (jittered backoff)" "${waits[0]:-9999}" 1000
check_le "429 without Retry-After: second wait <= 2.0 s" "${waits[1]:-9999}" 2000
if [ "$FAKE_SLEEP" = 1 ]; then
    read -r -a asked <<<"$(slept)"
    check_eq "429 without Retry-After: two waits asked for" 2 "${#asked[@]}"
    # the backoff schedule: a jittered wait in [0, 1000) ms, then in [0, 2000) ms
    check_lt "429 without Retry-After: first wait ${asked[0]:-?} ms < 1000 ms" "${asked[0]:-9999}" 1000
    check_lt "429 without Retry-After: second wait ${asked[1]:-?} ms < 2000 ms" "${asked[1]:-9999}" 2000
    waits_slept "429 without Retry-After"
else
    check_between "429 without Retry-After: run time follows the logged waits" \
        "$(sum "${waits[@]}")" $(($(sum "${waits[@]}") + SLACK_MS)) "$ELAPSED_MS"
fi
exact "429 without Retry-After" "$TMP/s429j/out"

# ---- 4. a server that stops answering ---------------------------------------------------------

reset_faults
cfg hang "request_timeout_seconds=2" "retry_attempts=1"
arm hang "kind=hang&count=2&collection=app_users${APPS[1]}"
csync hang
expect_exit "hang" 75
error_line "hang" "users of app ${APPS[1]}, page 1: timed out after 2000 ms waiting for the response .*gave up after 2 attempts\\)$"
check_eq "hang: one retry logged" 1 "$(grep -c 'retry 1/1 in [0-9.]* s: timed out' <<<"$ERR")"
read -r -a waits <<<"$(retry_waits)"
# 2 x 2 s of timeouts (real time) plus one backoff wait < 1 s (not waited
# with the fake sleep), after the apps, the groups and app 1's users.
backoff=$([ "$FAKE_SLEEP" = 1 ] && echo 0 || echo "${waits[0]:-0}")
check_between "hang: gave up after about 2 x 2 s + backoff of $backoff ms ($ELAPSED_MS ms)" \
    $((4000 + backoff)) $((4000 + backoff + SLACK_MS)) "$ELAPSED_MS"
waits_slept "hang"
state_ok "hang" "$TMP/hang/out"
check_eq "hang: app 1 complete, nothing of app 2" "1 -" "$(state_field complete_apps) $(state_field run_app)"
HANG_RUN=$(processed_at "$TMP/hang/out")
reset_faults
csync hang hang-again
expect_exit "hang, then a clean run" 0
exact "hang, then a clean run" "$TMP/hang/out" "$HANG_RUN" "$(processed_at "$TMP/hang/out")"
state_ok "hang, then a clean run" "$TMP/hang/out"

# ---- 5. chunked body that ends early ----------------------------------------------------------

reset_faults
cfg trunc
arm trunc "kind=truncated_chunked&count=1&collection=app_users${APPS[2]}&after=3"
arm trunc "kind=truncated_chunked&count=1&path=/o/groups"
csync trunc
expect_exit "truncated_chunked" 0
check_eq "truncated_chunked: two retries logged" 2 "$(grep -c 'retry 1/3 in [0-9.]* s: response truncated' <<<"$ERR")"
waits_slept "truncated_chunked"
exact "truncated_chunked" "$TMP/trunc/out"

# ---- 6. invalid JSON in a page ------------------------------------------------------------------

reset_faults
cfg badjson "retry_attempts=1"
arm badjson "kind=invalid_json&count=2&collection=app_users${APPS[1]}&after=1"
csync badjson
expect_exit "invalid_json" 65
error_line "invalid_json" "users of app ${APPS[1]}, page 2: bad response body: invalid JSON at byte [0-9]+ \\(record [0-9]+\\): .*gave up after 2 attempts\\)$"
state_ok "invalid_json" "$TMP/badjson/out"
check_eq "invalid_json: page 1 of app 2 kept, the state not past it" "1 ${APPS[1]} $PAGE1" \
    "$(state_field complete_apps) $(state_field run_app) $(state_field run_rows)"
BAD_RUN=$(processed_at "$TMP/badjson/out")
reset_faults
csync badjson badjson-again
expect_exit "invalid_json, then a clean run" 0
exact "invalid_json, then a clean run" "$TMP/badjson/out" "$BAD_RUN" "$(processed_at "$TMP/badjson/out")"
state_ok "invalid_json, then a clean run" "$TMP/badjson/out"

# ---- 7. a record larger than JSTREAM_RECORD_MAX --------------------------------------------------

reset_faults
cfg huge "retry_attempts=1"
arm huge "kind=huge_record&size=20000&count=2&collection=app_users${APPS[1]}&after=1"
csync huge
expect_exit "huge_record" 65
# The sim pads the middle record of page 2 (which user that is depends on
# the order of ties): the message names a user of app 2.
error_line "huge_record" "users of app ${APPS[1]}, page 2: bad response body: record 50 \\(_id \"[0-9a-f]{40}\"\\) is larger than JSTREAM_RECORD_MAX \\(16384 bytes\\)"
HUGE_ID=$(grep -o '_id "[0-9a-f]*"' <<<"$ERR" | head -n 1 | cut -d'"' -f2)
check_eq "huge_record: the message names a user of app 2" 1 \
    "$(python3 -c 'import json,sys; print(int(sys.argv[3] in json.load(open(sys.argv[1]))[sys.argv[2]]))' \
        "$TMP/users.raw.json" "${APPS[1]}" "$HUGE_ID")"
state_ok "huge_record" "$TMP/huge/out"
check_eq "huge_record: page 1 of app 2 kept, the state not past it" "1 ${APPS[1]} $PAGE1" \
    "$(state_field complete_apps) $(state_field run_app) $(state_field run_rows)"
HUGE_RUN=$(processed_at "$TMP/huge/out")
reset_faults
csync huge huge-again
expect_exit "huge_record, then a clean run" 0
exact "huge_record, then a clean run" "$TMP/huge/out" "$HUGE_RUN" "$(processed_at "$TMP/huge/out")"

# ---- 8. refused certificates: no retry --------------------------------------------------------

reset_faults
for c in expired wronghost othca; do
    case $c in
    expired) why="certificate for localhost is not trusted: expired" ;;
    wronghost) why="certificate for localhost is not trusted: name mismatch \\(certificate is for other.example\\)" ;;
    othca) why="certificate for localhost is not trusted: not signed by a trusted CA \\(check ca_file\\)" ;;
    esac
    write_config "$TMP/cert-$c.json" "server_url=https://localhost:${PORT[$c]}" "app_id=*" \
        "ca_file=$PKI/ca-ec.crt" "output_dir=$TMP/cert-$c/out" "retry_attempts=3"
    run_cs "cert-$c" "$ADMIN" -c "$TMP/cert-$c.json" sync
    expect_exit "certificate $c" 69
    error_line "certificate $c" "connecting: cannot connect to localhost: $why$"
    check_eq "certificate $c: not retried" 0 "$(grep -c 'retry' <<<"$ERR")"
    check_lt "certificate $c: fails at once ($ELAPSED_MS ms < 2 s + $FAST_MS ms of a one-request run)" \
        "$ELAPSED_MS" $((2000 + FAST_MS))
    check_true "certificate $c: no output written (only the run lock and the folder's mark)" \
        "files in $TMP/cert-$c/out" \
        test -z "$(ls -A "$TMP/cert-$c/out" 2>/dev/null | grep -vx -e 'state.json.lock' -e '.countly-sync')"
done

# ---- 9. API key refused mid-run ------------------------------------------------------------------

reset_faults
cfg revoked
arm revoked "kind=auth_revoked&collection=app_users${APPS[1]}&after=2"
csync revoked
expect_exit "key revoked" 77
error_line "key revoked" "users of app ${APPS[1]}, page 3: the API key was refused by localhost \\(401 User does not exist\\): check api_key or COUNTLY_API_KEY$"
check_eq "key revoked: not retried" 0 "$(grep -c 'retry' <<<"$ERR")"
state_ok "key revoked" "$TMP/revoked/out"
# Two pages: app 2's users without lac, then a page of lac < R less the
# users of its last second (read again by the next page).
check_eq "key revoked: app 1 and two pages of app 2 kept" "1 ${APPS[1]}" \
    "$(state_field complete_apps) $(state_field run_app)"
check_true "key revoked: page 2 kept ($(state_field run_rows) rows after $PAGE1)" "not in ($PAGE1, $((PAGE1 + 100))]" \
    test "$(state_field run_rows)" -gt "$PAGE1" -a "$(state_field run_rows)" -le $((PAGE1 + 100))
compare "key revoked: apps.csv intact" "$TMP/revoked/out/apps.csv" "$TMP/apps.truth"
compare "key revoked: groups.csv intact" "$TMP/revoked/out/groups.csv" "$TMP/groups.truth"
REV_RUN=$(processed_at "$TMP/revoked/out")
reset_faults
csync revoked revoked-again
expect_exit "key revoked, then a clean run" 0
exact "key revoked, then a clean run" "$TMP/revoked/out" "$REV_RUN" "$(processed_at "$TMP/revoked/out")"

# ---- 10. the disk fills up -------------------------------------------------------------------------

# disk_full NAME DIR: checks after a run that ran out of space in DIR.
disk_full() {
    local name=$1 dir=$2
    expect_exit "$name" 73
    error_line "$name" "cannot write $dir/users.csv: no space left for the output file .*: free some space on the device$"
    state_ok "$name" "$dir"
    check_ge "$name: some users committed before the disk filled" "$(state_field rows)" 100
    check_true "$name: users.csv ends with a complete row" "it does not" \
        test "$(tail -c 1 "$dir/users.csv" | od -An -c | tr -d ' ')" = '\n'
}

# 10a. ulimit -f: EFBIG, which the port reports as no space.
reset_faults
cfg fsize
CS_PREFIX=(bash -c 'ulimit -f 1000 && exec "$@"' ulimit-f)
csync fsize
CS_PREFIX=()
disk_full "file size limit (ulimit -f 1000)" "$TMP/fsize/out"
FSIZE_RUN=$(processed_at "$TMP/fsize/out")
csync fsize fsize-again
expect_exit "file size limit, then without it" 0
exact "file size limit, then without it" "$TMP/fsize/out" "$FSIZE_RUN" "$(processed_at "$TMP/fsize/out")"
state_ok "file size limit, then without it" "$TMP/fsize/out"

# 10b. a 1 MiB tmpfs (root only).
mkdir -p "$TMP/disk"
if [ $IS_ROOT -eq 1 ] && mount -t tmpfs -o size=1m,mode=0755 countly-sync-test "$TMP/disk" 2>/dev/null; then
    MOUNTS+=("$TMP/disk")
    cfg disk "output_dir=$TMP/disk/out"
    csync disk
    disk_full "full disk (1 MiB tmpfs)" "$TMP/disk/out"
    DISK_RUN=$(processed_at "$TMP/disk/out")
    mount -o remount,size=16m "$TMP/disk"
    csync disk disk-again
    expect_exit "full disk, then with space" 0
    exact "full disk, then with space" "$TMP/disk/out" "$DISK_RUN" "$(processed_at "$TMP/disk/out")"
    state_ok "full disk, then with space" "$TMP/disk/out"
else
    echo "# skipped: full disk on tmpfs (needs root and mount)"
fi

# ---- 11. a read-only output folder -------------------------------------------------------------------

# read_only NAME DIR: after a run that could not write into DIR (a copy of
# the baseline's output): exit 73, one line that names the file and what to
# do, and every file as it was.
read_only() {
    local name=$1 dir=$2
    expect_exit "$name" 73
    # the first file a sync writes is the run lock (<state_file>.lock)
    error_line "$name" "cannot write $dir/state.json.lock: cannot open or create the lock file \\(permission denied\\): check the output folder's permissions$"
    check_eq "$name: files unchanged" "$(cd "$TMP/base/out" && md5sum apps.csv groups.csv users.csv state.json)" \
        "$(cd "$dir" && md5sum apps.csv groups.csv users.csv state.json)"
}

if [ $IS_ROOT -eq 1 ]; then
    # 11a. read-only bind mount (EROFS)
    mkdir -p "$TMP/ro/out"
    cp -p "$TMP/base/out/"{apps.csv,groups.csv,users.csv,state.json} "$TMP/ro/out/"
    if mount --bind "$TMP/ro" "$TMP/ro" 2>/dev/null; then
        MOUNTS+=("$TMP/ro")
        if mount -o remount,bind,ro "$TMP/ro" 2>/dev/null; then
            cfg ro "output_dir=$TMP/ro/out"
            csync ro
            read_only "read-only file system" "$TMP/ro/out"
            cfg ro-new "output_dir=$TMP/ro/new/out"
            csync ro-new
            expect_exit "read-only file system, new folder" 73
            error_line "read-only file system, new folder" "cannot create the output folder $TMP/ro/new/out: Read-only file system$"
        else
            echo "# skipped: read-only bind mount (remount failed)"
        fi
    else
        echo "# skipped: read-only bind mount (mount --bind failed)"
    fi
    # 11b. an unprivileged user and a folder of root's (EACCES). What
    # nobody must reach (the binary, the configuration, the CA, the output
    # folder) goes into a fresh folder of its own: the checkout may lie
    # where nobody cannot go (a 0750 home, /root).
    NOBODY_DIR=$(mktemp -d "${TMPDIR:-/tmp}/countly-sync-nobody.XXXXXX")
    chmod 0755 "$NOBODY_DIR"
    NB=$NOBODY_DIR
    mkdir -p "$NB/perm/out"
    cp -p "$TMP/base/out/"{apps.csv,groups.csv,users.csv,state.json} "$NB/perm/out/"
    # root's files are 0600 (file_mode): made readable, so that only the folder refuses nobody
    chmod 0644 "$NB/perm/out/"{apps.csv,groups.csv,users.csv,state.json}
    cp "$BIN" "$NB/countly-sync" && cp "$PKI/ca-ec.crt" "$NB/ca-ec.crt" && chmod 0644 "$NB/ca-ec.crt"
    cfg perm "output_dir=$NB/perm/out" "ca_file=$NB/ca-ec.crt"
    cp "$TMP/perm.json" "$NB/perm.json" && chown nobody "$NB/perm.json"
    if command -v runuser >/dev/null &&
        (cd / && runuser -u nobody -- test -r "$NB/perm.json" -a -x "$NB/countly-sync") 2>/dev/null; then
        CS_PREFIX=(runuser -u nobody --)
        SAVED_BIN=$BIN
        BIN=$NB/countly-sync
        run_cs perm "$ADMIN" -c "$NB/perm.json" sync
        BIN=$SAVED_BIN
        CS_PREFIX=()
        read_only "folder not writable by the user" "$NB/perm/out"
    else
        tl_fail "folder not writable by the user" "runuser missing, or nobody cannot reach $NB"
    fi
    rm -rf "$NOBODY_DIR"
    NOBODY_DIR=
else
    echo "# skipped: read-only output folder (needs root)"
fi

# ---- 12. HTTP/1.0 close-delimited answers ------------------------------------------------------------

reset_faults
before=$(fired http10)
cfg http10
arm http10 "kind=http10&count=-1"
csync http10
expect_exit "HTTP/1.0" 0
no_error_line "HTTP/1.0"
check_ge "HTTP/1.0: every request answered close-delimited" $(($(fired http10) - before)) 24
exact "HTTP/1.0" "$TMP/http10/out"

# ---- 13. a server clock far from ours -------------------------------------------------------------------

for sim in past future; do
    sinfo=$(sim_get "${PORT[$sim]}" /__sim/info)
    read -r -a sapps <<<"$(json_field "$sinfo" apps)"
    offset=$(json_field "$sinfo" clock_offset)
    write_config "$TMP/clock-$sim.json" "server_url=https://localhost:${PORT[$sim]}" "app_id=*" \
        "ca_file=$PKI/ca-ec.crt" "output_dir=$TMP/clock-$sim/out" "max_records_per_page=100" \
        "initial_sync_days=30" "retry_attempts=1"
    n0=$(json_field "$(sim_get "${PORT[$sim]}" /__sim/info)" now)
    run_cs "clock-$sim" "$ADMIN" -c "$TMP/clock-$sim.json" sync
    n1=$(json_field "$(sim_get "${PORT[$sim]}" /__sim/info)" now)
    expect_exit "clock $offset s: first run" 0
    truth "$sim" apps_db "" "$TMP/clock-$sim.apps.truth"
    compare "clock $offset s: apps.csv" "$TMP/clock-$sim/out/apps.csv" "$TMP/clock-$sim.apps.truth"
    R1=$(iso_to_unix "$(cmp_field processed_at)")
    check_between "clock $offset s: processed_at is the server's clock" "$n0" "$n1" "$R1"
    check_between "clock $offset s: ... not ours" $(($(date +%s) + offset - 60)) $(($(date +%s) + offset + 60)) "$R1"
    # initial_sync_days=30: the window is the 30 days before the server's now.
    truth "$sim" users "&app=*&gte=$((R1 - 30 * 86400))&lt=$R1" "$TMP/clock-$sim.users1.truth"
    compare "clock $offset s: users.csv = the 30-day window on the server's clock" \
        "$TMP/clock-$sim/out/users.csv" "$TMP/clock-$sim.users1.truth"
    check_ge "clock $offset s: the window is not empty" "$(cmp_field rows)" 10
    touched=$(sim_get "${PORT[$sim]}" "/__sim/touch?app=${sapps[1]}&count=37")
    sleep 1.2 # the next run starts after the touch, on the server's clock
    before=$(data_lines "$TMP/clock-$sim/out/users.csv")
    run_cs "clock-$sim-incr" "$ADMIN" -c "$TMP/clock-$sim.json" sync
    expect_exit "clock $offset s: incremental run" 0
    python3 "$CHECK" unify --csv "$TMP/clock-$sim/out/users.csv" --out "$TMP/clock-$sim.incr.csv" \
        --allowed "$(processed_at "$TMP/clock-$sim/out")" --skip "$before" >/dev/null
    check_eq "clock $offset s: incremental rows carry the new run start" 0 $?
    R2=$(iso_to_unix "$(processed_at "$TMP/clock-$sim/out")")
    truth "$sim" users "&app=*&gte=$R1&lt=$R2" "$TMP/clock-$sim.users2.truth"
    compare "clock $offset s: appended rows = the window [run 1, run 2)" \
        "$TMP/clock-$sim.incr.csv" "$TMP/clock-$sim.users2.truth" "$TMP/clock-$sim.incr.keys"
    check_eq "clock $offset s: exactly the 37 touched users appended" \
        "$(python3 -c 'import json,sys; print("\n".join(sorted(json.loads(sys.argv[1])["touched"])))' "$touched")" \
        "$(sort "$TMP/clock-$sim.incr.keys")"
done

# ---- 14. nginx's 502/503/504 pages -------------------------------------------------------------------------

reset_faults
cfg nginx
arm nginx "kind=status&code=502&count=1&path=/o/system/plugins"
arm nginx "kind=status&code=503&count=1&collection=app_users${APPS[0]}&after=2"
arm nginx "kind=status&code=504&count=1&collection=app_users${APPS[2]}&after=4"
csync nginx
expect_exit "nginx 502/503/504" 0
no_error_line "nginx 502/503/504"
for code in 502 503 504; do
    check_eq "nginx 502/503/504: retry after the $code page logged as HTTP $code" 1 \
        "$(grep -cE "retry 1/3 in [0-9.]+ s: HTTP $code from localhost \\(GET " <<<"$ERR")"
done
waits_slept "nginx 502/503/504"
exact "nginx 502/503/504" "$TMP/nginx/out"

# ---- 15. retries run out ----------------------------------------------------------------------------------

reset_faults
cfg s503 "retry_attempts=2"
arm s503 "kind=status&code=503&count=-1&collection=app_users${APPS[1]}&after=1"
csync s503
expect_exit "503 until retries run out" 75
check_eq "503 until retries run out: two retries logged" 2 "$(grep -c 'retry [12]/2 in [0-9.]* s: HTTP 503' <<<"$ERR")"
waits_slept "503 until retries run out"
error_line "503 until retries run out" "users of app ${APPS[1]}, page 2: HTTP 503 from localhost \\(GET .*gave up after 3 attempts\\)$"
state_ok "503 until retries run out" "$TMP/s503/out"
check_eq "503 until retries run out: page 1 of app 2 kept" "1 ${APPS[1]} $PAGE1" \
    "$(state_field complete_apps) $(state_field run_app) $(state_field run_rows)"

reset_faults
cfg s503j "retry_attempts=2"
arm s503j "kind=status&code=503&body=json&count=-1&path=/o/groups"
csync s503j
expect_exit "503 (JSON) until retries run out" 75
waits_slept "503 (JSON) until retries run out"
error_line "503 (JSON) until retries run out" "groups: HTTP 503 from localhost: Service Unavailable \\(GET /o/groups\\?noescape=true; gave up after 3 attempts\\)$"
compare "503 (JSON) until retries run out: apps.csv written" "$TMP/s503j/out/apps.csv" "$TMP/apps.truth"
check_true "503 (JSON) until retries run out: no groups.csv published" "it exists" \
    test ! -e "$TMP/s503j/out/groups.csv"
reset_faults

# ---- the API keys appear in no output ----------------------------------------------------------------------

# The simulators print the (fixed, test) keys on their first lines by design; nothing else may.
hits=$(grep -rlF -e "$ADMIN" -e "$USER" "$TMP" --exclude-dir=pki --exclude='*.sim.log' 2>/dev/null)
for f in "$TMP"/*.sim.log; do
    grep -vE '^(admin|user)_key=' "$f" | grep -qF -e "$ADMIN" -e "$USER" && hits+=" $f"
done
check_eq "secrets: no API key in any output, state, CSV or request log ($(ls "$RUNS"/*.err | wc -l) runs)" "" "$hits"

tl_summary
