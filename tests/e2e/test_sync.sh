#!/usr/bin/env bash
# test_sync.sh - countly-sync end to end against the Countly simulator.
#
# Environment: COUNTLY_SYNC (the binary), COUNTLY_SYNC_WRAPPER (a command
# prefix such as valgrind), COUNTLY_SYNC_HOOKS (a test-hooks build: the
# server-down case then skips its backoff waits), E2E_USERS_PER_APP
# (default 5000), BUILD_DIR.
#
# Starts tests/sim/countly_sim.py (TLS, test CA, 127.0.0.1) in the editions
# the cases need, runs the real binary ($COUNTLY_SYNC, default
# build/native/bin/countly-sync) and compares every output row with the
# simulator's truth (tests/e2e/compare.py): full sync of 3 apps x 5,000
# users, incremental runs, Community Edition, a non-admin key, app_id
# lists, unknown apps, a refused key, a server that is down, configuration
# errors, `check`, and the files loading into PostgreSQL and SQLite.
# Finally every captured output is searched for the API keys.
# Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=../lib/pg.sh
. "$ROOT/tests/lib/pg.sh"
# shellcheck source=../lib/e2e.sh
. "$ROOT/tests/lib/e2e.sh"

e2e_paths e2e
USERS=${E2E_USERS_PER_APP:-5000}
PKI=$TMP/pki
RUNS=$TMP/runs

rm -rf "$TMP" && mkdir -p "$RUNS"

cleanup() {
    local p
    for p in "${SIM_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    pg_stop
}
trap cleanup EXIT

# ---- helpers ----------------------------------------------------------------------

# base_config FILE SIM OUTDIR KEY=VALUE...: a working configuration for SIM.
base_config() {
    local file=$1 sim=$2 out=$3
    shift 3
    write_config "$file" "server_url=https://localhost:${PORT[$sim]}" "app_id=*" \
        "ca_file=$PKI/ca-ec.crt" "output_dir=$out" "max_records_per_page=500" \
        "initial_sync_days=0" "retry_attempts=1" "$@"
}

# ---- setup ---------------------------------------------------------------------------

e2e_require python3 curl openssl

start_sim ee --seed 7 --apps 3 --users-per-app "$USERS"
start_sim ce --seed 8 --apps 2 --users-per-app 300 --edition ce
KEYS=$(sim_get "${PORT[ee]}" /__sim/keys)
ADMIN=$(json_field "$KEYS" admin)
USER=$(json_field "$KEYS" user)
CE_ADMIN=$(json_field "$(sim_get "${PORT[ce]}" /__sim/keys)" admin)
INFO=$(sim_get "${PORT[ee]}" /__sim/info)
read -r -a APPS <<<"$(json_field "$INFO" apps)"
read -r -a USER_APPS <<<"$(json_field "$INFO" user_apps)"
setup_eq "simulator has 3 apps" 3 "${#APPS[@]}"

# ---- 1. full sync: 3 apps x USERS users ----------------------------------------------

D=$TMP/full
base_config "$TMP/full.json" ee "$D/out"
t0=$(date +%s%N)
run_cs full "$ADMIN" -c "$TMP/full.json" sync
t1=$(date +%s%N)
check_eq "full: exit 0" 0 "$RC"
[ "$RC" -eq 0 ] || printf '%s\n' "$ERR" | tail -n 5 | sed 's/^/#   /'
check_match "full: summary line per stream" "apps: 3 rows.*groups: [0-9]+ rows.*users: [0-9]+ rows" \
    "$(tr '\n' ' ' <<<"$ERR")"
check_match "full: U+FFFD replacements counted in the summary" \
    "users: [0-9]+ unpaired surrogate or NUL characters? written as U\+FFFD" "$ERR"
note_ms=$(((t1 - t0) / 1000000))
echo "# full sync of 3 x $USERS users took $note_ms ms"

