#!/usr/bin/env bash
# test_proxy.sh - the HTTP CONNECT proxy (`proxy`, HTTPS_PROXY, NO_PROXY) and
# the trusted CAs found without ca_file (SSL_CERT_FILE, SSL_CERT_DIR, the
# system's bundles), against the simulator and connect_proxy.py.
#
# A loopback server never goes through a proxy, so the proxied cases reach
# the simulator (on 127.0.0.1) by a made-up name, countly.test, that only the
# proxy resolves (--resolve): countly-sync runs where countly.test does not
# resolve at all, which also shows it never looks up a proxied server's name
# itself (gateways behind a proxy often have no DNS). Only the configured host
# name decides "loopback" (port_host_is_loopback), so countly.test is not
# loopback even though its address is. The simulator's certificate is
# re-issued by the test CA for countly.test (and localhost, for the helpers).
# The direct cases (NO_PROXY, proxy "") run in a private mount namespace
# (unshare -m as root, unshare -rm otherwise) whose /etc/hosts is a
# bind-mounted file mapping countly.test to 127.0.0.1, and sync exactly.
# Where no namespace can be made, they still run: "direct" is then shown by
# the proxy seeing nothing and the run failing to resolve countly.test itself.
#
#  1. through HTTPS_PROXY: exact rows, the proxy logged CONNECT countly.test:PORT
#  2. `proxy` with Basic credentials (percent-escaped password): exact rows
#  3. wrong credentials: 407, exit 69, "check the proxy credentials", and
#     the password in no output (nor with -v, nor in check's report)
#  4. NO_PROXY=countly.test: direct (the proxy logged nothing)
#  5. proxy "" overrides HTTPS_PROXY: direct
#  6. a loopback server (localhost) ignores HTTPS_PROXY
#  7. a proxy that cannot be reached: the exit code of an unreachable server
#  9. a proxy that cannot reach the server just now (502, 503 to CONNECT): a
#     connection failure, retried, then 75 naming the proxy and its answer;
#     a policy refusal (403): 69 at once, not retried
#  8. CAs without ca_file: SSL_CERT_FILE, SSL_CERT_DIR, a bogus SSL_CERT_FILE
#     (clear error, 78), no bundle at all (every place tried is named)
# Environment: COUNTLY_SYNC, COUNTLY_SYNC_WRAPPER, BUILD_DIR, TEST_TMP.
# Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=../lib/e2e.sh
. "$ROOT/tests/lib/e2e.sh"

e2e_paths proxy
PKI=$TMP/pki
RUNS=$TMP/runs
rm -rf "$TMP" && mkdir -p "$RUNS"
# the suite decides every one of these itself
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy NO_PROXY no_proxy SSL_CERT_FILE SSL_CERT_DIR

