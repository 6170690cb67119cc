#!/usr/bin/env bash
# test_kill9.sh - crash safety: countly-sync killed (SIGKILL) at every
# durable operation in turn, and at a few random moments, restarted each
# time, must end with every row exactly once.
#
# The binary under test is the test-hooks build (`make asan-tests` builds
# build/asan/bin/countly-sync-hooks; port/posix/port_posix_hooks.h): with
# COUNTLY_SYNC_CRASH_AT=N it raises SIGKILL at crash point N. Its durable
# operations (each fsync of a file, ftruncate, rename and folder fsync) are
# numbered 1, 2, 3, ... in the order the process calls them, and operation
# k has two crash points: 2k-1 just before it and 2k just after it. With
# COUNTLY_SYNC_CRASH_WRITE=N its N-th file write writes half its bytes and
# then dies (a torn row). Both say where they died on stderr. With
# COUNTLY_SYNC_CLOCK_STEP=MS its clock moves on by MS at every request.
#
# Environment: COUNTLY_SYNC_HOOKS (the binary; default
# $BUILD_DIR/asan/bin/countly-sync-hooks), CRASH_USERS (users per app,
# default 1000), CRASH_BULK (users of each app sharing one lac second, read
# by _id since no page holds them; default 300), CRASH_PAGE (default 100),
# CRASH_SMOKE_KILLS (random kills, default 5), CRASH_SEED (their PRNG seed,
# default 20240607), BUILD_DIR, TEST_TMP.
#
#  0. A simulator with 3 apps x CRASH_USERS users; one uninterrupted run
#     measures the run length T and the start-up S (first state commit).
#  1. Run N = 1, 2, 3, ... with COUNTLY_SYNC_CRASH_AT=N, each resuming what
#     the run before left, until a run completes without reaching its crash
#     point: runs 1..~26 stop at every point of the start-up (apps and
#     groups refresh, first state commit), later ones at every point of the
#     page cycle in turn (rows fsync'ed, state written, renamed, folder
#     synced), in the first window, the tie seconds read by _id and at the
#     app changes. Page sizes cycle through CRASH_PAGE x 1, 1.5, 2.5, 2
#     (all below CRASH_BULK); a commit per page (the clock step below). After every kill: state.json parses, users.csv
#     is at least the state's users_csv_bytes and the committed size ends a
#     row, apps.csv/groups.csv are whole; where the kill landed is told from
#     the hook's line and from what is on disk (the committed paging
#     position: at least one inside a tie second). Then an uninterrupted run
#     and users.csv (every user exactly once, every column), apps.csv and
#     groups.csv against the simulator's truth.
#     1b. Torn writes: the N-th file write cut in half (apps.csv.tmp,
#     groups.csv.tmp, state.json.tmp, users.csv), the same checks; at least
#     one kill leaves a partial row past the committed size.
#     1c. A short random smoke: CRASH_SMOKE_KILLS kills after seeded random
#     delays (start-up, inside a page, at a state commit, deep into a run),
#     the same checks.
#  2. Kills at every crash point of the apps/groups full refresh of a
#     completed folder: before its rename the published file is
#     byte-identical and <table>.csv.tmp exists; after it the file equals
#     the truth; the other table is untouched and whole; a clean run then
#     replaces both correctly and appends nothing.
#  3. Users touched, then an incremental run killed at crash point N = R,
#     R+1, R+2, ... in turn (each run resuming) until one completes, R the
#     first point past the refresh (the points before it are part 2's): the
#     rows appended are exactly the touched users, each once.
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
BIN=${COUNTLY_SYNC_HOOKS:-$BUILD_DIR/asan/bin/countly-sync-hooks}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
USERS=${CRASH_USERS:-1000}
BULK=${CRASH_BULK:-300}
PAGE=${CRASH_PAGE:-100}
SMOKE=${CRASH_SMOKE_KILLS:-5}
SEED=${CRASH_SEED:-20240607}
MAX_POINTS=2000 # a run that never completes: give up there
# Pages are committed in groups, at most about once a second
# (AGENT_COMMIT_INTERVAL_MS), and at each window's end. In parts 1 and 3
# every request moves the binary's clock on by STEP ms (hook
# COUNTLY_SYNC_CLOCK_STEP): every page is then committed on its own, as on
# a server answering a page a second, so that the crash points fall at
# every page (and inside the tie seconds). Parts 1b, 1c and 2 run on the
# real clock: groups of pages committed together.
STEP=1000
CHECK=$HERE/crashcheck.py
PKI=$TMP/pki
RUNS=$TMP/runs
# shellcheck disable=SC2034 # read by e2e.sh run_cs
WRAP=() # kill timing is the point here: no valgrind or other wrapper
CS_PID=
SP= # the simulator's port
ADMIN=
T_BEGIN=$(date +%s%N)
PAGES=("$PAGE" $((PAGE * 3 / 2)) $((PAGE * 5 / 2)) $((PAGE * 2)))

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

