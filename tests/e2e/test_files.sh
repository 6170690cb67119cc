#!/usr/bin/env bash
# test_files.sh - where the key comes from, the permission of the files,
# and the server a state belongs to, end to end against the simulator.
#
#  1. api_key_file (relative to the configuration's folder, no
#     COUNTLY_API_KEY): the run is exact and the key is in no output - not
#     on stdout or stderr (also with -v), not in any file written;
#  2. $CREDENTIALS_DIRECTORY/countly-api-key (systemd LoadCredential=) with
#     no key in the configuration: the run is exact; with no key anywhere:
#     78 naming every source; api_key and api_key_file together: 78;
#  3. a key file readable by others: the run warns, naming it;
#  4. file permissions: under umask 000 every file created is 0600 by
#     default, file_mode "0640" gives 0640; a users.csv appended to keeps
#     the mode it has, apps.csv (replaced whole) gets the configured one;
#  5. a state of another server (the same simulator as 127.0.0.1 instead
#     of localhost, and a second simulator): sync and check exit 78 naming
#     both servers, and nothing in the folder changes;
#  6. a state written before the rule (no server_url) is adopted: the run
#     records the server and is exact (exactly the touched users appended).
# Environment: COUNTLY_SYNC, COUNTLY_SYNC_WRAPPER, BUILD_DIR, TEST_TMP.
# Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=../lib/e2e.sh
. "$ROOT/tests/lib/e2e.sh"

e2e_paths files
PKI=$TMP/pki
RUNS=$TMP/runs
rm -rf "$TMP" && mkdir -p "$RUNS"

cleanup() { stop_sims; }
trap cleanup EXIT

e2e_require python3 curl openssl sha256sum

sim_launch main --seed 11 --apps 2 --users-per-app 400
sim_launch other --seed 12 --apps 1 --users-per-app 50
sim_wait main
sim_wait other
ADMIN=$(json_field "$(sim_get "${PORT[main]}" /__sim/keys)" admin)
OTHER_ADMIN=$(json_field "$(sim_get "${PORT[other]}" /__sim/keys)" admin)
read -r -a APPS <<<"$(json_field "$(sim_get "${PORT[main]}" /__sim/info)" apps)"
NOW=$(json_field "$(sim_get "${PORT[main]}" /__sim/info)" now)
truth main users "&app=*&full=$NOW" "$TMP/users.truth"
truth main apps_db "" "$TMP/apps.truth"

# fconf FILE OUT [KEY=VALUE...]: a configuration for the main simulator
# (as localhost), output into OUT, without an API key.
fconf() {
    local file=$1 out=$2
    shift 2
    write_config "$file" "server_url=https://localhost:${PORT[main]}" "app_id=*" \
        "ca_file=$PKI/ca-ec.crt" "output_dir=$out" "initial_sync_days=0" "retry_attempts=1" "$@"
}

exact_run() { # NAME OUT: users.csv and apps.csv equal the truth
    compare "$1: users.csv" "$2/users.csv" "$TMP/users.truth"
    compare "$1: apps.csv" "$2/apps.csv" "$TMP/apps.truth"
}

# no_key_anywhere NAME KEY FOLDER: KEY in none of the run's outputs nor in
# any file under FOLDER.
no_key_anywhere() {
    check_true "$1: the key is not on stdout or stderr" "found" \
        bash -c '! grep -qF -- "$1" "$2" "$3"' _ "$2" "$RUNS/$1.out" "$RUNS/$1.err"
    check_true "$1: the key is in no file written" "found in $(grep -rlF -- "$2" "$3")" \
        bash -c '! grep -rqF -- "$1" "$2"' _ "$2" "$3"
}

# modes FOLDER FILE...: "file=mode" for each file, space-separated.
modes() {
    local d=$1 f out=()
    shift
    for f in "$@"; do out+=("$f=$(stat -c %a "$d/$f" 2>/dev/null || echo none)"); done
    echo "${out[*]}"
}

# snapshot FOLDER: every file's name, mode, size and checksum.
snapshot() {
    (cd "$1" && find . -type f | sort | while read -r f; do
        printf '%s %s %s\n' "$(stat -c '%a %s' "$f")" "$(sha256sum <"$f" | cut -c1-64)" "$f"
    done)
}

# ---- 1. api_key_file ------------------------------------------------------------------------

