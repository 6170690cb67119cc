#!/usr/bin/env bash
# test_kill9.sh - crash safety: countly-sync killed with SIGKILL at random
# moments, restarted each time, must end with every row exactly once.
#
# Environment: COUNTLY_SYNC (the binary; default build/native/bin/countly-sync),
# CRASH_KILLS (kills that interrupted a running process, default 50),
# CRASH_USERS (users per app, default 20000), CRASH_SEED (PRNG seed of the
# kill schedule, default 20240607), CRASH_BUDGET (seconds for the kill loop
# of part 1, default 300), CRASH_REFRESH_KILLS (kills per full-refresh
# table, default 3), CRASH_INCR_KILLS (kills during the incremental run,
# default 5), CRASH_BULK (users of each app sharing one lac second, read by
# _id since no page holds them; default 4000), BUILD_DIR, TEST_TMP.
#
#  0. A simulator with 3 apps x CRASH_USERS users; one uninterrupted run
#     measures the run length T and the start-up S (first state commit)
#     with the binary under test; kill delays are scaled to them.
#  1. Rounds of `sync`, each killed after a seeded random delay (start-up,
#     inside a page or two, anywhere in the run) with a random
#     max_records_per_page (100..500), until CRASH_KILLS kills hit a live
#     process. After every kill: state.json parses, users.csv is at least
#     the state's users_csv_bytes and the committed size ends a row,
#     apps.csv/groups.csv are whole; where the kill landed is told from
#     what is on disk. A round ends with an uninterrupted run and a
#     comparison of users.csv (every user exactly once, every column),
#     apps.csv and groups.csv with the simulator's truth.
#  2. Kills during the apps/groups full refresh (simulator fault `slow`,
#     killed while <table>.csv.tmp exists): the published file stays
#     byte-identical; a clean run replaces both correctly.
#  3. Users touched, then an incremental run killed a few times (every
#     /o/db answer slowed): the rows appended are exactly the touched users.
# Helpers: tests/lib/e2e.sh (simulator, configuration, run_cs, compare.py)
# and tests/crash/crashcheck.py (kill schedule, on-disk probe, users check).
# Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=../lib/e2e.sh
. "$ROOT/tests/lib/e2e.sh"

e2e_paths crash
KILLS=${CRASH_KILLS:-50}
USERS=${CRASH_USERS:-20000}
SEED=${CRASH_SEED:-20240607}
BUDGET=${CRASH_BUDGET:-300}
REFRESH_KILLS=${CRASH_REFRESH_KILLS:-3}
INCR_KILLS=${CRASH_INCR_KILLS:-5}
BULK=${CRASH_BULK:-4000}
CHECK=$HERE/crashcheck.py
PKI=$TMP/pki
RUNS=$TMP/runs
# shellcheck disable=SC2034 # read by e2e.sh run_cs
WRAP=() # kill timing is the point here: no valgrind or other wrapper
CS_PID=
SP= # the simulator's port
ADMIN=
T_BEGIN=$(date +%s%N)

rm -rf "$TMP" && mkdir -p "$RUNS"

