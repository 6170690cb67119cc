#!/usr/bin/env bash
# test_sim.sh -- checks the Countly simulator (tests/sim) from the outside
# with curl: endpoints, headers and framing, envelopes, escaping, auth,
# CE vs EE, paging, touch, every fault kind, keep-alive, the control API;
# plus the Python unit tests.  Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"

BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
PKI=$BUILD_DIR/test-tmp/sim-pki
TMP=$(mktemp -d "${TMPDIR:-/tmp}/test_sim.XXXXXX")
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$PKI"
bash "$ROOT/tests/integration/gen_pki.sh" "$PKI" || { echo "gen_pki.sh failed"; exit 1; }
CA=$PKI/ca-ec.crt

# start_sim NAME ARGS...: start a simulator, wait for its port file.
start_sim() {
    local name=$1
    shift
    python3 "$HERE/countly_sim.py" --port 0 --port-file "$TMP/$name.port" --log "$TMP/$name.log" \
        "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    PIDS+=($!)
    for _ in $(seq 600); do
        [ -s "$TMP/$name.port" ] && return 0
        sleep 0.1
    done
    echo "simulator $name did not start:"
    cat "$TMP/$name.err"
    return 1
}

start_sim ee --cert "$PKI/server-ec.crt" --key "$PKI/server-ec.key" --seed 1 --apps 3 \
    --users-per-app 600 --clock-offset 3600 || exit 1
start_sim ce --cert "$PKI/server-ec.crt" --key "$PKI/server-ec.key" --seed 2 --apps 1 \
    --users-per-app 20 --edition ce --no-dbviewer --tls-max 1.2 --keepalive-timeout 1 || exit 1
EE=https://localhost:$(cat "$TMP/ee.port")
CE=https://localhost:$(cat "$TMP/ce.port")

# get URL [curl args...]: body -> $TMP/body, headers -> $TMP/head; prints the status.
get() {
    local url=$1
    shift
    curl -s --cacert "$CA" -o "$TMP/body" -D "$TMP/head" -w '%{http_code}' "$@" "$url"
}
# header NAME: the value of a response header of the last get (CR stripped).
header() {
    grep -i "^$1:" "$TMP/head" | head -n 1 | cut -d: -f2- | sed 's/^ //' | tr -d '\r'
}
# pyjson EXPR: evaluate EXPR with j = the last body parsed as JSON.
pyjson() {
    python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($1)" "$TMP/body" 2>&1
}
body() { cat "$TMP/body"; }
control() { curl -s --cacert "$CA" "$EE/__sim/$1"; }

KEYS=$(control keys)
ADMIN=$(echo "$KEYS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["admin"])')
USER=$(echo "$KEYS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"])')
check_match "keys: admin is 32 hex" '^[0-9a-f]{32}$' "$ADMIN"
check_match "keys: user is 32 hex" '^[0-9a-f]{32}$' "$USER"
check_match "stdout: port then keys" "admin_key=$ADMIN" "$(cat "$TMP/ee.out")"
INFO=$(control info)
APP1=$(echo "$INFO" | python3 -c 'import json,sys; print(json.load(sys.stdin)["apps"][0])')
APP2=$(echo "$INFO" | python3 -c 'import json,sys; print(json.load(sys.stdin)["apps"][1])')
APP3=$(echo "$INFO" | python3 -c 'import json,sys; print(json.load(sys.stdin)["apps"][2])')

