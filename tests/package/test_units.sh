#!/usr/bin/env bash
# test_units.sh - the packaged systemd units and the example configuration
# (SPEC "Installation and packaging").
#
#  1. packaging/countly-sync.service and .timer hold what SPEC asks for
#     (Type=oneshot, DynamicUser=yes, StateDirectory=countly-sync,
#     LoadCredential=countly-api-key:..., RandomizedDelaySec=,
#     Persistent=true, WantedBy=timers.target), and no line has a "#" after
#     a value (systemd would take it as part of the value), nor in the
#     README's unit snippets;
#  2. `systemd-analyze verify` prints nothing for both, installed into a
#     scratch root as `make install` lays them out (binary in
#     /usr/local/bin) and as the Debian package does (/usr/bin); with no
#     binary it does complain (it looks at ExecStart=); man:countly-sync(1)
#     is checked when packaging/countly-sync.1 is in the tree;
#  3. `systemd-analyze security --offline=true` rates the service's
#     exposure at most 2.0, the figure the README gives;
#  4. packaging/configuration.json.example is one JSON object whose keys are
#     exactly the parser's (src/config.c's table) and the README's
#     configuration table's;
#  5. the service's ExecStart command line, with its paths moved into a
#     scratch folder, run on the example configuration with the key as a
#     systemd credential ($CREDENTIALS_DIRECTORY/countly-api-key): the
#     configuration is accepted (not 64, not 78) and the run goes as far as
#     asking the proxy (HTTPS_PROXY, connect_proxy.py demanding credentials)
#     for a tunnel to the example's server, which is refused: exit 69, and
#     the report and metrics files the unit names are written; `check` the
#     same; an example with a misspelt key is refused (78);
#  6. LICENSE is MIT; THIRD_PARTY_NOTICES names the Mbed TLS and zlib
#     versions the binary reports (`countly-sync version`) and carries the
#     licences of Mbed TLS (Apache-2.0 in full), zlib, jsmn and musl.
# No systemd needs to run (systemd-analyze reads the files). Needs: systemd
# (systemd-analyze), python3. Environment: COUNTLY_SYNC, BUILD_DIR, TEST_TMP.
# Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=../lib/e2e.sh
. "$ROOT/tests/lib/e2e.sh"

e2e_paths units
rm -rf "$TMP" && mkdir -p "$TMP"

SERVICE=$ROOT/packaging/countly-sync.service
TIMER=$ROOT/packaging/countly-sync.timer
EXAMPLE=$ROOT/packaging/configuration.json.example
MANPAGE=$ROOT/packaging/countly-sync.1

PROXY_PID=
cleanup() {
    if [ -n "$PROXY_PID" ]; then
        kill "$PROXY_PID" 2>/dev/null
        wait "$PROXY_PID" 2>/dev/null
    fi
}
trap cleanup EXIT

# require TOOL PACKAGE: the tool is installed, else one failed check naming
# the Debian package, and the suite ends.
require() {
    command -v "$1" >/dev/null && return
    tl_fail "setup: $1" "not installed (Debian package $2: apt-get install $2)"
    tl_summary
    exit 1
}
require systemd-analyze systemd
require python3 python3
for f in "$SERVICE" "$TIMER" "$EXAMPLE" "$BIN"; do
    [ -f "$f" ] || { tl_fail "setup: $f" "missing"; tl_summary; exit 1; }
done

# unit_values FILE KEY: every value given to KEY= in FILE, one per line.
unit_values() {
    sed -n "s/^[[:space:]]*$2=//p" "$1"
}

# inline_comments FILE: the lines of FILE with a "#" after a value.
inline_comments() {
    grep -nE '^[[:space:]]*[^#;[:space:]].*#' "$1"
}

# ---- 1. what the units say ----------------------------------------------------------------