KF=$TMP/keyfile
mkdir -p "$KF"
printf '%s\n' "$ADMIN" >"$KF/countly.key"
chmod 600 "$KF/countly.key"
fconf "$KF/configuration.json" "$KF/out" "api_key_file=countly.key"
# from another working folder: the relative path is the configuration's folder's
CS_PREFIX=(env -C "$TMP")
run_cs keyfile "" -c "$KF/configuration.json" -v sync
CS_PREFIX=()
check_eq "api_key_file: exit 0" 0 "$RC"
[ "$RC" -eq 0 ] || printf '%s\n' "$ERR" | tail -n 5 | sed 's/^/#   /'
exact_run "api_key_file" "$KF/out"
no_key_anywhere keyfile "$ADMIN" "$KF/out"
check_nomatch "api_key_file: no warning (the key file is 0600)" "can be read by other users" "$ERR"
printf '%s\r\n' "$ADMIN" >"$KF/countly.key"
run_cs keyfile-crlf "" -c "$KF/configuration.json" check
check_eq "api_key_file with CR LF: check exit 0" 0 "$RC"
no_key_anywhere keyfile-crlf "$ADMIN" "$KF/out"
printf '%s\n%s\n' "$ADMIN" "$ADMIN" >"$KF/countly.key"
run_cs keyfile-two "" -c "$KF/configuration.json" sync
check_eq "api_key_file of two lines: exit 78" 78 "$RC"
check_match "api_key_file of two lines: says so, naming the file" \
    "key 'api_key_file': $KF/countly.key holds more than one line" "$ERR"
no_key_anywhere keyfile-two "$ADMIN" "$KF/out"
: >"$KF/countly.key"
run_cs keyfile-empty "" -c "$KF/configuration.json" sync
check_eq "empty api_key_file: exit 78" 78 "$RC"
check_match "empty api_key_file: says so" "countly.key is empty" "$ERR"
printf '%s\n' "$ADMIN" >"$KF/countly.key"
fconf "$KF/both.json" "$KF/out" "api_key_file=countly.key" "api_key=$ADMIN"
run_cs keyfile-both "" -c "$KF/both.json" sync
check_eq "api_key and api_key_file together: exit 78" 78 "$RC"
check_match "api_key and api_key_file together: says so" \
    "keys 'api_key' and 'api_key_file' are both given: keep one" "$ERR"
no_key_anywhere keyfile-both "$ADMIN" "$KF/out"

# ---- 2. systemd credentials --------------------------------------------------------------------

CR=$TMP/cred
mkdir -p "$CR/creds"
printf '%s\n' "$ADMIN" >"$CR/creds/countly-api-key"
chmod 400 "$CR/creds/countly-api-key"
fconf "$CR/configuration.json" "$CR/out"
CS_PREFIX=(env CREDENTIALS_DIRECTORY="$CR/creds")
run_cs cred "" -c "$CR/configuration.json" sync
CS_PREFIX=()
check_eq "CREDENTIALS_DIRECTORY: exit 0" 0 "$RC"
exact_run "CREDENTIALS_DIRECTORY" "$CR/out"
no_key_anywhere cred "$ADMIN" "$CR/out"
CS_PREFIX=(env CREDENTIALS_DIRECTORY="$CR/creds")
run_cs cred-env "not-the-key" -c "$CR/configuration.json" check
CS_PREFIX=()
check_eq "COUNTLY_API_KEY wins over the credential: refused key, exit 77" 77 "$RC"
run_cs nokey "" -c "$CR/configuration.json" sync
check_eq "no key anywhere: exit 78" 78 "$RC"
check_match "no key anywhere: names every source" \
    "no API key: set COUNTLY_API_KEY, the key 'api_key' or 'api_key_file' in this file, or provide \\\$CREDENTIALS_DIRECTORY/countly-api-key" \
    "$ERR"

# ---- 3. a key file others can read ---------------------------------------------------------------

chmod 644 "$KF/countly.key"
run_cs keyfile-open "" -c "$KF/configuration.json" check
check_eq "key file readable by others: still works (exit 0)" 0 "$RC"
check_match "key file readable by others: warns, naming it" \
    "warning: $KF/countly.key holds the API key and can be read by other users: chmod 600 $KF/countly.key" \
    "$ERR"
chmod 600 "$KF/countly.key"

# ---- 4. permissions ------------------------------------------------------------------------------

FILES=(apps.csv groups.csv users.csv state.json)
CS_PREFIX=(sh -c 'umask 000; exec "$@"' sh)
fconf "$TMP/m600.json" "$TMP/m600"
run_cs m600 "$ADMIN" -c "$TMP/m600.json" sync
check_eq "umask 000, default file_mode: exit 0" 0 "$RC"
check_eq "umask 000, default file_mode: every file 0600" \
    "apps.csv=600 groups.csv=600 users.csv=600 state.json=600" "$(modes "$TMP/m600" "${FILES[@]}")"