# ---- headers and framing ----------------------------------------------------------------
check_eq "plugins: 200" 200 "$(get "$EE/o/system/plugins?api_key=$ADMIN")"
check_eq "plugins: has dbviewer and groups" "True True" "$(pyjson '"dbviewer" in j, "groups" in j' | tr -d '(),')"
check_eq "headers: chunked" chunked "$(header Transfer-Encoding)"
check_eq "headers: no Content-Length" "" "$(header Content-Length)"
check_eq "headers: content type" "application/json; charset=utf-8" "$(header Content-Type)"
check_eq "headers: keep-alive" keep-alive "$(header Connection)"
check_eq "headers: Keep-Alive timeout" "timeout=5" "$(header Keep-Alive)"
check_eq "headers: X-Frame-Options" deny "$(header X-Frame-Options)"
check_eq "headers: X-XSS-Protection" "1; mode=block" "$(header X-XSS-Protection)"
check_eq "headers: CORS" "*" "$(header Access-Control-Allow-Origin)"
check_match "headers: HSTS" '^max-age=' "$(header Strict-Transport-Security)"
check_match "status line HTTP/1.1 200 OK" '^HTTP/1.1 200 OK' "$(head -n 1 "$TMP/head")"
DATE_SKEW=$(( $(date -d "$(header Date)" +%s) - $(date +%s) ))
check_between "Date header = real time + clock offset" 3590 3610 "$DATE_SKEW"
check_eq "version: 200" 200 "$(get "$EE/o/system/version?api_key=$ADMIN")"
check_match "version: shape" '^\{"version":"[0-9.]+"\}$' "$(body)"

# ---- auth errors ------------------------------------------------------------------------
check_eq "no key: 400" 400 "$(get "$EE/o/apps/all")"
check_eq "no key: body" '{"result":"Missing parameter \"api_key\" or \"auth_token\""}' "$(body)"
check_eq "no key: still chunked" chunked "$(header Transfer-Encoding)"
check_eq "bad key: 401" 401 "$(get "$EE/o/apps/all?api_key=0123")"
check_eq "bad key: body" '{"result":"User does not exist"}' "$(body)"
check_eq "user key /o/apps/all: 401" 401 "$(get "$EE/o/apps/all?api_key=$USER")"
check_eq "user key /o/apps/all: body" '{"result":"User does not have right"}' "$(body)"
check_eq "user key /o/groups: 401" 401 "$(get "$EE/o/groups?api_key=$USER")"
check_eq "user key /o/groups: body" '{"result":"User does not have right"}' "$(body)"
check_eq "user key /o/db apps: 401" 401 "$(get "$EE/o/db?api_key=$USER&db=countly&collection=apps")"
check_eq "user key /o/db apps: body" '{"result":"User does not have right to view this collection"}' "$(body)"
check_eq "user key /o/db app 3 users: 401" 401 \
    "$(get "$EE/o/db?api_key=$USER&db=countly&collection=app_users$APP3")"
check_eq "user key /o/db app 1 users: 200" 200 \
    "$(get "$EE/o/db?api_key=$USER&db=countly&collection=app_users$APP1&limit=1")"
check_eq "user key /o/apps/mine: 200" 200 "$(get "$EE/o/apps/mine?api_key=$USER&noescape=true")"
check_eq "user key /o/apps/mine: apps 1 and 2" "1 2 True" \
    "$(pyjson 'len(j["admin_of"]), len(j["user_of"]), set(j["user_of"]) == {"'"$APP1"'", "'"$APP2"'"}' | tr -d '(),')"
check_eq "invalid app_id: 400" 400 "$(get "$EE/o/apps/mine?api_key=$USER&app_id=short")"
check_eq "invalid app_id: body" '{"result":"Invalid parameter \"app_id\""}' "$(body)"

# ---- apps and escaping ------------------------------------------------------------------
check_eq "apps/all: 200" 200 "$(get "$EE/o/apps/all?api_key=$ADMIN")"
check_eq "apps/all: 3 apps in both maps, 7 keys each" "3 3 True" \
    "$(pyjson 'len(j["admin_of"]), len(j["user_of"]), all(list(a) == ["_id","category","country","key","name","timezone","salt"] for a in j["admin_of"].values())' | tr -d '(),')"
check_match "apps/all: escaped &quot; &amp;" 'Acme Shop &quot;iOS&quot; &amp; Web' "$(body)"
check_match "apps/all: escaped &#39; &lt; &gt;" 'O&#39;Reilly &lt;Beta&gt; App' "$(body)"
get "$EE/o/apps/all?api_key=$ADMIN&noescape=true" >/dev/null
check_match "apps/all noescape: raw quotes and &" 'Acme Shop \\"iOS\\" & Web' "$(body)"
check_match "apps/all noescape: raw ' < >" "O'Reilly <Beta> App" "$(body)"
check_eq "apps/unknown: 400" 400 "$(get "$EE/o/apps/foo?api_key=$ADMIN")"
check_eq "apps/unknown: body" '{"result":"Invalid path, must be one of /all, /mine, /details or /plugins"}' "$(body)"
check_eq "apps/details: 200" 200 "$(get "$EE/o/apps/details?api_key=$ADMIN&app_id=$APP1")"
check_match "apps/details: shape" '^\{"app":\{"owner":' "$(body)"