truth ee apps_db "" "$TMP/apps.truth"
compare "full: apps.csv" "$D/out/apps.csv" "$TMP/apps.truth"
check_eq "full: apps rows" 3 "$(cmp_field rows)"
truth ee groups "" "$TMP/groups.truth"
compare "full: groups.csv" "$D/out/groups.csv" "$TMP/groups.truth"
RUN1=$(cmp_field processed_at)
RUN1_UNIX=$(iso_to_unix "$RUN1")
truth ee users "&app=*&full=$RUN1_UNIX" "$TMP/users1.truth"
compare "full: users.csv" "$D/out/users.csv" "$TMP/users1.truth" "$TMP/users1.keys"
check_eq "full: every user exactly once (no duplicates)" 0 "$(cmp_field duplicates)"
check_ge "full: users read (all history, 3 apps)" "$(cmp_field rows)" $((3 * USERS * 9 / 10))
check_true "full: state file written" "no state.json" test -s "$D/out/state.json"

# ---- 2. incremental: touch 37 users, sync again, then once more --------------------------

TOUCHED=$(sim_get "${PORT[ee]}" "/__sim/touch?app=${APPS[1]}&count=37")
sleep 1.2 # the next run starts after the touch, on the server's clock
before=$(data_lines "$D/out/users.csv")
run_cs incr1 "$ADMIN" -c "$TMP/full.json" sync
check_eq "incremental: exit 0" 0 "$RC"
after=$(data_lines "$D/out/users.csv")
check_eq "incremental: exactly 37 rows appended" 37 $((after - before))
python3 - "$D/out/users.csv" "$before" "$ROOT/tests/pipeline" "$TMP/incr.csv" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
import csvcheck
header, rows = csvcheck.read_csv(sys.argv[1])
def cell(v):
    if v is None:
        return ""
    return '"' + v.replace('"', '""') + '"'
with open(sys.argv[4], "w", newline="") as f:
    f.write(",".join(header) + "\n")
    for r in rows[int(sys.argv[2]):]:
        f.write(",".join(cell(v) for v in r) + "\n")
PY
truth ee users "&app=${APPS[1]}&gte=$RUN1_UNIX&lt=9999999999" "$TMP/users2.truth"
compare "incremental: the appended rows" "$TMP/incr.csv" "$TMP/users2.truth" "$TMP/incr.keys"
touched_ids=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("\n".join(sorted(d["touched"])))' "$TOUCHED" 2>/dev/null)
check_eq "incremental: the appended users are the touched ones" "$touched_ids" "$(sort "$TMP/incr.keys")"
RUN2=$(cmp_field processed_at)
check_ne "incremental: new processed_at" "$RUN1" "$RUN2"
size2=$(stat -c %s "$D/out/users.csv")
sleep 1.1
run_cs incr2 "$ADMIN" -c "$TMP/full.json" sync
check_eq "incremental: third run exit 0" 0 "$RC"
check_eq "incremental: third run appends nothing" "$size2" "$(stat -c %s "$D/out/users.csv")"

# ---- 3. PostgreSQL and SQLite load the files as typed tables ------------------------------

if pg_start "$TMP/pg-server.log"; then
    echo "# setup: db: PostgreSQL started (socket $PG_SOCK)"
    pg_psql -v ON_ERROR_STOP=1 -q >"$RUNS/pg.out" 2>&1 <<SQL
CREATE TABLE apps (app_id text PRIMARY KEY, name text, key text, timezone text,
  created_at timestamptz, updated_at timestamptz, icon text, metadata jsonb, processed_at timestamptz);
CREATE TABLE groups (group_id text PRIMARY KEY, name text, description text, user_count bigint,
  created_at timestamptz, updated_at timestamptz, metadata jsonb, processed_at timestamptz);
