#!/usr/bin/env bash
# test_cli.sh - the command line and the log output (SPEC "Command line")
# against a small simulator.
#
#  1. every option form: --config FILE, --config=FILE, -c FILE, --output=DIR,
#     -o DIR, --state FILE, --quiet, -vv, options after the command, "--";
#  2. -h / --help / help: the usage text on stdout, exit 0, every option,
#     command and exit code; -V / --version / version: "countly-sync X.Y.Z"
#     first, then the build facts;
#  3. usage errors exit 64 with the usage line: an unknown option, an
#     ambiguous one (--ver: --verbose or --version), a missing value, an empty
#     file or folder name, a bad --log-format, two commands, an unknown command;
#     -o under a regular file: 73, "Not a directory";
#  4. stderr a pipe: every line starts with an RFC 3339 UTC timestamp;
#  5. JOURNAL_STREAM naming stderr's file: sd-daemon <N> priorities, no
#     timestamp; naming another file: timestamps;
#  6. --log-format json: every line a JSON object with ts, level, msg, and
#     stream / app_id / page where known; no redraws;
#  7. a terminal (script(1), stty cols 60): the progress line is redrawn in
#     place and never wider than 59 columns (skipped without script/stty;
#     test_log's unit tests fit the line to any width).
# Environment: COUNTLY_SYNC, COUNTLY_SYNC_WRAPPER, BUILD_DIR, TEST_TMP.
# Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=../lib/e2e.sh
. "$ROOT/tests/lib/e2e.sh"

e2e_paths cli
PKI=$TMP/pki
RUNS=$TMP/runs
rm -rf "$TMP" && mkdir -p "$RUNS"

cleanup() { stop_sims; }
trap cleanup EXIT

e2e_require python3 curl openssl

start_sim sim --seed 11 --apps 2 --users-per-app 120
ADMIN=$(json_field "$(sim_get "${PORT[sim]}" /__sim/keys)" admin)
read -r -a APPS <<<"$(json_field "$(sim_get "${PORT[sim]}" /__sim/info)" apps)"

CONF=$TMP/configuration.json
write_config "$CONF" "server_url=https://localhost:${PORT[sim]}" "app_id=*" \
    "ca_file=$PKI/ca-ec.crt" "output_dir=$TMP/default-out" "max_records_per_page=20" \
    "initial_sync_days=0" "retry_attempts=0"

# synced NAME DIR: the run exited 0 and wrote the three files into DIR.
synced() {
    check_eq "$1: exit 0" 0 "$RC"
    check_true "$1: users.csv, apps.csv and groups.csv in $2" "missing" \
        test -s "$2/users.csv" -a -s "$2/apps.csv" -a -s "$2/groups.csv"
}

# ---- 1. option forms -----------------------------------------------------------------------

run_cs long "$ADMIN" --config "$CONF" --output "$TMP/long" sync
synced "--config FILE --output DIR" "$TMP/long"
run_cs long-eq "$ADMIN" --config="$CONF" --output="$TMP/long-eq" sync
synced "--config=FILE --output=DIR" "$TMP/long-eq"
run_cs short "$ADMIN" -c "$CONF" -o "$TMP/short"
synced "-c FILE -o DIR (sync the default)" "$TMP/short"
run_cs after "$ADMIN" sync -c "$CONF" -o "$TMP/after"
synced "options after the command" "$TMP/after"
run_cs dashdash "$ADMIN" -c "$CONF" -o "$TMP/dashdash" -- sync
synced "-- before the command" "$TMP/dashdash"
run_cs dashdash-opt "$ADMIN" -c "$CONF" -o "$TMP/dashdash2" -- -q
check_eq "-- ends the options: -q after it is a command, exit 64" 64 "$RC"
check_match "-- ends the options: names -q" "unknown command: -q" "$ERR"
check_true "-- ends the options: nothing written" "written" test ! -e "$TMP/dashdash2"

run_cs state "$ADMIN" -c "$CONF" -o "$TMP/state-out" --state "$TMP/elsewhere.json" sync
synced "--state FILE" "$TMP/state-out"
check_true "--state FILE: the state is there" "missing" test -s "$TMP/elsewhere.json"
check_true "--state FILE: not in the output folder" "present" test ! -e "$TMP/state-out/state.json"
run_cs state-eq "$ADMIN" -c "$CONF" -o "$TMP/state-out" --state="$TMP/elsewhere.json" sync
check_eq "--state=FILE: the next run goes on from it (exit 0)" 0 "$RC"
check_match "--state=FILE: nothing new for the apps" "users: 0 rows" "$ERR"

