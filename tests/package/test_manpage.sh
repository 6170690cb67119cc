#!/usr/bin/env bash
# test_manpage.sh - the manual page (packaging/countly-sync.1) and the bash
# completion (packaging/countly-sync.bash-completion) against the program.
#
#  1. the page lints clean: `mandoc -Tlint -W warning` and `groff -ww -z
#     -man` print nothing; its sections are the expected ones, in order; its
#     .TH version is the binary's;
#  2. no drift from --help, either way: the options (long and short) of
#     --help are the tags of OPTIONS, its commands the tags of COMMANDS, its
#     exit codes the tags of EXIT STATUS;
#  3. configuration keys: the keys of the parser's table (config_keys[] in
#     src/config.c, one `{"name", KIND_...` entry per key) are the tags of
#     CONFIGURATION, and so are the keys of README's configuration table;
#     the binary's own parser accepts every key of the page (a probe file
#     `{"KEY": null, "zz_...": 1}` fails on the second key, not the first);
#  4. ENVIRONMENT names exactly the variables src/ and port/posix/ read
#     (getenv("NAME") and the proxy's first_set(env, "A", "B")); the test
#     hooks of port_posix_hooks.c (COUNTLY_SYNC_*, only in the -DPORT_TEST_HOOKS
#     build) and the lwIP build's COUNTLY_LWIP_* are not the shipped
#     binary's and stay out; FILES names every file the program writes;
#  5. the completion: `bash -n`; sourced in a non-interactive bash, with and
#     without bash-completion's _init_completion, the completion function
#     gives: "sy" -> sync, "--lo" -> --log-format, "--log-format " -> text
#     json, "-" -> every option of --help, "" -> every command of --help,
#     files after --config (also --config=), folders only after --output,
#     nothing more after a command.
# A tag is the line after .TP or .TQ, directly in its section (not in a .SS).
# Environment: COUNTLY_SYNC (the binary, default build/native/bin/countly-sync),
# COUNTLY_SYNC_WRAPPER, BUILD_DIR, TEST_TMP.
# Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=../lib/e2e.sh
. "$ROOT/tests/lib/e2e.sh"

e2e_paths manpage
rm -rf "$TMP" && mkdir -p "$TMP"
PAGE=$ROOT/packaging/countly-sync.1
COMPLETION=$ROOT/packaging/countly-sync.bash-completion
BASH_COMPLETION_MAIN=/usr/share/bash-completion/bash_completion

# need TOOL PACKAGE: the tool is there, else a failed check naming the
# Debian package, and the suite ends.
need() {
    command -v "$1" >/dev/null && return
    tl_fail "setup: $1" "not installed (Debian package $2; scripts/deps.sh test)"
    tl_summary
    exit 1
}
need mandoc mandoc
need groff groff-base
need awk mawk
[ -x "$BIN" ] || { tl_fail "setup: binary" "$BIN not built"; tl_summary; exit 1; }
[ -f "$PAGE" ] || { tl_fail "setup: page" "$PAGE missing"; tl_summary; exit 1; }

# words TEXT: its words sorted, one per line, without repeats.
words() { tr -s '[:space:]' '\n' <<<"$1" | sed '/^$/d' | LC_ALL=C sort -u; }

# same_set NAME WHAT_A A WHAT_B B: the two word lists hold the same words;
# a failure names what is in one only.
same_set() {
    local name=$1 what_a=$2 a=$3 what_b=$4 b=$5 only_a only_b
    only_a=$(LC_ALL=C comm -23 <(words "$a") <(words "$b") | tr '\n' ' ')
    only_b=$(LC_ALL=C comm -13 <(words "$a") <(words "$b") | tr '\n' ' ')
    if [ -z "$(words "$a")" ]; then
        tl_fail "$name" "no $what_a found (the extraction broke)"
    elif [ -z "$only_a$only_b" ]; then
        tl_pass "$name"
    else
        tl_fail "$name" "only in $what_a: [${only_a% }]; only in $what_b: [${only_b% }]"
    fi
}

# ---- the page's parts -------------------------------------------------------------------