# start_cs NAME CONF [VAR=VALUE...]: countly-sync sync in the background
# (CS_PID), with the hook variables given. $TMP/run.start is touched first:
# a *.tmp not newer than it is stale (an earlier kill left it), not this run's.
start_cs() {
    local name=$1 cfg=$2
    shift 2
    : >"$TMP/run.start"
    RUN_T0_US=${EPOCHREALTIME/./}
    env "$@" COUNTLY_API_KEY="$ADMIN" "$BIN" -q -c "$cfg" sync >"$RUNS/$name.out" 2>"$RUNS/$name.err" &
    CS_PID=$!
}

# hook_run NAME CONF VAR=VALUE...: a run with a crash hook armed, to its
# end or its kill: RC (137 when the hook killed it), HOOK (the hook's line
# without its prefix, empty when the run ended on its own). The run is a
# subshell's child: the subshell, not this shell, reports the kill (to /dev/null).
hook_run() {
    local name=$1 cfg=$2
    shift 2
    : >"$TMP/run.start"
    RUN_T0_US=${EPOCHREALTIME/./}
    (
        env "$@" COUNTLY_API_KEY="$ADMIN" "$BIN" -q -c "$cfg" sync >"$RUNS/$name.out" 2>"$RUNS/$name.err"
        exit $? # (not the subshell's last command: it does not exec the binary)
    ) 2>/dev/null
    RC=$?
    HOOK=$(sed -n 's/^countly-sync-hooks: //p' "$RUNS/$name.err" | tail -n 1)
}

# sync_cs NAME CONF: countly-sync sync to its end (e2e.sh's run_cs): RC.
sync_cs() { run_cs "$1" "$ADMIN" -q -c "$2" sync; }

# Linux x86_64 system call numbers worth naming at kill time (random kills).
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

# ---- kill bookkeeping: one series of kills into one output folder -----------------------------

declare -A CAT=() WHERE=() POSITIONS=() TAILS=()
KILLS_TOTAL=0
FAILS_AFTER_KILL=0
PROBLEM_LINES=()

# series_begin LABEL DIR: a new series; the folder starts empty.
series_begin() {
    S_LABEL=$1
    S_DIR=$2
    S_KILLS=0
    S_BAD=0
    PREV_BYTES=0
    STATE_SEEN=0
    TABLES_SEEN=0
    rm -rf "$S_DIR" && mkdir -p "$(dirname "$S_DIR")"
}