run_cs quiet "$ADMIN" --quiet -c "$CONF" -o "$TMP/quiet"
synced "--quiet" "$TMP/quiet"
check_eq "--quiet: nothing on stderr" "" "$ERR"
run_cs q "$ADMIN" -q -c "$CONF" -o "$TMP/q"
check_eq "-q: nothing on stderr" "" "$ERR"
run_cs vv "$ADMIN" -vv -c "$CONF" -o "$TMP/vv"
synced "-vv" "$TMP/vv"
check_match "-vv: debug lines" "countly-sync: debug: GET /o/db" "$ERR"
check_match "-vv: a line per exchange" \
    "countly-sync: debug: HTTP 200: [0-9]+ body bytes, [0-9]+ records, [0-9]+ ms, new connection" "$ERR"
check_match "-vv: later exchanges reuse the connection" \
    "countly-sync: debug: HTTP 200: [0-9]+ body bytes, [0-9]+ records, [0-9]+ ms, reused connection" \
    "$ERR"
check_eq "-vv: as many exchanges as requests" "$(grep -c 'debug: GET /' <<<"$ERR")" \
    "$(grep -c 'debug: HTTP 200: ' <<<"$ERR")"
# records of the exchanges after each "GET PREFIX", summed
records_after() {
    grep -F -A1 "debug: GET $1" <<<"$ERR" |
        sed -n 's/.*debug: HTTP 200: [0-9]* body bytes, \([0-9]*\) records.*/\1/p' |
        awk '{ n += $1 } END { print n + 0 }'
}
check_eq "-vv: the apps page's records are apps.csv's rows" \
    "$(($(wc -l <"$TMP/vv/apps.csv") - 1))" "$(records_after '/o/db?db=countly&collection=apps&')"
USERS_READ=$(records_after '/o/db?db=countly&collection=app_users')
check_eq "-vv: the users pages held every row of users.csv (a page's last second is read again)" \
    1 "$((USERS_READ >= $(wc -l <"$TMP/vv/users.csv") - 1 && USERS_READ > 0))"
run_cs vvv "$ADMIN" -v -v -v -c "$CONF" -o "$TMP/vvv"
check_match "-v -v -v: as -vv" "countly-sync: debug: HTTP 200: " "$ERR"
run_cs verbose "$ADMIN" --verbose -c "$CONF" -o "$TMP/verbose"
check_match "--verbose: debug lines" "countly-sync: debug: " "$ERR"
check_eq "--verbose once: no line per exchange" 0 "$(grep -c 'debug: HTTP [0-9]' <<<"$ERR")"
run_cs qv "$ADMIN" -q -v -c "$CONF" -o "$TMP/qv"
check_match "-q -v: the last one counts (debug lines)" "countly-sync: debug: " "$ERR"
run_cs vq "$ADMIN" -v --quiet -c "$CONF" -o "$TMP/vq"
check_eq "-v --quiet: the last one counts (nothing on stderr)" "" "$ERR"
run_cs plain "$ADMIN" -c "$CONF" -o "$TMP/plain"
check_nomatch "no -v: no debug lines" "debug:" "$ERR"

run_cs check "$ADMIN" check --config="$CONF" -o "$TMP/check-out"
check_eq "check with options after it: exit 0" 0 "$RC"
check_match "check: its report on stdout" "apps visible: 2" "$OUT"
check_true "check: writes nothing" "written" test ! -e "$TMP/check-out"

# ---- 2. help and version --------------------------------------------------------------------

for form in -h --help help; do
    run_cs "help$form" "" $form
    check_eq "$form: exit 0" 0 "$RC"
    check_eq "$form: nothing on stderr" "" "$ERR"
    check_match "$form: the usage on stdout" "usage: countly-sync \[OPTIONS\]" "$OUT"
done
missing=""
for word in --config --output --state --verbose --quiet --log-format --report --metrics --help \
    --version " -c," " -o," " -v," " -q," " -h," " -V," " sync " " check " " version " " help "; do
    grep -qF -e "$word" <<<"$OUT" || missing+=" $word"
done
check_eq "help: lists every option and command" "" "$missing"
missing=""
for code in 0 64 65 69 73 75 77 78 130/143; do
    grep -qE "^  $code " <<<"$OUT" || missing+=" $code"
done
check_eq "help: lists every exit code" "" "$missing"

for form in -V --version version; do
    run_cs "version$form" "" $form
    check_eq "$form: exit 0" 0 "$RC"
    check_match "$form: first line countly-sync X.Y.Z" "^countly-sync [0-9]+\.[0-9]+\.[0-9]+$" \
        "$(head -n 1 <<<"$OUT")"