# ---- groups: EE and CE ------------------------------------------------------------------
check_eq "groups EE: 200" 200 "$(get "$EE/o/groups?api_key=$ADMIN")"
check_eq "groups EE: result array of 4, two without matched_users_count" "4 2" \
    "$(pyjson 'len(j["result"]), sum("matched_users_count" not in g for g in j["result"])' | tr -d '(),')"
check_match "groups EE: escaped name" 'Platform &quot;Admins&quot; &amp; &lt;Ops&gt;' "$(body)"
get "$EE/o/groups?api_key=$ADMIN&noescape=true" >/dev/null
check_match "groups EE noescape: raw name" 'Platform \\"Admins\\" & <Ops>' "$(body)"
check_eq "groups CE: 400" 400 "$(get "$CE/o/groups?api_key=$ADMIN")"
check_eq "groups CE: body" '{"result":"Invalid path"}' "$(body)"
get "$CE/o/system/plugins?api_key=$ADMIN" >/dev/null
check_eq "plugins CE without dbviewer: no groups, no dbviewer" "False False" \
    "$(pyjson '"dbviewer" in j, "groups" in j' | tr -d '(),')"
check_eq "CE --no-dbviewer /o/db: 400" 400 "$(get "$CE/o/db?api_key=$ADMIN&db=countly&collection=apps")"
check_eq "CE --no-dbviewer /o/db: body" '{"result":"Invalid path"}' "$(body)"

# ---- /o/db ------------------------------------------------------------------------------
HEADER_RE='^\{"limit":[0-9]+, "start":[0-9]+, "end":[0-9]+, "total":[0-9]+, "pages":[0-9]+, "curPage":[0-9]+, "collections":\['
check_eq "db apps: 200" 200 "$(get "$EE/o/db?api_key=$ADMIN&db=countly&collection=apps&limit=2&skip=1&sort=%7B%22_id%22%3A1%7D")"
check_match "db apps: header spacing" "$HEADER_RE" "$(body)"
check_match "db apps: header values" '^\{"limit":2, "start":2, "end":3, "total":3, "pages":2, "curPage":1, ' "$(body)"
check_match "db apps: ObjectId(...) ids" '"_id":"ObjectId\([0-9a-f]{24}\)"' "$(body)"
check_match "db apps: not escaped" 'Acme Shop \\"iOS\\" & Web|O'"'"'Reilly <Beta> App' "$(body)"
check_eq "db apps: no Content-Length" "" "$(header Content-Length)"
FILTER=$(python3 -c 'import urllib.parse; print(urllib.parse.quote("{\"lac\":{\"$gte\":0}}"))')
CHUNKS=$(curl -s --raw --cacert "$CA" \
    "$EE/o/db?api_key=$ADMIN&db=countly&collection=app_users$APP1&limit=50&filter=$FILTER" |
    grep -caE $'^[0-9a-f]+\r?$')
