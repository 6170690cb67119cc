#!/usr/bin/env bash
# test_lwip.sh - countly-sync on lwIP (a user-space TCP/IP stack on a tap
# device) against the Countly simulator, output compared with the POSIX build.
#
# Needs root and /dev/net/tun (CI runs as root). Everything happens inside a
# private network namespace made here and deleted on exit: tap0 with
# 192.0.2.1/24 (TEST-NET-1, RFC 5737) is the kernel's side, where the
# simulator (countly_sim.py --host) and a one-name DNS server listen; the
# lwIP binary attaches to tap0 as 192.0.2.2 with its own stack. The POSIX
# binary runs in the same namespace on the kernel's stack against the same
# simulator and server_url, so the CSV files must be the same bytes apart
# from processed_at (tests/lwip/same_csv.py).
#
# Cases: full sync (3 apps), incremental after a touch, check through a DNS
# name, unknown name, refused port, unreachable host, a server that hangs
# (receive timeout), a connection dropped mid-body, bad interface settings,
# API key never printed.
#
# Environment: COUNTLY_SYNC_LWIP (default build/lwip/bin/countly-sync-lwip),
# COUNTLY_SYNC (the POSIX binary, default build/native/bin/countly-sync),
# LWIP_USERS_PER_APP (default 2000), BUILD_DIR, TEST_TMP.
# Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"

BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
LWIP_BIN=${COUNTLY_SYNC_LWIP:-$BUILD_DIR/lwip/bin/countly-sync-lwip}
POSIX_BIN=${COUNTLY_SYNC:-$BUILD_DIR/native/bin/countly-sync}
USERS=${LWIP_USERS_PER_APP:-2000}
TMP=${TEST_TMP:-$BUILD_DIR/test-tmp/lwip}
PKI=$TMP/pki
RUNS=$TMP/runs

NS=countly-lwip-$$
SERVER_IP=192.0.2.1 # the namespace's kernel side of tap0
LWIP_IP=192.0.2.2   # the lwIP stack
NOBODY_IP=192.0.2.99
NAME=countly.test # answered by dns_answer.py inside the namespace
PIDS=()

# ---- setup helpers ----------------------------------------------------------

# setup_fail NAME DETAILS: a setup step failed; nothing else can run.
setup_fail() {
    tl_fail "setup: $1" "$2"
    tl_summary
    exit 1
}

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    # and whatever still runs in the namespace (a launcher that forked)
    ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null
    wait 2>/dev/null
    ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { ip netns exec "$NS" "$@"; }

# sim_get PATH: a control or API request to the simulator (inside the namespace).
sim_get() {
    in_ns curl -sf --max-time 20 --cacert "$PKI/ca-ec.crt" "https://$SERVER_IP:$PORT$1"
}

json_field() {
    python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(v if not isinstance(v,list) else " ".join(v))' "$1" "$2"
}

# write_config FILE KEY=VALUE...: a configuration.json with string values.
write_config() {
    local file=$1
    shift
    python3 - "$file" "$@" <<'PY'
import json, sys
conf = {}
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    conf[k] = v
with open(sys.argv[1], "w") as f:
    json.dump(conf, f, indent=2)
PY
    chmod 600 "$file"
}

# config FILE URL OUTDIR KEY=VALUE...: a working configuration for URL.
config() {
    local file=$1 url=$2 out=$3
    shift 3
    write_config "$file" "server_url=$url" "app_id=*" "ca_file=$PKI/ca-ec.crt" \
        "output_dir=$out" "max_records_per_page=500" "initial_sync_days=0" "retry_attempts=0" "$@"
}