done
check_match "version: target" $'\n''target: (x86_64|aarch64|armhf|arm|i386)-linux-(gnu|musl)'$'\n' "$OUT"
check_match "version: memory profile" $'\n''memory profile: (default|small) ' "$OUT"
check_match "version: mbedTLS version" $'\n''mbedTLS: 3\.[0-9]+\.[0-9]+' "$OUT"
check_match "version: zlib version" $'\n''zlib: [0-9]+\.[0-9]+' "$OUT"

# ---- 3. usage errors: 64 with the usage line --------------------------------------------------

usage_case() { # NAME MESSAGE ARGS...: exit 64, MESSAGE and the usage line on stderr, nothing else
    local name=$1 message=$2
    shift 2
    run_cs "usage-$name" "$ADMIN" "$@"
    check_eq "$name: exit 64" 64 "$RC"
    check_match "$name: says what" "^countly-sync: $message" "$ERR"
    check_match "$name: the usage line" $'\n''usage: countly-sync ' "$ERR"
    check_eq "$name: nothing on stdout" "" "$OUT"
}
usage_case "unknown long option" "unknown option: --bogus" --bogus -c "$CONF"
usage_case "unknown short option" "unknown option: -x" -c "$CONF" -x
usage_case "value on a flag" "option takes no value: --quiet=yes" --quiet=yes
usage_case "-c without its value" "option needs a value: -c" sync -c
usage_case "--config without its value" "option needs a value: --config" --config
usage_case "--output without its value" "option needs a value: --output" -c "$CONF" --output
usage_case "--log-format without its value" "option needs a value: --log-format" --log-format
usage_case "ambiguous long option" "option '--ver' is ambiguous: --verbose, --version" \
    -c "$CONF" --ver
usage_case "ambiguous long option (=)" "option '--ver' is ambiguous: --verbose, --version" \
    --ver=1 -c "$CONF"
usage_case "ambiguous --v" "option '--v' is ambiguous: --verbose, --version" --v
usage_case "--report with an empty value" "option '--report' needs a file name" \
    -c "$CONF" --report ""
usage_case "--report= empty" "option '--report' needs a file name" -c "$CONF" --report=
usage_case "--metrics with an empty value" "option '--metrics' needs a file name" \
    -c "$CONF" --metrics ""
usage_case "--state with an empty value" "option '--state' needs a file name" -c "$CONF" --state ""
usage_case "-c with an empty value" "option '--config' needs a file name" -c ""
usage_case "--config= empty" "option '--config' needs a file name" --config=
usage_case "-o with an empty value" "option '--output' needs a folder" -c "$CONF" -o ""
usage_case "--output= empty" "option '--output' needs a folder" -c "$CONF" --output=
usage_case "bad log format" "--log-format must be text or json, not: xml" --log-format xml
usage_case "bad log format (=)" "--log-format must be text or json, not: JSON" --log-format=JSON
usage_case "two commands" "two commands: sync" -c "$CONF" check sync
usage_case "the same command twice" "two commands: sync" -c "$CONF" sync sync
usage_case "two commands around --" "two commands: check" -c "$CONF" sync -- check
usage_case "unknown command" "unknown command: frobnicate" frobnicate
check_true "check sync: no sync ran (no output folder)" "written" test ! -e "$TMP/default-out"

# -o under a regular file (as -o /etc/passwd/x): 73, and the OS's reason is
# that the file is not a folder, not "File exists"
printf 'x\n' >"$TMP/plain-file"
run_cs under-file "$ADMIN" -c "$CONF" -o "$TMP/plain-file/x" sync
check_eq "-o under a regular file: exit 73" 73 "$RC"
check_match "-o under a regular file: Not a directory" \
    "error: cannot create the output folder $TMP/plain-file/x: Not a directory$" "$ERR"

# ---- 4. stderr a pipe: RFC 3339 timestamps -----------------------------------------------------

COUNTLY_API_KEY=$ADMIN "${WRAP[@]}" "$BIN" -c "$CONF" -o "$TMP/pipe" sync 2>&1 >/dev/null |
    cat >"$RUNS/pipe.err"
setup_eq "pipe: the run" 0 "${PIPESTATUS[0]}"
lines=$(grep -c . "$RUNS/pipe.err")
stamped=$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z countly-sync: ' \
    "$RUNS/pipe.err")
