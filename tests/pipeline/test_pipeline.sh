#!/usr/bin/env bash
# test_pipeline.sh -- end-to-end tests of the record pipeline (jstream -> map -> csv).
#
# Generates Countly bodies with gen_body.py (users over many pages, apps from
# /o/db and from /o/apps/mine, groups; a fraction of hostile records), runs
# pipeline_run on them, and checks the CSV files against the generator's
# truth three ways:
#   - PostgreSQL 15 (a private cluster, tests/lib/pg.sh, unix socket only):
#     \copy into typed tables (timestamptz, bigint, jsonb, text), then every
#     field compared with the truth loaded into PostgreSQL as well;
#   - SQLite, loaded through a strict RFC 4180 reader that keeps NULL (empty,
#     unquoted) apart from "" and checks the quoting, then every field compared
#     in Python (JSON in source order, json_valid(metadata) = 1);
#   - no line of any CSV holds a secret (salt, checksum_salt, api_key).
# Also: chunk sizes (1 byte, odd sizes) give identical files, a second run
# appends, bad bodies fail with exit 65 and keep the committed rows.
# Prints check lines and "N passed, N failed" last; exits non-zero on failure.
#
# Environment:
#   PIPELINE_RUN   the driver (default $BUILD_DIR/native/tests/pipeline_run)
#   BUILD_DIR      build folder (default build); work goes to $BUILD_DIR/test-tmp
#   PG_BIN         PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#   PIPELINE_USERS users to generate (default 20000, over 20 pages)
#   PIPELINE_SEED  generator seed (default 20240605)
#   PIPELINE_NASTY fraction of hostile records (default 0.15)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
# shellcheck source=../lib/pg.sh
. "$ROOT/tests/lib/pg.sh"

BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
RUN=${PIPELINE_RUN:-$BUILD_DIR/native/tests/pipeline_run}
case $RUN in /*) ;; *) RUN=$ROOT/$RUN ;; esac
USERS=${PIPELINE_USERS:-20000}
USER_PAGES=20
SEED=${PIPELINE_SEED:-20240605}
NASTY=${PIPELINE_NASTY:-0.15}
APP_ID=64b0ac10c2c3ce0012dd1001
SERVER_URL=https://countly.example.com/analytics
PROCESSED_AT=1717650000

TMP=$BUILD_DIR/test-tmp/pipeline
GEN=$TMP/bodies
OUT=$TMP/csv
KINDS=(users apps_db apps_mine groups)
PY=(python3)
CHECK=("${PY[@]}" "$HERE/csvcheck.py")

# ---------------------------------------------------------------------------
# helpers

# kv KEY TEXT: the value of the first "KEY=value" line of TEXT.
kv() {
    sed -n "s/^$1=//p" <<<"$2" | head -n 1
}

# details TEXT: the detail lines (indented) of a checker's output.
details() {
    grep '^  ' <<<"$1" | head -n 12
}

# check_zero NAME VALUE OUTPUT: VALUE is 0, else show OUTPUT's details.
check_zero() {
    check_eq "$1" 0 "$2"
    [ "$2" = 0 ] || details "$3"
}

# fatal MESSAGE: a prerequisite is missing; nothing else can be checked.
fatal() {
    tl_fail "prerequisites" "$1"
    tl_summary
    exit 1
}

# csv_of KIND [SUFFIX]: output path.
csv_of() {
    echo "$OUT/$1${2:-}.csv"
}

# pages KIND: the page files of KIND in order (from its meta).
pages() {
    "${PY[@]}" -c 'import json,sys,os
m=json.load(open(sys.argv[1]))
print("\n".join(os.path.join(os.path.dirname(sys.argv[1]), f) for f in m["files"]))' \
        "$GEN/$1.meta.json"
}

# meta KIND FIELD
meta() {
    "${PY[@]}" -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]
print(len(v) if isinstance(v, list) else v)' "$GEN/$1.meta.json" "$2"
}

# run_pipeline KIND OUT [ARGS...] -- BODIES...: runs the driver; output in
# $RUN_OUT, stderr in $RUN_ERR, status in $RUN_RC.
run_pipeline() {
    local kind=$1 out=$2
    shift 2
    local extra=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        extra+=("$1")
        shift
    done
    shift
    RUN_OUT=$("$RUN" --table "$kind" --app-id "$APP_ID" --server-url "$SERVER_URL" \
        --processed-at "$PROCESSED_AT" "${extra[@]}" --out "$out" "$@" 2>"$TMP/stderr")
    RUN_RC=$?
    RUN_ERR=$(cat "$TMP/stderr")
}

cleanup() {
    pg_stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql_run() {
    pg_psql -q -A -t -v ON_ERROR_STOP=1 "$@"
}

# ---------------------------------------------------------------------------
# prerequisites

[ -x "$RUN" ] || fatal "pipeline_run not found at $RUN (make PROFILE=native tools, or set PIPELINE_RUN)"
command -v python3 >/dev/null || fatal "python3 is missing"
for tool in initdb pg_ctl psql; do
    [ -x "$PG_BIN/$tool" ] || fatal "PostgreSQL: $PG_BIN/$tool missing (apt-get install postgresql-15, or set PG_BIN)"
done
"${PY[@]}" -c 'import sqlite3; sqlite3.connect(":memory:").execute("select json_valid(1)")' \
    2>/dev/null || fatal "python3's sqlite3 module (with JSON functions) is missing"

rm -rf "$TMP"
mkdir -p "$GEN" "$OUT"

# ---------------------------------------------------------------------------
echo "== generate bodies (seed $SEED)"

for kind in "${KINDS[@]}"; do
    case $kind in
    users) args=(--count "$USERS" --pages "$USER_PAGES") ;;
    apps_db) args=(--count 400 --pages 3) ;;
    apps_mine) args=(--count 200) ;; # within JSTREAM_APPS_MAX (256)
    groups) args=(--count 400) ;;
    esac
    "${PY[@]}" "$HERE/gen_body.py" --kind "$kind" "${args[@]}" --seed "$SEED" --nasty "$NASTY" \
        --out-dir "$GEN" --app-id "$APP_ID" --server-url "$SERVER_URL" \
        --processed-at "$PROCESSED_AT" >"$TMP/gen-$kind.log" 2>&1
    check_eq "generate $kind" 0 $?
done
[ -s "$GEN/users.meta.json" ] || fatal "gen_body.py wrote no users: $(tail -n 5 "$TMP/gen-users.log")"
check_ge "truth has U+FFFD cases" "$(meta users replaced)" 1
check_ge "truth has secrets" "$(meta apps_db secrets)" 1

# The truth is computed from the generator's model; Python's json parse of
# the bodies, mapped by py_export.py, must agree with it.
for kind in "${KINDS[@]}"; do
    out=$("${CHECK[@]}" selfcheck --dir "$GEN" --kind "$kind" 2>&1)
    check_eq "truth $kind agrees with Python's parse of the bodies: rows" \
        "$(kv truth_rows "$out")" "$(kv rows "$out")"
    check_zero "truth $kind agrees with Python's parse of the bodies: fields" \
        "$(kv mismatches "$out")" "$out"
done

# ---------------------------------------------------------------------------
echo "== pipeline_run"

for kind in "${KINDS[@]}"; do
    mapfile -t files < <(pages "$kind")
    run_pipeline "$kind" "$(csv_of "$kind")" -- "${files[@]}"
    check_eq "$kind: exit status" 0 "$RUN_RC"
    [ "$RUN_RC" = 0 ] || echo "  $RUN_ERR"
    check_match "$kind: summary line" \
        '^records=[0-9]+ bytes=[0-9]+ seconds=[0-9.]+ mb_per_s=[0-9.]+ records_per_s=[0-9]+ replaced=[0-9]+ maxrss_kb=[0-9]+$' \
        "$RUN_OUT"
    summary=$(tr ' ' '\n' <<<"$RUN_OUT")
    check_eq "$kind: records" "$(meta "$kind" records)" "$(kv records "$summary")"
    check_eq "$kind: U+FFFD replacements" "$(meta "$kind" replaced)" "$(kv replaced "$summary")"
    check_eq "$kind: bytes read" "$(cat "${files[@]}" | wc -c)" "$(kv bytes "$summary")"
done

echo "== chunk sizes give identical files"
for kind in apps_db apps_mine groups; do
    mapfile -t files < <(pages "$kind")
    for chunk in 1 3 4093; do
        run_pipeline "$kind" "$(csv_of "$kind" ".chunk$chunk")" --chunk "$chunk" -- "${files[@]}"
        check_true "$kind: --chunk $chunk gives the same CSV" "exit $RUN_RC; $RUN_ERR" \
            cmp -s "$(csv_of "$kind")" "$(csv_of "$kind" ".chunk$chunk")"
    done
done
mapfile -t files < <(pages users)
run_pipeline users "$(csv_of users .first2)" -- "${files[@]:0:2}"
run_pipeline users "$(csv_of users .first2-chunk1)" --chunk 1 -- "${files[@]:0:2}"
check_true "users: --chunk 1 gives the same CSV (2 pages)" "exit $RUN_RC; $RUN_ERR" \
    cmp -s "$(csv_of users .first2)" "$(csv_of users .first2-chunk1)"
run_pipeline users "$(csv_of users .chunk7)" --chunk 7 -- "${files[@]}"
check_true "users: --chunk 7 gives the same CSV (all pages)" "exit $RUN_RC; $RUN_ERR" \
    cmp -s "$(csv_of users)" "$(csv_of users .chunk7)"

echo "== appending runs and failing bodies"
half=$((${#files[@]} / 2))
run_pipeline users "$(csv_of users .append)" -- "${files[@]:0:half}"
run_pipeline users "$(csv_of users .append)" -- "${files[@]:half}"
check_true "users: a second run appends (header once)" "exit $RUN_RC; $RUN_ERR" \
    cmp -s "$(csv_of users)" "$(csv_of users .append)"

# page 1, then a page cut in the middle: exit 65, page 1's rows stay
head -c "$(($(wc -c <"${files[1]}") / 2))" "${files[1]}" >"$TMP/truncated.json"
run_pipeline users "$(csv_of users .page1)" -- "${files[0]}"
run_pipeline users "$(csv_of users .truncated)" -- "${files[0]}" "$TMP/truncated.json"
check_eq "truncated body: exit 65" 65 "$RUN_RC"
check_eq "truncated body: one line on stderr" 1 "$(grep -c . <<<"$RUN_ERR")"
check_match "truncated body: names the file" 'truncated\.json' "$RUN_ERR"
check_true "truncated body: committed rows stay, the partial page is rolled back" \
    "CSV differs from page 1's" cmp -s "$(csv_of users .page1)" "$(csv_of users .truncated)"

# a text value in an integer column: exit 65 naming the column and the _id
printf '%s' '{"limit":2, "start":1, "end":2, "total":2, "pages":1, "curPage":1, "collections":[{"_id":"u1","sc":1},{"_id":"u2bad","byear":"nineteen"}]}' \
    >"$TMP/badvalue.json"
run_pipeline users "$(csv_of users .badvalue)" -- "${files[0]}" "$TMP/badvalue.json"
check_eq "bad value: exit 65" 65 "$RUN_RC"
check_match "bad value: names the column" 'byear' "$RUN_ERR"
check_match "bad value: names the record" 'u2bad' "$RUN_ERR"
check_true "bad value: committed rows stay, the bad page is rolled back" \
    "CSV differs from page 1's" cmp -s "$(csv_of users .page1)" "$(csv_of users .badvalue)"

run_pipeline users "$TMP/no-such-dir/users.csv" -- "${files[0]}"
check_eq "unwritable output: exit 73" 73 "$RUN_RC"

# ---------------------------------------------------------------------------
echo "== PostgreSQL 15: typed load and field-by-field comparison"

if pg_start "$TMP/pg-server.log"; then
    echo "# setup: postgres: private cluster started (socket $PG_SOCK, port $PG_PORT)"
    for kind in "${KINDS[@]}"; do
        "${CHECK[@]}" pg-sql --dir "$GEN" --kind "$kind" --csv "$(csv_of "$kind")" \
            >"$TMP/pg-$kind.sql"
        out=$(psql_run -f "$TMP/pg-$kind.sql" 2>&1)
        rc=$?
        check_eq "postgres $kind: \\copy CSV HEADER into typed table and compare" 0 "$rc"
        [ "$rc" = 0 ] || { head -n 5 <<<"$out" | sed 's/^/  /'; continue; }
        check_eq "postgres $kind: rows" "$(meta "$kind" records)" "$(kv rows "$out")"
        check_eq "postgres $kind: truth rows" "$(meta "$kind" records)" "$(kv truth_rows "$out")"
        check_eq "postgres $kind: metadata is a JSON object in every row" 0 \
            "$(kv meta_not_object "$out")"
        check_zero "postgres $kind: every field equals the truth" "$(kv mismatches "$out")" "$out"
    done
    pg_stop
else
    tl_fail "setup: postgres: private cluster started" "$PG_ERROR"
fi

# ---------------------------------------------------------------------------
echo "== SQLite: strict RFC 4180 reader, typed load, field-by-field comparison"

out=$("${CHECK[@]}" reader-selftest 2>&1)
check_ge "csv reader self-test: cases" "$(kv cases "$out")" 10
check_zero "csv reader self-test: NULL vs \"\", quoting, malformed files refused" \
    "$(kv failures "$out")" "$out"

rm -f "$TMP/sqlite.db"
for kind in "${KINDS[@]}"; do
    out=$("${CHECK[@]}" sqlite --dir "$GEN" --kind "$kind" --csv "$(csv_of "$kind")" \
        --db "$TMP/sqlite.db" 2>&1)
    check_eq "sqlite $kind: well-formed CSV (RFC 4180, \\n line ends, quoting)" none \
        "$(kv csv_error "$out")"
    check_eq "sqlite $kind: header" ok "$(kv header "$out")"
    check_eq "sqlite $kind: rows" "$(meta "$kind" records)" "$(kv rows "$out")"
    check_eq "sqlite $kind: json_valid(metadata) = 1 and an object in every row" 0 \
        "$(kv meta_invalid "$out")"
    check_eq "sqlite $kind: integers, timestamps and JSON have their types" 0 \
        "$(kv bad_types "$out")"
    check_zero "sqlite $kind: every field equals the truth" "$(kv mismatches "$out")" "$out"
done

# ---------------------------------------------------------------------------
echo "== secrets"

mapfile -t csvs < <(ls "$OUT"/*.csv)
out=$("${CHECK[@]}" secrets --dir "$GEN" --csv "${csvs[@]}" 2>&1)
check_ge "secret values known to the check" "$(kv secrets "$out")" 10
check_ge "CSV lines scanned" "$(kv lines "$out")" "$USERS"
check_zero "no CSV line holds a salt, checksum_salt or api_key value" "$(kv hits "$out")" "$out"

tl_summary