cleanup() {
    if [ -n "$CS_PID" ]; then kill -KILL "$CS_PID" 2>/dev/null; fi
    stop_sims
    wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- helpers (the simulator, configuration, runs and compare.py: tests/lib/e2e.sh) -------------

now_ms() { echo $(($(date +%s%N) / 1000000)); }
elapsed() { echo $((($(date +%s%N) - T_BEGIN) / 1000000000)); }

# sim PATH: a control or API request to the simulator.
sim() { sim_get "$SP" "$1"; }

# conf FILE OUTDIR PAGE: a configuration for the simulator.
conf() {
    write_config "$1" "server_url=https://localhost:$SP" "app_id=*" "ca_file=$PKI/ca-ec.crt" \
        "output_dir=$2" "max_records_per_page=$3" "initial_sync_days=0" "retry_attempts=2"
}

# start_cs NAME CONF: countly-sync sync in the background (CS_PID).
# $TMP/run.start is touched first: a *.tmp not newer than it is stale (an
# earlier kill left it), not this run's.
start_cs() {
    : >"$TMP/run.start"
    RUN_T0_US=${EPOCHREALTIME/./}
    COUNTLY_API_KEY=$ADMIN "$BIN" -q -c "$2" sync >"$RUNS/$1.out" 2>"$RUNS/$1.err" &
    CS_PID=$!
}

# sync_cs NAME CONF: countly-sync sync to its end (e2e.sh's run_cs): RC.
sync_cs() { run_cs "$1" "$ADMIN" -q -c "$2" sync; }

# Linux x86_64 system call numbers worth naming at kill time.
declare -A SYSCALL=([0]=read [1]=write [3]=close [7]=poll [8]=lseek [44]=sendto [45]=recvfrom
    [74]=fsync [75]=fdatasync [77]=ftruncate [82]=rename [228]=clock_gettime [230]=clock_nanosleep
    [257]=openat [262]=newfstatat [264]=renameat [316]=renameat2 [318]=getrandom [35]=nanosleep
    [5]=fstat [4]=stat [6]=lstat [2]=open [9]=mmap [11]=munmap [12]=brk)

# kill_cs: SIGKILL to CS_PID now; RC = its status (137 when the kill
# interrupted it), SC = the system call it was in (or "running").
kill_cs() {
    local nr=
    SC="?"
    if { read -r nr _ <"/proc/$CS_PID/syscall"; } 2>/dev/null; then
        case $nr in
        running) SC=running ;;
        -1) SC=user ;;
        *) SC=${SYSCALL[$nr]:-sys$nr} ;;
        esac
    fi
    kill -KILL "$CS_PID" 2>/dev/null
    wait "$CS_PID" 2>/dev/null
    RC=$?
    CS_PID=
}

# probe DIR PREV_BYTES STATE_SEEN TABLES_SEEN: crashcheck probe into P[].
declare -A P=()
probe() {
    local line
    P=()
    PROBLEMS=()
    while IFS= read -r line; do
        case $line in
        "problem "*) PROBLEMS+=("${line#problem }") ;;
        *=*) P[${line%%=*}]=${line#*=} ;;
        esac
    done < <(python3 "$CHECK" probe --dir "$1" --prev-bytes "$2" --state-seen "$3" \
        --tables-seen "$4" --apps "$N_APPS" --groups "$N_GROUPS" --since-us "$RUN_T0_US")
}

cmp_field() { sed -n "s/^$1=//p" <<<"$CMP"; }

# compare_users NAME CSV TRUTH [ARGS...]: crashcheck users; fields into CMP.
compare_users() {
    local name=$1 csv=$2 truth=$3 rc
    shift 3
    CMP=$(python3 "$CHECK" users --csv "$csv" --truth "$truth" "$@" 2>&1)
    rc=$?
    check_eq "$name: every row exactly once, every column as the truth says" 0 "$rc"
    [ $rc -eq 0 ] || printf '%s\n' "$CMP" | head -n 20 | sed 's/^/#   /'
}

# compare_table NAME CSV TABLE: apps/groups against the truth (e2e.sh's compare: compare.py).
compare_table() {
    truth crash "$3" "" "$TMP/$3.truth"
    compare "$1 ($3)" "$2" "$TMP/$3.truth"
}

show_log() { tail -n 5 "$RUNS/$1.err" 2>/dev/null | sed 's/^/#   /'; }

file_size() { if [ -e "$1" ]; then stat -c %s "$1"; else echo -1; fi; }

# ---- setup -----------------------------------------------------------------------------------

for tool in python3 curl openssl; do
    command -v $tool >/dev/null || { tl_fail "setup: $tool" "not installed"; tl_summary; exit 1; }
done
[ -x "$BIN" ] || { tl_fail "setup: binary" "$BIN not built"; tl_summary; exit 1; }
bash "$ROOT/tests/integration/gen_pki.sh" "$PKI" >/dev/null 2>&1 ||
    { tl_fail "setup: pki" "gen_pki.sh failed"; tl_summary; exit 1; }

