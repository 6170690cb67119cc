#!/usr/bin/env bash
# bench/sync.sh - the whole product over loopback TLS: countly-sync's first run
# (all history: initial_sync_days 0, app_id "*", max_records_per_page 1000)
# of 3 apps against the Python Countly simulator (tests/sim). Figures, not
# pass/fail - but every run's output is checked (exit 0, users.csv rows and
# distinct user ids = the simulator's oracle for the run's window, apps.csv
# rows), so a broken run cannot produce a nice number.
#
#   realistic   once 3 x 10,000 users from the simulator, which renders every
#               page (a "realistic server" figure: wall time, rows/s, MB/s,
#               the agent's CPU time and peak RSS)
#   heap        valgrind memcheck's "total heap usage" for 3 x 1,000 and
#               3 x 10,000 users: must not grow with rows (no malloc in the
#               program; libc and getaddrinfo make a few)
#
# Throughput (the agent against recorded answers, next to curl and a Python
# script) and peak RSS against the row count are tests/bench/throughput.sh's:
# the pre-generated static pages this script used to serve from nginx were
# keyed by the old agent's `skip` parameter and cannot answer keyset paging.
#
# Environment: BUILD_DIR (default build), COUNTLY_SYNC (default
# $BUILD_DIR/native/bin/countly-sync), BENCH_SYNC_MID (users per app for the
# larger heap run, 10000), BENCH_SYNC_SMALL (1000), BENCH_SYNC_SIM (users per
# app for the simulator run, 10000; 0 skips it), BENCH_SYNC_VALGRIND (1; 0
# skips the heap figures).
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
BIN=${COUNTLY_SYNC:-$BUILD_DIR/native/bin/countly-sync}
MID=${BENCH_SYNC_MID:-10000}
SMALL=${BENCH_SYNC_SMALL:-1000}
SIM_USERS=${BENCH_SYNC_SIM:-10000}
VALGRIND=${BENCH_SYNC_VALGRIND:-1}
APPS=3
LIMIT=1000
SEED=11
KEY=61375872aac13a33755c4557fd21db10 # the simulator's fixed admin key (not secret)
TIME=/usr/bin/time # used by tests/bench/rss_run.py
OUT=$BUILD_DIR/bench/sync
PKI=$OUT/pki
CA=$PKI/ca-ec.crt
SIM_PID=""
T_START=$(date +%s)

die() {
    echo "bench/sync: $*" >&2
    exit 1
}

stop_sim() {
    if [ -n "$SIM_PID" ]; then
        kill "$SIM_PID" 2>/dev/null
        wait "$SIM_PID" 2>/dev/null
        SIM_PID=""
    fi
}