# after_kill WHAT: the on-disk checks after a kill of the series, counted
# and reported (WHAT: where the process was).
after_kill() {
    local what=$1 cat p
    S_KILLS=$((S_KILLS + 1))
    KILLS_TOTAL=$((KILLS_TOTAL + 1))
    probe "$S_DIR" "$PREV_BYTES" "$STATE_SEEN" "$TABLES_SEEN"
    cat=${P[category]:-unknown}
    CAT[$cat]=$((${CAT[$cat]:-0} + 1))
    POSITIONS[${P[position]:-?}]=$((${POSITIONS[${P[position]:-?}]:-0} + 1))
    TAILS[${P[tail]%%:*}]=$((${TAILS[${P[tail]%%:*}]:-0} + 1))
    printf '# %s kill %d, %s: %s (state %s, position %s, size %s, committed %s, tail %s)\n' \
        "$S_LABEL" "$S_KILLS" "$what" "$cat" "${P[state]:-?}" "${P[position]:-?}" "${P[size]:-?}" \
        "${P[bytes]:-?}" "${P[tail]:-?}"
    if [ "${#PROBLEMS[@]}" -gt 0 ]; then
        FAILS_AFTER_KILL=$((FAILS_AFTER_KILL + 1))
        for p in "${PROBLEMS[@]}"; do PROBLEM_LINES+=("$S_LABEL kill $S_KILLS: $p"); done
        printf '#   PROBLEM %s\n' "${PROBLEMS[@]}"
        cp -a "$S_DIR" "$S_DIR.after-kill-$S_KILLS" 2>/dev/null
    fi
    [ "${P[state]:-}" = ok ] && STATE_SEEN=1
    case ${P[apps]:-}${P[groups]:-} in ok:*ok:*) TABLES_SEEN=1 ;; esac
    if [ "${P[state]:-}" = ok ] && tl_is_int "${P[bytes]:-}" && [ "${P[bytes]}" -gt "$PREV_BYTES" ]; then
        PREV_BYTES=${P[bytes]}
    fi
}

# bad_run NAME: a run that was neither killed nor successful.
bad_run() {
    S_BAD=$((S_BAD + 1))
    tl_fail "$S_LABEL: run $1" "exit $RC without being killed (cannot resume?)"
    show_log "$1"
    cp -a "$S_DIR" "$S_DIR.after-bad-run-$1" 2>/dev/null
}

# hook_where: the hook's line, shortened for the reports ("before fsync #14 users.csv").
hook_where() {
    sed -E 's/^crash point [0-9]+: //; s/^torn write #[0-9]+: /torn write, /; s/ \(([^()]*\/)?([^()/]*)\)$/ \2/' <<<"$HOOK"
}

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

# ---- setup -----------------------------------------------------------------------------------

for tool in python3 curl openssl; do
    command -v $tool >/dev/null || { tl_fail "setup: $tool" "not installed"; tl_summary; exit 1; }
done
[ -x "$BIN" ] || { tl_fail "setup: binary" "$BIN not built (make asan-tests)"; tl_summary; exit 1; }
bash "$ROOT/tests/integration/gen_pki.sh" "$PKI" >/dev/null 2>&1 ||
    { tl_fail "setup: pki" "gen_pki.sh failed"; tl_summary; exit 1; }