echo "# binary $BIN; $USERS users per app; $KILLS kills; seed $SEED"
# BULK users of each app share one lac second (a bulk import), more than any
# page holds: that second is read by _id, so kills land inside tie seconds.
sim_launch crash --seed 11 --apps 3 --users-per-app "$USERS" --bulk-import "$BULK"
# Generation takes about 1 s per 1500 users: wait longer than sim_wait does.
for ((i = 0; i < 3000; i++)); do
    [ -s "$TMP/crash.port" ] && sim_get "$(cat "$TMP/crash.port")" /__sim/info >/dev/null && break
    kill -0 "${SIM_PIDS[0]}" 2>/dev/null || break
    sleep 0.1
done
sim_wait crash
SP=${PORT[crash]}
echo "# simulator ready after $(elapsed) s"
ADMIN=$(json_field "$(sim /__sim/keys)" admin)
read -r -a APPS <<<"$(json_field "$(sim /__sim/info)" apps)"
check_eq "setup: simulator has 3 apps" 3 "${#APPS[@]}"
N_APPS=${#APPS[@]}
N_GROUPS=4

# ---- 0. one uninterrupted run: the run length T and the start-up S -------------------------

B=$TMP/baseline
conf "$TMP/baseline.json" "$B" 300
t0=$(now_ms)
start_cs baseline "$TMP/baseline.json"
S_MS=
while kill -0 "$CS_PID" 2>/dev/null; do
    if [ -z "$S_MS" ] && [ -e "$B/users.csv" ]; then S_MS=$(($(now_ms) - t0)); fi
    if [ -z "$S_MS" ]; then sleep 0.003; else sleep 0.05; fi
done
wait "$CS_PID"
RC=$?
CS_PID=
T_MS=$(($(now_ms) - t0))
S_MS=${S_MS:-100}
check_eq "baseline: uninterrupted run exit 0" 0 "$RC"
[ "$RC" -eq 0 ] || show_log baseline
echo "# uninterrupted run: ${T_MS} ms; first state commit after ~${S_MS} ms"
T_S=$(awk -v m="$T_MS" 'BEGIN { printf "%.3f", m / 1000 }')
S_S=$(awk -v m="$S_MS" 'BEGIN { printf "%.3f", m / 1000 }')

# The truth does not change in part 1 (no touch): every user, all history.
t0=$(now_ms)
sim "/__sim/truth?table=users&app=*&full=9999999999" >"$TMP/users.truth"
echo "# truth of $(wc -l <"$TMP/users.truth") users fetched in $(($(now_ms) - t0)) ms"

# ---- 1. kill -9 at random moments, restart, again ---------------------------------------------

mapfile -t SCHEDULE < <(python3 "$CHECK" schedule --seed "$SEED" --count $((KILLS * 20)) \
    --t-run "$T_S" --t-start "$S_S")
declare -A CAT=() SCS=() PHASE=() POSITIONS=()
KILLED=0      # kills that interrupted a live process
EXITED=0      # runs that were over before their kill
ROUND=0
ROUNDS_OK=0
FAILS_AFTER_KILL=0
BAD_RUNS=0
SCHED_I=0
LOOP_END=$(($(date +%s) + BUDGET))
PROBLEM_LINES=()

# verify_round DIR LABEL: an uninterrupted run to the end, then the files against the truth.
verify_round() {
    local dir=$1 label=$2
    conf "$TMP/final.json" "$dir" 250
    sync_cs "$label-final" "$TMP/final.json"
    check_eq "$label: final uninterrupted run exit 0" 0 "$RC"
    [ "$RC" -eq 0 ] || show_log "$label-final"
    compare_users "$label: users.csv" "$dir/users.csv" "$TMP/users.truth" --keys-out "$TMP/$label.keys"
    echo "# $label: $(cmp_field rows) rows written by $(cmp_field runs) runs"
    compare_table "$label: apps.csv" "$dir/apps.csv" apps_db
    compare_table "$label: groups.csv" "$dir/groups.csv" groups
    check_eq "$label: no temporary file left" "" "$(cd "$dir" && ls -- *.tmp 2>/dev/null)"
}

new_round() {
    ROUND=$((ROUND + 1))
    RDIR=$TMP/round$ROUND/out
    mkdir -p "$TMP/round$ROUND"
    PREV_BYTES=0
    STATE_SEEN=0
    TABLES_SEEN=0
    ROUND_KILLS=0
}

new_round
while [ "$KILLED" -lt "$KILLS" ] && [ "$(date +%s)" -lt "$LOOP_END" ] && [ "$SCHED_I" -lt "${#SCHEDULE[@]}" ]; do
    read -r delay page mode <<<"${SCHEDULE[$SCHED_I]}"
    SCHED_I=$((SCHED_I + 1))
    conf "$TMP/round$ROUND/conf.json" "$RDIR" "$page"
    name=r$ROUND-$SCHED_I
    start_cs "$name" "$TMP/round$ROUND/conf.json"
    sleep "$delay"
    if [ "$mode" = commit ]; then
        # Spin (no fork, no sleep) until the next state commit has begun:
        # the page's rows are fsync'ed, state.json.tmp is being written.
        for ((spin = 0; spin < 300000; spin++)); do
            [ "$RDIR/state.json.tmp" -nt "$TMP/run.start" ] && break
            kill -0 "$CS_PID" 2>/dev/null || break
        done
    fi
    kill_cs
    if [ "$RC" -eq 137 ]; then
        KILLED=$((KILLED + 1))
        ROUND_KILLS=$((ROUND_KILLS + 1))
        probe "$RDIR" "$PREV_BYTES" "$STATE_SEEN" "$TABLES_SEEN"
        cat=${P[category]:-unknown}
        CAT[$cat]=$((${CAT[$cat]:-0} + 1))
        SCS[$SC]=$((${SCS[$SC]:-0} + 1))
        POSITIONS[${P[position]:-?}]=$((${POSITIONS[${P[position]:-?}]:-0} + 1))
        if [ "$mode" = commit ]; then
            phase="at a state commit"
        elif awk -v d="$delay" -v s="$S_S" 'BEGIN { exit !(d < s) }'; then
            phase="before the first state commit time of the uninterrupted run (${S_MS} ms)"
        else
            phase="after it"
        fi
        PHASE[$phase]=$((${PHASE[$phase]:-0} + 1))
        printf '# kill %d (round %d) after %s s%s, page %s, in %s: %s (state %s, position %s, size %s, committed %s, tail %s)\n' \
            "$KILLED" "$ROUND" "$delay" "$([ "$mode" = commit ] && echo " + next commit")" "$page" "$SC" \
            "$cat" "${P[state]:-?}" "${P[position]:-?}" "${P[size]:-?}" "${P[bytes]:-?}" "${P[tail]:-?}"
        if [ "${#PROBLEMS[@]}" -gt 0 ]; then
            FAILS_AFTER_KILL=$((FAILS_AFTER_KILL + 1))
            for p in "${PROBLEMS[@]}"; do PROBLEM_LINES+=("kill $KILLED (round $ROUND): $p"); done
            printf '#   PROBLEM %s\n' "${PROBLEMS[@]}"
            cp -a "$RDIR" "$TMP/round$ROUND/after-kill-$KILLED" 2>/dev/null
        fi
        [ "${P[state]:-}" = ok ] && STATE_SEEN=1
        case ${P[apps]:-}${P[groups]:-} in ok:*ok:*) TABLES_SEEN=1 ;; esac
        if [ "${P[state]:-}" = ok ] && tl_is_int "${P[bytes]:-}" && [ "${P[bytes]}" -gt "$PREV_BYTES" ]; then
            PREV_BYTES=${P[bytes]}
        fi
    elif [ "$RC" -eq 0 ]; then
        # The run was over before its kill: the round is complete.
        EXITED=$((EXITED + 1))
        echo "# round $ROUND: run $SCHED_I finished on its own before its kill at $delay s ($ROUND_KILLS kills in this round)"
        verify_round "$RDIR" "round $ROUND"
        ROUNDS_OK=$((ROUNDS_OK + 1))
        rm -rf "$RDIR"
        new_round
    else
        BAD_RUNS=$((BAD_RUNS + 1))
        tl_fail "part 1: run $name after a kill" "exit $RC without being killed (cannot resume?)"
        show_log "$name"
        cp -a "$RDIR" "$TMP/round$ROUND/after-bad-run-$SCHED_I" 2>/dev/null
        [ "$BAD_RUNS" -ge 3 ] && break
    fi
