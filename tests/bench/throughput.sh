#!/usr/bin/env bash
# bench/throughput.sh - countly-sync's first sync over loopback TLS against a
# replay of the simulator, next to curl and a plain Python script doing the
# same requests. Figures, not pass/fail - but every run is checked (exit 0,
# CSV rows = users of the window, each user once, apps and groups rows, the
# replay server saw exactly the recorded requests in the recorded order and
# answered no 404), so a broken run cannot produce a number.
#
# Data: the simulator (tests/sim, --generator lean: ~1.2 KB documents,
# --seed 5, 3 apps, --data-now fixed) with 3 x BIG users (100,000), and
# 3 x SMALL (10,000) for the memory figure. First run, all history
# (initial_sync_days 0), app_id "*", max_records_per_page 1000.
#
# Record (once, cached under $BUILD_DIR/bench/replay-<users>-<hash>, keyed by
# the simulator's and replay_server.py's sources and the parameters; 3 x
# 100,000 users take about a minute): the agent syncs the simulator over plain
# HTTP, identity; every request it made is read back from /__sim/log and
# fetched again; the answers, their gzip (level 6: Countly's stock
# bin/config/nginx.conf sets gzip_comp_level 6, as tests/sim --gzip does) and
# the run start (the Date the agent saw first) are stored
# (tests/bench/replay_server.py record). If the agent's requests no longer
# match a recording (its paging changed), the warm-up run sees it and the
# data set is recorded again.
#
# Replay (tests/bench/replay_server.py serve): HTTPS, keep-alive, Node's
# chunked framing in 64 KiB chunks, every answer with the recorded Date so
# that the agent's run start - and so its filters - are the recorded ones.
# Whole responses are built in memory at start-up (one sendall each); the
# Python simulator itself would be the bottleneck (it renders every page).
# The server is checked against nginx serving the same files (curl only:
# nginx cannot send the recorded Date, so the agent cannot run against it).
#
# Measured, RUNS rounds, the clients interleaved in each round, medians:
#   agent identity / gzip   $COUNTLY_SYNC (default the static binary) with
#                           http_compression false / true
#   curl / curl --compressed  one curl process fetching every recorded target
#                           (--config, -o /dev/null each, one connection)
#   python                  tests/bench/py_sync_peer.py (requests + csv,
#                           identity, the same requests in the same order)
# wall seconds, CPU seconds (user + system of the process, /usr/bin/time),
# bytes on the wire (HTTP bytes the replay server wrote), the target ratios;
# the agent's peak RSS (/usr/bin/time %M) for 3 x SMALL and 3 x BIG users;
# and, when build/cross-ARCH/bin/countly-sync and qemu-user exist
# (make cross ARCH=aarch64|armhf), the same sync under qemu as CPU seconds
# per 100 MB of JSON. Diagnostics without targets: curl against nginx serving
# the same files (is the replay server fast enough?), and the agent and curl
# over plain HTTP (what TLS costs them).
#
# The CSV output goes to tmpfs (/dev/shm) when it has room, so that the
# figures are the program's, not this machine's disk (the agent fsyncs every
# page; tests/bench/sync.sh has the disk figure); else to $BUILD_DIR.
#
# Environment: BUILD_DIR (build), COUNTLY_SYNC ($BUILD_DIR/static/bin/countly-sync),
# BENCH_TP_USERS (100000), BENCH_TP_SMALL (10000; 0 skips the memory
# comparison), BENCH_TP_RUNS (3), BENCH_TP_QEMU_RUNS (3; 0 skips qemu),
# BENCH_TP_NGINX (1; 0 skips the nginx check of the server), BENCH_TP_PLAIN (1;
# 0 skips the diagnostic runs over plain HTTP, which show what TLS costs).
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
BIN=${COUNTLY_SYNC:-$BUILD_DIR/static/bin/countly-sync}
BIG=${BENCH_TP_USERS:-100000}
SMALL=${BENCH_TP_SMALL:-10000}
RUNS=${BENCH_TP_RUNS:-3}
QEMU_RUNS=${BENCH_TP_QEMU_RUNS:-3}
NGINX=${BENCH_TP_NGINX:-1}
PLAIN=${BENCH_TP_PLAIN:-1}
APPS=3
LIMIT=1000
SEED=5
LEVEL=6
DATA_NOW=1717650000 # the data's base time (2024-06-06): fixed, so the data set is too
KEY=61375872aac13a33755c4557fd21db10 # the simulator's fixed admin key (not secret)
TIME=/usr/bin/time
REPLAY=$ROOT/tests/bench/replay_server.py
PEER=$ROOT/tests/bench/py_sync_peer.py
OUT=$BUILD_DIR/bench/throughput
PKI=$OUT/pki
CA=$PKI/ca-ec.crt
RESULTS=$OUT/results.tsv
SIM_PID="" REPLAY_PID="" NGINX_PID="" CSV_DIR=""
T_START=$(date +%s)