# run_lwip NAME ARGS... / run_posix NAME ARGS...: one run inside the
# namespace; RC, OUT, ERR set; outputs kept for the key search.
run_lwip() {
    local name=$1
    shift
    in_ns env COUNTLY_API_KEY="$ADMIN" COUNTLY_LWIP_TAP=tap0 COUNTLY_LWIP_ADDRESS=$LWIP_IP \
        COUNTLY_LWIP_NETMASK=255.255.255.0 COUNTLY_LWIP_GATEWAY=$SERVER_IP COUNTLY_LWIP_DNS=$SERVER_IP \
        ${LWIP_ENV:-} timeout 300 "$LWIP_BIN" "$@" >"$RUNS/$name.out" 2>"$RUNS/$name.err"
    RC=$?
    OUT=$(cat "$RUNS/$name.out")
    ERR=$(tl_untimestamp <"$RUNS/$name.err")
}
run_posix() {
    local name=$1
    shift
    in_ns env COUNTLY_API_KEY="$ADMIN" timeout 300 "$POSIX_BIN" "$@" >"$RUNS/$name.out" 2>"$RUNS/$name.err"
    RC=$?
    OUT=$(cat "$RUNS/$name.out")
    ERR=$(tl_untimestamp <"$RUNS/$name.err")
}

# same NAME A_DIR B_DIR: the three CSV files of two runs are the same.
same() {
    local t res
    for t in apps groups users; do
        res=$(python3 "$HERE/same_csv.py" "$2/$t.csv" "$3/$t.csv" 2>&1)
        check_eq "$1: $t.csv lwIP = POSIX except processed_at ($res)" 0 $?
    done
}

# last_line: the last line of ERR with run-dependent numbers (times, the
# run's cutoff in the users filter) blanked.
last_line() { tail -n 1 <<<"$ERR" | sed -E 's/[0-9]+ ms/N ms/g; s/[0-9]{10}/T/g'; }

data_lines() { python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline="")))-1)' "$1"; }

# free_port: a TCP port of SERVER_IP nothing listens on.
free_port() {
    in_ns python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' $SERVER_IP
}

# ---- setup --------------------------------------------------------------------------

[ "$(id -u)" -eq 0 ] ||
    setup_fail "root" "the lwIP test creates a network namespace and a tap device: run it as root (CI does)"
[ -c /dev/net/tun ] ||
    setup_fail "/dev/net/tun" "missing: load the tun module (modprobe tun) or give the container /dev/net/tun"
for tool in ip python3 curl openssl timeout; do
    command -v $tool >/dev/null || setup_fail "$tool" "not installed"
done
[ -x "$LWIP_BIN" ] || setup_fail "lwIP binary" "$LWIP_BIN not built (make lwip)"
[ -x "$POSIX_BIN" ] || setup_fail "POSIX binary" "$POSIX_BIN not built (make)"

rm -rf "$TMP" && mkdir -p "$RUNS"
bash "$ROOT/tests/integration/gen_pki.sh" "$PKI" >/dev/null 2>&1 || setup_fail "pki" "gen_pki.sh failed"
# The simulator's leaf for the namespace: its address and DNS name, signed by the test CA.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/ns.key" 2>/dev/null &&
    openssl req -new -key "$PKI/ns.key" -subj "/CN=$NAME" -out "$TMP/ns.csr" 2>/dev/null &&
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth" "subjectAltName=DNS:$NAME,IP:$SERVER_IP" >"$TMP/ns.ext" &&
    openssl x509 -req -in "$TMP/ns.csr" -CA "$PKI/ca-ec.crt" -CAkey "$PKI/ca-ec.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 2 -sha256 -extfile "$TMP/ns.ext" \
        -out "$PKI/ns.crt" 2>/dev/null || setup_fail "pki" "namespace certificate"

ip netns add "$NS" || setup_fail "namespace" "ip netns add $NS failed"
{ in_ns ip link set lo up && in_ns ip tuntap add dev tap0 mode tap &&
    in_ns ip addr add $SERVER_IP/24 dev tap0 && in_ns ip link set tap0 up; } ||
    setup_fail "namespace" "tap0 in $NS"

in_ns python3 "$ROOT/tests/sim/countly_sim.py" --host $SERVER_IP --port 0 --port-file "$TMP/sim.port" \
    --cert "$PKI/ns.crt" --key "$PKI/ns.key" --seed 11 --apps 3 --users-per-app "$USERS" \
    >"$TMP/sim.out" 2>"$TMP/sim.log" &