done
echo "# part 1: $KILLED kills in $ROUND rounds ($EXITED runs ended before their kill) after $(elapsed) s"
check_ge "part 1: kills that interrupted a running process" "$KILLED" "$KILLS"
check_eq "part 1: every run not killed exited 0" 0 "$BAD_RUNS"
check_eq "part 1: after every kill: state.json parses, users.csv >= users_csv_bytes, committed size ends a row, apps/groups whole" \
    0 "$FAILS_AFTER_KILL"
for p in "${PROBLEM_LINES[@]}"; do echo "#   $p"; done | head -n 20
if [ "$ROUND_KILLS" -gt 0 ] || [ "$ROUNDS_OK" -eq 0 ]; then
    verify_round "$RDIR" "round $ROUND"
fi
echo "# kill points by what was on disk:"
for c in "${!CAT[@]}"; do printf '#   %4d  %s\n' "${CAT[$c]}" "$c"; done | sort -rn
echo "# kill points by the system call the process was in:"
for c in "${!SCS[@]}"; do printf '#   %4d  %s\n' "${SCS[$c]}" "$c"; done | sort -rn
echo "# kill points by kill time:"
for c in "${!PHASE[@]}"; do printf '#   %4d  %s\n' "${PHASE[$c]}" "$c"; done | sort -rn
echo "# kill points by the committed paging position (range, or a tie second read by _id):"
for c in "${!POSITIONS[@]}"; do printf '#   %4d  %s\n' "${POSITIONS[$c]}" "$c"; done | sort -rn
check_ge "part 1: kills with the committed position inside a tie second" "${POSITIONS[tie]:-0}" 1

