#!/bin/sh
# mkrelease.sh - the release archive of a static countly-sync binary (make release).
#
# Usage: scripts/mkrelease.sh
# Environment (the Makefile passes each):
#   ARCH               x86_64 | aarch64 | armhf
#   BIN                the static, stripped binary built for ARCH
#   VERSION            COUNTLY_SYNC_VERSION of include/options.h
#   DIST_DIR           where the archive goes
#   STAGE              a scratch folder (emptied first)
#   SOURCE_DATE_EPOCH  every file's time in the archive
#
# Writes DIST_DIR/countly-sync-VERSION-ARCH.tar.gz, one top folder:
#   countly-sync-VERSION-ARCH/
#     bin/countly-sync                      0755, static and stripped
#     man/countly-sync.1
#     bash-completion/countly-sync
#     systemd/countly-sync.service          runs /usr/local/bin/countly-sync
#     systemd/countly-sync.timer            (where README's steps put it)
#     configuration.json.example
#     README.md  LICENSE  THIRD_PARTY_NOTICES
# Reproducible: names sorted, owner 0:0, one time (SOURCE_DATE_EPOCH),
# gzip -n; the same binary gives the same archive byte for byte.
set -eu
umask 022

ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${ARCH:?}" "${BIN:?}" "${VERSION:?}" "${DIST_DIR:?}" "${STAGE:?}" "${SOURCE_DATE_EPOCH:?}"

case $ARCH in
x86_64) elf='x86-64' ;;
aarch64) elf='ARM aarch64' ;;
armhf) elf='ARM, EABI5' ;;
*)
    echo "mkrelease: ARCH must be x86_64, aarch64 or armhf (got '$ARCH')" >&2
    exit 64
    ;;
esac
info=$(file -b "$BIN")
case $info in *"$elf"*"statically linked"*", stripped"*) ;; *)
    echo "mkrelease: $BIN is not a static, stripped $elf binary: $info" >&2
    exit 1
    ;;
esac

name=countly-sync-$VERSION-$ARCH
top=$STAGE/$name
rm -rf "$STAGE"
mkdir -p "$DIST_DIR"
# put MODE FROM TO: one file into the tree.
put() {
    install -d -m 0755 "$top/$(dirname "$3")"
    install -m "$1" "$2" "$top/$3"
}
put 0755 "$BIN" bin/countly-sync
put 0644 "$ROOT/packaging/countly-sync.1" man/countly-sync.1
put 0644 "$ROOT/packaging/countly-sync.bash-completion" bash-completion/countly-sync
install -d -m 0755 "$top/systemd"
PREFIX=/usr/local SYSCONFDIR=/etc sh "$ROOT/scripts/install.sh" unit >"$top/systemd/countly-sync.service"
chmod 0644 "$top/systemd/countly-sync.service"
put 0644 "$ROOT/packaging/countly-sync.timer" systemd/countly-sync.timer
put 0644 "$ROOT/packaging/configuration.json.example" configuration.json.example
put 0644 "$ROOT/README.md" README.md
put 0644 "$ROOT/LICENSE" LICENSE
put 0644 "$ROOT/THIRD_PARTY_NOTICES" THIRD_PARTY_NOTICES

out=$DIST_DIR/$name.tar.gz
tar -C "$STAGE" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --format=gnu -cf - "$name" | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
