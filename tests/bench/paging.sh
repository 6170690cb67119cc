#!/usr/bin/env bash
# bench/paging.sh - what a first full sync costs a Countly server's MongoDB,
# release 0.1's paging against today's (figures, not pass/fail).
#
# For 3 apps x N users (N = 10,000 and 100,000; BENCH_PAGING_USERS to
# change), all history, page 1000, the simulator's MongoDB cost model
# (tests/sim/README.md) with a 16 MB sort memory limit (standing for
# MongoDB's 100 MB on a collection six times larger):
#   old  tests/bench/paging_old.py: 0.1's requests, sort {lac:1,_id:1} and a
#        growing skip (a blocking sort of the window for every page)
#   new  the countly-sync binary (keyset paging on the lac index)
# Prints, per exported user: documents examined, index keys examined,
# requests; and the sort failures (0.1 stops at the first one).
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
BIN=${COUNTLY_SYNC:-$BUILD_DIR/static/bin/countly-sync}
OUT=$BUILD_DIR/bench/paging
SIZES=${BENCH_PAGING_USERS:-10000 100000}
SIM_PID=

cleanup() {
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null
    wait 2>/dev/null
}
trap cleanup EXIT

hget() { curl -sf "http://127.0.0.1:$PORT$1"; }
field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d" + sys.argv[1]))' "$1"; }

rm -rf "$OUT" && mkdir -p "$OUT"
printf '\n%-8s %-5s %10s %10s %12s %10s %10s %8s %s\n' "users" "paging" "read" "requests" \
    "docs/user" "keys/user" "req/1000u" "seconds" "sort failures"
for n in $SIZES; do
    rm -f "$OUT/port"
    python3 "$ROOT/tests/sim/countly_sim.py" --http --port 0 --port-file "$OUT/port" \
        --generator lean --seed 5 --apps 3 --users-per-app "$n" --sort-limit-mb 16 \
        >"$OUT/sim-$n.log" 2>&1 &
    SIM_PID=$!
    for _ in $(seq 1200); do [ -s "$OUT/port" ] && break; sleep 0.1; done
    PORT=$(cat "$OUT/port")
    until hget /__sim/info >/dev/null; do sleep 0.1; done
    now=$(hget /__sim/info | field '["now"]')
    users=$(hget "/__sim/ids?app=*&full=$now" |
        python3 -c 'import json,sys; print(sum(len(v) for v in json.load(sys.stdin).values()))')

    python3 "$ROOT/tests/bench/paging_old.py" --url "http://127.0.0.1:$PORT" --limit 1000 \
        --run-start "$now" >"$OUT/old-$n.json"
    python3 - "$OUT/old-$n.json" "$n" "$users" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); u = int(sys.argv[3]); c = d["cost"]
print("%-8s %-5s %10d %10d %12.2f %10.2f %10.2f %8.1f %d%s" % (
    sys.argv[2], "old", d["users_read"], d["requests"], c["docs_examined"] / u,
    c["keys_examined"] / u, 1000.0 * d["requests"] / u, d["seconds"], c["sort_failures"],
    " (stopped at skip %s)" % ",".join(str(f["skip"]) for f in d["failures"]) if d["failures"] else ""))
PY

    hget /__sim/cost-reset >/dev/null
    cat >"$OUT/config-$n.json" <<EOF
{"server_url": "http://127.0.0.1:$PORT", "app_id": "*", "initial_sync_days": 0,
 "max_records_per_page": 1000, "output_dir": "$OUT/new-$n", "retry_attempts": 0}
EOF
    key=$(hget /__sim/keys | field '["admin"]')
    t0=$(date +%s%N)
    COUNTLY_API_KEY=$key "$BIN" -q -c "$OUT/config-$n.json" sync 2>"$OUT/new-$n.err"
    rc=$?
    t1=$(date +%s%N)
    hget /__sim/cost >"$OUT/new-$n.json"
    rows=$(($(wc -l <"$OUT/new-$n/users.csv") - 1))
    python3 - "$OUT/new-$n.json" "$n" "$users" "$rows" "$(((t1 - t0) / 1000000))" "$rc" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); u = int(sys.argv[3])
print("%-8s %-5s %10s %10d %12.2f %10.2f %10.2f %8.1f %d%s" % (
    sys.argv[2], "new", sys.argv[4], c["db_requests"], c["docs_examined"] / u,
    c["keys_examined"] / u, 1000.0 * c["db_requests"] / u, int(sys.argv[5]) / 1000.0,
    c["sort_failures"], "" if sys.argv[6] == "0" else " (exit %s)" % sys.argv[6]))
PY
    kill "$SIM_PID" 2>/dev/null
    wait "$SIM_PID" 2>/dev/null
    SIM_PID=
done
echo "(users: exported users of the 3 apps; read: rows (new: lines, a multi-line field counts more)" \
    "or users read before a failure; docs and keys: count + find, as MongoDB would examine them)"