check_ge "db users: streamed in several chunks" "$CHUNKS" 5
check_eq "db users: default limit 20" 200 "$(get "$EE/o/db?api_key=$ADMIN&db=countly&collection=app_users$APP1")"
check_eq "db users: 20 docs" "20 20" "$(pyjson 'j["limit"], len(j["collections"])' | tr -d '(),')"
check_eq "db unknown db: 404" 404 "$(get "$EE/o/db?api_key=$ADMIN&db=nope&collection=apps")"
check_eq "db unknown db: body" '{"result":"Database not found."}' "$(body)"
check_eq "db bad filter: 400" 400 "$(get "$EE/o/db?api_key=$ADMIN&db=countly&collection=apps&filter=%7Bnope")"
check_match "db bad filter: body" '^\{"result":"Failed to parse query\. [^"]' "$(body)"
get "$EE/o/db?api_key=$ADMIN&db=countly&collection=apps&limit=0" >/dev/null
check_match "db limit=0: pages Infinity" '"pages":Infinity, "curPage":Infinity,' "$(body)"
get "$EE/o/db?api_key=$ADMIN&db=countly&collection=app_users000000000000000000000000" >/dev/null
check_eq "db missing collection: empty" '{"limit":20, "start":1, "end":0, "total":0, "pages":0, "curPage":1, "collections":[]}' "$(body)"
check_eq "unknown path: 400" 400 "$(get "$EE/o/nothing?api_key=$ADMIN")"
check_eq "unknown path: body" '{"result":"Invalid path"}' "$(body)"
check_eq "PUT: 405" 405 "$(get "$EE/o/apps/all?api_key=$ADMIN" -X PUT)"
check_eq "PUT: body" '{"result":"Method not allowed"}' "$(body)"
check_eq "POST form body: 200" 200 "$(get "$EE/o/apps/all" --data "api_key=$ADMIN")"

# ---- paging, touch, data (Python helper) ------------------------------------------------
run_helper() {  # run_helper GROUP [BASE_URL]
    local line
    while IFS= read -r line; do
        case $line in
            PASS\ *) tl_pass "${2:+lean }${line#PASS }" ;;
            FAIL\ *) tl_fail "${2:+lean }${line#FAIL }" "" ;;
            *) tl_fail "simcheck $1 output" "$line" ;;
        esac
    done < <(python3 "$HERE/simcheck.py" "${2:-$EE}" "$CA" "$1" 2>&1)
}
run_helper paging
run_helper touch
run_helper data

# ---- truth ------------------------------------------------------------------------------
check_eq "truth apps_db: 3 rows" 3 "$(control 'truth?table=apps_db' | wc -l)"
check_eq "truth apps_mine user key: 2 rows" 2 "$(control 'truth?table=apps_mine&key=user' | wc -l)"
check_eq "truth groups: 4 rows" 4 "$(control 'truth?table=groups' | wc -l)"
check_eq "truth users app 1: 600 rows" 600 "$(control "truth?table=users&app=$APP1" | wc -l)"
check_match "truth: columns in SPEC order, processed_at null" \
    '^\{"cols":\{"app_id":"[0-9a-f]{24}","name":.*"icon":"https://localhost:[0-9]+/appimages/[0-9a-f]{24}.png","metadata":".*","processed_at":null\},"json":\["metadata"\]\}$' \
    "$(control 'truth?table=apps_db' | head -n 1)"
check_nomatch "truth: no salt values" 'x9Kq2LmP|legacy-salt' "$(control 'truth?table=apps_db')"

# ---- cost model, sort memory limit, churn, lean generator --------------------------------
urlq() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
jfield() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
NOWT=$(control info | jfield 'd["now"]')
check_eq "cost-reset: ok" '{"ok":true}' "$(control cost-reset)"
get "$EE/o/db?api_key=$ADMIN&db=countly&collection=app_users$APP1&limit=50&sort=$(urlq '{"lac":1}')&filter=$(urlq "{\"lac\":{\"\$lt\":$NOWT}}")" >/dev/null
check_eq "cost in log: keyset page plan" "IXSCAN(lac) COUNT_SCAN(lac) 50 50 0" \
    "$(control 'log?n=1' | jfield 'd["requests"][-1]["cost"]' | python3 -c 'import ast,sys; c=ast.literal_eval(sys.stdin.read()); print(c["plan"], c["count_plan"], c["find_keys"], c["find_docs"], c["count_docs"])')"
check_eq "cost: counters of one request" "1 50 50 0" \
    "$(control cost | jfield 'd["db_requests"], d["find_docs"], d["docs_examined"], d["sort_failures"]' | tr -d '(),')"
check_eq "cost: by_collection" "1" "$(control cost | jfield 'd["by_collection"]["app_users'"$APP1"'"]["db_requests"]')"
check_eq "cost?reset=1 then zero" "1 0" \
    "$(control 'cost?reset=1' | jfield 'd["db_requests"]') $(control cost | jfield 'd["db_requests"]')"
