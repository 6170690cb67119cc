#!/usr/bin/env bash
# test_ops.sh - operations: the run report and metrics, exit codes 75/69,
# the run lock and stop signals, against the simulator.
#
#  1. --report and --metrics after a successful sync: the report's rows,
#     files (bytes, sha256 of the complete ones), apps and cursors match the
#     CSV files and the state; the metrics parse with the Prometheus
#     text-format parser (prometheus_client) and say the same; --report -
#     writes the report to stdout. Both files are replaced (no temporary left).
#  2. after failures the report and metrics are still written: 77 with a
#     bad key, 75 with a server answering 503 until the retries run out;
#     countly_sync_last_success_timestamp_seconds is kept from the success;
#     a report or metrics file that cannot be written: a warning with the
#     system's reason ("No such file or directory"), the exit code stands.
#  3. exit codes: 75 for a refused connection (a port nobody listens on),
#     69 for an untrusted certificate (not retried).
#  4. the run lock: a second sync while a slow one runs exits 75 within 2 s
#     naming <state_file>.lock and the first run's pid; the first completes
#     exactly.
#  5. SIGTERM, SIGINT and SIGHUP while users pages are read: exit 143 / 130 /
#     129 within 2 s with the one line "interrupted by SIG... after N rows
#     committed; the next run resumes", users.csv ends with a newline at the
#     size the state records, and the next run makes the data exact.
# Environment: COUNTLY_SYNC, COUNTLY_SYNC_HOOKS, COUNTLY_SYNC_WRAPPER, BUILD_DIR, TEST_TMP.
# Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=../lib/e2e.sh
. "$ROOT/tests/lib/e2e.sh"

e2e_paths ops
PKI=$TMP/pki
RUNS=$TMP/runs
rm -rf "$TMP" && mkdir -p "$RUNS"

BG_PID=
cleanup() {
    [ -n "$BG_PID" ] && kill "$BG_PID" 2>/dev/null
    stop_sims
}
trap cleanup EXIT

for tool in python3 curl openssl; do
    command -v $tool >/dev/null || { tl_fail "setup: $tool" "not installed"; tl_summary; exit 1; }
done
[ -x "$BIN" ] || { tl_fail "setup: binary" "$BIN not built"; tl_summary; exit 1; }
# The Prometheus parser: Debian's python3-prometheus-client (make deps) is
# for the system python3, which may not be the first python3 on PATH.
PROM_PY=
for py in python3 /usr/bin/python3; do
    if "$py" -c 'import prometheus_client.parser' 2>/dev/null; then
        PROM_PY=$py
        break
    fi
done
[ -n "$PROM_PY" ] || { tl_fail "setup: prometheus_client" "python3-prometheus-client not installed (make deps)"; tl_summary; exit 1; }
bash "$ROOT/tests/integration/gen_pki.sh" "$PKI" >/dev/null 2>&1 ||
    { tl_fail "setup: pki" "gen_pki.sh failed"; tl_summary; exit 1; }

start_sim ops --seed 4 --apps 2 --users-per-app 1500
SP=${PORT[ops]}
ADMIN=$(json_field "$(sim_get "$SP" /__sim/keys)" admin)
NOW=$(json_field "$(sim_get "$SP" /__sim/info)" now)
truth ops users "&app=*&full=$NOW" "$TMP/users.truth"
truth ops apps_db "" "$TMP/apps.truth"

