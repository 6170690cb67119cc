#!/usr/bin/env bash
# test_install.sh - make install / make uninstall (SPEC "Installation and packaging").
#
#  1. make install into a scratch DESTDIR with the defaults (PREFIX=/usr/local),
#     with PREFIX=/usr (SYSCONFDIR stays /etc) and with every variable set
#     (PREFIX, SYSCONFDIR, UNITDIR): exactly the listed files, no more, no
#     less; the binary is the static, stripped musl build (`file`), mode
#     0755, runs and prints the version; the other files are 0644 and the
#     repository's own; the service's Exec lines run PREFIX/bin/countly-sync
#     (and name SYSCONFDIR's configuration); a second install succeeds;
#  2. make uninstall with the same variables: no file is left under DESTDIR,
#     nor a countly-sync folder; a user's own configuration.json and another
#     program's file beside them are kept (and so is their folder);
#  3. the service rewrite whichever path the repository's unit names
#     (/usr/local/bin/countly-sync or /usr/bin/countly-sync), and a unit that
#     runs no countly-sync path fails the install, which then installs nothing.
# Environment: BUILD_DIR, MAKE, TEST_TMP. Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=pkglib.sh
. "$HERE/pkglib.sh"

pkg_paths package-install
pkg_need file file
pkg_need cmp diffutils

STATIC=$BUILD_DIR/static/bin/countly-sync.stripped

# expected PREFIX SYSCONFDIR UNITDIR: the installed files, relative to DESTDIR.
expected() {
    printf '%s\n' "${1#/}/bin/countly-sync" "${1#/}/share/man/man1/countly-sync.1" \
        "${1#/}/share/bash-completion/completions/countly-sync" \
        "${2#/}/countly-sync/configuration.json.example" \
        "${3#/}/countly-sync.service" "${3#/}/countly-sync.timer" \
        "${1#/}/share/doc/countly-sync/README.md" "${1#/}/share/doc/countly-sync/LICENSE" \
        "${1#/}/share/doc/countly-sync/THIRD_PARTY_NOTICES" | LC_ALL=C sort
}

# exec_lines FILE: the service's Exec*= lines.
exec_lines() { grep -E '^Exec[A-Za-z]*=' "$1"; }

# one_case NAME PREFIX SYSCONFDIR UNITDIR MAKEVARS...: install, check, uninstall.
one_case() {
    local name=$1 prefix=$2 sysconf=$3 unitdir=$4
    shift 4
    local d=$TMP/$name log=$TMP/$name.log f mode out unit from to
    echo "# ---- $name: make install DESTDIR=$d $*"
    if ! mk "$log" install DESTDIR="$d" "$@"; then
        tl_fail "$name: make install" "exit non-zero"
        return
    fi
    tl_pass "$name: make install exits 0"
    check_files "$name: exactly the listed files" "$(expected "$prefix" "$sysconf" "$unitdir")" "$d"

    check_binary "$name: bin/countly-sync" x86_64 "$d$prefix/bin/countly-sync"
    check_true "$name: the binary is make static's stripped build" "differs from $STATIC" \
        cmp -s "$STATIC" "$d$prefix/bin/countly-sync"
    out=$("$d$prefix/bin/countly-sync" --version 2>&1 | head -n 1)
    check_eq "$name: the installed binary runs: --version" "countly-sync $VERSION" "$out"

    while read -r f; do
        mode=$(stat -c %a "$d/$f")
        case $f in */bin/countly-sync) check_eq "$name: mode of $f" 755 "$mode" ;;
        *) check_eq "$name: mode of $f" 644 "$mode" ;;
        esac
    done < <(expected "$prefix" "$sysconf" "$unitdir")

    for f in "packaging/countly-sync.1 share/man/man1/countly-sync.1" \
        "packaging/countly-sync.bash-completion share/bash-completion/completions/countly-sync" \
        "README.md share/doc/countly-sync/README.md" "LICENSE share/doc/countly-sync/LICENSE" \
        "THIRD_PARTY_NOTICES share/doc/countly-sync/THIRD_PARTY_NOTICES"; do
        read -r from to <<<"$f"
        check_true "$name: $to is the repository's $from" "differs" cmp -s "$ROOT/$from" "$d$prefix/$to"
    done
    check_true "$name: the example configuration is the repository's" "differs" \
        cmp -s "$ROOT/packaging/configuration.json.example" "$d$sysconf/countly-sync/configuration.json.example"
    check_true "$name: the timer is the repository's" "differs" \
        cmp -s "$ROOT/packaging/countly-sync.timer" "$d$unitdir/countly-sync.timer"

    unit=$d$unitdir/countly-sync.service
    check_match "$name: ExecStart runs $prefix/bin/countly-sync" \
        "^ExecStart=[-@:+!|]*$prefix/bin/countly-sync( |$)" "$(grep -E '^ExecStart=' "$unit" | head -n 1)"
    check_nomatch "$name: no Exec line names another countly-sync" \
        "=[-@:+!|]*/([^ ]*/)?countly-sync( |$)" "$(exec_lines "$unit" | grep -v "=[-@:+!|]*$prefix/bin/countly-sync")"
    # Apart from the Exec lines' program (and, with another SYSCONFDIR, the
    # configuration's folder) the service is the repository's.
    check_eq "$name: the rest of the service is the repository's" \
        "$(sed -E "s#^(Exec[A-Za-z]*=[-@:+!|]*)(/[^[:space:]]*/)?countly-sync#\1BIN#" "$ROOT/packaging/countly-sync.service")" \
        "$(sed -E -e "s#^(Exec[A-Za-z]*=[-@:+!|]*)$prefix/bin/countly-sync#\1BIN#" \
            -e "s#$sysconf/countly-sync/#/etc/countly-sync/#g" "$unit")"
    if [ "$sysconf" != /etc ]; then
        check_nomatch "$name: the service names no /etc/countly-sync/ path" "(^|[=: ])/etc/countly-sync/" "$(cat "$unit")"
    fi

    if mk "$log" install DESTDIR="$d" "$@"; then
        tl_pass "$name: a second make install exits 0"
    else
        tl_fail "$name: a second make install" "exit non-zero"
    fi
    check_files "$name: still exactly the listed files" "$(expected "$prefix" "$sysconf" "$unitdir")" "$d"

    if mk "$log" uninstall DESTDIR="$d" "$@"; then
        tl_pass "$name: make uninstall exits 0"
    else
        tl_fail "$name: make uninstall" "exit non-zero"
    fi
    check_eq "$name: make uninstall leaves no file" "" "$(find "$d" ! -type d)"
    check_eq "$name: nor a countly-sync folder" "" "$(find "$d" -name '*countly-sync*')"
}

