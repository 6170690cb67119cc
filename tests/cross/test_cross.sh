#!/usr/bin/env bash
# test_cross.sh - the cross-built binary under qemu-user, against the x86_64 one.
#
# Environment: ARCH (aarch64 | armhf), COUNTLY_SYNC (the cross binary,
# default $BUILD_DIR/cross-$ARCH/bin/countly-sync), QEMU (default
# qemu-aarch64 / qemu-arm), NATIVE (default $BUILD_DIR/native/bin/countly-sync),
# CROSS_USERS_PER_APP (default 1000), BUILD_DIR.
#
# One simulator (tests/sim, TLS on 127.0.0.1, seed 7, 3 apps x 1000 users)
# serves both binaries; every case runs the native x86_64 binary and then
# the cross binary under qemu (binfmt_misc is not needed: qemu is called
# explicitly) with the same configuration, and the output folders are
# compared BYTE FOR BYTE: apps.csv, groups.csv, users.csv and state.json.
# Only the run start is normalised (tests/cross/normalize.py): the
# processed_at column and the state's per-app cursors.
#
#   full          first sync, all history
#   incremental   37 users touched, second sync appends exactly them
#   kill -9       the users stream hangs on a page of app 2, the process is
#                 killed with SIGKILL, the next run resumes: same files as
#                 an uninterrupted run
#   faults        a 503 on /o/groups and a connection dropped in the middle
#                 of a users page: one retry each, same files; a corrupt
#                 users page: exit 65 with the same message on both
#
# Last line: "N passed, N failed". Cleans up its simulator and files.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"

ARCH=${ARCH:-aarch64}
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
case $ARCH in
aarch64) QEMU=${QEMU:-qemu-aarch64} ;;
armhf) QEMU=${QEMU:-qemu-arm} ;;
*)
    echo "test_cross.sh: ARCH must be aarch64 or armhf" >&2
    exit 2
    ;;
esac
CROSS=${COUNTLY_SYNC:-$BUILD_DIR/cross-$ARCH/bin/countly-sync}
NATIVE=${NATIVE:-$BUILD_DIR/native/bin/countly-sync}
USERS=${CROSS_USERS_PER_APP:-1000}
TMP=${TEST_TMP:-$BUILD_DIR/test-tmp/cross-$ARCH}
PKI=$TMP/pki
ADMIN=61375872aac13a33755c4557fd21db10 # the simulator's fixed admin key (not secret)
SIM_PID=""

rm -rf "$TMP" && mkdir -p "$TMP/runs"

cleanup() {
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null
    wait 2>/dev/null
    [ "${KEEP_TMP:-0}" = 1 ] || rm -rf "$TMP"
}
trap cleanup EXIT

die_setup() {
    tl_fail "setup: $1" "$2"
    tl_summary
    exit 1
}

# ---- helpers ---------------------------------------------------------------------

sim_get() { curl -sf --cacert "$PKI/ca-ec.crt" "https://localhost:$PORT$1"; }

