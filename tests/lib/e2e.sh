# e2e.sh -- helpers shared by the end-to-end suites (tests/e2e, tests/faults).  Source it.
#
# The sourcing suite sets, before calling any helper:
#   ROOT   the repository root        TMP   its scratch folder
#   PKI    gen_pki.sh's output folder RUNS  where run_cs keeps captured output
#   BIN    the countly-sync binary    WRAP  array: command prefix (valgrind ...), may be empty
# and may set CS_PREFIX (array, default empty): a command put before
# `env COUNTLY_API_KEY=... WRAP... BIN` (runuser, a ulimit shell, ...).
#
#   sim_launch NAME ARGS... / sim_wait NAME   start a simulator in the background / wait for it
#   start_sim NAME ARGS...                    both; its port in PORT[NAME], pid in SIM_PIDS
#   sim_get PORT PATH                         a control or API request (curl, test CA)
#   json_field JSON KEY                       one top-level value (lists space-separated)
#   write_config FILE KEY=VALUE...            configuration.json ([ or { values as JSON)
#   run_cs NAME KEY ARGS...                   run the binary: RC, OUT, ERR (its lines
#                                             without their timestamps), ELAPSED_MS
#                                             (and RUNS/NAME.sleeps: the waits a test-hooks
#                                             binary asked for, port_posix_hooks.h)
#   truth SIM TABLE QUERY OUT                 the simulator's expected rows into OUT
#   compare NAME CSV TRUTH [KEYS_OUT]         compare.py; its key=value lines in CMP
#   cmp_field NAME                            one value of CMP
#   iso_to_unix ISO / data_lines CSV          helpers on timestamps and CSV rows
#   stop_sim NAME / stop_sims                 kill one simulator / every one started here
# A simulator launched with --http is reached over plain HTTP (sim_get knows
# it by its port); SIM_WAIT_TENTHS (600) bounds sim_wait, in tenths of a second.
#   e2e_paths SUITE                           BUILD_DIR (absolute), BIN, WRAP and TMP
#                                             (TEST_TMP or $BUILD_DIR/test-tmp/SUITE)

SIM_PIDS=()
declare -A PORT=() SIM_PID=() SIM_HTTP=() SIM_SCHEME=()
CS_PREFIX=()

# e2e_paths SUITE: the binary under test (COUNTLY_SYNC), its wrapper
# (COUNTLY_SYNC_WRAPPER, e.g. "valgrind --error-exitcode=99 -q") and the
# suite's scratch folder, all as absolute paths.
e2e_paths() {
    BUILD_DIR=${BUILD_DIR:-build}
    case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
    BIN=${COUNTLY_SYNC:-$BUILD_DIR/native/bin/countly-sync}
    case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
    read -r -a WRAP <<<"${COUNTLY_SYNC_WRAPPER:-}"
    TMP=${TEST_TMP:-$BUILD_DIR/test-tmp/$1}
}

# e2e_require TOOL...: a suite's setup: the tools it needs are installed,
# $BIN is built, and the test PKI is generated into $PKI; otherwise one
# failed check and the summary, and the suite ends.
e2e_require() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { tl_fail "setup: $tool" "not installed"; tl_summary; exit 1; }
    done
    [ -x "$BIN" ] || { tl_fail "setup: binary" "$BIN not built"; tl_summary; exit 1; }
    bash "$ROOT/tests/integration/gen_pki.sh" "$PKI" >/dev/null 2>&1 ||
        { tl_fail "setup: pki" "gen_pki.sh failed"; tl_summary; exit 1; }
}

# sim_launch NAME ARGS...: a simulator on a free port, in the background.
sim_launch() {
    local name=$1
    shift
    local tls=(--cert "${PKI:-}/server-ec.crt" --key "${PKI:-}/server-ec.key")
    case " $* " in *" --http "*) tls=() SIM_HTTP[$name]=1 ;; esac
    rm -f "$TMP/$name.port"
    # E2E_SIM_ARGS: extra simulator options for every simulator of a suite
    # (the small profile runs with --generator sim: users that fit 4 KiB).
    # shellcheck disable=SC2086
    python3 "$ROOT/tests/sim/countly_sim.py" --port 0 --port-file "$TMP/$name.port" \
        "${tls[@]}" "$@" ${E2E_SIM_ARGS:-} >"$TMP/$name.sim.log" 2>&1 &
    SIM_PIDS+=($!)
    SIM_PID[$name]=$!
}