check_ge "pipe: some lines" "$lines" 3
check_eq "pipe: every line starts with an RFC 3339 UTC timestamp" "$lines" "$stamped"
first=$(head -n 1 "$RUNS/pipe.err" | cut -c1-20)
now=$(date -u +%s)
check_between "pipe: the timestamp is now (UTC)" $((now - 120)) "$now" "$(iso_to_unix "$first")"
check_true "pipe: no redraw" "a carriage return" bash -c "! grep -q $'\r' '$RUNS/pipe.err'"
check_match "a file: timestamps too" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z countly-sync: apps: ' \
    "$(grep 'apps: ' "$RUNS/plain.err" | head -n 1)"

# ---- 5. the journal -------------------------------------------------------------------------------

# journal_run NAME CONF ARGS...: stderr into RUNS/NAME.err, JOURNAL_STREAM naming it.
journal_run() {
    local name=$1 file=$RUNS/$1.err
    shift
    : >"$file"
    JOURNAL_STREAM=$(stat -c '%d:%i' "$file") COUNTLY_API_KEY=$ADMIN "${WRAP[@]}" "$BIN" "$@" \
        >/dev/null 2>>"$file"
    RC=$?
}
TLSOFF=$TMP/tls-off.json
write_config "$TLSOFF" "server_url=https://localhost:${PORT[sim]}" "app_id=*" \
    "tls_verify=false" "output_dir=$TMP/journal" "max_records_per_page=20" "initial_sync_days=0"
journal_run journal -v -c "$TLSOFF" sync
check_eq "journal: exit 0" 0 "$RC"
J=$(cat "$RUNS/journal.err")
check_eq "journal: every line starts with <N>countly-sync: " "$(grep -c . <<<"$J")" \
    "$(grep -cE '^<[3-7]>countly-sync: ' <<<"$J")"
check_match "journal: <4> warning" $'(^|\n)''<4>countly-sync: warning: tls_verify is false' "$J"
check_match "journal: <6> info (the summary)" $'(^|\n)''<6>countly-sync: users: [0-9]+ rows' "$J"
check_match "journal: <7> debug" $'(^|\n)''<7>countly-sync: debug: GET ' "$J"
check_nomatch "journal: no timestamp" '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z' "$J"
write_config "$TMP/badapp.json" "server_url=https://localhost:${PORT[sim]}" "app_id=*" \
    "ca_file=$PKI/ca-ec.crt" "output_dir=$TMP/journal2" "initial_sync_days=0" \
    "app_id=ffffffffffffffffffffffff"
journal_run journal-err -c "$TMP/badapp.json" sync
check_eq "journal: a configuration error exits 78" 78 "$RC"
check_match "journal: <3> error" '^<3>countly-sync: error: .*app_id ffffffffffffffffffffffff' \
    "$(grep '<3>' "$RUNS/journal-err.err")"
: >"$RUNS/notjournal.err"
JOURNAL_STREAM=$(stat -c '%d:%i' "$CONF") COUNTLY_API_KEY=$ADMIN "${WRAP[@]}" "$BIN" \
    -c "$CONF" -o "$TMP/notjournal" sync >/dev/null 2>"$RUNS/notjournal.err"
check_match "JOURNAL_STREAM naming another file: timestamps" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z countly-sync: ' "$(head -n 1 "$RUNS/notjournal.err")"

# ---- 6. --log-format json ---------------------------------------------------------------------

# json_lines FILE: "lines=N bad=N keys_ok=N context=N levels=a,b app=ID"
json_lines() {
    python3 - "$1" <<'PY'
import json, sys
lines = open(sys.argv[1], "rb").read().decode("utf-8").split("\n")
assert lines[-1] == ""
lines = lines[:-1]
bad = keys_ok = context = 0
levels, apps = set(), set()
for line in lines:
    try:
        o = json.loads(line)
    except ValueError:
        bad += 1
        continue
    if not isinstance(o, dict):
        bad += 1
        continue
    if all(isinstance(o.get(k), str) for k in ("ts", "level", "msg")) and len(o["ts"]) == 20:
        keys_ok += 1
    levels.add(o.get("level"))
    if o.get("stream") == "users" and "app_id" in o and isinstance(o.get("page"), int):
        context += 1
        apps.add(o["app_id"])
print("lines=%d bad=%d keys_ok=%d context=%d levels=%s apps=%s" % (
    len(lines), bad, keys_ok, context, ",".join(sorted(levels)), ",".join(sorted(apps))))
PY
}
run_cs json "$ADMIN" --log-format json -v -c "$TLSOFF" -o "$TMP/json" sync
check_eq "json: exit 0" 0 "$RC"
J=$(json_lines "$RUNS/json.err")
echo "# json: $J"
n=$(sed -n 's/.*lines=\([0-9]*\).*/\1/p' <<<"$J")
check_ge "json: some lines" "$n" 5
check_match "json: every line parses as one JSON object" " bad=0 " "$J"
check_match "json: every line has ts, level and msg" "keys_ok=$n " "$J"
check_match "json: levels debug, info, notice, warning" "levels=debug,info,notice,warning" "$J"
check_nomatch "json: users lines carry stream, app_id and page" " context=0 " "$J"
check_match "json: the app ids" "apps=.*${APPS[0]}" "$J"
check_true "json: no redraw" "a carriage return" bash -c "! grep -q $'\r' '$RUNS/json.err'"
run_cs json-err "$ADMIN" --log-format=json -c "$TMP/badapp.json" sync
check_eq "json: a failing run exits 78" 78 "$RC"
check_match "json: the error line" '"level":"error","msg":"[^"]*app_id ffffffffffffffffffffffff' \
    "$ERR"