json_get() { # JSON PYTHON-EXPRESSION-ON-d
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# config FILE OUTDIR: the one configuration every case uses.
config() {
    cat >"$1" <<EOF
{"server_url": "https://localhost:$PORT", "app_id": "*", "ca_file": "$PKI/ca-ec.crt",
 "output_dir": "$2", "max_records_per_page": "500", "initial_sync_days": "0",
 "retry_attempts": "1"}
EOF
    chmod 600 "$1"
}

# run WHO NAME OUTDIR: a sync with the native or the cross binary, -v;
# RC[WHO], stderr in $TMP/runs/NAME.WHO.err.
declare -A RC=()
run() {
    local who=$1 name=$2 out=$3 cfg=$TMP/$2.$1.json
    config "$cfg" "$out"
    if [ "$who" = native ]; then
        COUNTLY_API_KEY=$ADMIN "$NATIVE" -v -c "$cfg" sync >"$TMP/runs/$name.$who.out" \
            2>"$TMP/runs/$name.$who.err"
    else
        COUNTLY_API_KEY=$ADMIN "$QEMU" "$CROSS" -v -c "$cfg" sync >"$TMP/runs/$name.$who.out" \
            2>"$TMP/runs/$name.$who.err"
    fi
    RC[$who]=$?
}

# same NAME DIR_A DIR_B: the four files equal byte for byte after normalising.
same() {
    local name=$1 a=$2 b=$3 f kind
    for f in apps.csv groups.csv users.csv state.json; do
        if [ ! -f "$a/$f" ] || [ ! -f "$b/$f" ]; then
            tl_fail "$name: $f" "missing in $( [ -f "$a/$f" ] && echo "$b" || echo "$a")"
            continue
        fi
        kind=csv
        [ "$f" = state.json ] && kind=state
        python3 "$HERE/normalize.py" $kind "$a/$f" "$TMP/a.norm" &&
            python3 "$HERE/normalize.py" $kind "$b/$f" "$TMP/b.norm"
        if cmp -s "$TMP/a.norm" "$TMP/b.norm"; then
            tl_pass "$name: $f identical ($(stat -c %s "$b/$f") bytes)"
        else
            tl_fail "$name: $f" "differs: $(cmp "$TMP/a.norm" "$TMP/b.norm" 2>&1 | head -n 1)"
            diff <(tr ',' '\n' <"$TMP/a.norm") <(tr ',' '\n' <"$TMP/b.norm") | head -n 6 |
                sed 's/^/#   /'
        fi
    done
}

both_ok() { # NAME: both runs exited 0
    check_eq "$1: native exit 0" 0 "${RC[native]}"
    check_eq "$1: $ARCH exit 0" 0 "${RC[cross]}"
    [ "${RC[cross]}" = 0 ] || tail -n 3 "$TMP/runs/$1.cross.err" | sed 's/^/#   /'
}

arm_fault() { sim_get "/__sim/fault?$1" >/dev/null || tl_fail "arm fault $1" "refused"; }
fired() { json_get "$(sim_get /__sim/stats)" "d['faults_fired'].get('$1', 0)"; }

# ---- setup -------------------------------------------------------------------------

for tool in python3 curl openssl "$QEMU"; do
    command -v "$tool" >/dev/null || die_setup "$tool" "not installed (make deps)"
done
[ -x "$CROSS" ] || die_setup "cross binary" "$CROSS not built (make cross ARCH=$ARCH)"
[ -x "$NATIVE" ] || die_setup "native binary" "$NATIVE not built (make)"
bash "$ROOT/tests/integration/gen_pki.sh" "$PKI" >/dev/null 2>&1 || die_setup pki "gen_pki.sh failed"

python3 "$ROOT/tests/sim/countly_sim.py" --port 0 --port-file "$TMP/sim.port" \
    --cert "$PKI/server-ec.crt" --key "$PKI/server-ec.key" --seed 7 --apps 3 \
    --users-per-app "$USERS" >"$TMP/sim.log" 2>&1 &
SIM_PID=$!
PORT=""
for ((i = 0; i < 600; i++)); do
    if [ -s "$TMP/sim.port" ]; then
        PORT=$(cat "$TMP/sim.port")
        sim_get /__sim/info >/dev/null && break
    fi
    sleep 0.1
done
sim_get /__sim/info >/dev/null || die_setup simulator "did not start: $(tail -n 3 "$TMP/sim.log")"
read -r -a APPS <<<"$(json_get "$(sim_get /__sim/info)" "' '.join(d['apps'])")"
setup_eq "simulator has 3 apps" 3 "${#APPS[@]}"
check_match "setup: $ARCH binary runs under $QEMU" "^countly-sync [0-9]" \
    "$("$QEMU" "$CROSS" version 2>&1)"
file "$CROSS" | grep -q "statically linked" && tl_pass "setup: $ARCH binary is static" ||
    tl_fail "setup: $ARCH binary is static" "$(file -b "$CROSS")"
t_start=$(date +%s)

# ---- 1. full sync --------------------------------------------------------------------

N=$TMP/native/out
X=$TMP/cross/out
run native full "$N"
run cross full "$X"
both_ok full
check_match "full: $ARCH summary line" "users: [0-9]+ rows" "$(cat "$TMP/runs/full.cross.err")"
same full "$N" "$X"
check_match "full: $ARCH reports its TLS arena peak" "tls arena peak [0-9]+ bytes" \
    "$(cat "$TMP/runs/full.cross.err")"

# ---- 2. incremental ---------------------------------------------------------------------

sim_get "/__sim/touch?app=${APPS[1]}&count=37" >/dev/null
sleep 1.2 # the next runs start after the touch, on the server's clock
n_before=$(stat -c %s "$N/users.csv")
x_before=$(stat -c %s "$X/users.csv")
run native incr "$N"
run cross incr "$X"
both_ok incr
check_match "incr: 37 rows appended ($ARCH)" "users: 37 rows" "$(cat "$TMP/runs/incr.cross.err")"
check_eq "incr: same number of bytes appended" $(($(stat -c %s "$N/users.csv") - n_before)) \
    $(($(stat -c %s "$X/users.csv") - x_before))
same incr "$N" "$X"

# The reference for the cases below: one uninterrupted full sync of the
# data as it now is (after the touch), by the native binary.
REF=$TMP/ref/out
run native ref "$REF"
check_eq "reference run: exit 0" 0 "${RC[native]}"

# ---- 3. kill -9 in the middle of the users stream, then resume ------------------------------

for who in native cross; do
    out=$TMP/kill-$who/out
    # app 1 (two pages) and the first page of app 2 go through; the second
    # page of app 2 never answers.
    arm_fault "kind=hang&path=/o/db&collection=app_users${APPS[1]}&after=1"
    before=$(fired hang)
    config "$TMP/kill.$who.json" "$out"
    if [ "$who" = native ]; then
        COUNTLY_API_KEY=$ADMIN "$NATIVE" -c "$TMP/kill.$who.json" sync >/dev/null 2>&1 &
    else
        COUNTLY_API_KEY=$ADMIN "$QEMU" "$CROSS" -c "$TMP/kill.$who.json" sync >/dev/null 2>&1 &
    fi
    pid=$!
    for ((i = 0; i < 300; i++)); do
        [ "$(fired hang)" -gt "$before" ] && break
        sleep 0.1
    done
    sleep 0.3
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    check_eq "kill -9 ($who): killed by SIGKILL while waiting" 137 "$?"
    sim_get /__sim/reset-faults >/dev/null
    # the committed rows: users.csv up to the state's committed size (pages
    # are committed in groups, so rows past it may be there, even torn)
    rows=$(python3 - "$out" "$ROOT/tests/pipeline" <<'PY' 2>/dev/null || echo 0
import json, os, sys, tempfile
sys.path.insert(0, sys.argv[2])
import csvcheck
size = json.load(open(os.path.join(sys.argv[1], "state.json")))["users_csv_bytes"]
with open(os.path.join(sys.argv[1], "users.csv"), "rb") as f:
    data = f.read(size)
with tempfile.NamedTemporaryFile(suffix=".csv") as t:
    t.write(data)
    t.flush()
    print(len(csvcheck.read_csv(t.name)[1]))
PY
    )
    check_between "kill -9 ($who): interrupted after app 1 (committed) and before app 2's end" \
        $((USERS * 9 / 10)) $((3 * USERS - 1)) "$rows"
    run "$who" resume "$out"
    check_eq "kill -9 ($who): resumed run exit 0" 0 "${RC[$who]}"
done
same "kill -9: native resumed vs $ARCH resumed" "$TMP/kill-native/out" "$TMP/kill-cross/out"
same "kill -9: $ARCH resumed vs uninterrupted" "$REF" "$TMP/kill-cross/out"

# ---- 4. faults: retried, same output; a corrupt page, same error ---------------------------------

for who in native cross; do
    arm_fault "kind=status&code=503&path=/o/groups"
    arm_fault "kind=drop_mid_body&path=/o/db&collection=app_users${APPS[2]}&after=1"
    run "$who" faults "$TMP/faults-$who/out"
done
both_ok faults
check_eq "faults: native retried twice" 2 "$(grep -c 'retry 1/1' "$TMP/runs/faults.native.err")"
check_eq "faults: $ARCH retried twice" 2 "$(grep -c 'retry 1/1' "$TMP/runs/faults.cross.err")"
same "faults: native vs $ARCH" "$TMP/faults-native/out" "$TMP/faults-cross/out"
same "faults: $ARCH vs uninterrupted" "$REF" "$TMP/faults-cross/out"
sim_get /__sim/reset-faults >/dev/null

for who in native cross; do
    arm_fault "kind=invalid_json&count=2&path=/o/db&collection=app_users${APPS[0]}"
    run "$who" corrupt "$TMP/corrupt-$who/out"
done
check_eq "corrupt page: native exit 65" 65 "${RC[native]}"
check_eq "corrupt page: $ARCH exit 65" 65 "${RC[cross]}"
# (the run start, a 10-digit unix time in the filter, differs)
error_line() { tl_untimestamp <"$TMP/runs/corrupt.$1.err" | grep ': error: ' | head -n 1 | sed 's/[0-9]\{10\}/RUN_START/g'; }
check_ne "corrupt page: an error line" "" "$(error_line cross)"
check_eq "corrupt page: the same error line" "$(error_line native)" "$(error_line cross)"
sim_get /__sim/reset-faults >/dev/null

echo "# $ARCH under $QEMU, 3 apps x $USERS users: $(($(date +%s) - t_start)) s for all cases"
tl_summary
