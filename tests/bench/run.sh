#!/usr/bin/env bash
# bench/run.sh - figures for the transport stack (not pass/fail tests).
#
#   sizes        stripped static binaries (musl, x86_64)
#   arena        mbedTLS arena peak for one handshake + GET, per chain and TLS version
#   throughput   100 MB over loopback TLS from nginx: our stack vs curl, same run
#
# Uses the integration tests' PKI generator, TLS server and nginx template.
# Writes everything under $BUILD_DIR/bench and prints a summary table.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
NATIVE=$BUILD_DIR/native/tests/https_get
STATIC=$BUILD_DIR/static
OUT=$BUILD_DIR/bench/transport
RUNS=${BENCH_RUNS:-5}
SIZE_MB=${BENCH_MB:-100}
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
}
trap cleanup EXIT

rm -rf "$OUT" && mkdir -p "$OUT"/{pki,www,logs,tmp}
bash "$ROOT/tests/integration/gen_pki.sh" "$OUT/pki" >/dev/null || {
    echo "bench: PKI generation failed" >&2
    exit 1
}

# start_server NAME CERT [ARGS...]: TLS test server; port into PORT_NAME file.
start_server() {
    local name=$1 cert=$2
    shift 2
    python3 "$ROOT/tests/integration/tls_server.py" --port 0 --port-file "$OUT/$name.port" \
        --cert "$OUT/pki/$cert.crt" --key "$OUT/pki/$cert.key" "$@" >"$OUT/logs/$name.log" 2>&1 &
    PIDS+=($!)
}

wait_port() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ -s "$OUT/$1.port" ] && { cat "$OUT/$1.port"; return 0; }
        sleep 0.05
    done
    echo "bench: server $1 did not start" >&2
    exit 1
}

echo "== sizes (stripped, static musl x86_64)"
for f in bin/countly-sync tests/https_get; do
    strip -o "$OUT/$(basename "$f").stripped" "$STATIC/$f"
    printf '%-22s %8d bytes\n' "$(basename "$f")" "$(stat -c %s "$OUT/$(basename "$f").stripped")"
done

echo "== mbedTLS arena peak, one handshake + one GET (bytes)"
start_server ec server-ec
start_server rsa server-rsa
ec=$(wait_port ec)
rsa=$(wait_port rsa)
for chain in ec rsa; do
    port=$ec
    [ $chain = rsa ] && port=$rsa
    for v in 1.2 1.3; do
        peak=$("$NATIVE" --tls-min $v --tls-max $v --ca "$OUT/pki/ca-$chain.crt" \
            "https://localhost:$port/len/1000" | sed -n 's/.*arena_peak=\([0-9]*\).*/\1/p')
        printf '%-6s TLS %s  %8s\n' "$chain" "$v" "$peak"
    done
done
peak=$("$NATIVE" --ca /etc/ssl/certs/ca-certificates.crt "https://localhost:$ec/len/1" 2>&1 |
    sed -n 's/.*arena_peak=\([0-9]*\).*/\1/p')
echo "(system bundle lookup, untrusted chain: handshake refused as expected${peak:+, peak $peak})"

echo "== throughput: $SIZE_MB MB over loopback from nginx (best of $RUNS runs)"
head -c $((SIZE_MB * 1048576)) /dev/urandom >"$OUT/www/big.bin"
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
TPORT=$(free_port)
PPORT=$(free_port)
SPORTS=($(free_port) $(free_port) $(free_port))
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root;"
sed -e "s|@DIR@|$OUT|g" -e "s|@TLSPORT@|$TPORT|g" -e "s|@PLAINPORT@|$PPORT|g" \
    -e "s|@SUITEPORT1@|${SPORTS[0]}|g" -e "s|@SUITEPORT2@|${SPORTS[1]}|g" \
    -e "s|@SUITEPORT3@|${SPORTS[2]}|g" \
    -e "s|@CERT@|$OUT/pki/server-ec.crt|g" -e "s|@KEY@|$OUT/pki/server-ec.key|g" \
    -e "s|@USER@|$user_line|g" "$ROOT/tests/bench/nginx.conf.in" >"$OUT/nginx.conf"
