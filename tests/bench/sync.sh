#!/usr/bin/env bash
# bench/sync.sh - the whole product over loopback TLS: countly-sync's first run
# (all history: initial_sync_days 0, app_id "*", max_records_per_page 1000)
# of 3 apps. Figures, not pass/fail - but every run's output is checked
# (exit 0, users.csv rows and distinct user ids = generated users, apps.csv
# and groups.csv rows, no request answered 404), so a broken run cannot
# produce a nice number.
#
#   throughput  3 x 100,000 users from a private nginx serving pre-generated
#               static pages over TLS (the Python simulator would be the
#               bottleneck): wall time, rows/s, MB/s and the agent's CPU time,
#               best of BENCH_SYNC_RUNS; the same with the output on tmpfs
#               (/dev/shm, when it has room) to show what the per-page fsyncs
#               cost; and once 3 x 10,000 users from the real Python simulator
#               (tests/sim) for a "realistic server" figure
#   memory      peak RSS (/usr/bin/time %M, median of the runs; the kernel's
#               figure varies by ~100 KB from run to run) for 3 x 10,000 and
#               3 x 100,000 users: fixed memory, so equal within 5 %
#   heap        valgrind memcheck's "total heap usage" for 3 x 1,000 and
#               3 x 10,000 users: must not grow with rows (no malloc in the
#               program; libc and getaddrinfo make a few)
#
# The pages come from tests/bench/sync_pages.py (records from
# tests/pipeline/gen_body.py): exactly the requests the agent makes
# (src/agent.c), skip 0, L-1, 2(L-1), ... for overlapping pages. nginx
# (tests/bench/nginx-sync.conf.in) maps each request to its file by path,
# `collection` and `skip`. They are cached under
# $BUILD_DIR/bench/sync-pages-<users> (keyed by the generators' hashes and the
# parameters; 3 x 100,000 users take about 2 minutes to generate once).
#
# Environment: BUILD_DIR (default build), COUNTLY_SYNC (default
# $BUILD_DIR/native/bin/countly-sync), BENCH_SYNC_BIG (users per app,
# default 100000), BENCH_SYNC_MID (10000), BENCH_SYNC_SMALL (1000),
# BENCH_SYNC_SIM (users per app for the simulator run, 10000; 0 skips it),
# BENCH_SYNC_RUNS (3), BENCH_SYNC_NASTY (fraction of hostile records, 0.1 as
# the simulator), BENCH_SYNC_VALGRIND (1; 0 skips the heap figures).
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
BIN=${COUNTLY_SYNC:-$BUILD_DIR/native/bin/countly-sync}
BIG=${BENCH_SYNC_BIG:-100000}
MID=${BENCH_SYNC_MID:-10000}
SMALL=${BENCH_SYNC_SMALL:-1000}
SIM_USERS=${BENCH_SYNC_SIM:-10000}
RUNS=${BENCH_SYNC_RUNS:-3}
NASTY=${BENCH_SYNC_NASTY:-0.1}
VALGRIND=${BENCH_SYNC_VALGRIND:-1}
APPS=3
N_GROUPS=5
LIMIT=1000
SEED=11
DATA_NOW=1717650000 # every generated lac lies before this (2024-06-06)
KEY=61375872aac13a33755c4557fd21db10 # the simulator's fixed admin key (not secret)
TIME=/usr/bin/time # used by tests/bench/rss_run.py
GEN=$ROOT/tests/bench/sync_pages.py
OUT=$BUILD_DIR/bench/sync
PKI=$OUT/pki
CA=$PKI/ca-ec.crt
NGINX_PID=""
SIM_PID=""
T_START=$(date +%s)

die() {
    echo "bench/sync: $*" >&2
    exit 1
}

stop_nginx() {
    if [ -n "$NGINX_PID" ]; then
        kill "$NGINX_PID" 2>/dev/null
        wait "$NGINX_PID" 2>/dev/null
        NGINX_PID=""
    fi
}

stop_sim() {
    if [ -n "$SIM_PID" ]; then
        kill "$SIM_PID" 2>/dev/null
        wait "$SIM_PID" 2>/dev/null
        SIM_PID=""
    fi
}