die() {
    echo "bench/throughput: $*" >&2
    exit 1
}

stop() { # stop VAR: the background process whose pid VAR holds
    local pid=${!1}
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    printf -v "$1" '%s' ""
}

cleanup() {
    stop SIM_PID
    stop REPLAY_PID
    stop NGINX_PID
    if [ -n "$CSV_DIR" ]; then rm -rf "$CSV_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in python3 curl openssl; do
    command -v $tool >/dev/null || die "$tool missing"
done
[ -x "$TIME" ] || die "$TIME missing (apt-get install time)"
[ -x "$BIN" ] || die "countly-sync not found at $BIN (make static)"
python3 -c 'import requests' 2>/dev/null || die "python3 requests missing (apt-get install python3-requests)"

rm -rf "$OUT" && mkdir -p "$OUT/runs"
: >"$RESULTS"
bash "$ROOT/tests/integration/gen_pki.sh" "$PKI" >/dev/null 2>&1 || die "PKI generation failed"
if [ -d /dev/shm ] && [ -w /dev/shm ] &&
    [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt $((BIG * APPS * 4)) ]; then
    CSV_DIR=/dev/shm/countly-sync-throughput.$$
    CSV_WHERE="tmpfs ($CSV_DIR)"
else
    CSV_DIR=$OUT/csv
    CSV_WHERE="disk ($CSV_DIR)"
fi
mkdir -p "$CSV_DIR"

# json FILE EXPR: a value of the JSON document in FILE (Python expression on d).
json() {
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# conf FILE URL OUTDIR COMPRESSION [CA]: an agent configuration.
conf() {
    local ca=""
    [ $# -ge 5 ] && ca="\"ca_file\":\"$5\","
    printf '{"server_url":"%s",%s"app_id":"*","output_dir":"%s","max_records_per_page":%d,"initial_sync_days":0,"retry_attempts":0,"request_timeout_seconds":120,"http_compression":%s}\n' \
        "$2" "$ca" "$3" $LIMIT "$4" >"$1"
    chmod 600 "$1"
}

# check_csv DIR USERS APPS GROUPS: "ok", or what is wrong with DIR's CSV files.
check_csv() {
    python3 - "$@" <<'PY'
import csv, os, sys
csv.field_size_limit(1 << 30)
folder, users, apps, groups = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def rows(name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return None, None
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        next(r)
        ids, n = set(), 0
        for row in r:
            n += 1
            ids.add(row[0])
    return n, len(ids)
bad = []
n, distinct = rows("users.csv")
if n != users or distinct != users:
    bad.append("users.csv has %s rows, %s distinct, expected %d" % (n, distinct, users))
for name, want in (("apps.csv", apps), ("groups.csv", groups)):
    n, _ = rows(name)
    if n != want:
        bad.append("%s has %s rows, expected %d" % (name, n, want))
print("; ".join(bad) or "ok")
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

wait_port_file() { # wait_port_file FILE PID WHAT: the port, once FILE holds it
    local i
    for ((i = 0; i < 3000; i++)); do
        [ -s "$1" ] && {
            cat "$1"
            return 0
        }
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# ---- recording -----------------------------------------------------------------------------

# record USERS: REC = the folder of the recorded run of APPS x USERS users
# (recorded now when missing or stale).
record() {
    local users=$1
    local stamp hash dir port r sim_out=$OUT/record-$users t0
    stamp="$(cd "$ROOT" && cat tests/sim/countly_sim.py tests/sim/sim/*.py tests/bench/replay_server.py |
        sha1sum | cut -c1-12) apps=$APPS users=$users seed=$SEED generator=lean"
    stamp+=" data_now=$DATA_NOW limit=$LIMIT level=$LEVEL"
    hash=$(printf '%s' "$stamp" | sha1sum | cut -c1-12)
    dir=$BUILD_DIR/bench/replay-$users-$hash
    REC=$dir
    [ -s "$dir/index.json" ] && return 0
    rm -rf "$BUILD_DIR/bench/replay-$users-"* # stale recordings of this size
    echo "-- recording the agent's requests for $APPS x $users users into $dir" \
        "(once; cached for later runs)"
    t0=$(date +%s)
    rm -rf "$sim_out" && mkdir -p "$sim_out"
    python3 "$ROOT/tests/sim/countly_sim.py" --http --port 0 --port-file "$sim_out/port" \
        --generator lean --seed $SEED --apps $APPS --users-per-app "$users" \
        --data-now $DATA_NOW --log "$sim_out/requests.log" >"$sim_out/sim.out" 2>/dev/null &
    SIM_PID=$!
    port=$(wait_port_file "$sim_out/port" "$SIM_PID") || die "simulator did not start"
    [ "$(curl -sf "http://127.0.0.1:$port/__sim/keys" | python3 -c 'import json, sys; print(json.load(sys.stdin)["admin"])')" = $KEY ] ||
        die "the simulator's admin key is not $KEY"
    conf "$sim_out/configuration.json" "http://127.0.0.1:$port" "$sim_out/out" false
    local t1 t2
    t1=$(date +%s%N)
    COUNTLY_API_KEY=$KEY "$TIME" -f '%U %S' -o "$sim_out/time" \
        "$BIN" -c "$sim_out/configuration.json" sync >"$sim_out/stdout" 2>"$sim_out/stderr" ||
        die "recording run: countly-sync exited $?: $(tail -n 3 "$sim_out/stderr")"
    t2=$(date +%s%N)
    r=$(run_start "$sim_out/out/users.csv") || die "no run start in users.csv"
    rm -rf "$dir.tmp"
    python3 "$REPLAY" record --sim "http://127.0.0.1:$port" --key $KEY --run-start "$r" \
        --out "$dir.tmp" --level $LEVEL || die "recording failed"
    local ok
    ok=$(check_csv "$sim_out/out" "$(json "$dir.tmp/index.json" 'd["users"]')" \
        "$(json "$dir.tmp/index.json" 'd["apps"]')" "$(json "$dir.tmp/index.json" 'd["groups"]')")
    [ "$ok" = ok ] || die "recording run: $ok"
    stop SIM_PID
    rm -rf "$sim_out/out"
    printf '%s\n' "$stamp" >"$dir.tmp/stamp"
    # the recording run against the live simulator (plain HTTP): "wall_s cpu_s"
    tail -n 1 "$sim_out/time" | awk -v ns=$((t2 - t1)) '{ printf "%.2f %.2f\n", ns / 1e9, $1 + $2 }' \
        >"$dir.tmp/sim_run"
    mv "$dir.tmp" "$dir"
    command sync # written back now, not during the timed runs
    echo "   recorded in $(($(date +%s) - t0)) s"
}

# ---- servers -------------------------------------------------------------------------------

# start_replay REC [plain]: the replay server of REC (plain: over HTTP); PORT, URL.
start_replay() {
    local tls=(--cert "$PKI/server-ec.crt" --key "$PKI/server-ec.key") scheme=https
    [ "${2:-}" = plain ] && tls=(--http) scheme=http
    stop REPLAY_PID
    rm -f "$OUT/replay.port"
    python3 "$REPLAY" serve --dir "$1" --port 0 --port-file "$OUT/replay.port" "${tls[@]}" \
        2>"$OUT/replay.log" &
    REPLAY_PID=$!
    PORT=$(wait_port_file "$OUT/replay.port" "$REPLAY_PID") ||
        die "replay server did not start: $(tail -n 3 "$OUT/replay.log")"
    URL=$scheme://localhost:$PORT
    curl -sf --cacert "$CA" -o /dev/null "$URL/__replay/stats" || die "replay server does not answer"
    SERVER=replay
}

# start_nginx REC: a private nginx serving REC's files (curl only); PORT, URL.
start_nginx() {
    local rec=$1 dir=$OUT/nginx user_line=""
    stop NGINX_PID
    rm -rf "$dir" && mkdir -p "$dir/tmp"
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    [ "$(id -u)" -eq 0 ] && user_line="user root;"
    {
        cat <<EOF
$user_line
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log crit;
events { worker_connections 16; }
http {
    default_type application/json;
    log_format bytes '\$status \$bytes_sent';
    access_log $dir/access.log bytes;
    client_body_temp_path $dir/tmp;
    proxy_temp_path $dir/tmp;
    fastcgi_temp_path $dir/tmp;
    uwsgi_temp_path $dir/tmp;
    scgi_temp_path $dir/tmp;
    keepalive_requests 100000;
    map_hash_max_size 65536;
    map_hash_bucket_size 512;
    map \$request_uri \$page {
        default "";
EOF
        python3 - "$rec/index.json" $KEY <<'PY'
import json, sys
index = json.load(open(sys.argv[1]))
for target, name in index["files"].items():
    sep = "&" if "?" in target else "?"
    print('        "%s%sapi_key=%s" /r/%s.json;' % (target, sep, sys.argv[2], name))
PY
        cat <<EOF
    }
    server {
        listen 127.0.0.1:$PORT ssl;
        ssl_certificate $PKI/server-ec.crt;
        ssl_certificate_key $PKI/server-ec.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        root $rec;
        gzip_static on;
        gzip_vary on;
        location / {
            if (\$page = "") { return 404 '{"result":"not recorded"}'; }
            rewrite ^ \$page break;
        }
    }
}
EOF
    } >"$dir/nginx.conf"
    nginx -p "$dir" -c "$dir/nginx.conf" >"$dir/nginx.out" 2>&1 &
    NGINX_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        curl -s -o /dev/null --cacert "$CA" "https://localhost:$PORT/" && break
        kill -0 "$NGINX_PID" 2>/dev/null || die "nginx did not start: $(tail -n 3 "$dir/nginx.out")"
        sleep 0.1
    done
    URL=https://localhost:$PORT
    SERVER=nginx
    : >"$dir/access.log"
}

# curl_config REC FILE: FILE = a curl --config fetching every recorded target in order.
curl_config() {
    awk -v url="$URL" -v key=$KEY '{
        sep = index($0, "?") ? "&" : "?"
        printf "url = \"%s%s%sapi_key=%s\"\noutput = \"/dev/null\"\n", url, $0, sep, key }' \
        "$1/targets.txt" >"$2"
}

# server_cpu: CPU seconds the replay server has used so far (all its threads), or -1.
CLK_TCK=$(getconf CLK_TCK)
server_cpu() {
    if [ "$SERVER" = replay ] && [ -r "/proc/$REPLAY_PID/stat" ]; then
        sed 's/.*) //' "/proc/$REPLAY_PID/stat" |
            awk -v hz="$CLK_TCK" '{ printf "%.2f", ($12 + $13) / hz }'
    else
        echo -1
    fi
}

# server_stats FILE: the counters of the server since the last call (replay:
# its /__replay/stats, reset; nginx: from its access log, truncated).
server_stats() {
    if [ "$SERVER" = replay ]; then
        curl -sf --cacert "$CA" "$URL/__replay/stats?reset=1" >"$1" || die "replay stats failed"
    else
        awk -v sha="$EXPECTED_SHA" -v n="$EXPECTED_REQ" '{ r++; b += $2; if ($1 != 200) nf++ }
            END { printf "{\"requests\":%d,\"not_found\":%d,\"bytes\":%d,\"suites\":{},", r, nf, b
                  printf "\"sequence_sha1\":\"%s\",\"expected_sha1\":\"%s\",", sha, sha
                  printf "\"expected_requests\":%d}\n", n }' "$OUT/nginx/access.log" >"$1"
        : >"$OUT/nginx/access.log"
    fi
}

# ---- runs ----------------------------------------------------------------------------------

# run LABEL USERS ROUND KIND [CMD...]: one timed run, checked; appends a line to
# RESULTS. KIND: agent-identity, agent-gzip, curl-identity, curl-gzip, python,
# qemu-<arch>-identity|gzip. Returns 2 when the replay server saw requests
# other than the recorded ones (stale recording), dies on any other failure.
run() {
    local label=$1 users=$2 round=$3 kind=$4 dir rc t0 t1 cpu rss out=$CSV_DIR/out
    dir=$OUT/runs/$label-$users-$round
    rm -rf "$dir" "$out" && mkdir -p "$dir"
    local cmd=()
    case $kind in
    agent-identity | agent-gzip | qemu-*)
        local gz=false
        case $kind in *gzip) gz=true ;; esac
        case $URL in
        https:*) conf "$dir/configuration.json" "$URL" "$out" $gz "$CA" ;;
        *) conf "$dir/configuration.json" "${URL/localhost/127.0.0.1}" "$out" $gz ;;
        esac
        case $kind in
        qemu-*) cmd=("$QEMU" "$QBIN") ;;
        *) cmd=("$BIN") ;;
        esac
        cmd+=(-c "$dir/configuration.json" sync)
        ;;
    curl-identity) cmd=(curl -sS -g --fail --cacert "$CA" --config "$CURL_CONF") ;;
    curl-gzip) cmd=(curl -sS -g --fail --compressed --cacert "$CA" --config "$CURL_CONF") ;;
    python) cmd=(python3 "$PEER" --url "$URL" --ca "$CA" --targets "$REC/targets.txt"
        --out "$out" --limit "$LIMIT") ;;
    *) die "unknown kind $kind" ;;
    esac
    server_stats "$dir/stats-before.json"
    local s0 s1
    s0=$(server_cpu)
    t0=$(date +%s%N)
    COUNTLY_API_KEY=$KEY "$TIME" -f '%U %S %M' -o "$dir/time" "${cmd[@]}" \
        >"$dir/stdout" 2>"$dir/stderr"
    rc=$?
    t1=$(date +%s%N)
    s1=$(server_cpu)
    server_stats "$dir/stats.json"
    local seen
    seen=$(python3 - "$dir/stats.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
bad = []
if s["not_found"]:
    bad.append("%d requests not recorded (404)" % s["not_found"])
if s["requests"] != s["expected_requests"] or s["sequence_sha1"] != s["expected_sha1"]:
    bad.append("%d requests, not the %d recorded ones in their order"
               % (s["requests"], s["expected_requests"]))
print("; ".join(bad) or "ok %d %s %d" % (s["bytes"], "+".join(sorted(s["suites"])) or "-",
                                         s.get("connections", 0)))
PY
    )
    case $seen in
    ok*) ;;
    *)
        echo "   $label ($kind): the server saw $seen" >&2
        return 2
        ;;
    esac
    [ $rc -eq 0 ] || die "$label ($kind): exit $rc: $(tail -n 3 "$dir/stderr")"
    read -r cpu rss <<<"$(tail -n 1 "$dir/time" | awk '{ printf "%.2f %d", $1 + $2, $3 }')"
    local bytes suite conns
    read -r _ bytes suite conns <<<"$seen"
    case $kind in
    curl-*) ;;
    *)
        local ok
        ok=$(check_csv "$out" "$EXPECTED_USERS" "$EXPECTED_APPS" "$EXPECTED_GROUPS")
        [ "$ok" = ok ] || die "$label ($kind): $ok"
        ;;
    esac
    rm -rf "$out"
    local wall srv
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    srv=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", a < 0 || b < 0 ? -1 : b - a }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$users" "$round" "$kind" \
        "$wall" "$cpu" "$rss" "$bytes" "$suite" "$srv" >>"$RESULTS"
    printf '   %-22s %-6s round %d: %6.2f s wall, %6.2f s CPU, %9d bytes sent%s%s%s, checked\n' \
        "$label" "$users" "$round" "$wall" "$cpu" "$bytes" \
        "$([ "$SERVER" = replay ] && echo " over $conns connection(s)")" \
        "$(case $kind in agent-*) echo ", peak RSS $rss KB" ;; esac)" \
        "$([ "$srv" != -1.00 ] && echo ", server CPU $srv s")"
    return 0
}