echo "# binary $BIN; $USERS users per app, $BULK of them in one lac second; pages ${PAGES[*]}"
start_sim crash --seed 11 --apps 3 --users-per-app "$USERS" --bulk-import "$BULK"
SP=${PORT[crash]}
echo "# simulator ready after $(elapsed) s"
ADMIN=$(json_field "$(sim /__sim/keys)" admin)
read -r -a APPS <<<"$(json_field "$(sim /__sim/info)" apps)"
[ "${#APPS[@]}" -eq 3 ] || { tl_fail "setup: simulator has 3 apps" "${#APPS[*]}"; tl_summary; exit 1; }
N_APPS=${#APPS[@]}
N_GROUPS=4

# The binary must have the hooks: crash point 1 kills it.
conf "$TMP/hookcheck.json" "$TMP/hookcheck" "$PAGE"
hook_run hookcheck "$TMP/hookcheck.json" COUNTLY_SYNC_CRASH_AT=1
if [ "$RC" -ne 137 ] || [ -z "$HOOK" ]; then
    tl_fail "setup: test hooks" "$BIN ran on past COUNTLY_SYNC_CRASH_AT=1 (exit $RC): not a test-hooks build (make asan-tests)"
    tl_summary
    exit 1
fi

# ---- 0. one uninterrupted run: the run length T and the start-up S -------------------------

B=$TMP/baseline
conf "$TMP/baseline.json" "$B" "$PAGE"
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
sim "/__sim/truth?table=users&app=*&full=9999999999" >"$TMP/users.truth"
echo "# truth: $(wc -l <"$TMP/users.truth") users"

# ---- 1. a kill at crash point N = 1, 2, 3, ... of each run in turn ----------------------------

series_begin "part 1" "$TMP/part1/out"
for ((n = 1; n <= MAX_POINTS; n++)); do
    page=${PAGES[$((n % ${#PAGES[@]}))]}
    conf "$TMP/part1/conf.json" "$S_DIR" "$page"
    hook_run "p1-$n" "$TMP/part1/conf.json" COUNTLY_SYNC_CRASH_AT=$n COUNTLY_SYNC_CLOCK_STEP=$STEP
    if [ "$RC" -eq 137 ] && [ -n "$HOOK" ]; then
        where=$(hook_where)
        kind=$(sed -E 's/ #[0-9]+//' <<<"$where")
        WHERE[$kind]=$((${WHERE[$kind]:-0} + 1))
        after_kill "point $n, page $page, $where"
    elif [ "$RC" -eq 0 ]; then
        echo "# part 1: run $n completed before its crash point ($((n - 1)) kills)"
        break
    else
        bad_run "p1-$n"
        [ "$S_BAD" -ge 3 ] && break
    fi
done
P1_KILLS=$S_KILLS
check_ge "part 1: a kill at every crash point N of run N until one completed" "$P1_KILLS" 20
check_eq "part 1: a run completed (before crash point $MAX_POINTS)" 1 "$([ "$RC" -eq 0 ] && echo 1 || echo 0)"
check_eq "part 1: every run not killed exited 0" 0 "$S_BAD"
verify_round "$S_DIR" "part 1"
P1_DIR=$S_DIR

# ---- 1b. torn writes ------------------------------------------------------------------------------

series_begin "part 1b" "$TMP/part1b/out"
TORN_BEFORE=${TAILS[torn]:-0}
conf "$TMP/part1b/conf.json" "$S_DIR" "$PAGE"
for w in 1 3 5 8 13 21 34 55; do
    hook_run "p1b-$w" "$TMP/part1b/conf.json" COUNTLY_SYNC_CRASH_WRITE=$w
    if [ "$RC" -eq 137 ] && [ -n "$HOOK" ]; then
        after_kill "write $w, $(hook_where)"
    elif [ "$RC" -ne 0 ]; then
        bad_run "p1b-$w"
    fi
done
check_eq "part 1b: every run not killed exited 0" 0 "$S_BAD"
check_ge "part 1b: kills that left a partial row past the committed size" $((${TAILS[torn]:-0} - TORN_BEFORE)) 1
verify_round "$S_DIR" "part 1b"

# ---- 1c. a random smoke: kills after seeded random delays --------------------------------------

mapfile -t SCHEDULE < <(python3 "$CHECK" schedule --seed "$SEED" --count $((SMOKE * 8)) \
    --t-run "$T_S" --t-start "$S_S")
declare -A SCS=()
series_begin "part 1c" "$TMP/part1c/out"
conf "$TMP/part1c/conf.json" "$S_DIR" "$PAGE"
EXITED=0
for ((i = 0; i < ${#SCHEDULE[@]} && S_KILLS < SMOKE; i++)); do
    read -r delay page mode <<<"${SCHEDULE[$i]}"
    conf "$TMP/part1c/conf.json" "$S_DIR" "$page"
    start_cs "p1c-$i" "$TMP/part1c/conf.json"
    sleep "$delay"
    if [ "$mode" = commit ]; then
        # Spin (no fork, no sleep) until the next state commit has begun:
        # the page's rows are fsync'ed, state.json.tmp is being written.
        for ((spin = 0; spin < 300000; spin++)); do
            [ "$S_DIR/state.json.tmp" -nt "$TMP/run.start" ] && break
            kill -0 "$CS_PID" 2>/dev/null || break
        done
    fi
    kill_cs
    if [ "$RC" -eq 137 ]; then
        SCS[$SC]=$((${SCS[$SC]:-0} + 1))
        after_kill "after $delay s$([ "$mode" = commit ] && echo " + next commit"), page $page, in $SC"
    elif [ "$RC" -eq 0 ]; then
        EXITED=$((EXITED + 1)) # the run was over before its kill
    else
        bad_run "p1c-$i"
    fi
done
echo "# part 1c: $S_KILLS random kills ($EXITED runs ended before their kill)"
check_ge "part 1c: random kills that interrupted a running process" "$S_KILLS" "$SMOKE"
check_eq "part 1c: every run not killed exited 0" 0 "$S_BAD"
verify_round "$S_DIR" "part 1c"
echo "# random kills by the system call the process was in:"
for c in "${!SCS[@]}"; do printf '#   %4d  %s\n' "${SCS[$c]}" "$c"; done | sort -rn

check_eq "parts 1-1c: after every kill: state.json parses, users.csv >= users_csv_bytes, committed size ends a row, apps/groups whole" \
    0 "$FAILS_AFTER_KILL"
for p in "${PROBLEM_LINES[@]}"; do echo "#   $p"; done | head -n 20
echo "# part 1 kills by crash point (operation, file):"
for c in "${!WHERE[@]}"; do printf '#   %4d  %s\n' "${WHERE[$c]}" "$c"; done | sort -k2
echo "# kills by what was on disk:"
for c in "${!CAT[@]}"; do printf '#   %4d  %s\n' "${CAT[$c]}" "$c"; done | sort -rn
echo "# kills by the committed paging position (range, or a tie second read by _id):"
for c in "${!POSITIONS[@]}"; do printf '#   %4d  %s\n' "${POSITIONS[$c]}" "$c"; done | sort -rn
check_ge "parts 1-1c: kills with the committed position inside a tie second" "${POSITIONS[tie]:-0}" 1
echo "# parts 1-1c: $KILLS_TOTAL kills after $(elapsed) s"

# ---- 2. kills at every crash point of the apps/groups full refresh -----------------------------

D=$P1_DIR
conf "$TMP/refresh.json" "$D" "$PAGE"
truth crash apps_db "" "$TMP/apps_db.truth"
truth crash groups "" "$TMP/groups.truth"
USERS_BEFORE=$(file_size "$D/users.csv")
table=apps
renamed=0
REFRESH_KILLS=0
declare -A SEEN_TABLE=()
for ((n = 1; n <= MAX_POINTS; n++)); do
    cp "$D/apps.csv" "$TMP/apps.before" && cp "$D/groups.csv" "$TMP/groups.before"
    hook_run "refresh-$n" "$TMP/refresh.json" COUNTLY_SYNC_CRASH_AT=$n
    if [ "$RC" -ne 137 ] || [ -z "$HOOK" ]; then
        tl_fail "refresh point $n: killed by the hook" "exit $RC"
        show_log "refresh-$n"
        break
    fi
    where=$(hook_where)
    case $where in
    *apps.csv*) [ "$table" = apps ] || renamed=0; table=apps ;;
    *groups.csv*) [ "$table" = groups ] || renamed=0; table=groups ;;
    *" dirsync "*) ;; # the folder sync after the table's rename
    *) break ;;       # past the refresh (state.json, users.csv)
    esac
    case $where in "after rename"*) renamed=1 ;; esac
    other=$([ "$table" = apps ] && echo groups || echo apps)
    name="refresh point $n ($where)"
    if [ "$renamed" -eq 0 ]; then
        check_true "$name: $table.csv byte-identical to before" "it changed" \
            cmp -s "$TMP/$table.before" "$D/$table.csv"
        check_true "$name: $table.csv.tmp exists" "it does not" test -e "$D/$table.csv.tmp"
    else
        compare "$name: $table.csv replaced" "$D/$table.csv" \
            "$TMP/$([ "$table" = apps ] && echo apps_db || echo groups).truth"
        check_true "$name: no $table.csv.tmp left" "it exists" test ! -e "$D/$table.csv.tmp"
    fi
    [ "$table" = apps ] && check_true "$name: groups.csv untouched" "it changed" \
        cmp -s "$TMP/groups.before" "$D/groups.csv"
    probe "$D" 0 1 1
    check_eq "$name: state parses, $other.csv whole, users.csv consistent" \
        "ok ok:$([ "$other" = apps ] && echo "$N_APPS" || echo "$N_GROUPS") 0" \
        "${P[state]:-?} ${P[$other]:-?} ${#PROBLEMS[@]}"
    REFRESH_KILLS=$((REFRESH_KILLS + 1))
    SEEN_TABLE[$table]=1
done
REFRESH_END=$n # the first crash point past the refresh
echo "# refresh: $REFRESH_KILLS kills during the refresh, then point $n: $where"
check_eq "refresh: kills in both tables' refresh" "apps groups" "$(echo "${!SEEN_TABLE[@]}" | tr ' ' '\n' | sort | xargs)"
sync_cs refresh-clean "$TMP/refresh.json"
check_eq "refresh: clean run exit 0" 0 "$RC"
[ "$RC" -eq 0 ] || show_log refresh-clean
compare_table "refresh: apps.csv replaced" "$D/apps.csv" apps_db
compare_table "refresh: groups.csv replaced" "$D/groups.csv" groups
check_eq "refresh: no temporary file left" "" "$(cd "$D" && ls -- *.tmp 2>/dev/null)"
check_eq "refresh: users.csv unchanged (no new users)" "$USERS_BEFORE" "$(file_size "$D/users.csv")"

# ---- 3. incremental: touched users, a run killed at crash point N = 1, 2, 3, ... ---------------

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
conf "$TMP/incr.json" "$D" 25
ikills=0
ibad=0
iproblems=0
# The crash points before REFRESH_END are the refresh's, killed in part 2:
# start past them.
for ((n = REFRESH_END; n <= MAX_POINTS; n++)); do
    hook_run "incr-$n" "$TMP/incr.json" COUNTLY_SYNC_CRASH_AT=$n COUNTLY_SYNC_CLOCK_STEP=$STEP
    if [ "$RC" -eq 137 ] && [ -n "$HOOK" ]; then
        ikills=$((ikills + 1))
        probe "$D" "$BEFORE" 1 1
        echo "# incremental kill $ikills, $(hook_where): ${P[category]:-?} (position ${P[position]:-?})"
        if [ "${P[state]:-?} ${#PROBLEMS[@]}" != "ok 0" ]; then
            iproblems=$((iproblems + 1))
            printf '#   PROBLEM %s\n' "${PROBLEMS[@]}"
        fi
    elif [ "$RC" -eq 0 ]; then
        echo "# incremental run $n completed before its crash point"
        break
    else
        ibad=$((ibad + 1))
        tl_fail "incremental run $n" "exit $RC without being killed"
        show_log "incr-$n"
        [ "$ibad" -ge 3 ] && break
    fi
done
check_ge "incremental: a kill at every crash point N of run N until one completed" "$ikills" 10
check_eq "incremental: after every kill: state parses, users.csv >= committed, tables whole" 0 "$iproblems"
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
    rm -rf "$TMP"/part1* "$TMP/baseline" "$TMP/users.truth"
fi
tl_summary