cleanup() {
    stop_nginx
    stop_sim
    if [ -n "${SYNC_OUT:-}" ]; then rm -rf "$SYNC_OUT"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in nginx python3 curl openssl; do
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

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# pages USERS: PAGES = folder of the cached pages for APPS x USERS (generated
# when missing; the time it took is added to T_GEN).
T_GEN=0
pages() {
    local users=$1 dir stamp t0
    dir=$BUILD_DIR/bench/sync-pages-$users
    stamp="$(cat "$GEN" "$ROOT/tests/pipeline/gen_body.py" | sha1sum | cut -c1-12) apps=$APPS"
    stamp+=" users=$users limit=$LIMIT groups=$N_GROUPS seed=$SEED nasty=$NASTY now=$DATA_NOW"
    if [ ! -s "$dir/meta.json" ] || [ "$(cat "$dir/stamp" 2>/dev/null)" != "$stamp" ]; then
        echo "generating the pages of $APPS x $users users in $dir (cached for later runs)" >&2
        t0=$(date +%s)
        rm -rf "$dir" "$dir.tmp"
        python3 "$GEN" --out-dir "$dir.tmp" --apps $APPS --users-per-app "$users" \
            --limit $LIMIT --groups $N_GROUPS --seed $SEED --nasty "$NASTY" \
            --data-now $DATA_NOW >&2 || die "sync_pages.py failed"
        printf '%s\n' "$stamp" >"$dir.tmp/stamp"
        mv "$dir.tmp" "$dir"
        command sync # write the pages back now, not during the timed runs' fsyncs
        T_GEN=$((T_GEN + $(date +%s) - t0))
    fi
    PAGES=$dir
}

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

# start_nginx PAGES: a private nginx serving PAGES over TLS; port in PORT.
start_nginx() {
    local pages=$1 dir=$OUT/nginx user_line=""
    stop_nginx
    rm -rf "$dir" && mkdir -p "$dir/tmp"
    PORT=$(free_port)
    [ "$(id -u)" -eq 0 ] && user_line="user root;"
    sed -e "s|@DIR@|$dir|g" -e "s|@PAGES@|$pages|g" -e "s|@PORT@|$PORT|g" \
        -e "s|@CERT@|$PKI/server-ec.crt|g" -e "s|@KEY@|$PKI/server-ec.key|g" \
        -e "s|@USER@|$user_line|g" "$ROOT/tests/bench/nginx-sync.conf.in" >"$dir/nginx.conf"
    nginx -p "$dir" -c "$dir/nginx.conf" >"$dir/nginx.out" 2>&1 &
    NGINX_PID=$!
    wait_ready "$PORT" || die "nginx did not start: $(tail -n 3 "$dir/nginx.out")"
    : >"$dir/access.log"
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

# run_sync NAME PORT USERS [WRAPPER...]: one first run of countly-sync (fresh
# output and state, in $OUT/runs/NAME/out or, when SYNC_OUT is set, there);
# sets WALL_MS, RSS_KB (peak RSS, /usr/bin/time %M), ANON_KB (largest private
# memory seen, smaps Anonymous) and CPU_MS (user + system) - all 0 under a
# wrapper - USER_KB
# (users body KB the agent read), EXPECTED (users rows: APPS x USERS, or what
# the simulator's oracle says for the run's window); dies when the output is
# not complete.
run_sync() {
    local name=$1 port=$2 users=$3 dir rc t0 t1 rows
    shift 3
    dir=$OUT/runs/$name
    rm -rf "$dir" && mkdir -p "$dir"
    local outdir=${SYNC_OUT:-$dir/out}
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
    [ -n "$NGINX_PID" ] && : >"$OUT/nginx/access.log"
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
    if [ -n "$SIM_PID" ]; then
        # the simulator's own data may hold users outside the window: ask its oracle
        local truth
        truth="/__sim/truth?table=users&app=*&full=$(run_start "$outdir/users.csv")"
        EXPECTED=$(curl -sf --cacert "$CA" "https://localhost:$port$truth" | wc -l)
    else
        EXPECTED=$((APPS * users))
    fi
    rows=$(csv_rows "$outdir/users.csv")
    if [ "$EXPECTED" -eq 0 ] || [ "$rows" != "$EXPECTED $EXPECTED" ]; then
        die "$name: users.csv has '$rows' rows/distinct ids, expected $EXPECTED"
    fi
    rows=$(csv_rows "$outdir/apps.csv")
    [ "${rows%% *}" = $APPS ] || die "$name: apps.csv has ${rows%% *} rows, expected $APPS"
    if [ -n "$NGINX_PID" ]; then
        rows=$(csv_rows "$outdir/groups.csv")
        [ "${rows%% *}" = $N_GROUPS ] ||
            die "$name: groups.csv has ${rows%% *} rows, expected $N_GROUPS"
        grep -qv '^200 ' "$OUT/nginx/access.log" &&
            die "$name: nginx answered: $(grep -v '^200 ' "$OUT/nginx/access.log" | head -n 3)"
        local requests
        requests=$(wc -l <"$OUT/nginx/access.log")
        [ "$requests" -eq $((3 + APPS * $(skips "$users"))) ] ||
            die "$name: $requests requests, expected $((3 + APPS * $(skips "$users")))"
    fi
    USER_KB=$(sed -n 's/.*users: [0-9]* rows, [0-9]* pages*, \([0-9.]*\) KB.*/\1/p' "$dir/stderr")
    rm -rf "$outdir" # checked; up to 260 MB each
    printf '  %-10s exit 0, %6d users rows (all distinct), %6d ms%s\n' "$name" \
        "$EXPECTED" "$WALL_MS" \
        "$([ "$RSS_KB" -gt 0 ] && echo ", CPU $CPU_MS ms, RSS $RSS_KB KB (private $ANON_KB KB)")"
}

# skips USERS: pages the agent requests per app (skip 0, L-1, 2(L-1), ...).
skips() {
    local users=$1 skip=0 n=0
    while :; do
        n=$((n + 1))
        [ $((skip + LIMIT)) -ge "$users" ] && break
        skip=$((skip + LIMIT - 1))
    done
    echo $n
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
    "max_records_per_page $LIMIT, ${NASTY} hostile records"
pages "$BIG" && P_BIG=$PAGES
pages "$MID" && P_MID=$PAGES
P_SMALL=""
[ "$VALGRIND" = 1 ] && pages "$SMALL" && P_SMALL=$PAGES

# series NAME PORT USERS: RUNS runs; S_ROWS, S_WALL (best, ms), S_CPU (least,
# ms), S_KB (users body KB), S_RSS (median peak RSS), S_RSS_RANGE ("min..max"),
# S_ANON (largest private memory).
series() {
    local name=$1 port=$2 users=$3 i rss=()
    S_WALL=0 S_CPU=0 S_ANON=0
    for ((i = 1; i <= RUNS; i++)); do
        run_sync "$name-$i" "$port" "$users"
        if [ "$S_WALL" -eq 0 ] || [ "$WALL_MS" -lt "$S_WALL" ]; then S_WALL=$WALL_MS; fi
        if [ "$S_CPU" -eq 0 ] || [ "$CPU_MS" -lt "$S_CPU" ]; then S_CPU=$CPU_MS; fi
        rss+=("$RSS_KB")
        if [ "$ANON_KB" -gt "$S_ANON" ]; then S_ANON=$ANON_KB; fi
    done
    S_ROWS=$EXPECTED S_KB=$USER_KB
    mapfile -t rss < <(printf '%s\n' "${rss[@]}" | sort -n)
    S_RSS=${rss[$((RUNS / 2))]}
    S_RSS_RANGE="${rss[0]}..${rss[$((RUNS - 1))]}"
}

ROWS=() # summary table rows
# row LABEL: a table row from the last series.
row() {
    ROWS+=("$(printf '%-36s %9d %7s %9s %8s %7s %10s  %s' "$1" "$S_ROWS" "$(secs "$S_WALL")" \
        "$(rate "$S_ROWS" "$S_WALL")" "$(mbs "$S_KB" "$S_WALL")" "$(secs "$S_CPU")" \
        "$S_RSS" "$S_RSS_RANGE")")
}

echo "-- server: private nginx serving pre-generated static pages over TLS" \
    "(not the Python simulator, which would be the bottleneck)"
start_nginx "$P_BIG"
series big "$PORT" "$BIG"
row "nginx static pages, $APPS x $BIG"
rss_big=$S_RSS anon_big=$S_ANON
if [ -d /dev/shm ] && [ -w /dev/shm ] &&
    [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt $((BIG * APPS * 2)) ]; then
    echo "-- the same, output on tmpfs (/dev/shm): without the disk's fsync latency"
    SYNC_OUT=/dev/shm/countly-sync-bench.$$
    series shm "$PORT" "$BIG"
    row "  same, output on tmpfs (no disk)"
    rm -rf "$SYNC_OUT"
    unset SYNC_OUT
fi
start_nginx "$P_MID"
series mid "$PORT" "$MID"
row "nginx static pages, $APPS x $MID"
rss_mid=$S_RSS anon_mid=$S_ANON

heap_small="" heap_mid=""
if [ "$VALGRIND" = 1 ]; then
    echo "-- valgrind memcheck (same static pages)"
    run_sync vg-mid "$PORT" "$MID" valgrind --tool=memcheck --log-file="$OUT/runs/vg-mid.valgrind"
    heap_mid=$(heap "$OUT/runs/vg-mid.valgrind")
    start_nginx "$P_SMALL"
    run_sync vg-small "$PORT" "$SMALL" valgrind --tool=memcheck \
        --log-file="$OUT/runs/vg-small.valgrind"
    heap_small=$(heap "$OUT/runs/vg-small.valgrind")
    if [ -z "$heap_mid" ] || [ -z "$heap_small" ]; then
        die "no 'total heap usage' line from valgrind"
    fi
fi
stop_nginx

if [ "$SIM_USERS" -gt 0 ]; then
    echo "-- server: the Python Countly simulator (tests/sim), $APPS x $SIM_USERS users" \
        "(generating them takes a while)"
    start_sim "$SIM_USERS"
    run_sync sim "$PORT" "$SIM_USERS"
    S_ROWS=$EXPECTED S_WALL=$WALL_MS S_CPU=$CPU_MS S_KB=$USER_KB S_RSS=$RSS_KB S_RSS_RANGE="(1 run)"
    row "Python simulator, $APPS x $SIM_USERS"
    stop_sim
fi

# ---- summary -------------------------------------------------------------------------
echo
echo "== summary: countly-sync $("$BIN" version | sed 's/^countly-sync //'), first run" \
    "(all history), $APPS apps, max_records_per_page $LIMIT, over loopback TLS"
printf '%-36s %9s %7s %9s %8s %7s %10s  %s\n' "server, users" "rows" "wall s" "rows/s" \
    "MB/s" "CPU s" "RSS KB" "RSS range"
printf '%s\n' "${ROWS[@]}"
echo "(wall: best of $RUNS runs, users.csv fsync'ed per page; MB/s: users JSON bodies;" \
    "CPU: the agent's user + system time,"
echo " least of the runs; RSS: median peak RSS of the runs; the simulator: one run)"
# compare WHAT A B: "WHAT: A KB (3 x MID users) vs B KB (3 x BIG users): +d % (...)"
compare() {
    awk -v w="$1" -v a="$2" -v b="$3" -v m="$MID" -v g="$BIG" -v n=$APPS 'BEGIN {
        d = a > 0 ? (b - a) * 100 / a : 0
        printf "%s: %d KB (%d x %d users) vs %d KB (%d x %d users): %+.1f %%",
            w, a, n, m, b, n, g, d
        printf " (target: within 5 %%: %s)\n", (d <= 5 && d >= -5) ? "met" : "NOT met" }'
}
compare "peak RSS (/usr/bin/time %M, median of $RUNS)" "$rss_mid" "$rss_big"
compare "private memory (smaps Anonymous, largest)" "$anon_mid" "$anon_big"
echo "(peak RSS includes the shared libc and program text pages mapped, which vary by" \
    "~100-200 KB between runs with the page cache: see the RSS range)"
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
echo "benchmark took $(($(date +%s) - T_START)) s (page generation $T_GEN s; cached for later runs)"