# prepare USERS: a recording of APPS x USERS users, served, validated by one
# untimed agent run (recorded again once when the agent's requests changed).
prepare() {
    local users=$1 attempt
    for attempt in 1 2; do
        record "$users"
        EXPECTED_USERS=$(json "$REC/index.json" 'd["users"]')
        EXPECTED_APPS=$(json "$REC/index.json" 'd["apps"]')
        EXPECTED_GROUPS=$(json "$REC/index.json" 'd["groups"]')
        EXPECTED_SHA=$(json "$REC/index.json" 'd["sequence_sha1"]')
        EXPECTED_REQ=$(json "$REC/index.json" 'd["requests"]')
        start_replay "$REC"
        run warmup "$users" 0 agent-identity && return 0
        [ $attempt = 1 ] || die "the agent's requests differ from a fresh recording's"
        echo "-- the agent's requests differ from the recording: recording again" >&2
        stop REPLAY_PID
        rm -rf "$REC"
    done
}

run_checked() { run "$@" || die "$1: the server saw other requests than the recorded ones"; }

echo "== countly-sync throughput over loopback TLS: first run, all history, $APPS apps," \
    "max_records_per_page $LIMIT, lean simulator data (--seed $SEED)"
echo "   agent: $BIN ($("$BIN" version 2>&1 | head -n 1)); CSV output on $CSV_WHERE"