fconf "$TMP/m640.json" "$TMP/m640" "file_mode=0640"
run_cs m640 "$ADMIN" -c "$TMP/m640.json" sync
check_eq "umask 000, file_mode 0640: exit 0" 0 "$RC"
check_eq "umask 000, file_mode 0640: every file 0640" \
    "apps.csv=640 groups.csv=640 users.csv=640 state.json=640" "$(modes "$TMP/m640" "${FILES[@]}")"
exact_run "file_mode 0640" "$TMP/m640"
CS_PREFIX=()
chmod 644 "$TMP/m640/users.csv"
run_cs m640-again "$ADMIN" -c "$TMP/m640.json" sync
check_eq "second run: exit 0" 0 "$RC"
check_eq "second run: users.csv (appended) keeps its mode, the rest is rewritten 0640" \
    "apps.csv=640 groups.csv=640 users.csv=644 state.json=640" "$(modes "$TMP/m640" "${FILES[@]}")"
check_true "no temporary left behind" "$(ls "$TMP/m640")" \
    bash -c '! ls "$1" | grep -q "\.tmp$"' _ "$TMP/m640"
fconf "$TMP/bad-mode.json" "$TMP/bad-mode" "file_mode=0777"
run_cs bad-mode "$ADMIN" -c "$TMP/bad-mode.json" sync
check_eq "file_mode 0777: exit 78" 78 "$RC"
check_match "file_mode 0777: names the key, the value and the range" \
    "key 'file_mode': \"0777\" is not an octal permission string from \"0400\" to \"0666\"" "$ERR"
check_true "file_mode 0777: nothing created" "created" test ! -e "$TMP/bad-mode"

# ---- 5. a state that belongs to another server ------------------------------------------------------

M=$TMP/m600
check_match "the state records its server" "\"server_url\":\"https://localhost:${PORT[main]}\"" \
    "$(cat "$M/state.json")"
before=$(snapshot "$M")
write_config "$TMP/by-ip.json" "server_url=https://127.0.0.1:${PORT[main]}" "app_id=*" \
    "ca_file=$PKI/ca-ec.crt" "output_dir=$M"
run_cs by-ip "$ADMIN" -c "$TMP/by-ip.json" sync
check_eq "the same server by another name: exit 78" 78 "$RC"
check_eq "another server: one error line" 1 "$(grep -c 'error: ' <<<"$ERR")"
check_match "another server: names both and what to do" \
    "state file $M/state.json belongs to server https://localhost:${PORT[main]}, but server_url is https://127.0.0.1:${PORT[main]}: use another output_dir or state_file" \
    "$ERR"
check_eq "another server: nothing in the folder changed" "$before" "$(snapshot "$M")"
run_cs by-ip-check "$ADMIN" -c "$TMP/by-ip.json" check
check_eq "another server, check: exit 78" 78 "$RC"
check_match "another server, check: the same message" \
    "belongs to server https://localhost:${PORT[main]}, but server_url is https://127.0.0.1:${PORT[main]}" \
    "$ERR"
check_eq "another server, check: nothing on stdout (no request made)" "" "$OUT"
write_config "$TMP/other.json" "server_url=https://localhost:${PORT[other]}" "app_id=*" \
    "ca_file=$PKI/ca-ec.crt" "output_dir=$M"
run_cs other "$OTHER_ADMIN" -c "$TMP/other.json" sync
check_eq "a second simulator into the same folder: exit 78" 78 "$RC"
check_match "a second simulator: names both" \
    "belongs to server https://localhost:${PORT[main]}, but server_url is https://localhost:${PORT[other]}" \
    "$ERR"
check_eq "a second simulator: nothing in the folder changed" "$before" "$(snapshot "$M")"
write_config "$TMP/other-own.json" "server_url=https://localhost:${PORT[other]}" "app_id=*" \
    "ca_file=$PKI/ca-ec.crt" "output_dir=$M" "state_file=$TMP/other-state.json"
FOLDER_REFUSED="output folder $M holds the files of server https://localhost:${PORT[main]} ($M/.countly-sync), but server_url is https://localhost:${PORT[other]}: use another output_dir for https://localhost:${PORT[other]}"
run_cs other-own-check "$OTHER_ADMIN" -c "$TMP/other-own.json" check
check_eq "a second simulator with its own state_file, check: exit 78" 78 "$RC"
check_eq "a second simulator with its own state_file, check: names the folder's server" 1 \
    "$(grep -c -F "$FOLDER_REFUSED" <<<"$ERR")"
run_cs other-own "$OTHER_ADMIN" -c "$TMP/other-own.json" sync
check_eq "a second simulator with its own state_file: exit 78" 78 "$RC"
check_eq "a second simulator with its own state_file: one error line, the folder's server" \
    "1 1" "$(grep -c 'error: ' <<<"$ERR") $(grep -c -F "$FOLDER_REFUSED" <<<"$ERR")"