CREATE TABLE users (user_id text, app_id text, device_id text, username text, email text,
  organization text, phone text, picture text, gender text, byear bigint, custom_data jsonb,
  first_seen timestamptz, last_seen timestamptz, session_count bigint,
  total_session_duration bigint, processed_at timestamptz, last_activity timestamptz, metadata jsonb);
\copy apps FROM '$D/out/apps.csv' CSV HEADER
\copy groups FROM '$D/out/groups.csv' CSV HEADER
\copy users FROM '$D/out/users.csv' CSV HEADER
SQL
    check_eq "db: PostgreSQL COPY of the three files" 0 $?
    [ -s "$RUNS/pg.out" ] && sed 's/^/#   /' "$RUNS/pg.out" | head -n 5
    pg_rows=$(pg_psql -At -c "SELECT (SELECT count(*) FROM apps)||' '||(SELECT count(*) FROM groups)||' '||(SELECT count(*) FROM users)")
    check_eq "db: PostgreSQL row counts" "3 $(data_lines "$D/out/groups.csv") $(data_lines "$D/out/users.csv")" "$pg_rows"
    latest=$(pg_psql -At -c "SELECT count(*) FROM (SELECT DISTINCT ON (user_id) user_id FROM users ORDER BY user_id, processed_at DESC) t")
    check_eq "db: PostgreSQL: newest row per user = every user once" \
        "$(sort -u "$TMP/users1.keys" "$TMP/incr.keys" | wc -l)" "$latest"
else
    tl_fail "setup: db: PostgreSQL started" "$PG_ERROR"
fi
python3 - "$D/out" "$ROOT/tests/pipeline" >"$RUNS/sqlite.out" 2>&1 <<'PY'
import sqlite3, sys
sys.path.insert(0, sys.argv[2])
import csvcheck
types = {"created_at": "TEXT", "updated_at": "TEXT", "byear": "INTEGER", "user_count": "INTEGER",
         "session_count": "INTEGER", "total_session_duration": "INTEGER"}
db = sqlite3.connect(":memory:")
for table in ("apps", "groups", "users"):
    header, rows = csvcheck.read_csv("%s/%s.csv" % (sys.argv[1], table))
    cols = ", ".join('"%s" %s' % (c, types.get(c, "TEXT")) for c in header)
    db.execute("CREATE TABLE %s (%s)" % (table, cols))
    db.executemany("INSERT INTO %s VALUES (%s)" % (table, ",".join("?" * len(header))), rows)
    n = db.execute("SELECT count(*) FROM %s" % table).fetchone()[0]
    bad = db.execute("SELECT count(*) FROM %s WHERE json_valid(metadata) = 0" % table).fetchone()[0]
    print("%s rows=%d bad_metadata=%d" % (table, n, bad))
ints = db.execute("SELECT count(*) FROM users WHERE session_count IS NOT NULL AND typeof(session_count) != 'integer'").fetchone()[0]
print("non_integer_session_count=%d" % ints)
PY
check_eq "db: SQLite load" 0 $?
check_match "db: SQLite apps" "apps rows=3 bad_metadata=0" "$(cat "$RUNS/sqlite.out")"
check_match "db: SQLite users, metadata valid JSON" "users rows=$(data_lines "$D/out/users.csv") bad_metadata=0" "$(cat "$RUNS/sqlite.out")"
check_match "db: SQLite integer column typed" "non_integer_session_count=0" "$(cat "$RUNS/sqlite.out")"

# ---- 4. Community Edition: no groups, a notice, not a failure ------------------------------

base_config "$TMP/ce.json" ce "$TMP/ce/out"
run_cs ce "$CE_ADMIN" -c "$TMP/ce.json" sync
check_eq "ce: exit 0" 0 "$RC"
check_match "ce: notice names Community Edition" "Community Edition" "$ERR"
check_eq "ce: groups.csv has the header only" 1 "$(wc -l <"$TMP/ce/out/groups.csv")"
check_true "ce: users.csv written" "missing" test -s "$TMP/ce/out/users.csv"

