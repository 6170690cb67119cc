#!/bin/sh
# mkdeb.sh - the Debian package of a static countly-sync binary (make deb).
#
# Usage: scripts/mkdeb.sh
# Environment (the Makefile passes each):
#   ARCH               x86_64 | aarch64 | armhf  (package: amd64 | arm64 | armhf)
#   BIN                the static, stripped binary built for ARCH
#   VERSION            COUNTLY_SYNC_VERSION of include/options.h
#   DIST_DIR           where the .deb goes (countly-sync_VERSION_DEBARCH.deb)
#   STAGE              a scratch folder for the package tree (emptied first)
#   SOURCE_DATE_EPOCH  every file's time and the changelog's date
#   DEB_MAINTAINER     the Maintainer field, "Name <address>"
#
# The tree is what `make install PREFIX=/usr SYSCONFDIR=/etc
# UNITDIR=/lib/systemd/system` installs (scripts/install.sh; units in
# /lib/systemd/system as Debian 12's packages have them), made into
# Debian's layout: the manual page and the docs compressed with gzip -9n
# (LICENSE stays plain), /usr/share/doc/countly-sync/copyright in the
# machine-readable format (packaging/debian/copyright.in, the program's
# copyright line taken from LICENSE), changelog.gz, the lintian overrides,
# and DEBIAN/ with control, conffiles (the example configuration),
# md5sums and the postinst/postrm that reload a running systemd. Owned by
# root, modes 0755/0644, built with dpkg-deb --root-owner-group. No
# Depends: the binary is static and the service uses DynamicUser.
set -eu
umask 022

ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${ARCH:?}" "${BIN:?}" "${VERSION:?}" "${DIST_DIR:?}" "${STAGE:?}"
: "${SOURCE_DATE_EPOCH:?}" "${DEB_MAINTAINER:?}"

case $ARCH in
x86_64) debarch=amd64 elf='x86-64' ;;
aarch64) debarch=arm64 elf='ARM aarch64' ;;
armhf) debarch=armhf elf='ARM, EABI5' ;;
*)
    echo "mkdeb: ARCH must be x86_64, aarch64 or armhf (got '$ARCH')" >&2
    exit 64
    ;;
esac

fail() {
    echo "mkdeb: $*" >&2
    exit 1
}

# The binary must be the static one for this architecture.
info=$(file -b "$BIN")
case $info in *"$elf"*"statically linked"*", stripped"*) ;; *)
    fail "$BIN is not a static, stripped $elf binary: $info" ;;
esac

holder=$(sed -n 's/^[[:space:]]*Copyright[[:space:]]*\(([cC])\|©\)\{0,1\}[[:space:]]*//p' "$ROOT/LICENSE" | head -n 1)
[ -n "$holder" ] || fail "LICENSE has no 'Copyright ...' line for debian/copyright"

rm -rf "$STAGE"
mkdir -p "$STAGE" "$DIST_DIR"
DESTDIR=$STAGE PREFIX=/usr SYSCONFDIR=/etc UNITDIR=/lib/systemd/system BIN=$BIN \
    sh "$ROOT/scripts/install.sh" install >/dev/null

doc=$STAGE/usr/share/doc/countly-sync
gzip -9n "$STAGE/usr/share/man/man1/countly-sync.1"
gzip -9n "$doc/README.md" "$doc/THIRD_PARTY_NOTICES"
holder=$(printf '%s\n' "$holder" | sed 's/[|&\\]/\\&/g')
sed "s|@PROGRAM_COPYRIGHT@|$holder|" "$ROOT/packaging/debian/copyright.in" >"$doc/copyright"
date=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
cat >"$doc/changelog" <<EOF
countly-sync ($VERSION) unstable; urgency=medium

  * countly-sync $VERSION: one static binary (musl, with mbedTLS 3.6,
    zlib and jsmn compiled in), its manual page, bash completion, systemd
    service and timer, and an example configuration.

 -- $DEB_MAINTAINER  $date
EOF
gzip -9n "$doc/changelog"
install -d -m 0755 "$STAGE/usr/share/lintian/overrides"
install -m 0644 "$ROOT/packaging/debian/lintian-overrides" \
    "$STAGE/usr/share/lintian/overrides/countly-sync"

install -d -m 0755 "$STAGE/DEBIAN"
install -m 0755 "$ROOT/packaging/debian/postinst" "$STAGE/DEBIAN/postinst"
install -m 0755 "$ROOT/packaging/debian/postrm" "$STAGE/DEBIAN/postrm"
echo /etc/countly-sync/configuration.json.example >"$STAGE/DEBIAN/conffiles"
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
    xargs md5sum) >"$STAGE/DEBIAN/md5sums"

# Installed-Size as dpkg-gencontrol counts it: KiB per file, rounded up,
# and one per folder.
size=$(cd "$STAGE" && find . -path ./DEBIAN -prune -o \( -type f -printf '%s\n' \) \
    -o \( -type d -printf 'd\n' \) | awk '$1 == "d" { n += 1; next } { n += int(($1 + 1023) / 1024) } END { print n }')

cat >"$STAGE/DEBIAN/control" <<EOF
Package: countly-sync
Version: $VERSION
Architecture: $debarch
Maintainer: $DEB_MAINTAINER
Installed-Size: $size
Section: net
Priority: optional
Description: copy Countly analytics data into CSV files
 countly-sync reads the apps, groups and users of a Countly analytics
 server over HTTPS and writes them as CSV files that load as typed tables
 (PostgreSQL COPY, SQLite, spreadsheets). Users are read incrementally
 and committed page by page, so a run that is stopped at any moment goes
 on where it left off, and every row is in the files exactly once.
 .
 The program uses a fixed amount of memory whatever the number of rows,
 and is one static binary with no run-time dependency. A systemd service
 and timer run it periodically.
EOF

find "$STAGE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
out=$DIST_DIR/countly-sync_${VERSION}_$debarch.deb
SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$out" >/dev/null
echo "$out"
