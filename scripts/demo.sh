#!/usr/bin/env bash
# demo.sh - `make demo`: a Countly simulator with TLS on 127.0.0.1, one sync
# into ./countly-data, then the summary and the first lines of each file.
#
# Usage: scripts/demo.sh BUILD_DIR
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${1:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
BIN=$BUILD_DIR/native/bin/countly-sync
DEMO=$BUILD_DIR/demo
OUT=${DEMO_OUTPUT:-$ROOT/countly-data}
SIM_PID=""

cleanup() {
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
}
trap cleanup EXIT

mkdir -p "$DEMO"
bash "$ROOT/tests/integration/gen_pki.sh" "$DEMO/pki" >/dev/null || {
    echo "demo: could not generate the test certificates" >&2
    exit 1
}
rm -f "$DEMO/port"
python3 "$ROOT/tests/sim/countly_sim.py" --port 0 --port-file "$DEMO/port" \
    --cert "$DEMO/pki/server-ec.crt" --key "$DEMO/pki/server-ec.key" \
    --seed 1 --apps 3 --users-per-app 2000 --log "$DEMO/sim.log" >/dev/null 2>&1 &
SIM_PID=$!
for _ in $(seq 100); do
    [ -s "$DEMO/port" ] && break
    sleep 0.1
done
[ -s "$DEMO/port" ] || { echo "demo: the simulator did not start (see $DEMO/sim.log)" >&2; exit 1; }
PORT=$(cat "$DEMO/port")
KEY=$(curl -s --cacert "$DEMO/pki/ca-ec.crt" "https://localhost:$PORT/__sim/keys" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["admin"])')

cat >"$DEMO/configuration.json" <<JSON
{
  "server_url": "https://localhost:$PORT",
  "app_id": "*",
  "max_records_per_page": "500",
  "initial_sync_days": "0",
  "ca_file": "$DEMO/pki/ca-ec.crt",
  "output_dir": "$OUT"
}
JSON
chmod 600 "$DEMO/configuration.json"

echo "== countly-sync check"
COUNTLY_API_KEY=$KEY "$BIN" -c "$DEMO/configuration.json" check || exit $?
echo "== countly-sync sync (simulator on https://localhost:$PORT, output in $OUT)"
COUNTLY_API_KEY=$KEY "$BIN" -c "$DEMO/configuration.json" sync
rc=$?
for f in apps.csv groups.csv users.csv; do
    [ -f "$OUT/$f" ] || continue
    echo "== $OUT/$f ($(($(wc -l <"$OUT/$f") - 1)) rows; first lines)"
    head -n 3 "$OUT/$f" | cut -c1-200
done
exit $rc