# oconf NAME KEY=VALUE...: a configuration, output into $TMP/NAME.
oconf() {
    local name=$1
    shift
    write_config "$TMP/$name.json" "server_url=https://localhost:$SP" "app_id=*" \
        "ca_file=$PKI/ca-ec.crt" "output_dir=$TMP/$name" "max_records_per_page=100" \
        "initial_sync_days=0" "retry_attempts=1" "$@"
}
arm() { sim_get "$SP" "/__sim/fault?$1" >/dev/null; }
reset_faults() { sim_get "$SP" /__sim/reset-faults >/dev/null; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# report_check NAME OUT REPORT: the report against the files in OUT.
report_check() {
    python3 - "$2" "$3" <<'PY'
import hashlib, json, os, sys
out, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
state = json.load(open(os.path.join(out, "state.json")))
def rows(p):
    sys.path.insert(0, os.environ["PIPELINE"])
    import csvcheck
    return len(csvcheck.read_csv(p)[1])
problems = []
for key in ("version", "command", "exit_code", "outcome", "server_url", "run_start", "started_at",
            "finished_at", "duration_seconds", "streams", "apps", "files"):
    if key not in r:
        problems.append("no %s" % key)
files = {f["path"]: f for f in r["files"]}
if sorted(files) != ["apps.csv", "groups.csv", "users.csv"]:
    problems.append("files %s" % sorted(files))
for name, f in files.items():
    p = os.path.join(out, name)
    n = rows(p)
    if f["rows"] != n:
        problems.append("%s: rows %s, file %d" % (name, f["rows"], n))
    if f["bytes"] != os.path.getsize(p):
        problems.append("%s: bytes %s, file %d" % (name, f["bytes"], os.path.getsize(p)))
    if f["complete"] != (name != "users.csv"):
        problems.append("%s: complete %s" % (name, f["complete"]))
    want = hashlib.sha256(open(p, "rb").read()).hexdigest() if f["complete"] else None
    if f.get("sha256") != want:
        problems.append("%s: sha256 %s, file %s" % (name, f.get("sha256"), want))
    stream = r["streams"][name[:-4]]
    if stream["rows"] != n or not stream["enabled"] or not stream["completed"]:
        problems.append("stream %s: %s (file rows %d)" % (name[:-4], stream, n))
if r["streams"]["users"]["pages"] < 1 or r["streams"]["users"]["bytes_received"] < 1000:
    problems.append("users stream: %s" % r["streams"]["users"])
if r["exit_code"] != 0 or r["outcome"] != "ok" or r["command"] != "sync":
    problems.append("exit_code %s outcome %s" % (r["exit_code"], r["outcome"]))
apps = {a["app_id"]: a for a in r["apps"]}
if sorted(apps) != sorted(state["apps"]):
    problems.append("apps %s, state %s" % (sorted(apps), sorted(state["apps"])))
import datetime
def unix(t):
    return int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp())
for a in r["apps"]:
    if unix(a["cursor"]) != state["apps"].get(a["app_id"]) or unix(a["cursor"]) != unix(r["run_start"]):
        problems.append("app %s: cursor %s, state %s" % (a["app_id"], a["cursor"], state["apps"].get(a["app_id"])))
if sum(a["rows"] for a in r["apps"]) != files["users.csv"]["rows"]:
    problems.append("apps rows %s" % [a["rows"] for a in r["apps"]])
print("; ".join(problems) or "ok")
PY
}

# metrics NAME FILE: the samples as "name{labels} value" lines, parsed by prometheus_client.
metrics() {
    "$PROM_PY" - "$1" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    if fam.type != "gauge":
        print("not a gauge:", fam.name)
    for s in fam.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        print("%s{%s} %d" % (s.name, labels, int(s.value)))
PY
}
metric() { sed -n "s/^$1 //p" <<<"$2"; }

export PIPELINE=$ROOT/tests/pipeline

# ---- 1. report and metrics after a success --------------------------------------------------------

oconf ok
run_cs ok "$ADMIN" -c "$TMP/ok.json" --report "$TMP/ok.report.json" --metrics "$TMP/ok.prom" sync
check_eq "success: exit 0" 0 "$RC"
compare "success: users.csv" "$TMP/ok/users.csv" "$TMP/users.truth"
check_eq "success: the report matches the files and the state" ok \
    "$(report_check ok "$TMP/ok" "$TMP/ok.report.json")"
M=$(metrics "$TMP/ok.prom" 2>&1)
check_nomatch "success: every metric is a gauge" "not a gauge|Error|Traceback" "$M"
check_eq "success: last_exit_code 0" 0 "$(metric 'countly_sync_last_exit_code{}' "$M")"
LAST_OK=$(metric 'countly_sync_last_success_timestamp_seconds{}' "$M")
check_eq "success: last_success = last_run" "$(metric 'countly_sync_last_run_timestamp_seconds{}' "$M")" "$LAST_OK"
check_eq "success: rows{users} = users.csv rows" "$(data_lines "$TMP/ok/users.csv")" \
    "$(metric 'countly_sync_rows{stream=users}' "$M")"