one_case defaults /usr/local /etc /usr/local/lib/systemd/system
one_case prefix-usr /usr /etc /usr/lib/systemd/system PREFIX=/usr
one_case all-vars /opt/cs /opt/cs/etc /etc/systemd/system \
    PREFIX=/opt/cs SYSCONFDIR=/opt/cs/etc UNITDIR=/etc/systemd/system

# ---- 2. uninstall keeps what is not its own ----------------------------------------------
d=$TMP/keep
echo "# ---- keep: uninstall next to a user's files"
if mk "$TMP/keep.log" install DESTDIR="$d"; then
    echo '{"server_url": "https://example.org"}' >"$d/etc/countly-sync/configuration.json"
    echo other >"$d/usr/local/bin/other-tool"
    mk "$TMP/keep.log" uninstall DESTDIR="$d"
    check_eq "keep: uninstall exits 0" 0 "$?"
    check_eq "keep: only the user's configuration and the other program are left" \
        "$(printf '%s\n' etc/countly-sync/configuration.json usr/local/bin/other-tool)" "$(files_under "$d")"
else
    tl_fail "keep: make install" "exit non-zero"
fi

# ---- 3. the service rewrite, from the bare name or either path the unit may name ------------
# A copy of the packaging sources whose unit names BIN_PATH.
src_with() {
    local src=$TMP/src-$1
    rm -rf "$src" && mkdir -p "$src/packaging"
    cp "$ROOT"/packaging/countly-sync.* "$ROOT/packaging/configuration.json.example" "$src/packaging/"
    cp "$ROOT/README.md" "$ROOT/LICENSE" "$ROOT/THIRD_PARTY_NOTICES" "$src/"
    sed -E -i "s#^(Exec[A-Za-z]*=[-@:+!|]*)(/[^[:space:]]*/)?countly-sync#\1$2#" "$src/packaging/countly-sync.service"
    echo "$src"
}
for pair in "bare countly-sync /usr" "usr-bin /usr/bin/countly-sync /usr/local" \
    "usr-local /usr/local/bin/countly-sync /usr" "usr-local-same /usr/local/bin/countly-sync /usr/local"; do
    set -- $pair
    src=$(src_with "$1" "$2")
    d=$TMP/rewrite-$1
    setup_match "unit from $2" "^ExecStart=[-@:+!|]*$2" "$(grep -E '^ExecStart=' "$src/packaging/countly-sync.service")"
    if SRC=$src DESTDIR=$d PREFIX=$3 BIN=$STATIC sh "$ROOT/scripts/install.sh" install >"$TMP/rewrite-$1.log" 2>&1; then
        check_match "unit naming $2, PREFIX=$3: ExecStart runs $3/bin/countly-sync" \
            "^ExecStart=[-@:+!|]*$3/bin/countly-sync( |$)" \
            "$(grep -E '^ExecStart=' "$d$3/lib/systemd/system/countly-sync.service")"
    else
        tl_fail "unit naming $2, PREFIX=$3: install" "exit non-zero: $(tail -n 3 "$TMP/rewrite-$1.log")"
    fi
done

src=$(src_with none /usr/bin/countly-sync)
sed -E -i 's#^(Exec[A-Za-z]*=[-@:+!|]*)/usr/bin/countly-sync#\1/bin/true#' "$src/packaging/countly-sync.service"
d=$TMP/rewrite-none
SRC=$src DESTDIR=$d BIN=$STATIC sh "$ROOT/scripts/install.sh" install >"$TMP/rewrite-none.log" 2>&1
check_ne "a unit that runs no countly-sync path: install fails" 0 "$?"
check_match "  ... and says why" "no Exec\*= line runs countly-sync" "$(cat "$TMP/rewrite-none.log")"
check_eq "  ... and installs nothing" "" "$(find "$d" ! -type d 2>/dev/null)"

tl_summary