check_eq "service: Type=oneshot" "oneshot" "$(unit_values "$SERVICE" Type)"
check_eq "service: DynamicUser=yes" "yes" "$(unit_values "$SERVICE" DynamicUser)"
check_eq "service: StateDirectory=countly-sync" "countly-sync" \
    "$(unit_values "$SERVICE" StateDirectory)"
check_eq "service: LoadCredential=countly-api-key:/etc/countly-sync/api-key" \
    "countly-api-key:/etc/countly-sync/api-key" "$(unit_values "$SERVICE" LoadCredential)"
EXEC=$(unit_values "$SERVICE" ExecStart)
check_match "service: ExecStart runs countly-sync ... sync on /etc/countly-sync/configuration.json" \
    '^countly-sync .*--config /etc/countly-sync/configuration\.json .* sync$' "$EXEC"
check_match "service: ExecStart writes into the StateDirectory" \
    '--output /var/lib/countly-sync --state /var/lib/countly-sync/state\.json' "$EXEC"
check_eq "service: ProtectSystem=strict" "strict" "$(unit_values "$SERVICE" ProtectSystem)"
check_eq "service: no IP address deny list (it must reach any server)" "" \
    "$(unit_values "$SERVICE" IPAddressDeny)"
check_match "timer: RandomizedDelaySec= is set" '^[0-9]+(min|s|h)?$' \
    "$(unit_values "$TIMER" RandomizedDelaySec)"
check_eq "timer: Persistent=true" "true" "$(unit_values "$TIMER" Persistent)"
check_eq "timer: WantedBy=timers.target" "timers.target" "$(unit_values "$TIMER" WantedBy)"
check_ne "timer: OnCalendar= is set" "" "$(unit_values "$TIMER" OnCalendar)"
check_eq "service: no '#' after a value" "" "$(inline_comments "$SERVICE")"
check_eq "timer: no '#' after a value" "" "$(inline_comments "$TIMER")"
# the README's unit snippets (```ini blocks) follow the same rule
awk '/^```ini/ {on = 1; next} /^```/ {on = 0} on' "$ROOT/README.md" >"$TMP/readme.ini"
check_ne "README: has unit snippets" "" "$(cat "$TMP/readme.ini")"
check_eq "README: no '#' after a value in its unit snippets" "" "$(inline_comments "$TMP/readme.ini")"
# the rule finds the bug the old README's unit had
printf '[Service]\n# a comment\nLoadCredential=countly-api-key:/k   # or Environment=\n' \
    >"$TMP/inline.service"
check_match "the '#' rule finds an inline comment" '^3:' "$(inline_comments "$TMP/inline.service")"

# ---- 2. systemd-analyze verify --------------------------------------------------------------

# A scratch root with the distribution's units (sysinit.target, timers.target
# and the rest that the default dependencies name) and ours where `make
# install` puts them.
SYSROOT=$TMP/root
UNITS=$SYSROOT/usr/local/lib/systemd/system
mkdir -p "$UNITS" "$SYSROOT/usr/lib/systemd" "$SYSROOT/usr/local/bin" "$SYSROOT/usr/bin"
cp -a /usr/lib/systemd/system "$SYSROOT/usr/lib/systemd/"
cp "$SERVICE" "$TIMER" "$UNITS/"

VERIFY_MAN=(--man=no)
if [ -f "$MANPAGE" ]; then
    require man man-db
    mkdir -p "$TMP/man/man1" && cp "$MANPAGE" "$TMP/man/man1/"
    VERIFY_MAN=(--man=yes)
else
    echo "# man:countly-sync(1) not looked up: $MANPAGE is not in this tree"
fi

# verify: systemd-analyze verify's output (stdout and stderr) on both units.
verify() {
    MANPATH=$TMP/man systemd-analyze verify "${VERIFY_MAN[@]}" --root="$SYSROOT" \
        countly-sync.service countly-sync.timer 2>&1
    echo "rc=$?"
}