check_eq "success: rows{apps} = apps.csv rows" "$(data_lines "$TMP/ok/apps.csv")" \
    "$(metric 'countly_sync_rows{stream=apps}' "$M")"
check_eq "success: one cursor per app, at the run start" 2 \
    "$(grep -c "^countly_sync_cursor_timestamp_seconds{app_id=[0-9a-f]\{24\}} $(python3 -c 'import json,sys; print(list(json.load(open(sys.argv[1]))["apps"].values())[0])' "$TMP/ok/state.json")$" <<<"$M")"
CURSORS=$(grep '^countly_sync_cursor_timestamp_seconds' <<<"$M")
check_true "success: no temporary file left" "found" \
    test -z "$(ls -A "$TMP" | grep '\.tmp$')"
check_match "success: bytes_received{users}" "^[1-9][0-9]{4,}$" "$(metric 'countly_sync_bytes_received{stream=users}' "$M")"

oconf stdout
run_cs stdout "$ADMIN" -c "$TMP/stdout.json" --report - sync
check_eq "--report -: exit 0" 0 "$RC"
check_eq "--report -: the report is stdout" "0 ok 3" \
    "$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["exit_code"], r["outcome"], len(r["files"]))' "$OUT")"

# ---- 2. failures still write both, and keep the last success --------------------------------------

run_cs badkey "0123456789abcdef0123456789abcdef" -c "$TMP/ok.json" --report "$TMP/ok.report.json" \
    --metrics "$TMP/ok.prom" sync
check_eq "bad key: exit 77" 77 "$RC"
check_eq "bad key: report exit_code 77, outcome is the error line" \
    "77 connecting: the API key was refused by localhost" \
    "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["exit_code"], r["outcome"].split(" (401")[0])' "$TMP/ok.report.json")"
check_eq "bad key: the error line on stderr is the report's outcome" \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["outcome"])' "$TMP/ok.report.json")" \
    "$(sed -n 's/^countly-sync: error: //p' <<<"$ERR")"
M=$(metrics "$TMP/ok.prom")
check_eq "bad key: last_exit_code 77" 77 "$(metric 'countly_sync_last_exit_code{}' "$M")"
check_eq "bad key: last_success kept" "$LAST_OK" "$(metric 'countly_sync_last_success_timestamp_seconds{}' "$M")"
check_eq "bad key: each app's cursor kept (the state's)" "$CURSORS" \
    "$(grep '^countly_sync_cursor_timestamp_seconds' <<<"$M")"
# a configuration that cannot be read: 78, the report says nothing it does not know
printf '{"server_url": ' >"$TMP/broken.json"
run_cs broken "$ADMIN" -c "$TMP/broken.json" --report "$TMP/broken.report.json" sync
check_eq "broken configuration: exit 78" 78 "$RC"
check_eq "broken configuration: the report has server_url null and no stream enabled" \
    "78 None False False False" \
    "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["exit_code"], r["server_url"], *(r["streams"][s]["enabled"] for s in ("apps", "groups", "users")))' "$TMP/broken.report.json")"

# a report and metrics that cannot be written: a warning each with the system's reason; the
# run's own exit code stands
run_cs unwritable "0123456789abcdef0123456789abcdef" -c "$TMP/ok.json" \
    --report "$TMP/missing/r.json" --metrics "$TMP/missing/m.prom" sync
check_eq "unwritable report: the run's exit code stands (77)" 77 "$RC"
check_eq "unwritable report: the warning says why" \
    "countly-sync: warning: cannot write the run report $TMP/missing/r.json: No such file or directory" \
    "$(grep 'cannot write the run report' <<<"$ERR")"
check_eq "unwritable metrics: the warning says why" \
    "countly-sync: warning: cannot write the metrics $TMP/missing/m.prom: No such file or directory" \
    "$(grep 'cannot write the metrics' <<<"$ERR")"