check_eq "sort-limit: set 0.25 MiB" 262144 "$(control 'sort-limit?mb=0.25' | jfield 'd["sort_limit_bytes"]')"
OLDQ="$EE/o/db?api_key=$ADMIN&db=countly&collection=app_users$APP3&limit=100&skip=300&sort=$(urlq '{"lac":1,"_id":1}')&filter=$(urlq "{\"\$or\":[{\"lac\":{\"\$lt\":$NOWT}},{\"lac\":{\"\$gte\":1000000000000}},{\"lac\":{\"\$exists\":false}}]}")"
for try in 1 2; do
    STATUS=$(curl -s --cacert "$CA" -o "$TMP/body" -D "$TMP/head" -w '%{http_code}' "$OLDQ")
    RC=$?
    check_ne "sort limit ($try): curl sees a cut body" 0 "$RC"
    check_eq "sort limit ($try): status 200" 200 "$STATUS"
    check_eq "sort limit ($try): chunked" chunked "$(header Transfer-Encoding)"
    check_match "sort limit ($try): envelope head only" \
        '^\{"limit":100, "start":301, "end":400, "total":[0-9]+, "pages":[0-9]+, "curPage":4, "collections":\[$' "$(body)"
done
check_eq "sort limit: failures counted, logged" "2 True" \
    "$(control cost | jfield 'd["sort_failures"]') $(control 'log?n=1' | jfield 'd["requests"][-1]["cost"]["failed"]')"
control 'sort-limit?mb=100' >/dev/null
check_eq "sort limit 100 MiB: same request complete" 200 "$(get "$OLDQ")"
check_eq "sort limit 100 MiB: 100 documents" 100 "$(pyjson 'len(j["collections"])')"
check_eq "churn: set" '{"churn":3}' "$(control 'churn?k=3')"
get "$EE/o/db?api_key=$ADMIN&db=countly&collection=app_users$APP2&limit=5" >/dev/null
get "$EE/o/db?api_key=$ADMIN&db=countly&collection=app_users$APP2&limit=5" >/dev/null
check_eq "churn: 6 users moved after two pages" 6 "$(control "churned?app=$APP2" | jfield 'd["count"]')"
check_eq "churn: off" '{"churn":0}' "$(control 'churn?k=0')"
CHURNED=$(control "churned?app=$APP2" | jfield '",".join(d["churned"])')
check_eq "churn: moved users have lac = now" 6 \
    "$(control "truth?table=users&app=$APP2&gte=$((NOWT - 5))&lt=$((NOWT + 60))" | python3 -c 'import json,sys; ids=set(sys.argv[1].split(",")); print(sum(json.loads(l)["cols"]["user_id"] in ids for l in sys.stdin))' "$CHURNED")"
OLDJ=$(python3 "$ROOT/tests/bench/paging_old.py" --url "$EE" --ca "$CA" --limit 100 --app "$APP3" --sort-limit-mb 0.25)
check_eq "paging_old.py: fails at the limit, cost counted" "True 4 1" \
    "$(echo "$OLDJ" | jfield 'd["failed"], d["requests"], d["cost"]["sort_failures"]' | tr -d '(),')"
OLDJ=$(python3 "$ROOT/tests/bench/paging_old.py" --url "$EE" --ca "$CA" --limit 100 --app "$APP3" --sort-limit-mb 100)
check_eq "paging_old.py: completes at 100 MiB" "False 7 0" \
    "$(echo "$OLDJ" | jfield 'd["failed"], d["requests"], d["cost"]["sort_failures"]' | tr -d '(),')"
run_helper keyset

start_sim lean --http --seed 3 --apps 2 --users-per-app 3000 --generator lean --bulk-import 1200 || exit 1
LEAN=http://localhost:$(cat "$TMP/lean.port")
LEANINFO=$(curl -s "$LEAN/__sim/info")
check_eq "lean: generator, users, bulk" "lean 3000 1200" \
    "$(echo "$LEANINFO" | jfield 'd["generator"], list(d["users"].values())[1], d["bulk_import"]["users"]' | tr -d "(),'")"