# ---- 2. kills during the apps/groups full refresh ------------------------------------------------

D=$RDIR
conf "$TMP/refresh.json" "$D" 300
RANDOM=$SEED
refresh_kill() { # TABLE FAULT_QUERY N
    local table=$1 fault=$2 n=$3 i j found wait_s other
    other=$([ "$table" = apps ] && echo groups || echo apps)
    for ((i = 1; i <= n; i++)); do
        cp "$D/apps.csv" "$TMP/apps.before" && cp "$D/groups.csv" "$TMP/groups.before"
        sim "/__sim/reset-faults" >/dev/null
        sim "/__sim/fault?kind=slow&seconds=1&$fault" >/dev/null ||
            tl_fail "refresh $table $i: arm the slow fault" "$fault"
        start_cs "refresh-$table-$i" "$TMP/refresh.json"
        found=0
        for ((j = 0; j < 2000; j++)); do
            if [ "$D/$table.csv.tmp" -nt "$TMP/run.start" ]; then found=1; break; fi
            kill -0 "$CS_PID" 2>/dev/null || break
            sleep 0.005
        done
        wait_s=$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", r % 900 / 1000 }')
        [ "$found" -eq 1 ] && sleep "$wait_s"
        local tmp_at_kill=0
        [ "$D/$table.csv.tmp" -nt "$TMP/run.start" ] && tmp_at_kill=1
        kill_cs
        check_eq "refresh $table $i: killed while $table.csv.tmp existed (+$wait_s s, in $SC)" "137 1" "$RC $tmp_at_kill"
        check_true "refresh $table $i: $table.csv byte-identical to before" "it changed" \
            cmp -s "$TMP/$table.before" "$D/$table.csv"
        if [ "$table" = apps ]; then
            check_true "refresh apps $i: groups.csv untouched" "it changed" cmp -s "$TMP/groups.before" "$D/groups.csv"
        fi
        probe "$D" 0 1 1
        check_eq "refresh $table $i: state parses, $other.csv whole, users.csv consistent" \
            "ok ok:$([ "$other" = apps ] && echo "$N_APPS" || echo "$N_GROUPS") 0" \
            "${P[state]:-?} ${P[$other]:-?} ${#PROBLEMS[@]}"
    done
}
USERS_BEFORE=$(file_size "$D/users.csv")
refresh_kill apps "path=/o/db&collection=apps" "$REFRESH_KILLS"
refresh_kill groups "path=/o/groups" "$REFRESH_KILLS"
sim "/__sim/reset-faults" >/dev/null
sync_cs refresh-clean "$TMP/refresh.json"
check_eq "refresh: clean run exit 0" 0 "$RC"
[ "$RC" -eq 0 ] || show_log refresh-clean
compare_table "refresh: apps.csv replaced" "$D/apps.csv" apps_db
compare_table "refresh: groups.csv replaced" "$D/groups.csv" groups
check_eq "refresh: no temporary file left" "" "$(cd "$D" && ls -- *.tmp 2>/dev/null)"
check_eq "refresh: users.csv unchanged (no new users)" "$USERS_BEFORE" "$(file_size "$D/users.csv")"

