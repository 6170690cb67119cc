#!/usr/bin/env bash
# test_deps.sh - who may install Debian packages (scripts/deps.sh, the Makefile).
#
# With a package missing (dpkg-query, apt-get and id replaced on PATH by
# stand-ins: the package "musl-tools" reads as not installed, apt-get only
# records its calls and fails an install, id says root):
#  1. scripts/deps.sh --check SET fails with one line that names the
#     package, the apt-get command and make deps, and calls no apt-get;
#  2. make all, static, cross, install, deb, release, bench, lwip, coverage,
#     test-valgrind, test-cross and test-package fail the same way as root,
#     before building anything, and never call apt-get;
#  3. make deps, make demo and make test do call apt-get install for it;
#  4. with nothing missing, deps.sh --check succeeds silently.
# Environment: BUILD_DIR, MAKE, TEST_TMP. Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=pkglib.sh
. "$HERE/pkglib.sh"

pkg_paths package-deps
SHIM=$TMP/shim
APT_LOG=$TMP/apt-get.calls
mkdir -p "$SHIM"

cat >"$SHIM/dpkg-query" <<'EOF'
#!/bin/sh
# stand-in: every package installed but those in $MISSING
for pkg; do :; done
case " ${MISSING:-} " in *" $pkg "*) exit 1 ;; esac
printf 'install ok installed'
EOF
cat >"$SHIM/apt-get" <<EOF
#!/bin/sh
# stand-in: records the call; update succeeds, anything else fails
echo "apt-get \$*" >>"$APT_LOG"
[ "\$1" = update ] && exit 0
exit 100
EOF
cat >"$SHIM/id" <<'EOF'
#!/bin/sh
# stand-in: root
echo 0
EOF
chmod +x "$SHIM"/*

# with_shims CMD...: CMD with the stand-ins first on PATH and musl-tools missing.
with_shims() { PATH=$SHIM:$PATH MISSING=musl-tools "$@"; }

# 1. deps.sh --check
for set in build cross test all; do
    rm -f "$APT_LOG"
    err=$(with_shims sh "$ROOT/scripts/deps.sh" --check "$set" 2>&1 >/dev/null)
    rc=$?
    check_eq "deps.sh --check $set: fails" 1 "$rc"
    check_eq "deps.sh --check $set: one line" 1 "$(printf '%s\n' "$err" | grep -c .)"
    check_match "deps.sh --check $set: names the package and the commands" \
        "musl-tools.*apt-get install -y musl-tools.*make deps" "$err"
    check_true "deps.sh --check $set: no apt-get call" "apt-get was called: $(cat "$APT_LOG" 2>/dev/null)" \
        test ! -e "$APT_LOG"
done

# 2. make targets that only check
for target in all static "cross ARCH=aarch64" install "deb ARCH=armhf" release bench lwip coverage \
    test-valgrind "test-cross ARCH=armhf" test-package; do
    rm -f "$APT_LOG"
    log=$TMP/make-${target%% *}.log
    # shellcheck disable=SC2086
    with_shims env -u MAKEFLAGS -u MAKELEVEL "$MAKE" --no-print-directory -C "$ROOT" \
        BUILD_DIR="$TMP/never-built" DESTDIR="$TMP/never-installed" DIST_DIR="$TMP/never-dist" \
        $target >"$log" 2>&1
    rc=$?
    check_ne "make $target: fails with musl-tools missing" 0 "$rc"
    check_eq "make $target: one line names musl-tools and make deps" 1 \
        "$(grep -c 'missing Debian packages: musl-tools; .*make deps' "$log")"
    check_true "make $target: no apt-get call" "apt-get was called: $(cat "$APT_LOG" 2>/dev/null)" \
        test ! -e "$APT_LOG"
    # (make itself writes the flag stamps when it reads the Makefile)
    check_eq "make $target: nothing built, fetched or installed" "" \
        "$(find "$TMP/never-built" "$TMP/never-installed" "$TMP/never-dist" ! -type d ! -name '*.flags' \
            ! -name .flags 2>/dev/null)"
done

# 3. the three targets that install
for target in deps demo test; do
    rm -f "$APT_LOG"
    log=$TMP/make-$target.log
    with_shims env -u MAKEFLAGS -u MAKELEVEL "$MAKE" --no-print-directory -C "$ROOT" \
        BUILD_DIR="$TMP/never-built" "$target" >"$log" 2>&1
    check_match "make $target: runs apt-get install for musl-tools" "apt-get install .*musl-tools" \
        "$(cat "$APT_LOG" 2>/dev/null)"
done

# 4. nothing missing
rm -f "$APT_LOG"
out=$(PATH=$SHIM:$PATH MISSING='' sh "$ROOT/scripts/deps.sh" --check test 2>&1)
check_eq "deps.sh --check test with nothing missing: exit 0" 0 "$?"
check_eq "  ... silently" "" "$out"

tl_summary
