#!/usr/bin/env bash
# test_deb.sh - make deb ARCH=x86_64|aarch64|armhf (SPEC "Installation and packaging").
#
# For each ARCH (PKG_ARCHS, default all three):
#  1. make deb ARCH=... writes DIST/countly-sync_VERSION_DEBARCH.deb
#     (amd64, arm64, armhf); its control fields (Package, Version from
#     include/options.h, Architecture, Maintainer, Section, Priority,
#     Installed-Size, Description; no Depends), conffiles and md5sums;
#  2. `dpkg-deb -c` lists exactly the expected files, all root:root, the
#     binary 0755, everything else 0644, every folder 0755;
#  3. the binary is the static, stripped build of that ARCH (`file`) and the
#     make static / make cross output; it runs (under qemu-user for ARM) and
#     prints the version; the man page, docs and changelog are gzip -n; the
#     copyright is machine-readable and names the bundled libraries'
#     licences; the service runs /usr/bin/countly-sync;
#  4. lintian prints no E: line (and exits 0);
#  5. dpkg --root=SCRATCH (a throwaway admin folder, never the real root)
#     installs it: the files are there; dpkg -r leaves only
#     etc/countly-sync/configuration.json.example (and dpkg's own files);
#     dpkg -P removes that too.
# Environment: BUILD_DIR, MAKE, TEST_TMP, PKG_ARCHS. Last line: "N passed, N failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/testlib.sh
. "$ROOT/tests/lib/testlib.sh"
# shellcheck source=pkglib.sh
. "$HERE/pkglib.sh"

pkg_paths package-deb
pkg_need file file
pkg_need lintian lintian
pkg_need dpkg-deb dpkg
pkg_need qemu-aarch64 qemu-user
pkg_need qemu-arm qemu-user

DIST=$TMP/dist
EXPECTED=$(LC_ALL=C sort <<'EOF'
etc/countly-sync/configuration.json.example
lib/systemd/system/countly-sync.service
lib/systemd/system/countly-sync.timer
usr/bin/countly-sync
usr/share/bash-completion/completions/countly-sync
usr/share/doc/countly-sync/LICENSE
usr/share/doc/countly-sync/README.md.gz
usr/share/doc/countly-sync/THIRD_PARTY_NOTICES.gz
usr/share/doc/countly-sync/changelog.gz
usr/share/doc/countly-sync/copyright
usr/share/lintian/overrides/countly-sync
usr/share/man/man1/countly-sync.1.gz
EOF
)
CONF=etc/countly-sync/configuration.json.example

# field DEB NAME: one control field.
field() { dpkg-deb -f "$1" "$2" 2>/dev/null; }