cleanup() {
    stop_sim
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in python3 curl openssl; do
    command -v $tool >/dev/null || die "$tool missing"
done
[ -x "$TIME" ] || die "$TIME missing (apt-get install time)"
[ -x "$BIN" ] || die "countly-sync not found at $BIN (make PROFILE=native bin)"
if [ "$VALGRIND" = 1 ] && ! command -v valgrind >/dev/null; then
    echo "bench/sync: valgrind missing: heap figures skipped" >&2
    VALGRIND=0
fi

rm -rf "$OUT" && mkdir -p "$OUT/runs"
bash "$ROOT/tests/integration/gen_pki.sh" "$PKI" >/dev/null 2>&1 || die "PKI generation failed"

# wait_ready PORT: until the server answers /o/system/plugins over TLS.
wait_ready() {
    local i
    for ((i = 0; i < 600; i++)); do
        curl -sf -o /dev/null --cacert "$CA" \
            "https://localhost:$1/o/system/plugins?api_key=$KEY" && return 0
        sleep 0.1
    done
    return 1
}

# start_sim USERS: the Python simulator with APPS x USERS users; port in PORT.
start_sim() {
    stop_sim
    rm -f "$OUT/sim.port"
    python3 "$ROOT/tests/sim/countly_sim.py" --port 0 --port-file "$OUT/sim.port" \
        --cert "$PKI/server-ec.crt" --key "$PKI/server-ec.key" --seed $SEED --apps $APPS \
        --users-per-app "$1" >"$OUT/sim.out" 2>"$OUT/sim.log" &
    SIM_PID=$!
    local i
    for ((i = 0; i < 6000; i++)); do
        [ -s "$OUT/sim.port" ] && break
        kill -0 "$SIM_PID" 2>/dev/null || die "simulator exited: $(tail -n 3 "$OUT/sim.log")"
        sleep 0.1
    done
    PORT=$(cat "$OUT/sim.port" 2>/dev/null) || die "simulator did not start"
    wait_ready "$PORT" || die "simulator does not answer: $(tail -n 3 "$OUT/sim.log")"
}

# csv_rows FILE: "rows distinct-first-column" of a CSV file (header excluded).
csv_rows() {
    python3 - "$1" <<'PY'
import csv, sys
csv.field_size_limit(1 << 30)
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    r = csv.reader(f)
    next(r)
    ids = set()
    n = 0
    for row in r:
        n += 1
        ids.add(row[0])
print(n, len(ids))
PY
}

# run_start USERS_CSV: the run start (unix seconds) from the processed_at column.
run_start() {
    python3 - "$1" <<'PY'
import calendar, csv, sys, time
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    r = csv.reader(f)
    header = next(r)
    at = next(r)[header.index("processed_at")]
print(calendar.timegm(time.strptime(at, "%Y-%m-%dT%H:%M:%SZ")))
PY
}

# run_sync NAME PORT [WRAPPER...]: one first run of countly-sync against the
# simulator (fresh output and state, in $OUT/runs/NAME/out); sets WALL_MS,
# RSS_KB (peak RSS, /usr/bin/time %M), ANON_KB (largest private memory seen,
# smaps Anonymous) and CPU_MS (user + system) - all 0 under a wrapper -
# USER_KB (users body KB the agent read), EXPECTED (users rows: what the
# simulator's oracle says for the run's window); dies when the output is not
# complete.
run_sync() {
    local name=$1 port=$2 dir rc t0 t1 rows
    shift 2
    dir=$OUT/runs/$name
    rm -rf "$dir" && mkdir -p "$dir"
    local outdir=$dir/out
    rm -rf "$outdir"
    python3 - "$dir/configuration.json" "https://localhost:$port" "$CA" "$outdir" $LIMIT <<'PY'
import json, sys
conf = {"server_url": sys.argv[2], "app_id": "*", "ca_file": sys.argv[3],
        "output_dir": sys.argv[4], "max_records_per_page": int(sys.argv[5]),
        "initial_sync_days": 0, "retry_attempts": 0, "request_timeout_seconds": 120}
with open(sys.argv[1], "w") as f:
    json.dump(conf, f, indent=2)
PY
    chmod 600 "$dir/configuration.json"
    RSS_KB=0 ANON_KB=0 CPU_MS=0
    t0=$(date +%s%N)
    if [ $# -gt 0 ]; then
        COUNTLY_API_KEY=$KEY "$@" "$BIN" -c "$dir/configuration.json" sync \
            >"$dir/stdout" 2>"$dir/stderr"
        rc=$?
    else
        COUNTLY_API_KEY=$KEY python3 "$ROOT/tests/bench/rss_run.py" "$dir/memory" \
            "$BIN" -c "$dir/configuration.json" sync >"$dir/stdout" 2>"$dir/stderr"
        rc=$?
        read -r RSS_KB _ ANON_KB CPU_MS <"$dir/memory"
    fi
    t1=$(date +%s%N)
    WALL_MS=$(((t1 - t0) / 1000000))
    [ $rc -eq 0 ] || die "$name: countly-sync exited $rc: $(tail -n 3 "$dir/stderr")"
    # the simulator's data may hold users outside the window: ask its oracle
    local truth
    truth="/__sim/truth?table=users&app=*&full=$(run_start "$outdir/users.csv")"
    EXPECTED=$(curl -sf --cacert "$CA" "https://localhost:$port$truth" | wc -l)
    rows=$(csv_rows "$outdir/users.csv")
    if [ "$EXPECTED" -eq 0 ] || [ "$rows" != "$EXPECTED $EXPECTED" ]; then
        die "$name: users.csv has '$rows' rows/distinct ids, expected $EXPECTED"
    fi
    rows=$(csv_rows "$outdir/apps.csv")
    [ "${rows%% *}" = $APPS ] || die "$name: apps.csv has ${rows%% *} rows, expected $APPS"
    USER_KB=$(sed -n 's/.*users: [0-9]* rows, [0-9]* pages*, \([0-9.]*\) KB.*/\1/p' "$dir/stderr")
    rm -rf "$outdir" # checked; up to 260 MB each
    printf '  %-10s exit 0, %6d users rows (all distinct), %6d ms%s\n' "$name" \
        "$EXPECTED" "$WALL_MS" \
        "$([ "$RSS_KB" -gt 0 ] && echo ", CPU $CPU_MS ms, RSS $RSS_KB KB (private $ANON_KB KB)")"
}

# heap NAME: "allocs frees bytes" from a valgrind log.
heap() {
    local n='\([0-9,]*\)'
    sed -n "s/.*total heap usage: $n allocs, $n frees, $n bytes allocated.*/\\1 \\2 \\3/p" "$1" |
        tr -d ,
}

rate() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", n * 1000 / (ms > 0 ? ms : 1) }'; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
mbs() { awk -v kb="$1" -v ms="$2" 'BEGIN { printf "%.1f", kb * 1.024 / (ms > 0 ? ms : 1) }'; }

echo "== countly-sync end to end over loopback TLS: first run, all history, $APPS apps," \
    "max_records_per_page $LIMIT, the Python simulator (tests/sim)"
echo "   (throughput and peak RSS against the row count: tests/bench/throughput.sh)"

ROWS=() # summary table rows
# row LABEL: a table row from S_* (one run).
row() {
    ROWS+=("$(printf '%-36s %9d %7s %9s %8s %7s %10s' "$1" "$S_ROWS" "$(secs "$S_WALL")" \
        "$(rate "$S_ROWS" "$S_WALL")" "$(mbs "$S_KB" "$S_WALL")" "$(secs "$S_CPU")" "$S_RSS")")
}

if [ "$SIM_USERS" -gt 0 ]; then
    echo "-- server: the Python Countly simulator (tests/sim), $APPS x $SIM_USERS users" \
        "(generating them takes a while)"
    start_sim "$SIM_USERS"
    run_sync sim "$PORT"
    S_ROWS=$EXPECTED S_WALL=$WALL_MS S_CPU=$CPU_MS S_KB=$USER_KB S_RSS=$RSS_KB
    row "Python simulator, $APPS x $SIM_USERS"
    stop_sim
fi

heap_small="" heap_mid=""
if [ "$VALGRIND" = 1 ]; then
    echo "-- valgrind memcheck, the simulator with $APPS x $SMALL and $APPS x $MID users"
    start_sim "$SMALL"
    run_sync vg-small "$PORT" valgrind --tool=memcheck --log-file="$OUT/runs/vg-small.valgrind"
    heap_small=$(heap "$OUT/runs/vg-small.valgrind")
    start_sim "$MID"
    run_sync vg-mid "$PORT" valgrind --tool=memcheck --log-file="$OUT/runs/vg-mid.valgrind"
    heap_mid=$(heap "$OUT/runs/vg-mid.valgrind")
    stop_sim
    if [ -z "$heap_mid" ] || [ -z "$heap_small" ]; then
        die "no 'total heap usage' line from valgrind"
    fi
fi

# ---- summary -------------------------------------------------------------------------
echo
echo "== summary: countly-sync $("$BIN" version | sed 's/^countly-sync //'), first run" \
    "(all history), $APPS apps, max_records_per_page $LIMIT, over loopback TLS"
if [ ${#ROWS[@]} -gt 0 ]; then
    printf '%-36s %9s %7s %9s %8s %7s %10s\n' "server, users" "rows" "wall s" "rows/s" \
        "MB/s" "CPU s" "RSS KB"
    printf '%s\n' "${ROWS[@]}"
    echo "(one run, users.csv fsync'ed per page; MB/s: users JSON bodies; CPU: the agent's" \
        "user + system time; RSS: peak RSS)"
fi
if [ "$VALGRIND" = 1 ]; then
    read -r sa sf sb <<<"$heap_small"
    read -r ma mf mb <<<"$heap_mid"
    printf 'valgrind total heap usage, %d x %-6d users: %d allocs, %d frees, %d bytes allocated\n' \
        $APPS "$SMALL" "$sa" "$sf" "$sb"
    printf 'valgrind total heap usage, %d x %-6d users: %d allocs, %d frees, %d bytes allocated\n' \
        $APPS "$MID" "$ma" "$mf" "$mb"
    if [ "$sa" = "$ma" ] && [ "$sb" = "$mb" ]; then
        echo "heap: identical for $APPS x $SMALL and $APPS x $MID users (no allocation per row)"
    else
        echo "heap: DIFFERS with the row count ($((ma - sa)) allocs, $((mb - sb)) bytes more)"
    fi
fi
echo "benchmark took $(($(date +%s) - T_START)) s"