# ---- 5. a non-admin key: apps from /o/apps/mine, its own apps' users ------------------------

base_config "$TMP/member.json" ee "$TMP/member/out"
run_cs member "$USER" -c "$TMP/member.json" sync
check_eq "member: exit 0" 0 "$RC"
check_match "member: groups notice (not a global admin)" "not a global admin" "$ERR"
truth ee apps_mine "&key=user" "$TMP/apps_mine.truth"
compare "member: apps.csv from /o/apps/mine" "$TMP/member/out/apps.csv" "$TMP/apps_mine.truth"
check_eq "member: apps rows" "${#USER_APPS[@]}" "$(cmp_field rows)"
M_RUN=$(iso_to_unix "$(cmp_field processed_at)")
: >"$TMP/member_users.truth"
for app in "${USER_APPS[@]}"; do
    sim_get "${PORT[ee]}" "/__sim/truth?table=users&app=$app&full=$M_RUN" >>"$TMP/member_users.truth"
done
compare "member: users of its apps" "$TMP/member/out/users.csv" "$TMP/member_users.truth"

# ---- 6. app_id as a list; an unknown 24-character id ---------------------------------------

base_config "$TMP/list.json" ee "$TMP/list/out" "app_id=${APPS[0]}, ${APPS[2]}" "enable_groups_sync=false"
run_cs list "$ADMIN" -c "$TMP/list.json" sync
check_eq "list: exit 0" 0 "$RC"
L_RUN=$(python3 - "$TMP/list/out/users.csv" "$ROOT/tests/pipeline" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import csvcheck
h, rows = csvcheck.read_csv(sys.argv[1])
print(rows[0][h.index("processed_at")] if rows else "")
PY
)
: >"$TMP/list_users.truth"
for app in "${APPS[0]}" "${APPS[2]}"; do
    sim_get "${PORT[ee]}" "/__sim/truth?table=users&app=$app&full=$(iso_to_unix "$L_RUN")" >>"$TMP/list_users.truth"
done
compare "list: users of the two listed apps only" "$TMP/list/out/users.csv" "$TMP/list_users.truth"
check_true "list: groups.csv untouched (stream disabled)" "groups.csv exists" test ! -e "$TMP/list/out/groups.csv"

base_config "$TMP/unknown.json" ee "$TMP/unknown/out" "app_id=0123456789abcdef01234567"
run_cs unknown "$ADMIN" -c "$TMP/unknown.json" sync
check_eq "unknown app: exit 78" 78 "$RC"
check_match "unknown app: message names the id" "app_id 0123456789abcdef01234567: no such app visible" "$ERR"

# ---- 7. refused key, server down ------------------------------------------------------------

run_cs badkey "0123456789abcdef0123456789abcdef" -c "$TMP/full.json" sync
check_eq "wrong key: exit 77" 77 "$RC"
check_match "wrong key: message" "the API key was refused by localhost" "$ERR"
check_eq "wrong key: one line" 1 "$(grep -c . <<<"$ERR")"

DOWN=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
write_config "$TMP/down.json" "server_url=https://localhost:$DOWN" "app_id=*" \
    "ca_file=$PKI/ca-ec.crt" "output_dir=$TMP/down/out" "retry_attempts=2"
# With the test-hooks build (COUNTLY_SYNC_HOOKS, as make test runs this
# suite) the two backoff waits are asked for, logged, and not waited.
if [ -n "${COUNTLY_SYNC_HOOKS:-}" ] && [ "${#WRAP[@]}" -eq 0 ]; then
    SAVED_BIN=$BIN
    BIN=$COUNTLY_SYNC_HOOKS
    COUNTLY_SYNC_FAKE_SLEEP=1 run_cs down "$ADMIN" -c "$TMP/down.json" sync
    BIN=$SAVED_BIN
    asked=$(tr '\n' ' ' <"$RUNS/down.sleeps" 2>/dev/null)
    check_match "server down: two waits asked for, below 1000 and 2000 ms (${asked:-none})" \
        '^([0-9]|[1-9][0-9]{1,2}) ([0-9]|[1-9][0-9]{1,2}|1[0-9]{3}) $' "$asked"