cp "$BIN" "$SYSROOT/usr/local/bin/countly-sync"
check_eq "verify, binary in /usr/local/bin (make install): nothing to say" "rc=0" "$(verify)"
rm "$SYSROOT/usr/local/bin/countly-sync"
cp "$BIN" "$SYSROOT/usr/bin/countly-sync"
check_eq "verify, binary in /usr/bin (Debian package): nothing to say" "rc=0" "$(verify)"
rm "$SYSROOT/usr/bin/countly-sync"
check_match "verify, no binary: names the missing command" \
    'countly-sync\.service: Command countly-sync is not executable' "$(verify)"

# The service as make install writes it (scripts/install.sh unit: ExecStart
# with the installed binary's path), for both prefixes.
for prefix in /usr/local /usr; do
    PREFIX=$prefix sh "$ROOT/scripts/install.sh" unit >"$UNITS/countly-sync.service"
    cp "$BIN" "$SYSROOT$prefix/bin/countly-sync"
    check_eq "verify, the service make install writes (PREFIX=$prefix): nothing to say" "rc=0" \
        "$(verify)"
    check_match "  ... its ExecStart names $prefix/bin/countly-sync" \
        "^ExecStart=$prefix/bin/countly-sync " "$(grep '^ExecStart=' "$UNITS/countly-sync.service")"
    rm "$SYSROOT$prefix/bin/countly-sync"
done

# ---- 3. systemd-analyze security ------------------------------------------------------------

SEC=$(systemd-analyze security --offline=true --root="$SYSROOT" countly-sync.service 2>&1)
LEVEL=$(sed -n 's/.*Overall exposure level for countly-sync\.service: \([0-9][0-9]*\.[0-9]\).*/\1/p' \
    <<<"$SEC")
echo "# systemd-analyze security: exposure ${LEVEL:-?}"
setup_match "security: the overall exposure is printed" '^[0-9]+\.[0-9]$' "$LEVEL"
check_le "security: exposure ${LEVEL:-?} <= 2.0" "${LEVEL/./}" 20
check_match "security: rated OK" 'exposure level for countly-sync\.service: [0-9.]+ OK' "$SEC"
check_true "security: README states the figure (rates it ${LEVEL:-?})" "README says otherwise" \
    grep -q "rates it ${LEVEL:-?}, \"OK\"" "$ROOT/README.md"

# ---- 4. the example's keys --------------------------------------------------------------------

