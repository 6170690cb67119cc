#!/usr/bin/env bash
# test_release.sh - make release (SPEC "Installation and packaging").
#
#  1. make release writes DIST/countly-sync-VERSION-ARCH.tar.gz for x86_64,
#     aarch64 and armhf, and DIST/SHA256SUMS naming exactly those three
#     without a folder, so `cd DIST && sha256sum -c SHA256SUMS` passes;
#  2. each archive holds exactly the expected files under one top folder
#     countly-sync-VERSION-ARCH/, owned 0:0, the binary 0755 and the rest
#     0644; its binary is the static, stripped build of that ARCH (`file`)
#     and make static's / make cross's output; the service runs
#     /usr/local/bin/countly-sync; the other files are the repository's;
#     the gzip header holds no name or time;
#  3. a second make release gives the same archives byte for byte.
# Environment: BUILD_DIR, MAKE, TEST_TMP. Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=pkglib.sh
. "$HERE/pkglib.sh"

pkg_paths package-release
pkg_need file file
pkg_need sha256sum coreutils

DIST=$TMP/dist
ARCHS="x86_64 aarch64 armhf"
FILES=$(LC_ALL=C sort <<'EOF'
LICENSE
README.md
THIRD_PARTY_NOTICES
bash-completion/countly-sync
bin/countly-sync
configuration.json.example
man/countly-sync.1
systemd/countly-sync.service
systemd/countly-sync.timer
EOF
)

if ! mk "$TMP/release.log" release DIST_DIR="$DIST"; then
    tl_fail "make release" "exit non-zero"
    tl_summary
    exit 1
fi
tl_pass "make release exits 0"

names=$(for a in $ARCHS; do echo "countly-sync-$VERSION-$a.tar.gz"; done)
check_eq "SHA256SUMS names the three archives, no folder" "$(LC_ALL=C sort <<<"$names")" \
    "$(awk '{ print $2 }' "$DIST/SHA256SUMS" | LC_ALL=C sort)"
check_true "cd DIST && sha256sum -c SHA256SUMS" "failed" \
    bash -c "cd '$DIST' && sha256sum --quiet -c SHA256SUMS"
check_eq "dist holds the archives and SHA256SUMS, nothing else" \
    "$(printf '%s\n' $names SHA256SUMS | LC_ALL=C sort)" "$(files_under "$DIST")"

for a in $ARCHS; do
    top=countly-sync-$VERSION-$a
    tgz=$DIST/$top.tar.gz
    [ -s "$tgz" ] || {
        tl_fail "$a: $top.tar.gz" "missing"
        continue
    }
    gzip_clean "$a: gzip -n" "$tgz"
    list=$(tar tvzf "$tgz" --numeric-owner)
    check_eq "$a: every entry under $top/" "" "$(awk '$6 !~ "^'"$top"'/"' <<<"$list")"
    check_eq "$a: exactly the expected files" "$FILES" \
        "$(awk '$1 !~ /^d/ { sub("^'"$top"'/", "", $6); print $6 }' <<<"$list" | LC_ALL=C sort)"
    check_eq "$a: owner 0/0" "" "$(awk '$2 != "0/0"' <<<"$list")"
    check_eq "$a: the binary 0755" "-rwxr-xr-x" "$(awk '$6 == "'"$top"'/bin/countly-sync" { print $1 }' <<<"$list")"
    check_eq "$a: folders 0755, other files 0644" "" "$(awk '($1 ~ /^d/ && $1 != "drwxr-xr-x") ||
        ($1 !~ /^d/ && $6 != "'"$top"'/bin/countly-sync" && $1 != "-rw-r--r--")' <<<"$list")"
    x=$TMP/x-$a
    rm -rf "$x" && mkdir -p "$x" && tar xzf "$tgz" -C "$x"
    check_binary "$a: bin/countly-sync" "$a" "$x/$top/bin/countly-sync"
    if [ "$a" = x86_64 ]; then built=$BUILD_DIR/static/bin/countly-sync.stripped; else
        built=$BUILD_DIR/cross-$a/bin/countly-sync.stripped; fi
    check_true "$a: the binary is the build's" "differs from $built" cmp -s "$built" "$x/$top/bin/countly-sync"
    check_match "$a: the service runs /usr/local/bin/countly-sync" \
        "^ExecStart=[-@:+!|]*/usr/local/bin/countly-sync( |$)" \
        "$(grep -E '^ExecStart=' "$x/$top/systemd/countly-sync.service" | head -n 1)"
    for pair in "packaging/countly-sync.1 man/countly-sync.1" \
        "packaging/countly-sync.bash-completion bash-completion/countly-sync" \
        "packaging/countly-sync.timer systemd/countly-sync.timer" \
        "packaging/configuration.json.example configuration.json.example" \
        "README.md README.md" "LICENSE LICENSE" "THIRD_PARTY_NOTICES THIRD_PARTY_NOTICES"; do
        read -r from to <<<"$pair"
        check_true "$a: $to is the repository's $from" "differs" cmp -s "$ROOT/$from" "$x/$top/$to"
    done
done

cp "$DIST/SHA256SUMS" "$TMP/SHA256SUMS.first"
if mk "$TMP/release2.log" release DIST_DIR="$DIST"; then
    check_true "a second make release gives the same archives" "SHA256SUMS differs" \
        cmp -s "$TMP/SHA256SUMS.first" "$DIST/SHA256SUMS"
else
    tl_fail "a second make release" "exit non-zero"
fi

tl_summary