HOOKS=${COUNTLY_SYNC_HOOKS:-$BUILD_DIR/asan/bin/countly-sync-hooks}
[ -x "$HOOKS" ] && [ "${#WRAP[@]}" -eq 0 ] && SAVED_BIN=$BIN && BIN=$HOOKS
APP2=$(json_field "$(sim_get "$SP" /__sim/info)" apps | cut -d' ' -f2)
arm "kind=status&code=503&count=-1&collection=app_users$APP2"
CS_PREFIX=(env COUNTLY_SYNC_FAKE_SLEEP=1)
run_cs s503 "$ADMIN" -c "$TMP/ok.json" --report "$TMP/ok.report.json" --metrics "$TMP/ok.prom" sync
CS_PREFIX=()
BIN=${SAVED_BIN:-$BIN}
reset_faults
check_eq "503 after the retries: exit 75" 75 "$RC"
check_match "503 after the retries: one error line" \
    "^countly-sync: error: users of app $APP2, page 1: HTTP 503 from localhost.*gave up after 2 attempts\\)$" \
    "$(grep '^countly-sync: error' <<<"$ERR")"
check_eq "503 after the retries: report exit_code 75, users not completed" "75 False True" \
    "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["exit_code"], r["streams"]["users"]["completed"], r["streams"]["apps"]["completed"])' "$TMP/ok.report.json")"
M=$(metrics "$TMP/ok.prom")
check_eq "503 after the retries: last_exit_code 75" 75 "$(metric 'countly_sync_last_exit_code{}' "$M")"
check_eq "503 after the retries: last_success kept" "$LAST_OK" \
    "$(metric 'countly_sync_last_success_timestamp_seconds{}' "$M")"

# ---- 3. exit codes: refused connection 75, untrusted certificate 69 -------------------------------

DOWN=$(free_port)
oconf refused "server_url=https://localhost:$DOWN" "retry_attempts=0"
run_cs refused "$ADMIN" -c "$TMP/refused.json" sync
check_eq "refused connection: exit 75" 75 "$RC"
check_match "refused connection: says so" "connection refused.*gave up after 1 attempt\\)$" "$ERR"
oconf untrusted "ca_file=$PKI/ca-other.crt" "retry_attempts=3"
run_cs untrusted "$ADMIN" -c "$TMP/untrusted.json" sync
check_eq "untrusted certificate: exit 69" 69 "$RC"
check_match "untrusted certificate: says so" "not signed by a trusted CA" "$ERR"
check_eq "untrusted certificate: not retried" 0 "$(grep -c retry <<<"$ERR")"

# ---- 4. the run lock -------------------------------------------------------------------------------

# bg_start NAME CONF: a sync in the background (pid in BG_PID); bg_end: its exit code in RC.
bg_start() {
    env COUNTLY_API_KEY="$ADMIN" "${WRAP[@]}" "$BIN" -c "$2" sync >"$RUNS/$1.out" 2>"$RUNS/$1.err" &
    BG_PID=$!
}
bg_end() {
    wait "$BG_PID"
    RC=$?
    BG_PID=
    ERR=$(tl_untimestamp <"$RUNS/$1.err") # the file keeps the timestamps
}
# in_users OUT: waits (at most 60 s) until users.csv holds committed rows.
in_users() {
    local i
    for ((i = 0; i < 600; i++)); do
        [ -f "$1/state.json" ] && python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])).get("users_csv_bytes",0) < 2000)' "$1/state.json" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# Every users page takes the simulator a second: a run lasts about 30 s.
slow() { arm "kind=slow&seconds=1&count=-1&path=/o/db&match=app_users"; }

slow
oconf locked
bg_start first "$TMP/locked.json"
FIRST=$BG_PID
check_true "lock: the first run reads users pages" "it did not" in_users "$TMP/locked"
run_cs second "$ADMIN" -c "$TMP/locked.json" sync
check_eq "lock: the second run exits 75" 75 "$RC"
check_lt "lock: at once ($ELAPSED_MS ms < 2000)" "$ELAPSED_MS" 2000
check_eq "lock: one line naming the lock file and the holder" \
    "countly-sync: error: another countly-sync run holds $TMP/locked/state.json.lock (pid $FIRST)" "$ERR"