prepare "$BIG"
BIG_REC=$REC
CURL_CONF=$OUT/curl-replay.conf
curl_config "$REC" "$CURL_CONF"
echo "-- server: tests/bench/replay_server.py, recorded answers of the simulator" \
    "(the Python simulator would be the bottleneck), $RUNS rounds"
for ((i = 1; i <= RUNS; i++)); do
    for kind in agent-identity agent-gzip curl-identity curl-gzip python; do
        run_checked "$kind" "$BIG" "$i" "$kind"
    done
done

if [ "$NGINX" = 1 ] && command -v nginx >/dev/null; then
    echo "-- is the replay server fast enough? curl against nginx serving the same files" \
        "(Content-Length, gzip_static)"
    start_nginx "$BIG_REC"
    curl_config "$BIG_REC" "$OUT/curl-nginx.conf"
    CURL_CONF=$OUT/curl-nginx.conf
    for ((i = 1; i <= RUNS; i++)); do
        run_checked nginx-curl-identity "$BIG" "$i" curl-identity
        run_checked nginx-curl-gzip "$BIG" "$i" curl-gzip
    done
    stop NGINX_PID
    start_replay "$BIG_REC"
    CURL_CONF=$OUT/curl-replay.conf
    curl_config "$BIG_REC" "$CURL_CONF"