check_eq "a second simulator with its own state_file: nothing in the folder changed" "$before" \
    "$(snapshot "$M")"
check_true "a second simulator with its own state_file: no state made for it" "made" \
    test ! -e "$TMP/other-state.json"
check_eq "the folder's mark names its server" "https://localhost:${PORT[main]}" "$(cat "$M/.countly-sync")"
# users off (no state file is ever written): the folder is still tied to its server
S=$TMP/shared
write_config "$TMP/apps-only.json" "server_url=https://localhost:${PORT[main]}" "app_id=*" \
    "ca_file=$PKI/ca-ec.crt" "output_dir=$S" "enable_users_sync=false"
run_cs apps-only "$ADMIN" -c "$TMP/apps-only.json" sync
check_eq "users off: exit 0, no state file" "0 no" "$RC $(test -e "$S/state.json" && echo yes || echo no)"
check_eq "users off: the folder's mark names the server" "https://localhost:${PORT[main]}" \
    "$(cat "$S/.countly-sync")"
before_shared=$(snapshot "$S")
write_config "$TMP/apps-only-other.json" "server_url=https://localhost:${PORT[other]}" "app_id=*" \
    "ca_file=$PKI/ca-ec.crt" "output_dir=$S" "enable_users_sync=false"
run_cs apps-only-other "$OTHER_ADMIN" -c "$TMP/apps-only-other.json" sync
check_eq "users off, another server into the folder: exit 78" 78 "$RC"
check_match "users off, another server: names the folder's server" \
    "output folder $S holds the files of server https://localhost:${PORT[main]}" "$ERR"
check_eq "users off, another server: apps.csv and the folder unchanged" "$before_shared" \
    "$(snapshot "$S")"
write_config "$TMP/same.json" "server_url=HTTPS://LocalHost:${PORT[main]}/" "app_id=*" \
    "ca_file=$PKI/ca-ec.crt" "output_dir=$M" "initial_sync_days=0"
run_cs same "$ADMIN" -c "$TMP/same.json" check
check_eq "the same URL in other case, with a trailing slash: the same server (exit 0)" 0 "$RC"

# ---- 6. a state from before server_url is adopted --------------------------------------------------

python3 - "$M/state.json" <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    state = json.load(f)
del state["server_url"]
with open(sys.argv[1], "w") as f:
    json.dump(state, f, indent=1)  # written by hand: spaces, no server_url
PY
check_nomatch "the hand-written old state has no server_url" "server_url" "$(cat "$M/state.json")"
cp "$M/state.json" "$TMP/old-state.json"
# a run that fails (a refused key) records the server all the same
run_cs adopt-refused "00000000000000000000000000000000" -c "$TMP/m600.json" sync
check_eq "old state, a refused key: exit 77" 77 "$RC"
check_match "old state, a refused key: the run recorded the server" \
    "\"server_url\":\"https://localhost:${PORT[main]}\"" "$(cat "$M/state.json")"
check_match "old state: a notice says so" \
    "$M/state.json names no server yet: it now names https://localhost:${PORT[main]}" "$ERR"
cp "$TMP/old-state.json" "$M/state.json"
TOUCHED=$(sim_get "${PORT[main]}" "/__sim/touch?app=${APPS[0]}&count=23")
sleep 1.2 # the next run starts after the touch, on the server's clock
rows_before=$(data_lines "$M/users.csv")
run_cs adopt "$ADMIN" -c "$TMP/m600.json" sync
check_eq "old state: adopted (exit 0)" 0 "$RC"
check_match "old state: the run records the server" \
    "\"server_url\":\"https://localhost:${PORT[main]}\"" "$(cat "$M/state.json")"
check_eq "old state: exactly the touched users appended" 23 \
    $(($(data_lines "$M/users.csv") - rows_before))
python3 - "$M/users.csv" "$rows_before" "$ROOT/tests/pipeline" >"$TMP/adopt.keys" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
import csvcheck
header, rows = csvcheck.read_csv(sys.argv[1])
print("\n".join(sorted(r[0] for r in rows[int(sys.argv[2]):])))
PY
touched_ids=$(python3 -c 'import json,sys; print("\n".join(sorted(json.loads(sys.argv[1])["touched"])))' "$TOUCHED")
check_eq "old state: the appended users are the touched ones" "$touched_ids" "$(cat "$TMP/adopt.keys")"
run_cs by-ip-after "$ADMIN" -c "$TMP/by-ip.json" sync
check_eq "adopted state: another server is refused from now on (exit 78)" 78 "$RC"

tl_summary
