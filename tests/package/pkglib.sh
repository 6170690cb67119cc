# pkglib.sh - what the packaging suites share. Source it after testlib.sh.
#
#   pkg_paths SUITE        ROOT-relative BUILD_DIR made absolute, TMP (TEST_TMP
#                          or $BUILD_DIR/test-tmp/SUITE, emptied), VERSION
#   pkg_need TOOL PACKAGE  a failed check naming the Debian package when TOOL
#                          is missing (the suite then ends with its summary)
#   mk LOG ARGS...         make -C ROOT BUILD_DIR=... ARGS, output into LOG;
#                          its exit status (the log's tail is shown on failure)
#   files_under DIR        the files (and links) under DIR, relative, sorted
#   check_files NAME EXPECTED DIR   the full list under DIR is EXPECTED
#                          (newline-separated, sorted): no more, no less
#   elf_of ARCH            what `file` says of that architecture's binaries
#   gzip_clean NAME FILE   gzip -n: no file name and no time in the header

pkg_paths() {
    BUILD_DIR=${BUILD_DIR:-build}
    case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
    TMP=${TEST_TMP:-$BUILD_DIR/test-tmp/$1}
    rm -rf "$TMP" && mkdir -p "$TMP"
    VERSION=$(sed -n 's/^#define COUNTLY_SYNC_VERSION "\(.*\)"/\1/p' "$ROOT/include/options.h")
    MAKE=${MAKE:-make}
}

pkg_need() {
    command -v "$1" >/dev/null && return 0
    tl_fail "setup: $1" "not installed (Debian package $2; sudo make deps installs it)"
    tl_summary
    exit 1
}

mk() {
    local log=$1 rc
    shift
    # MAKEFLAGS from an outer make (make test-package) would pass its
    # command-line variables (ARCH=...) down: each call says its own.
    env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS "$MAKE" --no-print-directory -C "$ROOT" \
        BUILD_DIR="$BUILD_DIR" "$@" >"$log" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "# make $* exited $rc; the end of $log:"
        tail -n 15 "$log" | sed 's/^/#   /'
    fi
    return "$rc"
}

files_under() {
    (cd "$1" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort)
}

check_files() {
    local name=$1 expected=$2 dir=$3 actual
    actual=$(files_under "$dir")
    if [ "$actual" = "$expected" ]; then
        tl_pass "$name"
    else
        tl_fail "$name" "differs from the expected list (< expected, > found):"
        diff <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") | grep '^[<>]' | sed 's/^/    /'
    fi
}

elf_of() {
    case $1 in
    x86_64) echo 'x86-64' ;;
    aarch64) echo 'ARM aarch64' ;;
    armhf) echo 'ARM, EABI5' ;;
    esac
}

debarch_of() {
    case $1 in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    armhf) echo armhf ;;
    esac
}

# check_binary NAME ARCH FILE: static, stripped, that architecture.
check_binary() {
    local info
    info=$(file -b "$3")
    check_match "$1: $2 ($(elf_of "$2"))" "$(elf_of "$2")" "$info"
    check_match "$1: statically linked" "statically linked" "$info"
    check_match "$1: stripped" ", stripped" "$info"
    check_nomatch "$1: not 'not stripped'" "not stripped" "$info"
}

gzip_clean() {
    local flags mtime
    flags=$(od -An -tu1 -j3 -N1 "$2" | tr -d ' ')
    mtime=$(od -An -tu4 -j4 -N4 "$2" | tr -d ' ')
    if gzip -t "$2" 2>/dev/null && [ $((flags & 8)) -eq 0 ] && [ "$mtime" = 0 ]; then
        tl_pass "$1"
    else
        tl_fail "$1" "not a gzip -n file (flags $flags, mtime $mtime)"
    fi
}