LAPP=$(echo "$LEANINFO" | jfield 'd["apps"][1]')
BULK=$(echo "$LEANINFO" | jfield 'd["bulk_import"]["lac"]')
check_eq "lean: bulk-import tie group" 1200 \
    "$(curl -s "$LEAN/o/db?api_key=$ADMIN&db=countly&collection=app_users$LAPP&limit=1&filter=$(urlq "{\"lac\":$BULK}")" | jfield 'd["total"]')"
run_helper paging "$LEAN"
run_helper keyset "$LEAN"

# ---- faults -----------------------------------------------------------------------------
DB="$EE/o/db?api_key=$ADMIN&db=countly&collection=app_users$APP1&limit=200"
control 'fault?kind=drop_mid_body&path=/o/db' >/dev/null
curl -s --cacert "$CA" -o /dev/null "$DB"
check_ne "fault drop_mid_body: curl fails" 0 "$?"
control 'fault?kind=truncated_chunked&path=/o/db' >/dev/null
curl -s --cacert "$CA" -o /dev/null "$DB"
check_ne "fault truncated_chunked: curl fails" 0 "$?"
check_eq "after faults: next request fine" 200 "$(get "$DB")"
control 'fault?kind=status&code=503&retry_after=7' >/dev/null
check_eq "fault status 503" 503 "$(get "$DB")"
check_eq "fault status 503: Retry-After" 7 "$(header Retry-After)"
check_match "fault status 503: nginx page, Content-Length" '^[0-9]+$' "$(header Content-Length)"
control 'fault?kind=status&code=429' >/dev/null
check_eq "fault status 429" 429 "$(get "$DB")"
check_eq "fault status 429: body" '{"result":"Too Many Requests"}' "$(body)"
check_eq "fault status 429: no Retry-After unless asked" "" "$(header Retry-After)"
control 'fault?kind=status&code=500' >/dev/null
check_eq "fault status 500" 500 "$(get "$DB")"
control 'fault?kind=hang&path=/o/db' >/dev/null
curl -s --cacert "$CA" -o /dev/null --max-time 2 "$DB"
check_eq "fault hang: curl times out (28)" 28 "$?"
control 'fault?kind=invalid_json&path=/o/db' >/dev/null
check_eq "fault invalid_json: 200" 200 "$(get "$DB")"
check_match "fault invalid_json: body does not parse" 'Error|Expecting' "$(pyjson 'len(j)')"
control 'fault?kind=huge_record&size=300000&path=/o/db' >/dev/null
get "$DB" >/dev/null
check_eq "fault huge_record: one doc > 300000 bytes" "1" \
    "$(pyjson 'sum(len(json.dumps(d)) > 300000 for d in j["collections"])')"
control 'fault?kind=http10&path=/o/db' >/dev/null
check_eq "fault http10: 200" 200 "$(get "$DB")"
check_match "fault http10: HTTP/1.0 status line" '^HTTP/1.0 200' "$(head -n 1 "$TMP/head")"
check_eq "fault http10: no Transfer-Encoding" "" "$(header Transfer-Encoding)"
check_eq "fault http10: body complete" 200 "$(pyjson 'len(j["collections"])')"
control 'fault?kind=slow&seconds=1.5&path=/o/system' >/dev/null
T=$(curl -s --cacert "$CA" -o /dev/null -w '%{time_total}' "$EE/o/system/version?api_key=$ADMIN")
check_eq "fault slow: took >= 1.5 s" 1 "$(python3 -c "print(int($T >= 1.5))")"
control 'fault?kind=status&code=502&count=2&after=1&path=/o/system/version' >/dev/null
SEQ=""
for _ in 1 2 3 4; do SEQ="$SEQ $(get "$EE/o/system/version?api_key=$ADMIN")"; done
check_eq "fault after=1 count=2: 200 502 502 200" " 200 502 502 200" "$SEQ"
control 'fault?kind=auth_revoked' >/dev/null
check_eq "fault auth_revoked: 401" 401 "$(get "$EE/o/apps/all?api_key=$ADMIN")"
check_eq "fault auth_revoked: body" '{"result":"User does not exist"}' "$(body)"
check_eq "fault auth_revoked: stays revoked" 401 "$(get "$EE/o/system/plugins?api_key=$ADMIN")"
check_eq "fault auth_revoked: user key unaffected" 200 "$(get "$EE/o/apps/mine?api_key=$USER")"
check_eq "fault bad kind: 400" 400 "$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' "$EE/__sim/fault?kind=nope")"
control reset-faults >/dev/null
check_eq "reset-faults: admin key works again" 200 "$(get "$EE/o/apps/all?api_key=$ADMIN")"
check_eq "faults fired counted" "True" \
    "$(control stats | python3 -c 'import json,sys; f=json.load(sys.stdin)["faults_fired"]; print(all(f.get(k) for k in ("drop_mid_body","truncated_chunked","status","hang","invalid_json","huge_record","auth_revoked","http10","slow")))')"