fi

if [ "$PLAIN" = 1 ]; then
    echo "-- without TLS (diagnostic: what TLS costs): the same replay over plain HTTP, $RUNS rounds"
    start_replay "$BIG_REC" plain
    curl_config "$BIG_REC" "$OUT/curl-plain.conf"
    CURL_CONF=$OUT/curl-plain.conf
    for ((i = 1; i <= RUNS; i++)); do
        for kind in agent-identity agent-gzip curl-identity curl-gzip; do
            run_checked "plain-$kind" "$BIG" "$i" "$kind"
        done
    done
    start_replay "$BIG_REC"
    CURL_CONF=$OUT/curl-replay.conf
    curl_config "$BIG_REC" "$CURL_CONF"
fi

if [ "$QEMU_RUNS" -gt 0 ]; then
    for arch in aarch64 armhf; do
        QBIN=$BUILD_DIR/cross-$arch/bin/countly-sync
        case $arch in aarch64) QEMU=qemu-aarch64 ;; armhf) QEMU=qemu-arm ;; esac
        if [ ! -x "$QBIN" ]; then
            echo "-- qemu $arch: skipped ($QBIN missing: make cross ARCH=$arch)"
            continue
        fi
        if ! command -v "$QEMU" >/dev/null; then
            echo "-- qemu $arch: skipped ($QEMU missing: apt-get install qemu-user)"
            continue
        fi
        QEMU=$(command -v "$QEMU")
        echo "-- $arch under $QEMU, $QEMU_RUNS round(s)"
        for ((i = 1; i <= QEMU_RUNS; i++)); do
            run_checked "qemu-$arch-identity" "$BIG" "$i" "qemu-$arch-identity"
            run_checked "qemu-$arch-gzip" "$BIG" "$i" "qemu-$arch-gzip"
        done
    done
