#!/usr/bin/env bash
# test_paging.sh - the users paging against a simulator that charges what
# MongoDB charges (tests/sim/README.md, "Cost model"): cheap for a real
# Countly server at any app size, and exact where apps are big and busy.
#
#  1. scale: 3 apps x PAGING_USERS (100,000) users, all history, page 1000,
#     a 16 MB sort memory limit (standing for MongoDB's 100 MB on a
#     collection six times larger): the run completes with no sort failure,
#     documents examined <= 1.5 x users + PAGING_PAGE_ALLOWANCE per request,
#     index keys <= 30 x users, every user exactly once.
#  2. a busy app: 40 users leave the window after every page of an
#     all-history run: within 2x the requests of a quiet run; every user
#     never touched exactly once, every churned user at most once, and all
#     of them in the next run.
#  3. a bulk import: 3,000 users per app share one lac second, ties in a
#     new order on every request, page 100: every row equal to the truth.
#  4. a query the server cannot answer (dbviewer's 200, head, cut): one
#     error line naming the app, the query and the likely cause; exit 69.
#  5. a state written by release 0.1 (skip paging), interrupted in the
#     users without lac, inside a tie second and elsewhere: a notice, then
#     every user exactly once.
# Plain HTTP on 127.0.0.1 (TLS is tested elsewhere; here the simulator's
# CPU goes to the data). Environment: COUNTLY_SYNC, PAGING_USERS, BUILD_DIR,
# TEST_TMP. Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=../lib/e2e.sh
. "$ROOT/tests/lib/e2e.sh"

e2e_paths paging
USERS=${PAGING_USERS:-100000}
ALLOWANCE=${PAGING_PAGE_ALLOWANCE:-100}
RUNS=$TMP/runs
IDCHECK=$HERE/idcheck.py
# shellcheck disable=SC2034 # read by e2e.sh run_cs
WRAP=()
SIM_WAIT_TENTHS=1200 # three simulators generate their data at once

rm -rf "$TMP" && mkdir -p "$RUNS"

trap stop_sims EXIT
trap 'exit 130' INT TERM

# ---- helpers -----------------------------------------------------------------------------------

# pconf NAME SIM KEY=VALUE...: $TMP/NAME.json, output into $TMP/NAME.
pconf() {
    local name=$1 sim=$2
    shift 2
    write_config "$TMP/$name.json" "server_url=http://127.0.0.1:${PORT[$sim]}" "app_id=*" \
        "output_dir=$TMP/$name" "initial_sync_days=0" "retry_attempts=1" "$@"
}

# psync NAME [RUN]: `sync` with $TMP/NAME.json, the admin key of NAME's simulator.
psync() {
    run_cs "${2:-$1}" "$ADMIN" -c "$TMP/$1.json" sync
}