nginx -p "$OUT" -c "$OUT/nginx.conf" >"$OUT/logs/nginx.out" 2>&1 &
PIDS+=($!)
URL="https://localhost:$TPORT/big.bin"
PLAIN="http://127.0.0.1:$PPORT/big.bin"
CA="$OUT/pki/ca-ec.crt"
for ((i = 0; i < 100; i++)); do
    curl -s -o /dev/null --cacert "$CA" -r 0-0 "$URL" && break
    sleep 0.05
done

# best_time CMD...: fastest wall time of RUNS runs, in ms.
best_time() {
    local best=999999999 i t0 t1 ms
    for ((i = 0; i < RUNS; i++)); do
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; return 1; }
        t1=$(date +%s%N)
        ms=$(((t1 - t0) / 1000000))
        [ $ms -lt $best ] && best=$ms
    done
    echo $best
}
mbps() { echo $((SIZE_MB * 1000 / ($1 > 0 ? $1 : 1))); }

suite=$("$NATIVE" -v --ca "$CA" "$URL" 2>&1 >/dev/null | sed -n 's/^tls: //p')
rss=$("$NATIVE" --ca "$CA" "$URL" | sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p')
ours=$(best_time "$NATIVE" --ca "$CA" "$URL")
curl_default=$(best_time curl -s -o /dev/null --cacert "$CA" "$URL")
curl_chacha=$(best_time curl -s -o /dev/null --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256 \
    --cacert "$CA" "$URL")
ours_plain=$(best_time "$NATIVE" "$PLAIN")
curl_plain=$(best_time curl -s -o /dev/null "$PLAIN")

printf '%-44s %6s ms %6s MB/s\n' "ours, TLS ($suite)" "$ours" "$(mbps "$ours")"
printf '%-44s %6s ms %6s MB/s\n' "curl, TLS (OpenSSL default suite)" "$curl_default" \
    "$(mbps "$curl_default")"
printf '%-44s %6s ms %6s MB/s\n' "curl, TLS (OpenSSL, ChaCha20-Poly1305)" "$curl_chacha" \
    "$(mbps "$curl_chacha")"
printf '%-44s %6s ms %6s MB/s\n' "ours, plain HTTP" "$ours_plain" "$(mbps "$ours_plain")"
printf '%-44s %6s ms %6s MB/s\n' "curl, plain HTTP" "$curl_plain" "$(mbps "$curl_plain")"
awk -v a="$ours" -v b="$curl_default" -v c="$curl_chacha" -v d="$ours_plain" -v e="$curl_plain" \
    'BEGIN { printf "time ratio ours/curl: TLS %.2fx (curl default suite), %.2fx (same suite); plain HTTP %.2fx\n", a / b, a / c, d / e }'
echo "our max RSS during the TLS download: ${rss} KB"
echo "== each TLS 1.3 suite a server may offer (nginx limited to one suite; least CPU of $RUNS runs)"
# best_cpu CMD...: the least user+system CPU seconds of RUNS runs (less
# sensitive to a busy machine than wall time).
best_cpu() {
    local best=999 i t
    for ((i = 0; i < RUNS; i++)); do
        t=$({ /usr/bin/time -f '%U %S' "$@" >/dev/null 2>/dev/null; } 2>&1 | tail -n 1 |
            awk '{ print $1 + $2 }')
        best=$(awk -v a="$t" -v b="$best" 'BEGIN { print (a < b) ? a : b }')
    done
    echo "$best"
}
names=("TLS_CHACHA20_POLY1305_SHA256" "TLS_AES_128_GCM_SHA256" "TLS_AES_256_GCM_SHA384")
for bin in "$NATIVE" "$STATIC/tests/https_get"; do
    [ -x "$bin" ] || continue
    for i in 0 1 2; do
        u="https://localhost:${SPORTS[$i]}/big.bin"
        got=$("$bin" -v --ca "$CA" "$u" 2>&1 >/dev/null | sed -n 's/^tls: .*suite=//p')
        printf '%-16s %-32s %5s CPU s for %s MB  (negotiated %s)\n' \
            "$(basename "$(dirname "$(dirname "$bin")")")" "${names[$i]}" \
            "$(best_cpu "$bin" --ca "$CA" "$u")" "$SIZE_MB" "$got"
    done
done
echo "ours, default offer: $("$NATIVE" -v --ca "$CA" "$URL" 2>&1 >/dev/null | sed -n 's/^tls: //p')"
echo "== mbedTLS AEAD ceiling (this build, 16 KiB records, no I/O)"
"$BUILD_DIR/native/tests/cipher_speed" "$SIZE_MB"