# sim_wait NAME: waits until NAME answers /__sim/info; PORT[NAME] set.
sim_wait() {
    local name=$1 i port
    for ((i = 0; i < ${SIM_WAIT_TENTHS:-600}; i++)); do
        port=$(cat "$TMP/$name.port" 2>/dev/null)
        [ -n "$port" ] && [ -n "${SIM_HTTP[$name]:-}" ] && SIM_SCHEME[$port]=http
        if [ -n "$port" ] && sim_get "$port" /__sim/info >/dev/null; then
            PORT[$name]=$(cat "$TMP/$name.port")
            return 0
        fi
        sleep 0.1
    done
    tl_fail "setup: simulator $name" "did not start: $(tail -n 3 "$TMP/$name.sim.log")"
    tl_summary
    exit 1
}

# start_sim NAME ARGS...: a simulator on a free port; its port in PORT[NAME].
start_sim() {
    sim_launch "$@"
    sim_wait "$1"
}

# stop_sim NAME: ends one simulator (a big one's memory back before the next).
stop_sim() {
    kill "${SIM_PID[$1]}" 2>/dev/null
    wait "${SIM_PID[$1]}" 2>/dev/null
}

stop_sims() {
    local p
    for p in "${SIM_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${SIM_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    SIM_PIDS=()
}

# sim_get PORT PATH: a control or API request to a simulator.
sim_get() {
    if [ "${SIM_SCHEME[$1]:-}" = http ]; then
        curl -sf "http://127.0.0.1:$1$2"
    else
        curl -sf --cacert "$PKI/ca-ec.crt" "https://localhost:$1$2"
    fi
}

# json_field JSON KEY: one top-level value of a JSON document.
json_field() {
    python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(v if not isinstance(v,list) else " ".join(v))' "$1" "$2"
}

# write_config FILE KEY=VALUE...: a configuration.json with string values
# (as the seed connector writes them); VALUE may be JSON when it starts with [ or {.
# A later KEY wins over an earlier one.
write_config() {
    local file=$1
    shift
    python3 - "$file" "$@" <<'PY'
import json, sys
conf = {}
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    conf[k] = json.loads(v) if v[:1] in "[{" else v
with open(sys.argv[1], "w") as f:
    json.dump(conf, f, indent=2)
PY
    chmod 600 "$file"
}

# run_cs NAME KEY ARGS...: runs countly-sync with COUNTLY_API_KEY=KEY;
# sets RC, OUT (stdout), ERR (stderr) and ELAPSED_MS; keeps both outputs
# for the key search. A test-hooks binary appends each wait it asks for
# (ms) to $RUNS/NAME.sleeps (COUNTLY_SYNC_SLEEP_LOG; others ignore it).
run_cs() {
    local name=$1 key=$2 t0 t1
    shift 2
    rm -f "$RUNS/$name.sleeps"
    t0=$(date +%s%N)
    "${CS_PREFIX[@]}" env COUNTLY_API_KEY="$key" COUNTLY_SYNC_SLEEP_LOG="$RUNS/$name.sleeps" \
        "${WRAP[@]}" "$BIN" "$@" >"$RUNS/$name.out" 2>"$RUNS/$name.err"
    RC=$?
    t1=$(date +%s%N)
    ELAPSED_MS=$(((t1 - t0) / 1000000))
    OUT=$(cat "$RUNS/$name.out")
    ERR=$(tl_untimestamp <"$RUNS/$name.err") # the file keeps the timestamps
    printf '%s\n' "$*" >"$RUNS/$name.cmd"
    CS_LAST=$name
}

# truth SIM TABLE QUERY OUT: the simulator's expected rows into OUT.
truth() {
    sim_get "${PORT[$1]}" "/__sim/truth?table=$2$3" >"$4"
}

# compare NAME CSV TRUTHFILE [KEYS_OUT]: every row against the truth; fields into CMP.
compare() {
    local name=$1
    CMP=$(python3 "$ROOT/tests/e2e/compare.py" --csv "$2" --truth "$3" ${4:+--keys-out "$4"} 2>&1)
    local rc=$?
    check_eq "$name: rows match the truth" 0 "$rc"
    [ $rc -eq 0 ] || printf '%s\n' "$CMP" | head -n 20 | sed 's/^/#   /'
}

cmp_field() { sed -n "s/^$1=//p" <<<"$CMP"; }

iso_to_unix() { python3 -c 'import sys,datetime; print(int(datetime.datetime.strptime(sys.argv[1],"%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()))' "$1"; }

data_lines() { python3 -c 'import sys; sys.path.insert(0, sys.argv[2]); import csvcheck; print(len(csvcheck.read_csv(sys.argv[1])[1]))' "$1" "$ROOT/tests/pipeline"; }