PROXY_PIDS=()
cleanup() {
    stop_sims
    local p
    for p in "${PROXY_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PROXY_PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

e2e_require python3 curl openssl

# The simulator's leaf, re-issued by ca-ec for countly.test as well (this
# suite's own copy of the PKI: gen_pki.sh's outputs elsewhere are untouched).
SAN="DNS:countly.test,DNS:localhost,IP:127.0.0.1"
openssl req -new -key "$PKI/server-ec.key" -subj "/CN=countly.test" -out "$TMP/named.csr" \
    2>/dev/null &&
    openssl x509 -req -in "$TMP/named.csr" -CA "$PKI/ca-ec.crt" -CAkey "$PKI/ca-ec.key" \
        -CAcreateserial -days 30 -sha256 -out "$TMP/named.crt" \
        -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$SAN") \
        2>/dev/null && cp "$TMP/named.crt" "$PKI/server-ec.crt" ||
    { tl_fail "setup: certificate for countly.test" "openssl failed"; tl_summary; exit 1; }

# ---- the private /etc/hosts (mount namespace) -----------------------------------------------

HOSTS=$TMP/hosts
printf '127.0.0.1 localhost countly.test\n::1 localhost\n' >"$HOSTS"
# NS: the command that makes a private mount namespace here, if any
# (PROXY_TEST_NO_NS=1 pretends there is none, to exercise that path).
NS=()
if [ "${PROXY_TEST_NO_NS:-0}" != 1 ]; then
    if [ "$(id -u)" = 0 ]; then NS=(unshare -m); else NS=(unshare -r -m); fi
    "${NS[@]}" sh -c 'mount --bind "$0" /etc/hosts && getent hosts countly.test' \
        "$HOSTS" >/dev/null 2>&1 || NS=()
fi
if [ ${#NS[@]} = 0 ]; then
    echo "# no private mount namespace here: the direct cases check the proxy saw nothing" \
        "and countly.test did not resolve; 'no bundle anywhere' cannot be set up"
fi
setup_check() { # countly.test must not resolve outside the namespace
    if getent hosts countly.test >/dev/null 2>&1; then
        tl_fail "setup: countly.test must not resolve on this machine" "$(getent hosts countly.test)"
        tl_summary
        exit 1
    fi
}
setup_check
# in_ns: countly-sync (run_cs) sees countly.test (when a namespace can be made).
in_ns() {
    CS_PREFIX=()
    [ ${#NS[@]} = 0 ] ||
        CS_PREFIX=("${NS[@]}" sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$HOSTS")
}
direct() { CS_PREFIX=(); }
# direct_run NAME WHAT: NAME's run went straight to countly.test, not through
# the proxy "open": exact rows in a namespace, else a failed lookup of
# countly.test by countly-sync itself; never a line in the proxy's log.
direct_run() {
    local name=$1 what=$2
    if [ ${#NS[@]} != 0 ]; then
        check_eq "$what: exit 0" 0 "$RC"
        exact_run "$name" named
    else
        check_eq "$what: exit 69 (countly.test resolves nowhere here)" 69 "$RC"
        check_match "$what: countly-sync looked countly.test up itself" \
            "countly.test.*host name did not resolve" "$ERR"
    fi
    check_eq "$what: direct (the proxy saw nothing)" 0 "$(log_lines open)"
}

sim_launch s --seed 7 --apps 2 --users-per-app 300
sim_wait s
ADMIN=$(json_field "$(sim_get "${PORT[s]}" /__sim/keys)" admin)
NOW=$(json_field "$(sim_get "${PORT[s]}" /__sim/info)" now)
truth s users "&app=*&full=$NOW" "$TMP/users.truth"
truth s apps_db "" "$TMP/apps.truth"
# apps.csv's icon column names the server as configured
sed "s#https://localhost:#https://countly.test:#g" "$TMP/apps.truth" >"$TMP/apps.named.truth"

# proxy_launch NAME ARGS...: connect_proxy.py on a free port: PORT[NAME], log $TMP/NAME.log.
proxy_launch() {
    local name=$1 i
    shift
    : >"$TMP/$name.log"
    python3 "$ROOT/tests/integration/connect_proxy.py" --port-file "$TMP/$name.port" \
        --log "$TMP/$name.log" --resolve countly.test=127.0.0.1 "$@" \
        >"$TMP/$name.out" 2>&1 &
    PROXY_PIDS+=($!)
    for ((i = 0; i < 100; i++)); do
        [ -s "$TMP/$name.port" ] && break
        sleep 0.1
    done
    PORT[$name]=$(cat "$TMP/$name.port" 2>/dev/null)
    setup_match "proxy $name listens" '^[0-9]+$' "${PORT[$name]}"
}

proxy_launch open
PASSWORD='pr0xy-P@ss:w0rd'
PASSWORD_URL='pr0xy-P%40ss%3Aw0rd'
proxy_launch auth --auth "ops:$PASSWORD"

# pconf NAME HOST KEY=VALUE...: a configuration for the simulator by HOST.
pconf() {
    local name=$1 host=$2
    shift 2
    write_config "$TMP/$name.json" "server_url=https://$host:${PORT[s]}" "app_id=*" \
        "ca_file=$PKI/ca-ec.crt" "output_dir=$TMP/$name" "initial_sync_days=0" \
        "retry_attempts=0" "request_timeout_seconds=10" "$@"
}

exact_run() { # NAME [named]: users.csv and apps.csv equal the truth (server countly.test)
    compare "$1: users.csv" "$TMP/$1/users.csv" "$TMP/users.truth"
    compare "$1: apps.csv" "$TMP/$1/apps.csv" "$TMP/apps${2:+.$2}.truth"
}

# error_line: the run's error line(s) (-v adds debug lines after it).
error_line() { grep '^countly-sync: error: ' <<<"$ERR"; }

# set_empty FILE KEY: KEY set to "" (write_config reads an empty value as JSON).
set_empty() {
    python3 -c 'import json,sys; f=sys.argv[1]; c=json.load(open(f)); c[sys.argv[2]]=""; json.dump(c, open(f,"w"))' "$1" "$2"
}

log_lines() { grep -c . "$TMP/$1.log"; }

direct # the proxied cases: countly.test resolves only in the proxy

# ---- 1. HTTPS_PROXY -------------------------------------------------------------------
pconf env countly.test
HTTPS_PROXY="http://127.0.0.1:${PORT[open]}" run_cs env "$ADMIN" -v -c "$TMP/env.json" sync
check_eq "HTTPS_PROXY: exit 0" 0 "$RC"
exact_run env named
check_match "HTTPS_PROXY: the proxy tunnelled to countly.test" \
    "^CONNECT countly.test:${PORT[s]} ok$" "$(head -n 1 "$TMP/open.log")"
check_eq "HTTPS_PROXY: every CONNECT was for countly.test" 0 \
    "$(grep -vc "^CONNECT countly.test:${PORT[s]} ok$" "$TMP/open.log")"
check_match "HTTPS_PROXY: -v names the proxy and where it came from" \
    "debug: through the proxy http://127.0.0.1:${PORT[open]} \\(from HTTPS_PROXY\\)" "$ERR"
check_match "HTTPS_PROXY: the server's certificate was checked (TLS inside the tunnel)" \
    "debug: TLS: TLSv1" "$ERR"

# check's report names the proxy
: >"$TMP/open.log"
HTTPS_PROXY="http://127.0.0.1:${PORT[open]}" run_cs envcheck "$ADMIN" -c "$TMP/env.json" check
check_eq "check through HTTPS_PROXY: exit 0" 0 "$RC"
check_match "check: reports the proxy" "^proxy: http://127.0.0.1:${PORT[open]} \\(HTTP CONNECT\\)$" \
    "$(grep '^proxy:' <<<"$OUT")"

# ---- 2. the proxy key with Basic credentials ------------------------------------------
pconf basic countly.test "proxy=http://ops:$PASSWORD_URL@127.0.0.1:${PORT[auth]}"
HTTPS_PROXY="http://127.0.0.1:${PORT[open]}" run_cs basic "$ADMIN" -v -c "$TMP/basic.json" sync
check_eq "proxy with credentials: exit 0" 0 "$RC"
exact_run basic named
check_match "proxy with credentials: the proxy accepted them" \
    "^CONNECT countly.test:${PORT[s]} ok$" "$(head -n 1 "$TMP/auth.log")"
check_match "proxy with credentials: shown as user:***" \
    "through the proxy http://ops:\\*\\*\\*@127.0.0.1:${PORT[auth]} \\(from proxy\\)" "$ERR"

# ---- 3. wrong credentials: 407 --------------------------------------------------------
: >"$TMP/auth.log"
WRONG='wr0ng-S3cret'
pconf wrong countly.test "proxy=http://ops:$WRONG@127.0.0.1:${PORT[auth]}" "retry_attempts=2"
run_cs wrong "$ADMIN" -v -c "$TMP/wrong.json" sync
check_eq "wrong proxy credentials: exit 69" 69 "$RC"
check_match "wrong proxy credentials: one clear line" \
    "error: connecting: cannot connect to countly.test: the proxy http://ops:\\*\\*\\*@127.0.0.1:${PORT[auth]} refused the tunnel to countly.test:${PORT[s]} \\(407 Proxy Authentication Required\\): check the proxy credentials$" \
    "$(error_line)"
check_eq "wrong proxy credentials: not retried (one CONNECT)" 1 \
    "$(grep -c '^CONNECT' "$TMP/auth.log")"
check_match "wrong proxy credentials: the proxy saw wrong ones" "wrong credentials" \
    "$(cat "$TMP/auth.log")"
run_cs wrongcheck "$ADMIN" -v -c "$TMP/wrong.json" check
check_eq "wrong proxy credentials, check: exit 69" 69 "$RC"
pconf none countly.test "proxy=http://127.0.0.1:${PORT[auth]}"
run_cs none "$ADMIN" -c "$TMP/none.json" sync
check_eq "no proxy credentials: exit 69" 69 "$RC"
check_match "no proxy credentials: says how to give them" \
    "\\(407 Proxy Authentication Required\\): check the proxy credentials \\(none were given: http://user:password@host:port\\)" \
    "$ERR"
# a malformed proxy: 78, the value not shown
pconf https countly.test "proxy=https://ops:$WRONG@127.0.0.1:${PORT[auth]}"
run_cs https "$ADMIN" -c "$TMP/https.json" sync
check_eq "https:// proxy: exit 78" 78 "$RC"
check_match "https:// proxy: says only http:// proxies work" \
    "key 'proxy': only http:// proxies \\(HTTP CONNECT\\) are supported" "$ERR"
HTTPS_PROXY="http://ops:$WRONG@127.0.0.1" run_cs envport "$ADMIN" -c "$TMP/env.json" sync
check_eq "HTTPS_PROXY without a port: exit 78" 78 "$RC"
check_match "HTTPS_PROXY without a port: names the variable" \
    "error: HTTPS_PROXY: the proxy's port is missing" "$ERR"
check_eq "the passwords are in no output (stdout, stderr, -v, check)" "" \
    "$(grep -l -F -e "$WRONG" -e "$PASSWORD" -e "$PASSWORD_URL" "$RUNS"/*.out "$RUNS"/*.err)"

# ---- 4. NO_PROXY ----------------------------------------------------------------------
: >"$TMP/open.log"
in_ns
pconf noproxy countly.test
HTTPS_PROXY="http://127.0.0.1:${PORT[open]}" NO_PROXY="example.com, .test" \
    run_cs noproxy "$ADMIN" -c "$TMP/noproxy.json" sync
direct_run noproxy "NO_PROXY=.test"
https_proxy="http://127.0.0.1:${PORT[open]}" no_proxy="countly.test:${PORT[s]}" \
    run_cs noproxy2 "$ADMIN" -c "$TMP/noproxy.json" check
if [ ${#NS[@]} != 0 ]; then
    check_eq "no_proxy=countly.test:PORT: exit 0" 0 "$RC"
else
    check_match "no_proxy=countly.test:PORT: countly-sync looked countly.test up itself" \
        "countly.test.*host name did not resolve" "$ERR"
fi
check_eq "no_proxy=countly.test:PORT: direct" 0 "$(log_lines open)"

# ---- 5. proxy "" overrides HTTPS_PROXY ------------------------------------------------
pconf empty countly.test
set_empty "$TMP/empty.json" proxy
HTTPS_PROXY="http://127.0.0.1:${PORT[open]}" run_cs empty "$ADMIN" -c "$TMP/empty.json" sync
direct_run empty "proxy \"\" despite HTTPS_PROXY"
direct

# ---- 7. a proxy that cannot be reached --------------------------------------------------
CLOSED=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pconf unreachable countly.test "proxy=http://127.0.0.1:$CLOSED"
run_cs unreachable "$ADMIN" -c "$TMP/unreachable.json" sync
UNREACHABLE_RC=$RC
check_match "unreachable proxy: names the proxy" \
    "cannot reach the proxy http://127.0.0.1:$CLOSED: connect to 127.0.0.1:$CLOSED: connection refused" \
    "$ERR"
direct
write_config "$TMP/refused.json" "server_url=https://localhost:$CLOSED" "app_id=*" \
    "ca_file=$PKI/ca-ec.crt" "output_dir=$TMP/refused" "retry_attempts=0"
run_cs refused "$ADMIN" -c "$TMP/refused.json" sync
check_eq "unreachable proxy: the exit code of an unreachable server ($RC)" "$RC" \
    "$UNREACHABLE_RC"

# ---- 9. the proxy cannot reach the server just now: retried, then 75 ------------------------
direct
proxy_launch gw502 --answer 502
pconf gw502 countly.test "proxy=http://127.0.0.1:${PORT[gw502]}" "retry_attempts=1"
run_cs gw502 "$ADMIN" -c "$TMP/gw502.json" sync
check_eq "proxy answers 502: exit 75 (temporary)" 75 "$RC"
check_eq "proxy answers 502: retried (two CONNECTs)" 2 "$(grep -c '^CONNECT' "$TMP/gw502.log")"
check_match "proxy answers 502: the retry names the proxy and its answer" \
    "warning: connecting: retry 1/1 in [0-9.]+ s: the proxy http://127.0.0.1:${PORT[gw502]} could not reach countly.test:${PORT[s]} \\(502 Bad Gateway\\)" \
    "$ERR"
check_match "proxy answers 502: one clear line" \
    "^countly-sync: error: connecting: the proxy http://127.0.0.1:${PORT[gw502]} could not reach countly.test:${PORT[s]} \\(502 Bad Gateway\\)" \
    "$(error_line)"
proxy_launch gw503 --answer 503
pconf gw503 countly.test "proxy=http://127.0.0.1:${PORT[gw503]}" "retry_attempts=1"
run_cs gw503 "$ADMIN" -c "$TMP/gw503.json" check
check_eq "proxy answers 503, check: exit 75" 75 "$RC"
check_match "proxy answers 503, check: names the answer" \
    "could not reach countly.test:${PORT[s]} \\(503 Service Unavailable\\)" "$ERR"
proxy_launch deny --answer 403
pconf deny countly.test "proxy=http://127.0.0.1:${PORT[deny]}" "retry_attempts=1"
run_cs deny "$ADMIN" -c "$TMP/deny.json" sync
check_eq "proxy answers 403: exit 69" 69 "$RC"
check_eq "proxy answers 403: not retried (one CONNECT)" 1 "$(grep -c '^CONNECT' "$TMP/deny.log")"
check_match "proxy answers 403: refused the tunnel" \
    "the proxy http://127.0.0.1:${PORT[deny]} refused the tunnel to countly.test:${PORT[s]} \\(403 Forbidden\\)$" \
    "$(error_line)"

# ---- 6. a loopback server ignores HTTPS_PROXY ---------------------------------------------
direct
: >"$TMP/open.log"
pconf loop localhost
HTTPS_PROXY="http://127.0.0.1:${PORT[open]}" https_proxy="http://127.0.0.1:${PORT[open]}" \
    run_cs loop "$ADMIN" -c "$TMP/loop.json" sync
check_eq "loopback server: exit 0" 0 "$RC"
exact_run loop
check_eq "loopback server: never through the proxy" 0 "$(log_lines open)"

# ---- 8. trusted CAs without ca_file ---------------------------------------------------------
# cconf NAME: a configuration without ca_file.
cconf() {
    write_config "$TMP/$1.json" "server_url=https://localhost:${PORT[s]}" "app_id=*" \
        "output_dir=$TMP/$1" "initial_sync_days=0" "retry_attempts=0"
}
cconf cafile
SSL_CERT_FILE="$PKI/ca-ec.crt" run_cs cafile "$ADMIN" -v -c "$TMP/cafile.json" sync
check_eq "SSL_CERT_FILE: exit 0" 0 "$RC"
exact_run cafile
check_match "SSL_CERT_FILE: -v says which CAs" "debug: trusted CAs: $PKI/ca-ec.crt \\(SSL_CERT_FILE\\)" \
    "$ERR"
cconf cadir
SSL_CERT_DIR="$PKI/cadir" run_cs cadir "$ADMIN" -v -c "$TMP/cadir.json" sync
check_eq "SSL_CERT_DIR: exit 0" 0 "$RC"
exact_run cadir
check_match "SSL_CERT_DIR: -v says which CAs" "debug: trusted CAs: $PKI/cadir \\(SSL_CERT_DIR\\)" "$ERR"
cconf bogus
SSL_CERT_FILE=/nonexistent/ca.pem run_cs bogus "$ADMIN" -c "$TMP/bogus.json" sync
check_eq "bogus SSL_CERT_FILE: exit 78" 78 "$RC"
check_match "bogus SSL_CERT_FILE: one clear line" \
    "error: TLS setup: trusted CA file or folder cannot be used: SSL_CERT_FILE=/nonexistent/ca.pem: CA file or folder not found \\(set ca_file to a PEM bundle\\)$" \
    "$(error_line)"
cconf system
run_cs system "$ADMIN" -v -c "$TMP/system.json" sync
check_eq "system bundle: the test CA is not in it: exit 69" 69 "$RC"
check_match "system bundle: the first one that exists is used" \
    "debug: trusted CAs: /etc/ssl/certs/ca-certificates.crt \\(system\\)" "$ERR"
check_match "system bundle: the certificate is refused" "not signed by a trusted CA" "$ERR"
if [ ${#NS[@]} != 0 ]; then
    # no bundle at all: /etc/ssl and /etc/pki hidden behind empty folders
    mkdir -p "$TMP/empty"
    CS_PREFIX=("${NS[@]}" sh -c 'for d in /etc/ssl /etc/pki; do [ -d $d ] && mount --bind "$0" $d; done; exec "$@"' "$TMP/empty")
    run_cs nobundle "$ADMIN" -c "$TMP/system.json" sync
    direct
    check_eq "no bundle anywhere: exit 78" 78 "$RC"
    check_match "no bundle anywhere: names every place tried and ca_file" \
        "error: TLS setup: trusted CA file or folder cannot be used: no trusted CAs found: SSL_CERT_FILE and SSL_CERT_DIR are not set, and none of these exists: /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/ca-bundle.pem /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem /etc/ssl/cert.pem /etc/ssl/certs/ \\(set ca_file to a PEM bundle\\)$" \
        "$(error_line)"
fi

check_eq "the API key is in no output" "" "$(grep -l -F "$ADMIN" "$RUNS"/*.out "$RUNS"/*.err)"
tl_summary