PIDS+=($!)
in_ns python3 "$HERE/dns_answer.py" $SERVER_IP $NAME $SERVER_IP >"$TMP/dns.out" 2>"$TMP/dns.log" &
PIDS+=($!)
PORT=
for ((i = 0; i < 600; i++)); do
    if [ -s "$TMP/sim.port" ] && [ -s "$TMP/dns.out" ]; then
        PORT=$(cat "$TMP/sim.port")
        sim_get /__sim/info >/dev/null && break
    fi
    sleep 0.1
done
sim_get /__sim/info >/dev/null 2>&1 ||
    setup_fail "simulator" "did not start: $(tail -n 3 "$TMP/sim.log" "$TMP/dns.log")"
ADMIN=$(json_field "$(sim_get /__sim/keys)" admin)
read -r -a APPS <<<"$(json_field "$(sim_get /__sim/info)" apps)"
setup_eq "simulator in the namespace has 3 apps" 3 "${#APPS[@]}"
URL=https://$SERVER_IP:$PORT

# ---- 1. full sync over lwIP and over the kernel, same bytes ---------------------------------

config "$TMP/lwip.json" "$URL" "$TMP/lwip/out"
config "$TMP/posix.json" "$URL" "$TMP/posix/out"
# A first run fills the simulator's query cache, so that both timed runs find it warm.
config "$TMP/warm.json" "$URL" "$TMP/warm/out"
run_posix warm-up -c "$TMP/warm.json" sync
tx0=$(in_ns cat /sys/class/net/tap0/statistics/tx_bytes)
t0=$(date +%s%N)
run_lwip full -c "$TMP/lwip.json" sync
t1=$(date +%s%N)
check_eq "full over lwIP: exit 0" 0 "$RC"
[ "$RC" -eq 0 ] || printf '%s\n' "$ERR" | tail -n 5 | sed 's/^/#   /'
check_match "full over lwIP: summary per stream" "apps: 3 rows.*groups: [0-9]+ rows.*users: [0-9]+ rows" \
    "$(tr '\n' ' ' <<<"$ERR")"
tap_bytes=$(($(in_ns cat /sys/class/net/tap0/statistics/tx_bytes) - tx0))
body_kb=$(grep -oE 'users: [0-9]+ rows, [0-9]+ pages?, [0-9]+' <<<"$ERR" | grep -oE '[0-9]+$')
check_ge "full over lwIP: the users bodies ($body_kb KB) went through tap0 ($tap_bytes bytes)" \
    "$tap_bytes" $((${body_kb:-999999} * 1024))
run_posix full-posix -c "$TMP/posix.json" sync
t2=$(date +%s%N)
check_eq "full over the kernel (POSIX port): exit 0" 0 "$RC"
echo "# full sync of 3 x $USERS users: lwIP $(((t1 - t0) / 1000000)) ms, POSIX $(((t2 - t1) / 1000000)) ms" \
    "(simulator cache warm)"
check_ge "full: users rows" "$(data_lines "$TMP/lwip/out/users.csv")" $((3 * USERS * 9 / 10))
same "full" "$TMP/lwip/out" "$TMP/posix/out"

# ---- 2. incremental: 37 touched users appended by both -------------------------------------

sim_get "/__sim/touch?app=${APPS[1]}&count=37" >/dev/null || tl_fail "incremental: touch" "control API"
sleep 1.2 # the next runs start after the touch on the server's clock
before=$(data_lines "$TMP/lwip/out/users.csv")
run_lwip incr -c "$TMP/lwip.json" sync
check_eq "incremental over lwIP: exit 0" 0 "$RC"
check_eq "incremental over lwIP: 37 rows appended" 37 $(($(data_lines "$TMP/lwip/out/users.csv") - before))
run_posix incr-posix -c "$TMP/posix.json" sync
check_eq "incremental over the kernel: exit 0" 0 "$RC"
same "incremental" "$TMP/lwip/out" "$TMP/posix/out"

# ---- 3. names through lwIP's DNS client ------------------------------------------------------