fi
stop REPLAY_PID

if [ "$SMALL" -gt 0 ]; then
    prepare "$SMALL"
    SMALL_REC=$REC
    echo "-- memory: $APPS x $SMALL users, $RUNS rounds"
    for ((i = 1; i <= RUNS; i++)); do
        run_checked agent-identity "$SMALL" "$i" agent-identity
        run_checked agent-gzip "$SMALL" "$i" agent-gzip
    done
    stop REPLAY_PID
else
    SMALL_REC=""
fi

# ---- summary -------------------------------------------------------------------------------
echo
python3 - "$RESULTS" "$BIG_REC/index.json" "$SMALL" "${SMALL_REC:+$SMALL_REC/index.json}" \
    "$RUNS" "$("$BIN" version 2>&1 | head -n 1)" "$CSV_WHERE" <<'PY'
import json, statistics, sys
results, big_index, small, small_index, runs, version, where = sys.argv[1:8]
rows = [l.rstrip("\n").split("\t") for l in open(results) if l.strip()]
idx = json.load(open(big_index))
big = str(idx["users"] // 3)
MB = 1e6

def sel(label, users):
    return [r for r in rows if r[0] == label and r[1] == users]

def med(label, users, col):
    v = [float(r[col]) for r in sel(label, users)]
    return statistics.median(v) if v else None

WALL, CPU, RSS, BYTES, SRV = 4, 5, 6, 7, 9
json_mb = idx["json_bytes"] / MB
print("== summary: %s, first run (all history), 3 x %s users (%d users, %d requests, "
      "%.1f MB of JSON, gzip level %d), max_records_per_page 1000, loopback TLS, %s cores"
      % (version, big, idx["users"], idx["requests"], json_mb, idx["gzip_level"],
         __import__("os").cpu_count()))
print("server: tests/bench/replay_server.py (recorded simulator answers, chunked, recorded Date);"
      " CSV output on %s; medians of %s rounds" % (where, runs))
print()
fmt = "%-30s %7s %7s %9s %8s %10s  %s"
print(fmt % ("client", "wall s", "CPU s", "JSON MB/s", "wire MB", "server CPU", "TLS suite"))
labels = [("agent-identity", "countly-sync, identity"),
          ("agent-gzip", "countly-sync, gzip"),
          ("curl-identity", "curl, identity"),
          ("curl-gzip", "curl --compressed"),
          ("python", "python requests+csv, identity")]
m = {}
for label, name in labels:
    w, c, b = med(label, big, WALL), med(label, big, CPU), med(label, big, BYTES)
    m[label] = (w, c, b)
    suite = sel(label, big)[0][8] if sel(label, big) else "-"
    print(fmt % (name, "%.2f" % w, "%.2f" % c, "%.1f" % (json_mb / w), "%.1f" % (b / MB),
                 "%.2f" % med(label, big, SRV), suite))
print()

def verdict(ok):
    return "met" if ok else "NOT met"

ai, ag, ci, cg, py = (m[k] for k in ("agent-identity", "agent-gzip", "curl-identity",
                                      "curl-gzip", "python"))
r = ai[0] / ci[0]
print("identity: countly-sync / curl wall            %5.2f x  (target <= 4: %s)" % (r, verdict(r <= 4)))
r = ag[0] / cg[0]
print("gzip:     countly-sync / curl --compressed    %5.2f x  (target <= 2: %s)" % (r, verdict(r <= 2)))
r = ai[2] / ag[2]
print("gzip:     bytes on the wire identity / gzip   %5.2f x  (target about 3.3 x; level 1 would"
      " give %.2f x)" % (r, idx["json_bytes"] / idx["gzip1_bytes"]))
r = py[0] / ai[0]
print("identity: python / countly-sync wall          %5.2f x  (target >= 8: %s)" % (r, verdict(r >= 8)))
print("CPU:      countly-sync / curl  identity %.2f x, gzip %.2f x; python / countly-sync %.1f x"
      % (ai[1] / ci[1], ag[1] / cg[1], py[1] / ai[1]))

print()
print("server check: the replay server sends all %.0f MB to curl in %.2f s (%.0f MB/s); during"
      " countly-sync's identity run it used %.2f CPU s of %.2f s wall"
      % (json_mb, ci[0], json_mb / ci[0], med("agent-identity", big, SRV), ai[0]))
try:
    sim_wall, sim_cpu = map(float, open(big_index.replace("index.json", "sim_run")).read().split())
    print("  the same sync against the live Python simulator (plain HTTP, when recorded): %.2f s"
          " wall, countly-sync %.2f CPU s: the simulator would be the bottleneck"
          % (sim_wall, sim_cpu))
except (OSError, ValueError):
    pass
ni, ng = med("nginx-curl-identity", big, WALL), med("nginx-curl-gzip", big, WALL)
if ni:
    print("  curl wall s, replay server / nginx serving the same files: identity %.2f / %.2f,"
          " --compressed %.2f / %.2f" % (ci[0], ni, cg[0], ng))

pi = med("plain-agent-identity", big, WALL)
if pi:
    print()
    print("without TLS (the same replay over plain HTTP; diagnostic, no target), wall / CPU s:")
    for label, name in labels[:4]:
        w, c = med("plain-" + label, big, WALL), med("plain-" + label, big, CPU)
        print("  %-28s %6.2f / %5.2f   (over TLS %6.2f / %5.2f: TLS costs the client %5.2f CPU s)"
              % (name, w, c, m[label][0], m[label][1], m[label][1] - c))

print()
print("peak RSS of countly-sync (KB, /usr/bin/time %M: median, least..largest of the runs):")
peak, grow = 0, 0.0
for label, name in (("agent-identity", "identity"), ("agent-gzip", "gzip")):
    def fig(u):
        v = sorted(int(x[RSS]) for x in sel(label, u))
        return statistics.median(v), v[0], v[-1]
    bm, bl, bh = fig(big)
    peak = max(peak, bh)
    if small_index:
        sm, sl, sh = fig(small)
        peak = max(peak, sh)
        grow = max(grow, (bl - sl) * 100 / sl)
        print("  %-9s 3 x %-7s %5d KB (%d..%d)   3 x %-7s %5d KB (%d..%d)   least %+.1f %%" % (
            name, small, sm, sl, sh, big, bm, bl, bh, (bl - sl) * 100 / sl))
    else:
        print("  %-9s 3 x %-7s %5d KB (%d..%d)" % (name, big, bm, bl, bh))
print("  target: under 1 MB (1024 KB): %s (largest %d KB); does not grow with rows (the least of"
      " the runs within 5 %%): %s" % (verdict(peak < 1024), peak,
                                      verdict(grow <= 5) if small_index else "not measured"))
print("  (peak RSS counts the program text pages mapped, which vary by a few 4 KB pages from"
      " run to run with the page cache)")

q = sorted({r[0].rsplit("-", 1)[0] for r in rows if r[0].startswith("qemu-")})
if q:
    print()
    print("under qemu-user (no target): CPU seconds per 100 MB of JSON (%.1f MB per sync)" % json_mb)
    for arch in q:
        for mode in ("identity", "gzip"):
            c, w = med("%s-%s" % (arch, mode), big, CPU), med("%s-%s" % (arch, mode), big, WALL)
            if c is not None:
                print("  %-14s %-8s %7.2f CPU s / 100 MB   (sync: %.1f s CPU, %.1f s wall, %d run%s)"
                      % (arch[5:], mode, c * 100 / json_mb, c, w, len(sel("%s-%s" % (arch, mode), big)),
                         "" if len(sel("%s-%s" % (arch, mode), big)) == 1 else "s"))
PY
echo "benchmark took $(($(date +%s) - T_START)) s (recordings are cached under $BUILD_DIR/bench)"
