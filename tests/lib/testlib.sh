# testlib.sh -- tiny assertion library for bash test runners.  Source it.
#
# Every check takes a NAME first, prints "ok   NAME" or "FAIL NAME: details",
# and updates the counters.  End the runner with `tl_summary`, which lists
# the failed checks and prints the closing line "N passed, N failed"; it
# returns 1 when anything failed.
#
#   check_eq NAME EXPECTED ACTUAL         string equality
#   check_ne NAME UNEXPECTED ACTUAL       string inequality
#   check_match NAME REGEX TEXT           TEXT matches the extended REGEX
#   check_nomatch NAME REGEX TEXT         TEXT does not match REGEX
#   check_le / check_lt / check_ge NAME A B   integer comparisons A op B
#   check_between NAME LO HI VALUE        LO <= VALUE <= HI (integers)
#   check_true NAME MESSAGE CMD...        CMD succeeds (MESSAGE shown if not)
#   tl_pass NAME / tl_fail NAME DETAILS   record a result directly
#
# A step that only prepares or verifies the harness (a simulator started, a
# fault armed) is not a test: it prints "# setup: NAME" and counts nothing
# when it succeeds, and a failed check "setup: NAME" when it does not.
#
#   setup_eq NAME EXPECTED ACTUAL / setup_match NAME REGEX TEXT
#
# countly-sync's stderr, when it is a file or a pipe, starts each line with
# an RFC 3339 timestamp; `tl_untimestamp <FILE` prints the lines without it.

TL_PASSED=0

# tl_untimestamp: stdin without the "YYYY-MM-DDTHH:MM:SSZ " that starts a line.
tl_untimestamp() {
    sed -E 's/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z //'
}
TL_FAILED=0
TL_FAILED_NAMES=()

# tl_pass NAME
tl_pass() {
    TL_PASSED=$((TL_PASSED + 1))
    printf 'ok   %s\n' "$1"
}

# tl_fail NAME DETAILS
tl_fail() {
    TL_FAILED=$((TL_FAILED + 1))
    TL_FAILED_NAMES+=("$1")
    printf 'FAIL %s: %s\n' "$1" "${2:-}"
}

setup_eq() {
    if [ "$2" = "$3" ]; then
        printf '# setup: %s\n' "$1"
    else
        tl_fail "setup: $1" "expected '$2', got '$3'"
    fi
}

setup_match() {
    if [[ $3 =~ $2 ]]; then
        printf '# setup: %s\n' "$1"
    else
        tl_fail "setup: $1" "'$3' does not match /$2/"
    fi
}

# tl_is_int VALUE: true for an optionally signed decimal integer.
tl_is_int() {
    [[ ${1:-} =~ ^-?[0-9]+$ ]]
}

check_eq() {
    if [ "$2" = "$3" ]; then tl_pass "$1"; else tl_fail "$1" "expected '$2', got '$3'"; fi
}

check_ne() {
    if [ "$2" != "$3" ]; then tl_pass "$1"; else tl_fail "$1" "expected anything but '$2'"; fi
}

check_match() {
    if [[ $3 =~ $2 ]]; then tl_pass "$1"; else tl_fail "$1" "'$3' does not match /$2/"; fi
}

check_nomatch() {
    if [[ $3 =~ $2 ]]; then tl_fail "$1" "'$3' unexpectedly matches /$2/"; else tl_pass "$1"; fi
}

# tl_cmp NAME A OP B: integer comparison with a readable failure.
tl_cmp() {
    local name=$1 a=$2 op=$3 b=$4
    if ! tl_is_int "$a" || ! tl_is_int "$b"; then
        tl_fail "$name" "not integers: '$a' $op '$b'"
        return
    fi
    if [ "$a" "$op" "$b" ]; then tl_pass "$name"; else tl_fail "$name" "expected $a $op $b"; fi
}

check_le() { tl_cmp "$1" "$2" -le "$3"; }
check_lt() { tl_cmp "$1" "$2" -lt "$3"; }
check_ge() { tl_cmp "$1" "$2" -ge "$3"; }

check_between() {
    local name=$1 lo=$2 hi=$3 v=$4
    if ! tl_is_int "$v"; then
        tl_fail "$name" "not an integer: '$v'"
    elif [ "$v" -ge "$lo" ] && [ "$v" -le "$hi" ]; then
        tl_pass "$name"
    else
        tl_fail "$name" "$v not within [$lo, $hi]"
    fi
}

# check_true NAME MESSAGE CMD...: pass when CMD exits 0.
check_true() {
    local name=$1 msg=$2
    shift 2
    if "$@"; then tl_pass "$name"; else tl_fail "$name" "$msg"; fi
}

# tl_summary: list failures, print "N passed, N failed" last; status 1 on failure.
tl_summary() {
    local n
    echo
    if [ "$TL_FAILED" -gt 0 ]; then
        echo "failed checks:"
        for n in "${TL_FAILED_NAMES[@]}"; do
            echo "  $n"
        done
    fi
    echo "$TL_PASSED passed, $TL_FAILED failed"
    [ "$TL_FAILED" -eq 0 ]
}
