#!/usr/bin/env bash
# test_runs.sh - the runs output layout (output_layout "runs", SPEC "Output
# layouts") against the simulator.
#
#  1. Two runs and a third after deleting every shipped file: the exact
#     file names (apps/STAMP.csv, groups/STAMP.csv, users/STAMP-0001.csv,
#     runs/STAMP.json), their header rows (those of the append layout),
#     every file equal to the truth for its run, the manifest's rows, bytes
#     and sha256 right (and the first run's still right after the second),
#     no hidden file left, the third run exact.
#  2. Parts: output_part_mb "1" gives several parts, numbered from 0001,
#     each within 1 MiB, together every user exactly once, all listed in
#     the manifest.
#  3. kill -9 (the test-hooks build, COUNTLY_SYNC_CRASH_AT=N at every
#     durable operation in turn, each run resuming the last) with 1 MB
#     parts: after every kill every file under a final name parses
#     completely (csv module, header, no torn row); at the end every user
#     exactly once in the parts, and the manifest right.
#     The same with gzip (every third durable operation): the open part is
#     a .csv.gz resumed at its committed size, every part within 1 MiB of
#     CSV once inflated.
#  3b. A runs-layout run killed with its part open, then an append-layout
#     run: the part is published, and it and users.csv together hold
#     every user exactly once.
#  3b'. A gzip runs-layout run killed with its part open, then a run
#     without gzip: the part is published as it stood (a whole gzip file,
#     in the manifest), the rest in plain parts, every user exactly once.
#  3c. Users off, then the server's clock set back: no run takes an
#     earlier run's stamp, and no earlier file changes.
#  4. The fleet recipe's local half: the closed files of two runs moved
#     away between runs (as rclone move would) into host=gw1/ folders,
#     loaded into PostgreSQL, and "newest processed_at per user_id" leaves
#     exactly one current row per user with the latest values.
# Environment: COUNTLY_SYNC, COUNTLY_SYNC_HOOKS, COUNTLY_SYNC_WRAPPER, BUILD_DIR, TEST_TMP.
# Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=../lib/e2e.sh
. "$ROOT/tests/lib/e2e.sh"
# shellcheck source=../lib/pg.sh
. "$ROOT/tests/lib/pg.sh"

