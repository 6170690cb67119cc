#!/usr/bin/env bash
# bench/pipeline.sh - record pipeline throughput and memory (figures, not pass/fail).
#
# One /o/db app-users body of BENCH_PIPELINE_MB MB (default 200; MB = 10^6
# bytes) and one of a tenth of that, made by tests/pipeline/gen_body.py
# --target-mb and cached under $BUILD_DIR/bench/pipeline/ by seed, size and
# generator version. The large body is turned into users.csv (SPEC.md's
# columns) three ways, in the same run:
#   pipeline_run   jstream -> map -> csv_sink (the agent's chain), fsyncs its output
#   jq             jq -r '.collections[] | [...] | @csv'; simpler than SPEC.md:
#                  numbers are doubles (9007199254740993 -> ...992, 30-digit
#                  integers lose digits), keys are not kept in source order in
#                  metadata (del() keeps order, but duplicates collapse the same
#                  way), every string is quoted, no U+0000 replacement; it
#                  refuses lone-surrogate escapes, so the bodies hold no hostile
#                  records (gen_body.py --nasty 0)
#   python         tests/pipeline/py_export.py: json.load + csv module (NULL and
#                  "" both come out empty)
# Prints MB/s and records/s of each, the speed ratios, and the peak RSS of
# pipeline_run on the small and the large body (fixed memory: nearly equal).
#
# Environment: BUILD_DIR (default build), PIPELINE_RUN (default
# $BUILD_DIR/native/tests/pipeline_run), BENCH_PIPELINE_MB, BENCH_PIPELINE_SEED
# (default 7), BENCH_PIPELINE_RUNS (best of N for pipeline_run, default 3).
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
RUN=${PIPELINE_RUN:-$BUILD_DIR/native/tests/pipeline_run}
BIG_MB=${BENCH_PIPELINE_MB:-200}
SMALL_MB=$(awk -v m="$BIG_MB" 'BEGIN { printf "%g", m / 10 }')
SEED=${BENCH_PIPELINE_SEED:-7}
RUNS=${BENCH_PIPELINE_RUNS:-3}
APP_ID=64b0ac10c2c3ce0012dd1001
PROCESSED_AT=1717650000
RUN_ISO=2024-06-06T05:00:00Z
GEN=$ROOT/tests/pipeline/gen_body.py
BASE=$BUILD_DIR/bench/pipeline
# The three tools write their CSV to memory (tmpfs) when the machine has one,
# so the figures compare the conversion, not the disk (pipeline_run fsyncs).
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    WORK=${BENCH_PIPELINE_WORK:-/dev/shm/countly-pipeline-bench.$$}
else
    WORK=${BENCH_PIPELINE_WORK:-$BASE/work}
fi
TIME=/usr/bin/time

die() {
    echo "bench/pipeline: $*" >&2
    exit 1
}