# cost SIM FIELD: one cumulative cost counter of SIM's /o/db queries.
cost() {
    sim_get "${PORT[$1]}" /__sim/cost | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# ids SIM QUERY OUT: the users of a window (/__sim/ids) into OUT.
ids() {
    sim_get "${PORT[$1]}" "/__sim/ids?app=*$2" >"$3"
}

# idcheck NAME ARGS...: idcheck.py; its key=value lines in IDC, exit status checked.
idcheck() {
    local name=$1 rc
    shift
    IDC=$(python3 "$IDCHECK" "$@" 2>&1)
    rc=$?
    check_eq "$name" 0 "$rc"
    [ $rc -eq 0 ] || sed 's/^/#   /' <<<"$IDC" | head -n 12
}

idc() { sed -n "s/^$1=//p" <<<"$IDC"; }

# run_start DIR: the processed_at of DIR/users.csv's last row.
run_start() {
    python3 - "$1/users.csv" "$ROOT/tests/pipeline" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import csvcheck
h, rows = csvcheck.read_csv(sys.argv[1])
print(rows[-1][h.index("processed_at")] if rows else "")
PY
}

expect_exit() {
    check_eq "$1: exit $2" "$2" "$RC"
    [ "$RC" = "$2" ] || printf '%s\n' "$ERR" | tail -n 4 | cut -c1-300 | sed 's/^/#   /'
}

for tool in python3 curl; do
    command -v $tool >/dev/null || { tl_fail "setup: $tool" "not installed"; tl_summary; exit 1; }
done
[ -x "$BIN" ] || { tl_fail "setup: binary" "$BIN not built"; tl_summary; exit 1; }

# ---- 1. scale: 3 x 100,000 users, all history, page 1000, 16 MB sort limit ---------------------

# The three simulators generate their data at the same time.
t0=$(date +%s)
sim_launch big --http --generator lean --seed 5 --apps 3 --users-per-app "$USERS" --sort-limit-mb 16
sim_launch busy --http --generator lean --seed 6 --apps 1 --users-per-app 20000
sim_launch bulk --http --seed 7 --apps 2 --users-per-app 5000 --bulk-import 3000
sim_wait big
ADMIN=$(json_field "$(sim_get "${PORT[big]}" /__sim/keys)" admin)
echo "# simulator with 3 x $USERS users ready after $(($(date +%s) - t0)) s"
NOW=$(json_field "$(sim_get "${PORT[big]}" /__sim/info)" now)
ids big "&full=$NOW" "$TMP/big.ids"
sim_get "${PORT[big]}" /__sim/cost-reset >/dev/null
pconf big big "max_records_per_page=1000"
psync big
expect_exit "scale" 0
U=$(python3 -c 'import json,sys; print(sum(len(v) for v in json.load(open(sys.argv[1])).values()))' "$TMP/big.ids")
REQ=$(cost big db_requests)
DOCS=$(cost big docs_examined)
KEYS=$(cost big keys_examined)
echo "# scale: $U users in $REQ requests, ${ELAPSED_MS} ms; server work: $DOCS documents," \
    "$KEYS index keys, largest blocking sort $(cost big max_blocking_sort_bytes) bytes"
check_eq "scale: no sort failure" 0 "$(cost big sort_failures)"
check_le "scale: documents examined <= 1.5 x users + $ALLOWANCE per request" \
    "$DOCS" $((U * 3 / 2 + ALLOWANCE * REQ))
check_le "scale: index keys examined <= 30 x users" "$KEYS" $((U * 30))
check_le "scale: about one request per page ($REQ for $U users)" "$REQ" $((U / 1000 * 3 / 2 + 30))
idcheck "scale: every user exactly once" --csv "$TMP/big/users.csv" --ids "$TMP/big.ids"
check_eq "scale: users" "$U" "$(idc users)"
stop_sim big

# ---- 2. a busy app: 40 users leave the window after every page ----------------------------------

sim_wait busy
ADMIN=$(json_field "$(sim_get "${PORT[busy]}" /__sim/keys)" admin)
APP=$(json_field "$(sim_get "${PORT[busy]}" /__sim/info)" apps)
NOW=$(json_field "$(sim_get "${PORT[busy]}" /__sim/info)" now)
ids busy "&full=$NOW" "$TMP/busy.ids"
pconf quiet busy "max_records_per_page=500"
sim_get "${PORT[busy]}" /__sim/cost-reset >/dev/null
psync quiet
expect_exit "quiet run" 0
QUIET=$(cost busy db_requests)
idcheck "quiet run: every user exactly once" --csv "$TMP/quiet/users.csv" --ids "$TMP/busy.ids"
pconf churn busy "max_records_per_page=500"
sim_get "${PORT[busy]}" "/__sim/churn?k=40" >/dev/null
sim_get "${PORT[busy]}" /__sim/cost-reset >/dev/null
psync churn
expect_exit "busy run" 0
BUSY=$(cost busy db_requests)
sim_get "${PORT[busy]}" "/__sim/churn?k=0" >/dev/null
sim_get "${PORT[busy]}" "/__sim/churned?app=$APP" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({d["app"]: d["churned"]}))' \
        >"$TMP/busy.churned"
echo "# busy: $BUSY requests (quiet: $QUIET); $(grep -o '"[0-9a-f]*"' "$TMP/busy.churned" | wc -l) ids churned"
check_le "busy: requests within 2x a quiet run ($BUSY vs $QUIET)" "$BUSY" $((2 * QUIET))
idcheck "busy: users never touched exactly once, churned ones at most once" \
    --csv "$TMP/churn/users.csv" --ids "$TMP/busy.ids" --churned "$TMP/busy.churned"
check_ge "busy: users churned during the run" "$(idc churned)" 400
# The next run must start after the last churn on the server's clock: a user
# churned in the very second it starts in lies past its window (the run after
# reads it). The checks before it used to take that long; they are faster now.
sleep 1.1
psync churn churn-next
expect_exit "busy, next run" 0
idcheck "busy, next run: every churned user read" --csv "$TMP/churn/users.csv" \
    --cover "$TMP/busy.churned" --processed-at "$(run_start "$TMP/churn")"
stop_sim busy

# ---- 3. a bulk import: 3,000 users per app in one lac second ------------------------------------

sim_wait bulk
ADMIN=$(json_field "$(sim_get "${PORT[bulk]}" /__sim/keys)" admin)
NOW=$(json_field "$(sim_get "${PORT[bulk]}" /__sim/info)" now)
sim_get "${PORT[bulk]}" "/__sim/truth?table=users&app=*&full=$NOW" >"$TMP/bulk.truth"
ids bulk "&full=$NOW" "$TMP/bulk.ids"
pconf bulk bulk "max_records_per_page=100"
psync bulk
expect_exit "bulk import" 0
compare "bulk import: users.csv" "$TMP/bulk/users.csv" "$TMP/bulk.truth"
idcheck "bulk import: every user exactly once" --csv "$TMP/bulk/users.csv" --ids "$TMP/bulk.ids"
check_eq "bulk import: the tie second was read by _id" 1 \
    "$(sim_get "${PORT[bulk]}" '/__sim/log?n=2000' | grep -c '_id%22%3A%7B%22%24gt' | awk '{print ($1 > 0)}')"