else
    run_cs down "$ADMIN" -c "$TMP/down.json" sync
fi
check_eq "server down (refused): exit 75" 75 "$RC"
check_eq "server down: two retries logged" 2 "$(grep -c 'retry [12]/2' <<<"$ERR")"
check_match "server down: final message" "connection refused.*gave up after 3 attempts" "$ERR"

# ---- 8. check: a report, and nothing written ---------------------------------------------

base_config "$TMP/check.json" ee "$TMP/check/out"
run_cs check "$ADMIN" -c "$TMP/check.json" check
check_eq "check: exit 0" 0 "$RC"
check_match "check: lists the apps" "apps visible: 3" "$OUT"
check_match "check: groups" "groups: [0-9]+" "$OUT"
check_match "check: users apps" "users would be read for 3 apps" "$OUT"
check_true "check: no output folder created" "it exists" test ! -e "$TMP/check/out"

# ---- 9. configuration errors: 78 with words ---------------------------------------------

cfg_case() { # NAME EXPECTED_REGEX KEY=VALUE...
    local name=$1 re=$2
    shift 2
    write_config "$TMP/cfg-$name.json" "server_url=https://localhost:${PORT[ee]}" "app_id=*" "$@"
    run_cs "cfg-$name" "$ADMIN" -c "$TMP/cfg-$name.json" sync
    check_eq "config $name: exit 78" 78 "$RC"
    check_match "config $name: message" "$re" "$ERR"
}
cfg_case unknown-key "unknown key 'max_record_per_page' — did you mean 'max_records_per_page'\\?" "max_record_per_page=10"
cfg_case range "max_records_per_page.*5000.*1\\.\\.1000" "max_records_per_page=5000"
cfg_case type "request_timeout_seconds" "request_timeout_seconds=soon"
cfg_case http "http:// is allowed only to loopback" "server_url=http://example.com"
cfg_case bad-app "app_id" "app_id=not-an-id"
cfg_case retries "retry_attempts.*0\\.\\.10" "retry_attempts=11"
printf '{"server_url": "https://localhost:1", "app_id": "*",}' >"$TMP/cfg-json.json"
run_cs cfg-json "$ADMIN" -c "$TMP/cfg-json.json" sync
check_eq "config bad JSON: exit 78" 78 "$RC"
check_match "config bad JSON: names the byte" "byte [0-9]+" "$ERR"
run_cs cfg-missing "$ADMIN" -c "$TMP/nonexistent.json" sync
check_eq "config missing file: exit 78" 78 "$RC"
write_config "$TMP/cfg-nokey.json" "server_url=https://localhost:${PORT[ee]}" "app_id=*"
run_cs cfg-nokey "" -c "$TMP/cfg-nokey.json" sync
check_eq "config without api_key: exit 78" 78 "$RC"
check_match "config without api_key: message" "api_key" "$ERR"

# ---- 10. command line -------------------------------------------------------------------

run_cs version "" version
check_eq "cli: version exit 0" 0 "$RC"
check_match "cli: version on stdout" "^countly-sync [0-9]" "$OUT"
run_cs usage "" --bogus
check_eq "cli: unknown option exit 64" 64 "$RC"
run_cs usage2 "" frobnicate
check_eq "cli: unknown command exit 64" 64 "$RC"

# ---- 11. the API keys appear in no output ------------------------------------------------

hits=$(grep -rlF -e "$ADMIN" -e "$USER" -e "$CE_ADMIN" "$RUNS" --include='*.out' --include='*.err' | wc -l)
check_eq "secrets: no API key in any captured output ($(ls "$RUNS"/*.err | wc -l) runs)" 0 "$hits"

tl_summary