# ---- 3. incremental: touched users, a run killed a few times -------------------------------------

BEFORE=$(file_size "$D/users.csv")
declare -A CURSOR=()
for app in "${APPS[@]}"; do
    CURSOR[$app]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["apps"][sys.argv[2]])' "$D/state.json" "$app")
done
: >"$TMP/touched"
for app in "${APPS[@]}"; do
    sim "/__sim/touch?app=$app&count=60&seed=5" |
        python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["touched"]))' >>"$TMP/touched"
done
sleep 1.2 # the next run starts after the touch, on the server's clock
sim "/__sim/fault?kind=slow&seconds=0.25&count=-1&path=/o/db" >/dev/null
conf "$TMP/incr.json" "$D" 25
ikills=0
for ((i = 1; i <= INCR_KILLS * 4 && ikills < INCR_KILLS; i++)); do
    delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", 0.02 + r % 2500 / 1000 }')
    start_cs "incr-$i" "$TMP/incr.json"
    sleep "$delay"
    kill_cs
    if [ "$RC" -eq 137 ]; then
        ikills=$((ikills + 1))
        probe "$D" "$BEFORE" 1 1
        echo "# incremental kill $ikills after $delay s, in $SC: ${P[category]:-?}"
        check_eq "incremental kill $ikills: state parses, users.csv >= committed, tables whole" \
            "ok 0" "${P[state]:-?} ${#PROBLEMS[@]}"
        [ "${#PROBLEMS[@]}" -eq 0 ] || printf '#   PROBLEM %s\n' "${PROBLEMS[@]}"
    elif [ "$RC" -eq 0 ]; then
        echo "# incremental run $i finished before its kill at $delay s"
        break
    else
        tl_fail "incremental run $i" "exit $RC without being killed"
        show_log "incr-$i"
    fi
done
check_ge "incremental: kills that interrupted a running process" "$ikills" 1
sim "/__sim/reset-faults" >/dev/null
sync_cs incr-final "$TMP/incr.json"
check_eq "incremental: final run exit 0" 0 "$RC"
[ "$RC" -eq 0 ] || show_log incr-final
: >"$TMP/incr.truth"
for app in "${APPS[@]}"; do
    sim "/__sim/truth?table=users&app=$app&gte=${CURSOR[$app]}&lt=9999999999" >>"$TMP/incr.truth"
done
compare_users "incremental: appended rows" "$D/users.csv" "$TMP/incr.truth" \
    --from-byte "$BEFORE" --keys-out "$TMP/incr.keys"
check_eq "incremental: appended users = the touched ones, each once" \
    "$(sort "$TMP/touched")" "$(sort "$TMP/incr.keys")"
echo "# incremental: $(cmp_field rows) rows appended by $(cmp_field runs) runs after $ikills kills"

echo "# total time $(elapsed) s"
if [ "$TL_FAILED" -eq 0 ]; then # the big files are not needed any more
    rm -rf "$TMP"/round* "$TMP/baseline" "$TMP/users.truth"
fi
tl_summary