# the same folder through another state file: the folder's mark is held too
write_config "$TMP/locked-other-state.json" "server_url=https://localhost:$SP" "app_id=*" \
    "ca_file=$PKI/ca-ec.crt" "output_dir=$TMP/locked" "state_file=$TMP/other-state.json"
run_cs second-folder "$ADMIN" -c "$TMP/locked-other-state.json" sync
check_eq "lock, another state file into the same folder: exit 75" 75 "$RC"
check_lt "lock, another state file: at once ($ELAPSED_MS ms < 2000)" "$ELAPSED_MS" 2000
check_eq "lock, another state file: one line naming the folder and its mark" \
    "countly-sync: error: another countly-sync run is writing into $TMP/locked (it holds $TMP/locked/.countly-sync): one run per output folder" \
    "$ERR"
check_true "lock, another state file: no state made for it" "made" test ! -e "$TMP/other-state.json"
reset_faults
bg_end first
check_eq "lock: the first run completes" 0 "$RC"
compare "lock: the first run's users.csv" "$TMP/locked/users.csv" "$TMP/users.truth"
run_cs third "$ADMIN" -c "$TMP/locked.json" sync
check_eq "lock: released when the run ends" 0 "$RC"
oconf checkonly
run_cs checklock "$ADMIN" -c "$TMP/checkonly.json" check
check_true "check takes no lock" "a lock file" test ! -e "$TMP/checkonly/state.json.lock"

# ---- 5. SIGTERM, SIGINT and SIGHUP while users pages are read -------------------------------------

for sig in TERM INT HUP; do
    code=$((128 + $(kill -l "$sig")))
    name=sig$sig
    slow
    oconf "$name"
    bg_start "$name" "$TMP/$name.json"
    check_true "SIG$sig: the run reads users pages" "it did not" in_users "$TMP/$name"
    sleep 0.5
    t0=$(date +%s%N)
    kill -s "$sig" "$BG_PID"
    bg_end "$name"
    ms=$((($(date +%s%N) - t0) / 1000000))
    reset_faults
    check_eq "SIG$sig: exit $code" "$code" "$RC"
    check_lt "SIG$sig: within 2 s ($ms ms)" "$ms" 2000
    check_match "SIG$sig: the one line" \
        "^countly-sync: error: interrupted by SIG$sig after [1-9][0-9]* rows committed; the next run resumes$" \
        "$(grep '^countly-sync: error' <<<"$ERR")"
    check_eq "SIG$sig: one error line" 1 "$(grep -c '^countly-sync: error' <<<"$ERR")"
    check_eq "SIG$sig: users.csv ends at a row, at the size the state records" ok \
        "$(python3 -c '
import json, os, sys
d = sys.argv[1]
size = os.path.getsize(d + "/users.csv")
want = json.load(open(d + "/state.json"))["users_csv_bytes"]
last = open(d + "/users.csv", "rb").read()[-1:]
print("ok" if size == want and last == b"\n" else "size %d state %d last %r" % (size, want, last))' "$TMP/$name")"
    run_cs "$name-again" "$ADMIN" -c "$TMP/$name.json" sync
    check_eq "SIG$sig: the next run completes" 0 "$RC"
    # two runs wrote rows (two processed_at values): every user once, nothing else
    CMP=$(python3 "$ROOT/tests/e2e/compare.py" --csv "$TMP/$name/users.csv" --truth "$TMP/users.truth" 2>&1)
    check_eq "SIG$sig: every user exactly once after the rerun" "3000 3000 0 0 0" \
        "$(cmp_field rows) $(cmp_field truth_rows) $(cmp_field missing) $(cmp_field unexpected) $(cmp_field duplicates)"
done

check_eq "the API key appears in no output" "" "$(grep -l "$ADMIN" "$RUNS"/* "$TMP"/*.json "$TMP"/*.prom 2>/dev/null)"

tl_summary