one_arch() {
    local arch=$1 debarch deb x ctrl built out lint line r rc left
    debarch=$(debarch_of "$arch")
    deb=$DIST/countly-sync_${VERSION}_$debarch.deb
    echo "# ---- $arch: make deb ARCH=$arch"
    rm -f "$deb"
    if ! mk "$TMP/make-$arch.log" deb ARCH="$arch" DIST_DIR="$DIST"; then
        tl_fail "$arch: make deb" "exit non-zero"
        return
    fi
    check_true "$arch: make deb wrote countly-sync_${VERSION}_$debarch.deb" "missing" test -s "$deb"
    [ -s "$deb" ] || return

    # 1. control
    check_eq "$arch: Package" countly-sync "$(field "$deb" Package)"
    check_eq "$arch: Version (include/options.h)" "$VERSION" "$(field "$deb" Version)"
    check_eq "$arch: Architecture" "$debarch" "$(field "$deb" Architecture)"
    check_match "$arch: Maintainer is 'Name <address>'" '^[^<]+ <[^@> ]+@[^> ]+>$' "$(field "$deb" Maintainer)"
    check_match "$arch: Section" '^(net|utils)$' "$(field "$deb" Section)"
    check_eq "$arch: Priority" optional "$(field "$deb" Priority)"
    check_match "$arch: Installed-Size in KiB" '^[1-9][0-9]+$' "$(field "$deb" Installed-Size)"
    check_match "$arch: Description" '^copy Countly' "$(field "$deb" Description | head -n 1)"
    check_eq "$arch: no Depends (static binary, DynamicUser)" "" "$(field "$deb" Depends)$(field "$deb" Pre-Depends)"
    ctrl=$TMP/ctrl-$arch
    x=$TMP/x-$arch
    rm -rf "$ctrl" "$x"
    dpkg-deb -e "$deb" "$ctrl" && dpkg-deb -x "$deb" "$x"
    check_eq "$arch: conffiles" "/$CONF" "$(cat "$ctrl/conffiles" 2>/dev/null)"
    check_true "$arch: md5sums match the files" "md5sum -c failed" \
        bash -c "cd '$x' && md5sum --quiet -c '$ctrl/md5sums'"
    check_eq "$arch: md5sums names every file" "$EXPECTED" "$(awk '{ print $2 }' "$ctrl/md5sums" | LC_ALL=C sort)"

    # 2. the listing
    out=$(dpkg-deb -c "$deb")
    check_eq "$arch: dpkg-deb -c lists exactly the expected files" "$EXPECTED" \
        "$(awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' <<<"$out" | LC_ALL=C sort)"
    check_eq "$arch: every entry root/root" "" "$(awk '$2 != "root/root"' <<<"$out")"
    check_eq "$arch: folders 0755" "" "$(awk '$1 ~ /^d/ && $1 != "drwxr-xr-x"' <<<"$out")"
    check_eq "$arch: the binary 0755" "-rwxr-xr-x" "$(awk '$6 == "./usr/bin/countly-sync" { print $1 }' <<<"$out")"
    check_eq "$arch: every other file 0644" "" \
        "$(awk '$1 !~ /^d/ && $6 != "./usr/bin/countly-sync" && $1 != "-rw-r--r--"' <<<"$out")"

    # 3. contents
    check_binary "$arch: usr/bin/countly-sync" "$arch" "$x/usr/bin/countly-sync"
    if [ "$arch" = x86_64 ]; then
        built=$BUILD_DIR/static/bin/countly-sync.stripped
        out=$("$x/usr/bin/countly-sync" --version 2>&1 | head -n 1)
    else
        built=$BUILD_DIR/cross-$arch/bin/countly-sync.stripped
        out=$({ if [ "$arch" = aarch64 ]; then qemu-aarch64 "$x/usr/bin/countly-sync" --version; else
            qemu-arm "$x/usr/bin/countly-sync" --version; fi; } 2>&1 | head -n 1)
    fi
    check_true "$arch: the binary is the build's $built" "differs" cmp -s "$built" "$x/usr/bin/countly-sync"
    check_eq "$arch: the packaged binary runs: --version" "countly-sync $VERSION" "$out"
    gzip_clean "$arch: man page gzip -9n" "$x/usr/share/man/man1/countly-sync.1.gz"
    check_true "$arch: man page is the repository's" "differs" \
        cmp -s "$ROOT/packaging/countly-sync.1" <(zcat "$x/usr/share/man/man1/countly-sync.1.gz")
    gzip_clean "$arch: changelog.gz gzip -9n" "$x/usr/share/doc/countly-sync/changelog.gz"
    check_match "$arch: changelog names this version" "^countly-sync \($VERSION\) [a-z]+; urgency=" \
        "$(zcat "$x/usr/share/doc/countly-sync/changelog.gz" | head -n 1)"
    gzip_clean "$arch: README.md.gz gzip -n" "$x/usr/share/doc/countly-sync/README.md.gz"
    check_true "$arch: README is the repository's" "differs" \
        cmp -s "$ROOT/README.md" <(zcat "$x/usr/share/doc/countly-sync/README.md.gz")
    check_true "$arch: THIRD_PARTY_NOTICES is the repository's" "differs" \
        cmp -s "$ROOT/THIRD_PARTY_NOTICES" <(zcat "$x/usr/share/doc/countly-sync/THIRD_PARTY_NOTICES.gz")
    out=$(cat "$x/usr/share/doc/countly-sync/copyright")
    check_match "$arch: copyright is machine-readable" \
        "^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" "$out"
    for line in "License: MIT" "License: Apache-2.0" "License: Zlib" "Files: mbedtls/" "Files: zlib/" \
        "Files: musl/" "Files: jsmn/"; do
        check_true "$arch: copyright has '$line'" "missing" \
            grep -q "^$line" "$x/usr/share/doc/countly-sync/copyright"
    done
    line=$(grep -m1 -E '^[[:space:]]*Copyright' "$ROOT/LICENSE" | sed -E 's/^[[:space:]]*Copyright[[:space:]]*(\([cC]\)|©)?[[:space:]]*//')
    check_true "$arch: copyright names LICENSE's holder ($line)" "missing" \
        grep -qxF "Copyright: $line" "$x/usr/share/doc/countly-sync/copyright"
    check_match "$arch: the service runs /usr/bin/countly-sync" "^ExecStart=[-@:+!|]*/usr/bin/countly-sync( |$)" \
        "$(grep -E '^ExecStart=' "$x/lib/systemd/system/countly-sync.service" | head -n 1)"

    # 4. lintian
    lint=$(lintian "$deb" 2>&1)
    rc=$?
    grep -E '^[EWIP]: ' <<<"$lint" | sed "s/^/# lintian $arch: /"
    grep -qE '^[EW]: ' <<<"$lint" || echo "# lintian $arch: no E: or W: line"
    check_eq "$arch: lintian prints no E: line" "" "$(grep -E '^E: ' <<<"$lint")"
    check_eq "$arch: lintian exits 0" 0 "$rc"

    # 5. dpkg -i / -r / -P into a throwaway root
    r=$TMP/root-$arch
    rm -rf "$r" && mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/var/lib/dpkg/triggers"
    : >"$r/var/lib/dpkg/status"
    [ "$debarch" = amd64 ] || dpkg --root="$r" --add-architecture "$debarch"
    dpk() { dpkg --root="$r" --log="$TMP/dpkg-$arch.log" --force-not-root --force-script-chrootless "$@"; }
    status() { dpkg-query --admindir="$r/var/lib/dpkg" -W -f='${Status}' countly-sync 2>/dev/null; }
    dpk -i "$deb" >"$TMP/dpkg-i-$arch.out" 2>&1
    check_eq "$arch: dpkg --root -i exits 0" 0 "$?"
    check_eq "$arch: dpkg says installed" "install ok installed" "$(status)"
    check_eq "$arch: the installed files" "$EXPECTED" \
        "$(cd "$r" && find . ! -type d ! -path './var/lib/dpkg/*' | sed 's|^\./||' | LC_ALL=C sort)"
    dpk -r countly-sync >"$TMP/dpkg-r-$arch.out" 2>&1
    check_eq "$arch: dpkg -r exits 0" 0 "$?"
    left=$(cd "$r" && find . ! -type d ! -path './var/lib/dpkg/*' | sed 's|^\./||' | LC_ALL=C sort)
    check_eq "$arch: after dpkg -r only the configuration is left" "$CONF" "$left"
    check_eq "$arch: dpkg -r keeps the conffile's record" "deinstall ok config-files" "$(status)"
    dpk -P countly-sync >"$TMP/dpkg-P-$arch.out" 2>&1
    check_eq "$arch: dpkg -P exits 0" 0 "$?"
    check_eq "$arch: after dpkg -P no file is left" "" \
        "$(cd "$r" && find . ! -type d ! -path './var/lib/dpkg/*')"
    check_eq "$arch: nor a countly-sync folder" "" \
        "$(cd "$r" && find . -name '*countly-sync*' ! -path './var/lib/dpkg/*')"
    check_eq "$arch: dpkg knows the package no more" "" "$(status)"
}

for a in ${PKG_ARCHS:-x86_64 aarch64 armhf}; do
    one_arch "$a"
done

tl_summary