# page_tags SECTION: the tags directly in SECTION (not in one of its .SS),
# roff escapes and fonts removed, one per line.
page_tags() {
    awk -v want="$1" '
        /^\.SH / { sec = substr($0, 5); gsub(/"/, "", sec); sub_ = 0; next }
        /^\.SS / { sub_ = 1; next }
        /^\.(TP|TQ)/ { tag = 1; next }
        tag { tag = 0; if (sec == want && !sub_) print }
    ' "$PAGE" | sed -E 's/^\.[A-Z]+ //; s/\\f[BIRP]//g; s/\\-/-/g; s/\\\(dq//g; s/"//g'
}

# page_first_words SECTION: the first word of each tag.
page_first_words() { page_tags "$1" | awk '{ print $1 }'; }

# page_rendered SECTION: the section as mandoc renders it (plain ASCII, the
# overstrikes of bold and underline removed).
page_rendered() {
    mandoc -Tascii -Owidth=200 "$PAGE" | sed -E $'s/.\b//g' |
        awk -v want="$1" '/^[A-Z]/ { on = ($0 == want); next } on'
}

# ---- the program's parts ----------------------------------------------------------------

HELP=$("${WRAP[@]}" "$BIN" --help 2>"$TMP/help.err")
setup_eq "--help exits 0 with nothing on stderr" "0:" "$?:$(cat "$TMP/help.err")"

# help_block NAME: the lines of the --help block that starts with NAME.
help_block() {
    awk -v want="$1" 'index($0, want) == 1 { on = 1; next } /^$/ { on = 0 } on' <<<"$HELP"
}
HELP_OPTIONS=$(help_block "options" | sed -E 's/^ +//; s/  .*//' |
    grep -oE '(^|[ ,])--?[A-Za-z][-A-Za-z]*' | tr -d ' ,')
HELP_COMMANDS=$(help_block "commands:" | awk '{ print $1 }')
HELP_CODES=$(help_block "exit codes:" | awk '{ print $1 }' | tr '/' '\n')

PAGE_OPTIONS=$(page_tags OPTIONS | grep -oE '(^|[ ,])--?[A-Za-z][-A-Za-z]*' | tr -d ' ,')
PAGE_COMMANDS=$(page_first_words COMMANDS)
PAGE_CODES=$(page_first_words "EXIT STATUS")
PAGE_KEYS=$(page_first_words CONFIGURATION)
PAGE_ENV=$(page_first_words ENVIRONMENT)

# ---- 1. lint, sections, version ---------------------------------------------------------

out=$(mandoc -Tlint -W warning "$PAGE" 2>&1)
check_eq "mandoc -Tlint -W warning: exit 0, nothing to say" "0:" "$?:$out"
out=$(groff -ww -z -man "$PAGE" 2>&1)
check_eq "groff -ww -z -man: exit 0, no warning" "0:" "$?:$out"
out=$(LC_ALL=C.UTF-8 groff -ww -man -Tutf8 "$PAGE" 2>&1 >/dev/null)
check_eq "groff -man -Tutf8: renders without a warning" "0:" "$?:$out"

sections=$(sed -nE 's/^\.SH +"?([^"]*)"?$/\1/p' "$PAGE" | tr '\n' ',')
check_eq "sections, in order" \
    "NAME,SYNOPSIS,DESCRIPTION,COMMANDS,OPTIONS,CONFIGURATION,FILES,ENVIRONMENT,EXIT STATUS,EXAMPLES,SEE ALSO," \
    "$sections"
check_match "NAME: countly-sync - what it does" "^ *countly-sync - .+" "$(page_rendered NAME)"

version=$("${WRAP[@]}" "$BIN" --version | sed -nE '1s/^countly-sync ([0-9.]+)$/\1/p')
setup_match "the binary's version" "^[0-9]+\.[0-9]+\.[0-9]+$" "$version"
th_version=$(sed -nE 's/^\.TH .*"countly\\-sync ([0-9.]+)".*/\1/p' "$PAGE")
check_eq ".TH names the binary's version" "$version" "$th_version"

# ---- 2. --help, either way --------------------------------------------------------------

same_set "OPTIONS: the options of --help, no more, no fewer" \
    "--help" "$HELP_OPTIONS" "OPTIONS" "$PAGE_OPTIONS"
check_ge "OPTIONS: --help has at least 16 option names (-c ... --version)" \
    "$(words "$HELP_OPTIONS" | wc -l)" 16
same_set "COMMANDS: the commands of --help" "--help" "$HELP_COMMANDS" "COMMANDS" "$PAGE_COMMANDS"
same_set "EXIT STATUS: the exit codes of --help" "--help" "$HELP_CODES" "EXIT STATUS" "$PAGE_CODES"
check_match "EXIT STATUS: 128 + the signal (129 SIGHUP, 130 SIGINT, 143 SIGTERM)" \
    "SIGHUP.*SIGINT.*SIGTERM" "$(page_rendered "EXIT STATUS" | tr '\n' ' ')"

# ---- 3. configuration keys --------------------------------------------------------------

# The parser's table: each entry of config_keys[] starts {"name", KIND_...
CODE_KEYS=$(awk '/config_keys\[\] = \{/ { on = 1; next } on && /^\};/ { on = 0 } on' \
    "$ROOT/src/config.c" | sed -nE 's/^[[:space:]]*\{"([a-z_]+)", KIND_[A-Z_]+,.*/\1/p')
check_ge "src/config.c: config_keys[] read (at least 20 keys)" "$(words "$CODE_KEYS" | wc -l)" 20
same_set "CONFIGURATION: the keys of the parser's table" \
    "src/config.c" "$CODE_KEYS" "CONFIGURATION" "$PAGE_KEYS"

# README's table: the `key`s of the first column, under "## Configuration".
# shellcheck disable=SC2016 # the backquotes are README's
README_KEYS=$(awk '/^## Configuration/ { on = 1; next } /^## / { on = 0 } on' "$ROOT/README.md" |
    awk -F'|' '/^\| `/ { print $2 }' | grep -oE '`[a-z_]+`' | tr -d '`')
same_set "CONFIGURATION: the keys of README's configuration table" \
    "README.md" "$README_KEYS" "CONFIGURATION" "$PAGE_KEYS"

# probe KEY: what the parser says of {"KEY": null, "zz_not_a_key": 1}.
probe() {
    printf '{"%s": null, "zz_not_a_key": 1}\n' "$1" >"$TMP/probe.json"
    (cd "$TMP" && env -u COUNTLY_API_KEY "${WRAP[@]}" "$BIN" -c probe.json check 2>&1)
}
out=$(probe zz_unknown_first)
check_match "probe: an unknown key is refused by name (the probe can fail)" \
    "unknown key 'zz_unknown_first'" "$out"
refused=""
for key in $PAGE_KEYS; do
    out=$(probe "$key")
    [[ $out == *"unknown key 'zz_not_a_key'"* ]] || refused+=" $key"
done
check_eq "CONFIGURATION: the binary's parser accepts every key of the page" "" "$refused"

# ---- 4. environment and files -----------------------------------------------------------

sources=("$ROOT"/src/*.c)
for f in "$ROOT"/port/posix/*.c; do
    [ "$(basename "$f")" = port_posix_hooks.c ] || sources+=("$f")
done
CODE_ENV=$(grep -ohE 'getenv\("[A-Za-z_]+"\)|first_set\(env, "[A-Za-z_]+", "[A-Za-z_]+"' \
    "${sources[@]}" | grep -oE '"[A-Za-z_]+"' | tr -d '"')
check_ge "src/, port/posix/: the variables read (at least 8)" "$(words "$CODE_ENV" | wc -l)" 8
same_set "ENVIRONMENT: the variables the code reads" "the code" "$CODE_ENV" "ENVIRONMENT" "$PAGE_ENV"

files=$(page_rendered FILES)
missing=""
for f in configuration.json apps.csv groups.csv users.csv users.csv.gz apps.csv.gz groups.csv.gz \
    state.json state_file.lock .tmp /apps/STAMP.csv /groups/STAMP.csv /users/STAMP-NNNN.csv \
    /runs/STAMP.json "report file" "metrics file"; do
    grep -qF -e "$f" <<<"$files" || missing+=" [$f]"
done
check_eq "FILES: every file the program writes or reads" "" "$missing"

# ---- 5. the completion ------------------------------------------------------------------

out=$(bash -n "$COMPLETION" 2>&1)
check_eq "completion: bash -n" "" "$out"

mkdir -p "$TMP/comp/outdir" && : >"$TMP/comp/conf.json"
# complete MODE LINE WORD...: COMPREPLY, sorted, space-separated, for the
# words (the last one being completed) in a fresh non-interactive bash;
# MODE bc sources bash-completion first (its _init_completion and _filedir).
complete_words() {
    local mode=$1 line=$2
    shift 2
    (cd "$TMP/comp" && MODE=$mode LINE=$line bash --norc --noprofile -s "$@" <<'EOF'
if [ "$MODE" = bc ]; then . /usr/share/bash-completion/bash_completion || exit 3; fi
. "$COMPLETION_FILE" || exit 4
if [ "$MODE" = bc ]; then declare -F _init_completion >/dev/null || exit 5
else declare -F _init_completion >/dev/null && exit 6; fi
[ "$(complete -p countly-sync)" = "complete -F _countly_sync countly-sync" ] || exit 7
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE=$LINE; COMP_POINT=${#LINE}
COMPREPLY=()
_countly_sync countly-sync "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
[ "${#COMPREPLY[@]}" -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' '
EOF
    ) || echo "(exit $?)"
}
export COMPLETION_FILE=$COMPLETION

modes=(plain)
if [ -f "$BASH_COMPLETION_MAIN" ]; then
    modes+=(bc)
else
    tl_fail "completion: with bash-completion" "$BASH_COMPLETION_MAIN missing (Debian package bash-completion)"
fi
for mode in "${modes[@]}"; do
    m=$([ "$mode" = bc ] && echo "with bash-completion" || echo "COMP_WORDS only")
    check_eq "completion ($m): 'sy' -> sync" "sync " \
        "$(complete_words "$mode" "countly-sync sy" countly-sync sy)"
    check_eq "completion ($m): '--lo' -> --log-format" "--log-format " \
        "$(complete_words "$mode" "countly-sync --lo" countly-sync --lo)"
    check_eq "completion ($m): '--log-format ' -> json text" "json text " \
        "$(complete_words "$mode" "countly-sync --log-format " countly-sync --log-format "")"
    check_eq "completion ($m): '--log-format=j' -> json" "json " \
        "$(complete_words "$mode" "countly-sync --log-format=j" countly-sync --log-format = j)"
    same_set "completion ($m): '-' -> every option of --help" \
        "--help" "$HELP_OPTIONS" "the completion" \
        "$(complete_words "$mode" "countly-sync -" countly-sync -)"
    same_set "completion ($m): '' -> every command of --help" \
        "--help" "$HELP_COMMANDS" "the completion" \
        "$(complete_words "$mode" "countly-sync " countly-sync "")"
    check_eq "completion ($m): '--config c' -> the file" "conf.json " \
        "$(complete_words "$mode" "countly-sync --config c" countly-sync --config c)"
    check_eq "completion ($m): '--config=c' -> the file" "conf.json " \
        "$(complete_words "$mode" "countly-sync --config=c" countly-sync --config = c)"
    check_eq "completion ($m): '-o ' -> folders only" "outdir " \
        "$(complete_words "$mode" "countly-sync -o " countly-sync -o "")"
    check_eq "completion ($m): '--metrics c' -> the file" "conf.json " \
        "$(complete_words "$mode" "countly-sync --metrics c" countly-sync --metrics c)"
    check_eq "completion ($m): after a command, no second one" "" \
        "$(complete_words "$mode" "countly-sync -c x check " countly-sync -c x check "")"
    check_eq "completion ($m): a command word as -c's value is not the command" \
        "check help sync version " \
        "$(complete_words "$mode" "countly-sync -c check " countly-sync -c check "")"
done

tl_summary