cleanup() {
    rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$RUN" ] || die "pipeline_run not found at $RUN (make PROFILE=native tools)"
[ -x "$TIME" ] || die "$TIME missing (apt-get install time)"
command -v jq >/dev/null || die "jq missing (apt-get install jq)"
command -v python3 >/dev/null || die "python3 missing"

# body MB: path of a cached users body of MB MB (generated when missing).
body() {
    local mb=$1 version dir
    version=$(sha1sum "$GEN" | cut -c1-8)
    dir=$BASE/seed$SEED-${mb}mb-gen$version
    if [ ! -s "$dir/users-page-001.json" ]; then
        echo "generating a $mb MB users body in $dir (cached for later runs)" >&2
        rm -rf "$dir.tmp"
        # --nasty 0: jq 1.6 refuses the lone-surrogate escapes of hostile records
        python3 "$GEN" --kind users --target-mb "$mb" --seed "$SEED" --nasty 0 --no-truth \
            --out-dir "$dir.tmp" --app-id "$APP_ID" --processed-at "$PROCESSED_AT" >&2 ||
            die "gen_body.py failed"
        rm -rf "$dir" && mv "$dir.tmp" "$dir"
    fi
    echo "$dir/users-page-001.json"
}

# timed NAME CMD...: runs CMD under /usr/bin/time; sets SECS and RSS_KB.
timed() {
    local name=$1
    shift
    if ! "$TIME" -f '%e %M' -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"; then
        echo "bench/pipeline: $name failed:" >&2
        tail -n 5 "$WORK/$name.err" >&2
        SECS=0
        RSS_KB=0
        return 1
    fi
    read -r SECS RSS_KB <"$WORK/$name.time"
}

# pipeline BODY NAME: best of RUNS; sets P_SECS, P_RSS (time's), P_SELF_RSS (the tool's).
pipeline() {
    local body=$1 name=$2 i
    P_SECS=
    for ((i = 0; i < RUNS; i++)); do
        rm -f "$WORK/$name.csv"
        timed "$name" "$RUN" --table users --app-id "$APP_ID" --processed-at "$PROCESSED_AT" \
            --out "$WORK/$name.csv" "$body" || return 1
        if [ -z "$P_SECS" ] || awk -v a="$SECS" -v b="$P_SECS" 'BEGIN { exit !(a < b) }'; then
            P_SECS=$SECS
            P_RSS=$RSS_KB
            P_SUMMARY=$(cat "$WORK/$name.out")
        fi
    done
    P_SELF_RSS=$(sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p' <<<"$P_SUMMARY")
    P_RECORDS=$(sed -n 's/^records=\([0-9]*\).*/\1/p' <<<"$P_SUMMARY")
}

# SPEC.md's users columns, as far as jq can map them.
read -r -d '' JQ_USERS <<'JQ'
def txt: if . == null or type == "string" then . else tojson end;
def int: if . == null then null elif . < 0 then -(-. | floor) else floor end;
def ts: if . == null then null
        else (if (tostring | length) == 13 then . / 1000 | floor else . end) | todate end;
.collections[]
| [(._id | txt), $app, (.did | txt), (.name | txt), (.email | txt), (.organization | txt),
   (.phone | txt), (.picture | txt), (.gender | txt), (.byear | int),
   (if .custom == null then null else (.custom | tojson) end),
   (.fs | ts), (.ls | ts), (.sc | int), (.tsd | int), $run, (.lac | ts),
   (del(._id, .did, .name, .email, .organization, .phone, .picture, .gender, .byear,
        .custom, .fs, .ls, .sc, .tsd, .lac, .salt, .checksum_salt, .api_key) | tojson)]
| @csv
JQ

rm -rf "$WORK" && mkdir -p "$WORK"
BIG=$(body "$BIG_MB") || exit 1
SMALL=$(body "$SMALL_MB") || exit 1
BIG_BYTES=$(stat -c %s "$BIG")
SMALL_BYTES=$(stat -c %s "$SMALL")
cat "$BIG" "$SMALL" >/dev/null # page cache: every tool reads from memory

echo "== pipeline: $(basename "$(dirname "$BIG")") ($BIG_BYTES bytes) and $(basename "$(dirname "$SMALL")") ($SMALL_BYTES bytes)"

pipeline "$SMALL" small || die "pipeline_run failed on the small body"
S_RSS=$P_RSS S_SELF_RSS=$P_SELF_RSS S_SUMMARY=$P_SUMMARY
pipeline "$BIG" big || die "pipeline_run failed on the large body"
RECORDS=$P_RECORDS
rm -f "$WORK"/small.csv

timed jq jq -r --arg app "$APP_ID" --arg run "$RUN_ISO" "$JQ_USERS" "$BIG"
J_SECS=$SECS J_RSS=$RSS_KB
[ -s "$WORK/jq.out" ] || J_SECS=0
rm -f "$WORK/jq.out"

timed python python3 "$ROOT/tests/pipeline/py_export.py" --table users --app-id "$APP_ID" \
    --processed-at "$PROCESSED_AT" --out "$WORK/python.csv" "$BIG"
Y_SECS=$SECS Y_RSS=$RSS_KB
rm -f "$WORK/python.csv"

awk -v bytes="$BIG_BYTES" -v records="$RECORDS" -v runs="$RUNS" \
    -v p="$P_SECS" -v prss="$P_RSS" -v pself="$P_SELF_RSS" \
    -v j="$J_SECS" -v jrss="$J_RSS" -v y="$Y_SECS" -v yrss="$Y_RSS" \
    -v srss="$S_RSS" -v sself="$S_SELF_RSS" -v sbytes="$SMALL_BYTES" \
    -v ssum="$S_SUMMARY" -v psum="$P_SUMMARY" '
function rate(n, t) { return t > 0 ? n / t : 0 }
function row(name, t, rss) {
    if (t <= 0) { printf "%-28s %9s\n", name, "failed"; return }
    printf "%-28s %9.2f %9.1f %12.0f %12.1f %10.1f\n", name, t, rate(bytes / 1e6, t),
        rate(records, t), rss / 1024, t / p
}
BEGIN {
    printf "%d records, %.1f MB; wall time incl. start-up (pipeline_run: best of %d, fsync included)\n",
        records, bytes / 1e6, runs
    printf "%-28s %9s %9s %12s %12s %10s\n", "tool", "seconds", "MB/s", "records/s", "peak RSS MB", "x slower"
    row("pipeline_run", p, prss)
    row("jq -r ... @csv", j, jrss)
    row("python json.load + csv", y, yrss)
    printf "\npeak RSS of pipeline_run (KB)   own maxrss_kb   /usr/bin/time\n"
    printf "  %6.1f MB body               %10d   %13d\n", sbytes / 1e6, sself, srss
    printf "  %6.1f MB body               %10d   %13d\n", bytes / 1e6, pself, prss
    d = pself - sself; if (d < 0) d = -d
    printf "  difference                   %10d KB for %.0f MB more input: %s\n", pself - sself,
        (bytes - sbytes) / 1e6, (d <= 1024 ? "fixed memory" : "GROWS WITH INPUT")
    printf "\npipeline_run own summary (time inside the tool, output fsync included):\n"
    printf "  %6.1f MB body: %s\n  %6.1f MB body: %s\n", sbytes / 1e6, ssum, bytes / 1e6, psum
}'