config "$TMP/dns.json" "https://$NAME:$PORT" "$TMP/dns/out"
run_lwip dns -c "$TMP/dns.json" check
check_eq "dns: check via https://$NAME: exit 0" 0 "$RC"
[ "$RC" -eq 0 ] || printf '%s\n' "$ERR" | tail -n 3 | sed 's/^/#   /'
check_match "dns: check lists the apps" "apps visible: 3" "$OUT"
check_match "dns: the query came from lwIP" "query $NAME 1 from $LWIP_IP" "$(cat "$TMP/dns.log")"
config "$TMP/nxdomain.json" "https://nowhere.test:$PORT" "$TMP/nx/out"
run_lwip nxdomain -c "$TMP/nxdomain.json" sync
check_eq "dns: unknown name: exit 69" 69 "$RC"
check_match "dns: unknown name: message" "did not resolve" "$ERR"

# ---- 4. connection failures: same outcome as POSIX ----------------------------------------------

DOWN=$(free_port)
config "$TMP/down.json" "https://$SERVER_IP:$DOWN" "$TMP/down/out"
run_lwip down -c "$TMP/down.json" sync
check_eq "refused port over lwIP: exit 75" 75 "$RC"
check_match "refused port over lwIP: message" "connection refused" "$ERR"
lwip_err=$(last_line)
run_posix down-posix -c "$TMP/down.json" sync
check_eq "refused port: same last line as POSIX" "$(last_line)" "$lwip_err"

config "$TMP/nobody.json" "https://$NOBODY_IP:$PORT" "$TMP/nobody/out" "request_timeout_seconds=2"
t0=$(date +%s%N)
run_lwip nobody -c "$TMP/nobody.json" sync
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "unreachable host over lwIP: exit 75" 75 "$RC"
check_match "unreachable host over lwIP: connect timed out" "timed out" "$ERR"
check_between "unreachable host over lwIP: within the 2 s timeout (+1 s) ($ms ms)" 1900 3500 "$ms"

# A server that reads the first request and never answers: the receive timeout.
hang_run() { # hang_run NAME RUNNER
    sim_get "/__sim/fault?kind=hang&count=1&path=/o" >/dev/null
    config "$TMP/hang.json" "$URL" "$TMP/$1/out" "request_timeout_seconds=2"
    t0=$(date +%s%N)
    "$2" "$1" -c "$TMP/hang.json" sync
    ms=$((($(date +%s%N) - t0) / 1000000))
}
hang_run hang run_lwip
lwip_rc=$RC lwip_err=$(last_line)
check_match "hanging server over lwIP: receive timed out" "timed out" "$ERR"
check_between "hanging server over lwIP: after the 2 s timeout ($ms ms)" 1900 4000 "$ms"
hang_run hang-posix run_posix
check_eq "hanging server: same exit as POSIX" "$RC" "$lwip_rc"
check_eq "hanging server: same last line as POSIX" "$(last_line)" "$lwip_err"

# Headers and half the body, then a TCP close without close_notify.
drop_run() { # drop_run NAME RUNNER
    sim_get "/__sim/fault?kind=drop_mid_body&count=1&collection=app_users${APPS[0]}" >/dev/null
    config "$TMP/drop.json" "$URL" "$TMP/$1/out"
    "$2" "$1" -c "$TMP/drop.json" sync
}
drop_run drop run_lwip
lwip_rc=$RC lwip_err=$(last_line)
check_ne "dropped connection over lwIP: fails" 0 "$RC"
drop_run drop-posix run_posix
check_eq "dropped connection: same exit as POSIX ($RC)" "$RC" "$lwip_rc"
check_eq "dropped connection: same last line as POSIX" "$(last_line)" "$lwip_err"

# ---- 5. interface settings ------------------------------------------------------------------

LWIP_ENV="COUNTLY_LWIP_ADDRESS=192.0.2.300" run_lwip badaddr -c "$TMP/lwip.json" sync
check_eq "bad COUNTLY_LWIP_ADDRESS: exit 78" 78 "$RC"
check_match "bad COUNTLY_LWIP_ADDRESS: message" "address is not an IPv4 address" "$ERR"

# ---- 6. the API key appears in no output ------------------------------------------------

hits=$(grep -rlF -e "$ADMIN" "$RUNS" | wc -l)
check_eq "secrets: no API key in any captured output ($(ls "$RUNS"/*.err | wc -l) runs)" 0 "$hits"

tl_summary