check_match "json (=): one object per line" " bad=0 " "$(json_lines "$RUNS/json-err.err")"

# ---- 7. a terminal: progress redrawn within its width -------------------------------------------

if command -v script >/dev/null && command -v stty >/dev/null &&
    script -qc true /dev/null </dev/null >/dev/null 2>&1; then
    printf '%q ' env COUNTLY_API_KEY="$ADMIN" "${WRAP[@]}" "$BIN" -c "$CONF" -o "$TMP/tty" sync \
        >"$RUNS/tty.cmd"
    script -qc "stty cols 60 rows 20; $(cat "$RUNS/tty.cmd"); echo RC=\$?" /dev/null \
        </dev/null >"$RUNS/tty.out" 2>&1
    check_match "terminal: the run" "RC=0" "$(tr -d '\r' <"$RUNS/tty.out" | tail -n 1)"
    T=$(python3 - "$RUNS/tty.out" <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
draws = raw.split("\r\x1b[K")[1:]          # each redraw of the progress line
widest = 0
for d in draws:
    shown = re.split(r"[\r\n]", d)[0]      # what stays on the line until the next redraw
    widest = max(widest, len(shown))
stamps = len(re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", raw))
print("draws=%d widest=%d stamps=%d" % (len(draws), widest, stamps))
PY
)
    echo "# terminal (60 columns): $T"
    check_nomatch "terminal: the progress line is redrawn" "draws=[01] " "$T"
    widest=$(sed -n 's/.*widest=\([0-9]*\).*/\1/p' <<<"$T")
    check_le "terminal: never wider than 59 of 60 columns" "$widest" 59
    check_ge "terminal: it says something" "$widest" 10
    check_match "terminal: no timestamps" "stamps=0" "$T"
    check_match "terminal: app i of N" $'\r\e\\[K''(users: )?app [12]( of |/)2' "$(cat "$RUNS/tty.out")"
else
    echo "# terminal: script(1) or stty not usable here; the width is tested by test_log only"
fi

# ---- the API key appears in no output -----------------------------------------------------------

# a server_url that holds the key (in its path, or as a query) is refused: the report would show it
for url in "https://localhost:${PORT[sim]}/$ADMIN" "https://localhost:${PORT[sim]}/o?api_key=$ADMIN"; do
    write_config "$TMP/keyurl.json" "server_url=$url" "app_id=*" "ca_file=$PKI/ca-ec.crt" \
        "output_dir=$TMP/keyurl"
    run_cs keyurl "$ADMIN" -c "$TMP/keyurl.json" --report "$TMP/keyurl.report" \
        --metrics "$TMP/keyurl.prom" sync
    check_eq "server_url with the key: exit 78" 78 "$RC"
    check_match "server_url with the key: says so" \
        "error: (.*: )?key 'server_url': (it holds the API key: give the server's address alone|\\(a value like the api_key, not shown\\) is not a valid URL)" \
        "$ERR"
    check_eq "server_url with the key: not in the report nor the metrics" 0 \
        "$(cat "$TMP/keyurl.report" "$TMP/keyurl.prom" | grep -cF "$ADMIN")"
    check_match "server_url with the key: the report says 78" '"exit_code":78' \
        "$(cat "$TMP/keyurl.report")"
    check_true "server_url with the key: nothing created" "created" test ! -e "$TMP/keyurl"
done

hits=$(grep -rlF -e "$ADMIN" "$RUNS" --include='*.out' --include='*.err' | wc -l)
check_eq "secrets: no API key in any captured output" 0 "$hits"

tl_summary