# ---- 4. a query the server cannot answer ------------------------------------------------------------

sim_get "${PORT[bulk]}" "/__sim/sort-limit?mb=0.01" >/dev/null
pconf failing bulk "max_records_per_page=100"
psync failing
expect_exit "sort failure" 69
check_eq "sort failure: one error line" 1 "$(grep -c '^countly-sync: error: ' <<<"$ERR")"
check_match "sort failure: names the app, the query and the likely cause" \
    "users of app [0-9a-f]{24}, page 1: 127.0.0.1 could not answer the query \\(filter \\{\"lac\":null\\}, sort \\{\"_id\":1\\}, limit 100\\): it sent the page's head \\(total [0-9]+\\), then closed the connection, 2 times\\. Likely a MongoDB query error such as the sort memory limit" \
    "$(grep '^countly-sync: error: ' <<<"$ERR")"
check_eq "sort failure: the failure was the simulator's" 2 "$(cost bulk sort_failures)"
sim_get "${PORT[bulk]}" "/__sim/sort-limit?mb=100" >/dev/null

# ---- 5. a state of release 0.1 --------------------------------------------------------------------

# legacy NAME P: users.csv with the first P users of app 1 in 0.1's order
# (no lac first, then lac, _id) and a version 1 state saying so.
legacy() {
    local name=$1 p=$2
    mkdir -p "$TMP/$name"
    ROOT=$ROOT python3 - "$TMP/bulk/users.csv" "$TMP/bulk.ids" "$APP1" "$p" "$TMP/$name" "$RS" <<'PY'
import json, math, os, sys
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests", "cross"))
import normalize
src, ids_path, app, p, out, run_start = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
ids = json.load(open(ids_path))[app]
order = sorted(ids, key=lambda e: (e[1] is not None, e[1] if e[1] is not None else 0, e[0]))
keep = {e[0].encode() for e in order[:p]}
with open(src, "rb") as f:
    records = list(normalize.csv_records(f.read()))
header = records[0][0]
ki, ai = header.index(b"user_id"), header.index(b"app_id")
with open(os.path.join(out, "users.csv"), "wb") as f:  # the rows' own bytes
    for n, (fields, term) in enumerate(records):
        if n == 0 or (fields[ai] == app.encode() and fields[ki] in keep):
            f.write(b",".join(fields) + term)
size = os.path.getsize(os.path.join(out, "users.csv"))
last = order[p - 1]
run = {"app": app, "from": 0, "to": run_start, "all_history": True, "skip": p,
       "last_lac": None if last[1] is None else int(math.trunc(last[1])), "last_id": last[0]}
with open(os.path.join(out, "state.json"), "w") as f:
    json.dump({"version": 1, "users_csv_bytes": size, "apps": {}, "run": run}, f)
print(last[1])
PY
}

APP1=$(json_field "$(sim_get "${PORT[bulk]}" /__sim/info)" apps | cut -d' ' -f1)
RS=$(iso_to_unix "$(run_start "$TMP/bulk")")
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps({sys.argv[2]: d[sys.argv[2]]}))' \
    "$TMP/bulk.ids" "$APP1" >"$TMP/bulk1.ids"
# positions in 0.1's order: among the users without lac, inside the bulk
# import's second, and among the last users (legacy millisecond lac)
POSITIONS=$(python3 - "$TMP/bulk.ids" "$APP1" <<'PY'
import collections, json, sys
ids = json.load(open(sys.argv[1]))[sys.argv[2]]
order = sorted(ids, key=lambda e: (e[1] is not None, e[1] if e[1] is not None else 0, e[0]))
nulls = sum(1 for e in ids if e[1] is None)
second, size = collections.Counter(int(e[1]) for e in ids if e[1] is not None).most_common(1)[0]
first = next(i for i, e in enumerate(order) if e[1] is not None and int(e[1]) == second)
print(nulls // 2, first + size // 2, len(order) - 5)
PY
)
for p in $POSITIONS; do
    lac=$(legacy "legacy$p" "$p")
    pconf "legacy$p" bulk "max_records_per_page=100" "app_id=$APP1"
    psync "legacy$p"
    expect_exit "0.1 state after $p users (lac $lac)" 0
    check_match "0.1 state after $p users: notice" "the state was written by release 0.1" "$ERR"
    idcheck "0.1 state after $p users: every user exactly once" --csv "$TMP/legacy$p/users.csv" \
        --ids "$TMP/bulk1.ids"
done
stop_sim bulk

tl_summary