e2e_paths runs
PKI=$TMP/pki
RUNS=$TMP/runs
CHECK=$HERE/runscheck.py
CRASHCHECK=$ROOT/tests/crash/crashcheck.py
HOOKS=${COUNTLY_SYNC_HOOKS:-$BUILD_DIR/asan/bin/countly-sync-hooks}
case $HOOKS in /*) ;; *) HOOKS=$ROOT/$HOOKS ;; esac
MIB=1048576
rm -rf "$TMP" && mkdir -p "$RUNS"

cleanup() {
    stop_sims
    pg_stop
}
trap cleanup EXIT

for tool in python3 curl openssl; do
    command -v $tool >/dev/null || { tl_fail "setup: $tool" "not installed"; tl_summary; exit 1; }
done
[ -x "$BIN" ] || { tl_fail "setup: binary" "$BIN not built"; tl_summary; exit 1; }
bash "$ROOT/tests/integration/gen_pki.sh" "$PKI" >/dev/null 2>&1 ||
    { tl_fail "setup: pki" "gen_pki.sh failed"; tl_summary; exit 1; }

start_sim rs --seed 6 --apps 2 --users-per-app 1500
SP=${PORT[rs]}
ADMIN=$(json_field "$(sim_get "$SP" /__sim/keys)" admin)
read -r -a APPS <<<"$(json_field "$(sim_get "$SP" /__sim/info)" apps)"
truth rs apps_db "" "$TMP/apps.truth"
truth rs groups "" "$TMP/groups.truth"

# rconf NAME KEY=VALUE...: a runs-layout configuration, output into $TMP/NAME.
rconf() {
    local name=$1
    shift
    write_config "$TMP/$name.json" "server_url=https://localhost:$SP" "app_id=*" \
        "ca_file=$PKI/ca-ec.crt" "output_dir=$TMP/$name" "max_records_per_page=250" \
        "initial_sync_days=0" "retry_attempts=1" "output_layout=runs" "$@"
}

# shipped DIR: the files a consumer would ship (every file but the state
# and its lock), relative, sorted, on one line.
shipped() {
    (cd "$1" && find apps groups users runs -type f ! -name '.*' 2>/dev/null | sort | tr '\n' ' ' |
        sed 's/ $//')
}

# hidden DIR: how many hidden (temporary) files the run folders hold.
hidden() { find "$1"/apps "$1"/groups "$1"/users "$1"/runs -name '.*' -type f 2>/dev/null | wc -l; }

# stamp_of ISO: 2026-12-06T17:04:28Z -> 20261206T170428Z
stamp_of() { tr -d ':-' <<<"$1"; }

# manifest_check NAME DIR MANIFEST [LIMIT]: runscheck.py manifest; its lines in MAN.
manifest_check() {
    MAN=$(python3 "$CHECK" manifest --dir "$2" --manifest "$3" ${4:+--limit "$4"} 2>&1)
    local rc=$?
    check_eq "$1: the manifest's rows, bytes and sha256 are the files'" 0 "$rc"
    [ $rc -eq 0 ] || printf '%s\n' "$MAN" | head -n 15 | sed 's/^/#   /'
}
man_field() { sed -n "s/^$1=//p" <<<"$MAN"; }

# The header rows of the append layout, for comparison.
write_config "$TMP/ref.json" "server_url=https://localhost:$SP" "app_id=*" "ca_file=$PKI/ca-ec.crt" \
    "output_dir=$TMP/ref" "initial_sync_days=0" "max_records_per_page=250"
run_cs ref "$ADMIN" -c "$TMP/ref.json" sync
setup_eq "append layout reference run: exit 0" 0 "$RC"
HEADERS=(--header "apps=$TMP/ref/apps.csv" --header "groups=$TMP/ref/groups.csv"
    --header "users=$TMP/ref/users.csv")

# ---- 1. two runs, then a third after every shipped file is deleted ------------------------------

D=$TMP/fleet
rconf fleet
run_cs run1 "$ADMIN" -c "$TMP/fleet.json" sync
check_eq "run 1: exit 0" 0 "$RC"
M1=$(ls "$D"/runs/*.json 2>/dev/null | head -n 1)
RUN1_ISO=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_start"])' "$M1")
S1=$(stamp_of "$RUN1_ISO")
RUN1=$(iso_to_unix "$RUN1_ISO")
check_eq "run 1: the files, named after the run's start on the server clock" \
    "apps/$S1.csv groups/$S1.csv runs/$S1.json users/$S1-0001.csv" "$(shipped "$D")"
check_eq "run 1: no hidden file left" 0 "$(hidden "$D")"
check_true "run 1: no users.csv, apps.csv or groups.csv" "found one" \
    test ! -e "$D/users.csv" -a ! -e "$D/apps.csv" -a ! -e "$D/groups.csv"
for t in apps groups users; do
    f=$D/$t/$S1.csv
    [ $t = users ] && f=$D/users/$S1-0001.csv
    check_eq "run 1: $t header row is the append layout's" "$(head -n 1 "$TMP/ref/$t.csv")" "$(head -n 1 "$f")"
done
compare "run 1: apps/$S1.csv" "$D/apps/$S1.csv" "$TMP/apps.truth"
compare "run 1: groups/$S1.csv" "$D/groups/$S1.csv" "$TMP/groups.truth"
truth rs users "&app=*&full=$RUN1" "$TMP/users1.truth"
compare "run 1: users/$S1-0001.csv" "$D/users/$S1-0001.csv" "$TMP/users1.truth"
manifest_check "run 1" "$D" "$M1"
check_eq "run 1: the manifest lists its files" "apps/$S1.csv groups/$S1.csv users/$S1-0001.csv" \
    "$(man_field paths)"
check_eq "run 1: the manifest's users rows" "$(wc -l <"$TMP/users1.truth")" "$(man_field rows)"
check_eq "run 1: the manifest's outcome" "ok" "$(man_field outcome)"
check_eq "run 1: files get file_mode 0600" "600 600 600 600" \
    "$(cd "$D" && stat -c %a apps/$S1.csv groups/$S1.csv users/$S1-0001.csv runs/$S1.json | tr '\n' ' ' | sed 's/ $//')"

TOUCHED=$(sim_get "$SP" "/__sim/touch?app=${APPS[0]}&count=37")
sleep 1.2 # the next run starts after the touch, on the server's clock
run_cs run2 "$ADMIN" -c "$TMP/fleet.json" sync
check_eq "run 2: exit 0" 0 "$RC"
M2=""
for m in "$D"/runs/*.json; do [ "$m" = "$D/runs/$S1.json" ] || M2=$m; done
RUN2_ISO=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_start"])' "$M2")
S2=$(stamp_of "$RUN2_ISO")
RUN2=$(iso_to_unix "$RUN2_ISO")
check_ne "run 2: a stamp of its own" "$S1" "$S2"
check_eq "run 2: its files beside run 1's" \
    "apps/$S1.csv apps/$S2.csv groups/$S1.csv groups/$S2.csv runs/$S1.json runs/$S2.json users/$S1-0001.csv users/$S2-0001.csv" \
    "$(shipped "$D")"
manifest_check "run 2: run 1's files never changed" "$D" "$M1"
compare "run 2: apps/$S2.csv" "$D/apps/$S2.csv" "$TMP/apps.truth"
compare "run 2: groups/$S2.csv" "$D/groups/$S2.csv" "$TMP/groups.truth"
truth rs users "&app=${APPS[0]}&gte=$RUN1&lt=9999999999" "$TMP/users2.truth"
compare "run 2: users/$S2-0001.csv holds the touched users" "$D/users/$S2-0001.csv" "$TMP/users2.truth" "$TMP/run2.keys"
touched_ids=$(python3 -c 'import json,sys; print("\n".join(sorted(json.loads(sys.argv[1])["touched"])))' "$TOUCHED")
check_eq "run 2: exactly the 37 touched users" "$touched_ids" "$(sort "$TMP/run2.keys")"
manifest_check "run 2" "$D" "$M2"
check_eq "run 2: the manifest's users rows" 37 "$(man_field rows)"

# every shipped file goes (a consumer moved them all), then a third run
rm -f "$D"/apps/* "$D"/groups/* "$D"/users/* "$D"/runs/*
sim_get "$SP" "/__sim/touch?app=${APPS[1]}&count=20" >/dev/null
sleep 1.2
run_cs run3 "$ADMIN" -c "$TMP/fleet.json" sync
check_eq "run 3 after every file was deleted: exit 0" 0 "$RC"
M3=$(ls "$D"/runs/*.json 2>/dev/null | head -n 1)
RUN3_ISO=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_start"])' "$M3")
S3=$(stamp_of "$RUN3_ISO")
check_eq "run 3: only its own files" "apps/$S3.csv groups/$S3.csv runs/$S3.json users/$S3-0001.csv" \
    "$(shipped "$D")"
compare "run 3: apps/$S3.csv" "$D/apps/$S3.csv" "$TMP/apps.truth"
compare "run 3: groups/$S3.csv" "$D/groups/$S3.csv" "$TMP/groups.truth"
truth rs users "&app=${APPS[1]}&gte=$RUN2&lt=9999999999" "$TMP/users3.truth"
compare "run 3: users/$S3-0001.csv holds exactly the users touched since run 2" \
    "$D/users/$S3-0001.csv" "$TMP/users3.truth"
check_eq "run 3: 20 users" 20 "$(cmp_field rows)"
manifest_check "run 3" "$D" "$M3"
check_nomatch "run 3: no error or warning" "error|warning" "$ERR"

# ---- 2. parts of at most output_part_mb ------------------------------------------------------------

D=$TMP/parts
rconf parts "output_part_mb=1"
run_cs parts "$ADMIN" -c "$TMP/parts.json" sync
check_eq "parts: exit 0" 0 "$RC"
MP=$(ls "$D"/runs/*.json | head -n 1)
RUNP_ISO=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_start"])' "$MP")
SP_=$(stamp_of "$RUNP_ISO")
mapfile -t PARTS < <(cd "$D/users" && ls)
check_ge "parts: several users parts" "${#PARTS[@]}" 3
expected=""
for ((i = 1; i <= ${#PARTS[@]}; i++)); do expected+="$(printf '%s-%04d.csv' "$SP_" "$i") "; done
check_eq "parts: numbered from 0001" "${expected% }" "${PARTS[*]}"
largest=$(stat -c %s "$D"/users/*.csv | sort -n | tail -n 1)
check_le "parts: each within output_part_mb (1 MiB)" "$largest" "$MIB"
bad_headers=0
for p in "${PARTS[@]}"; do
    [ "$(head -n 1 "$D/users/$p")" = "$(head -n 1 "$TMP/ref/users.csv")" ] || bad_headers=$((bad_headers + 1))
done
check_eq "parts: every part starts with the header row" 0 "$bad_headers"
python3 "$CHECK" union --dir "$D" --out "$TMP/parts.union.csv" >/dev/null
truth rs users "&app=*&full=$(iso_to_unix "$RUNP_ISO")" "$TMP/usersp.truth"
compare "parts: together, every user exactly once" "$TMP/parts.union.csv" "$TMP/usersp.truth"
manifest_check "parts" "$D" "$MP" "$MIB"
check_eq "parts: the manifest lists every part" "${#PARTS[@]}" "$(tr ' ' '\n' <<<"$(man_field paths)" | grep -c '^users/')"
check_eq "parts: the manifest's users rows" "$(wc -l <"$TMP/usersp.truth")" "$(man_field rows)"

# ---- 2b. the runs layout with output_compression "gzip" -------------------------------------------

D=$TMP/gzparts
rconf gzparts "output_part_mb=1" "output_compression=gzip"
run_cs gzparts "$ADMIN" -c "$TMP/gzparts.json" sync
check_eq "gzip parts: exit 0" 0 "$RC"
mapfile -t GZ < <(cd "$D/users" && ls)
check_ge "gzip parts: users parts" "${#GZ[@]}" 1
bad=0
for f in "$D"/users/* "$D"/apps/* "$D"/groups/*; do
    case $f in
    *.csv.gz) gzip -t "$f" 2>/dev/null || bad=$((bad + 1)) ;;
    *) bad=$((bad + 1)) ;;
    esac
done
check_eq "gzip parts: every file is a .csv.gz that gzip -t passes" 0 "$bad"
check_eq "gzip parts: the manifest stays JSON" 1 "$(ls "$D"/runs/*.json | wc -l)"
{
    zcat "$D/users/${GZ[0]}" | head -n 1
    for p in "${GZ[@]}"; do zcat "$D/users/$p" | tail -n +2; done
} >"$TMP/gzparts.union.csv"
MG=$(ls "$D"/runs/*.json | head -n 1)
RUNG_ISO=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_start"])' "$MG")
truth rs users "&app=*&full=$(iso_to_unix "$RUNG_ISO")" "$TMP/usersg.truth"
compare "gzip parts: together, every user exactly once" "$TMP/gzparts.union.csv" "$TMP/usersg.truth"
compare "gzip parts: apps" <(zcat "$D"/apps/*.csv.gz) "$TMP/apps.truth"

# ---- 3. kill -9 at every durable operation, 1 MB parts -----------------------------------------------

# kill_loop NAME STRIDE: runs NAME's configuration under the test-hooks build
# killed at durable operation 1, 1+STRIDE, ... (each run resuming the last)
# until a run completes; after every kill every file under a final name must
# parse completely. Then the checks of the end: the parts hold every user
# exactly once, an open part was finished by the run that resumed it, each
# part within 1 MiB of CSV, the manifest right.
kill_loop() {
    local name=$1 stride=$2 D=$TMP/$1 n rc out
    local runs=0 killed=0 unparsable=0 first_bad="" completed=0
    for ((n = 1; n <= 1500; n += stride)); do
        (env COUNTLY_SYNC_CRASH_AT=$n COUNTLY_SYNC_CLOCK_STEP=1000 COUNTLY_API_KEY="$ADMIN" \
            "$HOOKS" -q -c "$TMP/$name.json" sync >"$RUNS/$name.out" 2>"$RUNS/$name.err"
            exit $?) 2>/dev/null
        rc=$?
        runs=$((runs + 1))
        out=$(python3 "$CHECK" files --dir "$D" "${HEADERS[@]}" 2>&1)
        if [ $? -ne 0 ]; then
            unparsable=$((unparsable + 1))
            [ -n "$first_bad" ] || first_bad="after the kill at point $n: $(grep '^bad ' <<<"$out" | head -n 2 | tr '\n' ' ')"
        fi
        if [ $rc -eq 137 ]; then
            killed=$((killed + 1))
        elif [ $rc -eq 0 ]; then
            completed=1
            break
        else
            first_bad=${first_bad:-"run at point $n exited $rc: $(tail -n 2 "$RUNS/$name.err")"}
            unparsable=$((unparsable + 1))
        fi
    done
    echo "# $name: $killed kills in $runs runs"
    check_eq "$name: a run completes in the end" 1 "$completed"
    check_ge "$name: runs killed" "$killed" $((40 / stride))
    check_eq "$name: after every kill every file under a final name parses completely" 0 \
        "$unparsable"
    [ -z "$first_bad" ] || echo "#   $first_bad"
    check_eq "$name: no hidden file left after the completed run (stale ones removed)" 0 "$(hidden "$D")"
    check_ge "$name: several parts" "$(find "$D/users" -name '2*' | wc -l)" 2
    out=$(python3 "$CHECK" union --dir "$D" --out "$TMP/$name.union.csv")
    check_ge "$name: an interrupted run's open part was finished by the run that resumed it" \
        "$(sed -n 's/^mixed=//p' <<<"$out")" 1
    NOW=$(json_field "$(sim_get "$SP" /__sim/info)" now)
    truth rs users "&app=*&full=$NOW" "$TMP/$name.truth"
    out=$(python3 "$CRASHCHECK" users --csv "$TMP/$name.union.csv" --truth "$TMP/$name.truth" 2>&1)
    check_eq "$name: the parts hold every user exactly once" 0 $?
    grep -E '^(rows|missing|unexpected|duplicates|mismatches)=' <<<"$out" | tr '\n' ' ' | sed 's/^/# /'
    echo
    local m
    for m in "$D"/runs/*.json; do # each part within 1 MiB of CSV, whatever run listed it
        out=$(python3 "$CHECK" manifest --dir "$D" --manifest "$m" --limit "$MIB" 2>&1) ||
            grep -q 'No such file' <<<"$out" ||
            { tl_fail "$name: $(basename "$m"): its parts within 1 MiB of CSV" "$(grep '^bad' <<<"$out" | head -n 3)"; return; }
    done
    tl_pass "$name: every manifest's parts within 1 MiB of CSV"
    manifest_check "$name: the completed run" "$D" "$(ls "$D"/runs/*.json | tail -n 1)" "$MIB"
}

if [ -x "$HOOKS" ]; then
    rconf kill "output_part_mb=1" "max_records_per_page=100" "retry_attempts=2"
    kill_loop kill 1
    # with gzip: the open part is a .csv.gz ending a member at every commit,
    # resumed at its committed size (every third durable operation)
    rconf killgz "output_part_mb=1" "max_records_per_page=100" "retry_attempts=2" \
        "output_compression=gzip"
    kill_loop killgz 3
else
    tl_fail "kill -9" "$HOOKS not built (make asan-tests)"
fi

# ---- 3b. back to the append layout with a part left open -------------------------------------------

if [ -x "$HOOKS" ]; then
    D=$TMP/switch
    rconf switch "max_records_per_page=100"
    (env COUNTLY_SYNC_CRASH_AT=60 COUNTLY_SYNC_CLOCK_STEP=1000 COUNTLY_API_KEY="$ADMIN" \
        "$HOOKS" -q -c "$TMP/switch.json" sync >"$RUNS/switch.out" 2>"$RUNS/switch.err"
        exit $?) 2>/dev/null
    check_eq "switch: the runs-layout run is killed" 137 $?
    check_eq "switch: it left its part open under a hidden name" 1 "$(find "$D/users" -name '.*.tmp' | wc -l)"
    rconf switch "max_records_per_page=100" "output_layout=append"
    run_cs switch2 "$ADMIN" -c "$TMP/switch.json" sync
    check_eq "switch: an append-layout run after it: exit 0" 0 "$RC"
    check_eq "switch: the open part was published, nothing hidden left" 0 "$(hidden "$D")"
    python3 "$CHECK" union --dir "$D" --out "$TMP/switch.union.csv" >/dev/null
    tail -n +2 "$D/users.csv" >>"$TMP/switch.union.csv"
    truth rs users "&app=*&full=$(json_field "$(sim_get "$SP" /__sim/info)" now)" "$TMP/userss.truth"
    out=$(python3 "$CRASHCHECK" users --csv "$TMP/switch.union.csv" --truth "$TMP/userss.truth" 2>&1)
    check_eq "switch: the part and users.csv together hold every user exactly once" 0 $?
    [ -n "$(sed -n 's/^rows=//p' <<<"$out")" ] && grep -E '^(rows|missing|duplicates)=' <<<"$out" | tr '\n' ' ' | sed 's/^/# /' && echo
fi

# ---- 3b'. output_compression changed while a part is open ------------------------------------------

if [ -x "$HOOKS" ]; then
    D=$TMP/recompress
    rconf recompress "max_records_per_page=100" "output_compression=gzip"
    (env COUNTLY_SYNC_CRASH_AT=60 COUNTLY_SYNC_CLOCK_STEP=1000 COUNTLY_API_KEY="$ADMIN" \
        "$HOOKS" -q -c "$TMP/recompress.json" sync >"$RUNS/recompress.out" 2>"$RUNS/recompress.err"
        exit $?) 2>/dev/null
    check_eq "recompress: the gzip run is killed with its part open" "137 1" \
        "$? $(find "$D/users" -name '.*.csv.gz.tmp' | wc -l)"
    rconf recompress "max_records_per_page=100" "output_compression=none"
    run_cs recompress2 "$ADMIN" -c "$TMP/recompress.json" --report "$TMP/recompress.report" sync
    check_eq "recompress: a run without gzip after it: exit 0" 0 "$RC"
    check_match "recompress: says the part was published as it stood" \
        "users/[0-9TZ]+-0001.csv.gz: published as the run before left it \\(output_compression changed\\)" "$ERR"
    check_eq "recompress: nothing hidden left" 0 "$(hidden "$D")"
    out=$(python3 "$CHECK" files --dir "$D" "${HEADERS[@]}" 2>&1)
    check_eq "recompress: every file parses (the gzip part passes whole)" 0 $?
    check_eq "recompress: one gzip part, then plain ones" "1 1" \
        "$(ls "$D"/users/*.csv.gz | wc -l) $(($(ls "$D"/users/*.csv | wc -l) >= 1))"
    python3 "$CHECK" union --dir "$D" --out "$TMP/recompress.union.csv" >/dev/null
    truth rs users "&app=*&full=$(json_field "$(sim_get "$SP" /__sim/info)" now)" "$TMP/usersr.truth"
    out=$(python3 "$CRASHCHECK" users --csv "$TMP/recompress.union.csv" --truth "$TMP/usersr.truth" 2>&1)
    check_eq "recompress: the parts hold every user exactly once" 0 $?
    manifest_check "recompress: the manifest lists the published part too" "$D" \
        "$(ls "$D"/runs/*.json | tail -n 1)"
    check_eq "recompress: the gzip part is in the manifest" 1 \
        "$(tr ' ' '\n' <<<"$(man_field paths)" | grep -c '\.csv\.gz$')"
fi

# ---- 3c. no run takes an earlier run's stamp: users off, the server's clock set back ----------------

D=$TMP/stamps
rconf stamps "enable_users_sync=false"
run_cs stamps1 "$ADMIN" -c "$TMP/stamps.json" sync
check_eq "stamps: users off, first run: exit 0" 0 "$RC"
FIRST=$(cd "$D" && sha256sum runs/*.json apps/* groups/*)
sim_get "$SP" "/__sim/clock?offset=-5" >/dev/null
run_cs stamps2 "$ADMIN" -c "$TMP/stamps.json" sync
sim_get "$SP" "/__sim/clock?offset=0" >/dev/null
check_eq "stamps: the clock 5 s back, second run: exit 0" 0 "$RC"
check_eq "stamps: two manifests, two apps and two groups files" "2 2 2" \
    "$(ls "$D"/runs | wc -l) $(ls "$D"/apps | wc -l) $(ls "$D"/groups | wc -l)"
check_eq "stamps: the first run's files unchanged" "$FIRST" "$(cd "$D" && sha256sum $(awk '{ print $2 }' <<<"$FIRST"))"
mapfile -t STAMPS < <(cd "$D/runs" && ls | sed 's/\.json$//')
check_eq "stamps: the second is one second after the first" \
    "$(python3 -c 'import sys,datetime as d; f="%Y%m%dT%H%M%SZ"; print(int((d.datetime.strptime(sys.argv[2],f)-d.datetime.strptime(sys.argv[1],f)).total_seconds()))' "${STAMPS[0]}" "${STAMPS[1]}")" 1
check_match "stamps: the state records the last stamp" '"last_stamp":[0-9]+' "$(cat "$D/state.json")"

# ---- 4. the fleet recipe's local half: rclone move, then PostgreSQL --------------------------------

D=$TMP/gw1
BUCKET=$TMP/bucket
rconf gw1
ship() { # moves every closed file, as rclone move --exclude '.*' would
    local f
    for f in $(shipped "$D"); do
        mkdir -p "$BUCKET/host=gw1/$(dirname "$f")"
        mv "$D/$f" "$BUCKET/host=gw1/$f"
    done
}
run_cs gw1a "$ADMIN" -c "$TMP/gw1.json" sync
check_eq "fleet: run A exit 0" 0 "$RC"
ship
sim_get "$SP" "/__sim/touch?app=${APPS[0]}&count=30" >/dev/null
sleep 1.2
run_cs gw1b "$ADMIN" -c "$TMP/gw1.json" sync
check_eq "fleet: run B (its earlier files moved away) exit 0" 0 "$RC"
ship
check_eq "fleet: nothing left to ship" "" "$(shipped "$D")"
check_eq "fleet: two manifests shipped" 2 "$(ls "$BUCKET/host=gw1/runs" | wc -l)"
NOW=$(json_field "$(sim_get "$SP" /__sim/info)" now)
truth rs users "&app=*&full=$NOW" "$TMP/usersf.truth"
# a second gateway writing gzip: one run, its closed files shipped to host=gw2
rconf gw2 "output_compression=gzip"
run_cs gw2 "$ADMIN" -c "$TMP/gw2.json" sync
check_eq "fleet: gzip gateway exit 0" 0 "$RC"
for f in $(shipped "$TMP/gw2"); do
    mkdir -p "$BUCKET/host=gw2/$(dirname "$f")"
    mv "$TMP/gw2/$f" "$BUCKET/host=gw2/$f"
done

if pg_start "$TMP/pg-server.log"; then
    chmod -R a+rX "$TMP" 2>/dev/null
    cols=$(head -n 1 "$TMP/ref/users.csv" | sed 's/,/ text, /g; s/$/ text/')
    {
        echo "CREATE TABLE users ($cols);"
        for f in "$BUCKET"/host=gw1/users/*.csv; do echo "\\copy users FROM '$f' CSV HEADER"; done
        echo "CREATE VIEW users_current AS SELECT DISTINCT ON (user_id) * FROM users"
        echo "  ORDER BY user_id, processed_at::timestamptz DESC;"
        echo "SELECT 'loaded=' || count(*) FROM users;"
        echo "SELECT 'current=' || count(*) FROM users_current;"
        echo "SELECT 'distinct=' || count(DISTINCT user_id) FROM users;"
        echo "\\copy (SELECT * FROM users_current ORDER BY processed_at::timestamptz, user_id) TO '$TMP/current.csv' CSV HEADER"
        echo "CREATE TABLE users_gz ($cols);"
        for f in "$BUCKET"/host=gw2/users/*.csv.gz; do echo "COPY users_gz FROM PROGRAM 'zcat $f' CSV HEADER;"; done
        echo "SELECT 'gz_loaded=' || count(*) || ' gz_distinct=' || count(DISTINCT user_id) FROM users_gz;"
    } >"$TMP/fleet.sql"
    out=$(pg_psql -q -A -t -v ON_ERROR_STOP=1 -f "$TMP/fleet.sql" 2>&1)
    check_eq "fleet: PostgreSQL loads every shipped part" 0 $?
    gzout=$out
    total=$(wc -l <"$TMP/usersf.truth")
    check_eq "fleet: every row of both runs loaded" $((total + 30)) "$(sed -n 's/^loaded=//p' <<<"$out")"
    check_eq "fleet: one current row per user" "$total" "$(sed -n 's/^current=//p' <<<"$out")"
    check_eq "fleet: as many current rows as users" "$total" "$(sed -n 's/^distinct=//p' <<<"$out")"
    out=$(python3 "$CRASHCHECK" users --csv "$TMP/current.csv" --truth "$TMP/usersf.truth" 2>&1)
    check_eq "fleet: the current rows hold the latest values (the truth now)" 0 $?
    check_eq "fleet: current rows come from both runs" 2 "$(sed -n 's/^runs=//p' <<<"$out")"
    check_eq "fleet: the gzip gateway's parts load with COPY FROM PROGRAM 'zcat ...', every user once" \
        "gz_loaded=$total gz_distinct=$total" "$(grep '^gz_loaded=' <<<"$gzout")"
    pg_stop
else
    tl_fail "fleet: PostgreSQL" "$PG_ERROR"
fi

tl_summary