# keys of the example, one per line, sorted (or an error line)
EX_KEYS=$(python3 - "$EXAMPLE" <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    doc = json.load(f, object_pairs_hook=lambda pairs: pairs)
if not isinstance(doc, list):
    print("not one JSON object")
    sys.exit()
names = [k for k, _ in doc]
if len(set(names)) != len(names):
    print("a key given twice")
print("\n".join(sorted(names)))
PY
)
PARSER_KEYS=$(sed -n 's/^[[:space:]]*{"\([a-z_]*\)", KIND_.*/\1/p' "$ROOT/src/config.c" | sort)
# shellcheck disable=SC2016 # backquotes are Markdown here
README_KEYS=$(awk '/^## Configuration/ {on = 1; next} on && /^#/ {exit}
    on && /^\| `/ {split($0, col, "|"); print col[2]}' "$ROOT/README.md" |
    grep -oE '`[a-z_]+`' | tr -d '`' | sort -u)
setup_match "src/config.c's key table read" 'server_url' "$PARSER_KEYS"
# key_diff WANT HAVE: "missing: ..." and "extra: ..." lines (nothing when equal).
key_diff() {
    local missing extra
    missing=$(comm -23 <(printf '%s\n' "$1") <(printf '%s\n' "$2") | tr '\n' ' ')
    extra=$(comm -13 <(printf '%s\n' "$1") <(printf '%s\n' "$2") | tr '\n' ' ')
    [ -n "$missing" ] && echo "missing: $missing"
    [ -n "$extra" ] && echo "extra: $extra"
    true
}
check_eq "example: every key of src/config.c's table, and no other" "" \
    "$(key_diff "$PARSER_KEYS" "$EX_KEYS")"
check_eq "example: every key of README's configuration table, and no other" "" \
    "$(key_diff "$README_KEYS" "$EX_KEYS")"

# ---- 5. the service's command line on the example ---------------------------------------------

# connect_proxy.py demanding credentials: it logs the CONNECT and refuses it (407).
: >"$TMP/proxy.log"
python3 "$ROOT/tests/integration/connect_proxy.py" --port-file "$TMP/proxy.port" \
    --log "$TMP/proxy.log" --auth ops:secret >"$TMP/proxy.out" 2>&1 &
PROXY_PID=$!
for ((i = 0; i < 100; i++)); do
    [ -s "$TMP/proxy.port" ] && break
    sleep 0.1
done
PROXY_PORT=$(cat "$TMP/proxy.port" 2>/dev/null)
setup_match "connect_proxy.py listens" '^[0-9]+$' "$PROXY_PORT"

KEY=units-test-key-3f9c1a7e0b
mkdir -p "$TMP/credentials"
printf '%s\n' "$KEY" >"$TMP/credentials/countly-api-key"
chmod 600 "$TMP/credentials/countly-api-key"
STATE=$TMP/var/lib/countly-sync

# as_service NAME ARGS...: ARGS (the unit's command line, paths moved into
# TMP) run with a clean environment as systemd gives it: the credential
# folder, the proxy, no COUNTLY_API_KEY. Sets RC and ERR.
as_service() {
    local name=$1
    shift
    local keep=()
    [ -n "${ASAN_OPTIONS:-}" ] && keep+=("ASAN_OPTIONS=$ASAN_OPTIONS")
    [ -n "${UBSAN_OPTIONS:-}" ] && keep+=("UBSAN_OPTIONS=$UBSAN_OPTIONS")
    env -i PATH=/usr/bin:/bin CREDENTIALS_DIRECTORY="$TMP/credentials" \
        HTTPS_PROXY="http://127.0.0.1:$PROXY_PORT" "${keep[@]}" \
        "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    RC=$?
    ERR=$(tl_untimestamp <"$TMP/$name.err")
}

read -r -a ARGS <<<"$EXEC"
ARGS[0]=$BIN
for i in "${!ARGS[@]}"; do
    ARGS[i]=${ARGS[i]//\/etc\/countly-sync\/configuration.json/$EXAMPLE}
    ARGS[i]=${ARGS[i]//\/var\/lib\/countly-sync/$STATE}
done
mkdir -p "$STATE"
as_service sync "${ARGS[@]}"
echo "# ${ERR##*$'\n'}"
check_ne "ExecStart on the example: not a usage error (64)" 64 "$RC"
check_ne "ExecStart on the example: the configuration is accepted (not 78)" 78 "$RC"
check_eq "ExecStart on the example: the proxy refused the tunnel (69)" 69 "$RC"
check_match "ExecStart on the example: it asked for countly.example.com:443 through HTTPS_PROXY" \
    '^CONNECT countly\.example\.com:443 407' "$(cat "$TMP/proxy.log")"
check_match "ExecStart on the example: says the proxy refused" 'refused the tunnel' "$ERR"
REPORT=$(cat "$STATE/last-run.json" 2>/dev/null)
check_match "report last-run.json: exit_code 69" '"exit_code": ?69' "$REPORT"
check_match "report last-run.json: the example's server" \
    '"server_url": ?"https://countly\.example\.com"' "$REPORT"
check_eq "report last-run.json: file_mode 0600 of the example" "600" \
    "$(stat -c %a "$STATE/last-run.json" 2>/dev/null)"
check_match "metrics countly-sync.prom: countly_sync_last_exit_code 69" \
    '(^|'$'\n'')countly_sync_last_exit_code 69' "$(cat "$STATE/countly-sync.prom" 2>/dev/null)"

: >"$TMP/proxy.log"
as_service check "$BIN" --config "$EXAMPLE" --output "$TMP/check-out" check
check_eq "check on the example: the proxy refused the tunnel (69)" 69 "$RC"
check_match "check on the example: asked for countly.example.com:443" \
    '^CONNECT countly\.example\.com:443 407' "$(cat "$TMP/proxy.log")"
check_true "check on the example: wrote nothing (no output folder)" "$TMP/check-out exists" \
    test ! -e "$TMP/check-out"

sed 's/"retry_attempts"/"retry_attempt"/' "$EXAMPLE" >"$TMP/misspelt.json"
as_service misspelt "$BIN" --config "$TMP/misspelt.json" check
check_eq "a misspelt key in the example: configuration error (78)" 78 "$RC"
check_match "a misspelt key: the closest key suggested" "did you mean 'retry_attempts'" "$ERR"

# ---- 6. LICENSE and THIRD_PARTY_NOTICES ----------------------------------------------------------

# check_has NAME REGEX TEXT: like check_match, without TEXT (a whole file) in the failure.
check_has() {
    if [[ $3 =~ $2 ]]; then tl_pass "$1"; else tl_fail "$1" "no match for /$2/"; fi
}
LICENSE_TEXT=$(cat "$ROOT/LICENSE" 2>/dev/null)
NOTICES=$(cat "$ROOT/THIRD_PARTY_NOTICES" 2>/dev/null)
check_has "LICENSE: MIT, the countly-sync authors" \
    '^MIT License'$'\n\n''Copyright \(c\) 2026 the countly-sync authors' "$LICENSE_TEXT"
check_has "LICENSE: the MIT permission and warranty wording" \
    'Permission is hereby granted, free of charge.*WITHOUT WARRANTY OF ANY KIND' "$LICENSE_TEXT"
# the versions the binary under test says it was built with
VERSION_TEXT=$("$BIN" version 2>&1)
MBEDTLS_VERSION=$(sed -n 's/^mbedTLS: \([0-9.]*\)$/\1/p' <<<"$VERSION_TEXT")
ZLIB_VERSION=$(sed -n 's/^zlib: \([0-9.]*\)$/\1/p' <<<"$VERSION_TEXT")
setup_match "version names the mbedTLS and zlib versions" '^[0-9.]+ [0-9.]+$' \
    "$MBEDTLS_VERSION $ZLIB_VERSION"
check_has "notices: Mbed TLS $MBEDTLS_VERSION (as built), Apache License 2.0 in full" \
    "Mbed TLS ${MBEDTLS_VERSION//./\\.}"$'\n'".*Copyright The Mbed TLS Contributors.*Apache License.*Version 2\\.0.*END OF TERMS AND CONDITIONS" \
    "$NOTICES"
check_has "notices: zlib $ZLIB_VERSION (as built), the zlib licence" \
    "zlib ${ZLIB_VERSION//./\\.}"$'\n'".*Copyright \\(C\\) 1995-[0-9]{4} Jean-loup Gailly and Mark Adler.*This notice may not be removed or altered" \
    "$NOTICES"
check_has "notices: jsmn, MIT" \
    'jsmn [0-9.]+'$'\n''.*Copyright \(c\) 2010 Serge Zaitsev.*Permission is hereby granted' "$NOTICES"
check_has "notices: musl, MIT" \
    'musl libc [0-9.]+.*Copyright © 2005-[0-9]{4} Rich Felker, et al\..*Permission is hereby granted' \
    "$NOTICES"

hits=$(grep -lF -e "$KEY" "$TMP"/*.out "$TMP"/*.err "$STATE/last-run.json" \
    "$STATE/countly-sync.prom" 2>/dev/null | wc -l)
check_eq "the API key appears in no output" 0 "$hits"

tl_summary