# ---- keep-alive, HTTP/1.0, TLS versions, log ------------------------------------------
S1=$(control stats)
curl -s --cacert "$CA" -o /dev/null -o /dev/null "$EE/o/system/version?api_key=$ADMIN" "$EE/o/apps/mine?api_key=$ADMIN"
S2=$(control stats)
field() { echo "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"$2\"])"; }
check_eq "keep-alive: two requests, one connection" 1 $(( $(field "$S2" connections) - $(field "$S1" connections) ))
check_eq "keep-alive: two requests counted" 2 $(( $(field "$S2" requests) - $(field "$S1" requests) ))
check_eq "HTTP/1.0 request: 200" 200 "$(get "$EE/o/system/version?api_key=$ADMIN" -0)"
check_eq "HTTP/1.0 request: close-delimited (no chunked)" "" "$(header Transfer-Encoding)"
check_eq "HTTP/1.0 request: Connection close" close "$(header Connection)"
check_match "HTTP/1.0 request: body" '^\{"version":' "$(body)"
curl -s --cacert "$CA" -o /dev/null "$CE/o/system/version?api_key=$ADMIN"
check_eq "tls-max 1.2: only TLS 1.2 handshakes" '{"TLSv1.2"' \
    "$(curl -s --cacert "$CA" "$CE/__sim/stats" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["tls_versions"]).split(":")[0])')"
check_eq "TLS 1.3 by default" True \
    "$(control stats | python3 -c 'import json,sys; print("TLSv1.3" in json.load(sys.stdin)["tls_versions"])')"
IDLE=$(python3 - "$(cat "$TMP/ce.port")" "$CA" "$ADMIN" <<'PY'
import socket, ssl, sys, time
port, ca, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost") as s:
    s.sendall(b"GET /o/system/version?api_key=%s HTTP/1.1\r\nHost: localhost\r\n\r\n" % key.encode())
    data = b""
    while not data.endswith(b"0\r\n\r\n"):
        data += s.recv(65536)
    time.sleep(1.6)
    s.settimeout(2)
    try:
        print("closed" if s.recv(1) == b"" else "open")
    except (ConnectionError, ssl.SSLError):
        print("closed")
    except socket.timeout:
        print("open")
PY
)
check_eq "keep-alive: idle connection closed after the timeout" closed "$IDLE"
LOG=$(control 'log?n=500')
check_match "log: api_key redacted" 'api_key=REDACTED' "$LOG"
check_nomatch "log: no admin key" "$ADMIN" "$LOG"
check_nomatch "log file: no admin key" "$ADMIN" "$(cat "$TMP/ee.log" "$TMP/ee.err")"
check_nomatch "log file: no user key" "$USER" "$(cat "$TMP/ee.log" "$TMP/ee.err")"
check_eq "control: unknown path 404" 404 "$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' "$EE/__sim/nope")"
check_match "bind: 127.0.0.1 only" "127\.0\.0\.1:$(cat "$TMP/ee.port")" "$(cat "$TMP/ee.err")"

# ---- Python unit tests ------------------------------------------------------------------
UNIT=$(cd "$HERE" && python3 -m unittest 2>&1)
if echo "$UNIT" | grep -q '^OK'; then
    tl_pass "python unit tests ($(echo "$UNIT" | grep -o 'Ran [0-9]* tests'))"
else
    tl_fail "python unit tests" "$(echo "$UNIT" | tail -n 20)"
fi

tl_summary
