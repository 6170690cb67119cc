#!/bin/sh
# install.sh - install or remove countly-sync's files (make install / make uninstall).
#
# Usage: scripts/install.sh install|uninstall|list|unit
#
# Environment (the Makefile passes each; GNU conventions):
#   DESTDIR     staging root, prepended to every path (default empty)
#   PREFIX      default /usr/local
#   SYSCONFDIR  default /etc (also with PREFIX=/usr)
#   UNITDIR     default $PREFIX/lib/systemd/system
#   BIN         install: the binary to install (make install passes the
#               static, stripped musl build)
#   SRC         the tree the other files come from (default: this checkout)
#
# The files, without DESTDIR (`list` prints them, one a line):
#   $PREFIX/bin/countly-sync                               0755
#   $PREFIX/share/man/man1/countly-sync.1                  0644
#   $PREFIX/share/bash-completion/completions/countly-sync 0644
#   $SYSCONFDIR/countly-sync/configuration.json.example    0644
#   $UNITDIR/countly-sync.service                          0644
#   $UNITDIR/countly-sync.timer                            0644
#   $PREFIX/share/doc/countly-sync/README.md               0644
#   $PREFIX/share/doc/countly-sync/LICENSE                 0644
#   $PREFIX/share/doc/countly-sync/THIRD_PARTY_NOTICES     0644
#
# The installed service runs the installed binary: an Exec*= line whose
# program is countly-sync (the repository's unit names it bare, which
# systemd finds in /usr/local/bin or /usr/bin) or a path ending in
# /countly-sync is rewritten to $PREFIX/bin/countly-sync, and
# with a SYSCONFDIR other than /etc its /etc/countly-sync/ paths are moved
# along (`unit` prints that service). `uninstall` removes exactly these
# files, then the countly-sync folders (doc and configuration) if that left
# them empty; nothing else.
set -eu
umask 022

action=${1:-}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
SYSCONFDIR=${SYSCONFDIR:-/etc}
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}

val=
for var in PREFIX SYSCONFDIR UNITDIR; do
    eval "val=\$$var"
    case $val in
    /*) ;;
    *)
        echo "install.sh: $var must be an absolute path (got '$val')" >&2
        exit 64
        ;;
    esac
done

DOCDIR=$PREFIX/share/doc/countly-sync
CONFDIR=$SYSCONFDIR/countly-sync

# manifest: MODE SOURCE TARGET, one file a line (SOURCE relative to SRC;
# "@BIN" is the binary, "@UNIT" the rewritten service).
manifest() {
    cat <<EOF
0755 @BIN $PREFIX/bin/countly-sync
0644 packaging/countly-sync.1 $PREFIX/share/man/man1/countly-sync.1
0644 packaging/countly-sync.bash-completion $PREFIX/share/bash-completion/completions/countly-sync
0644 packaging/configuration.json.example $CONFDIR/configuration.json.example
0644 @UNIT $UNITDIR/countly-sync.service
0644 packaging/countly-sync.timer $UNITDIR/countly-sync.timer
0644 README.md $DOCDIR/README.md
0644 LICENSE $DOCDIR/LICENSE
0644 THIRD_PARTY_NOTICES $DOCDIR/THIRD_PARTY_NOTICES
EOF
}

# unit_rewrite < unit > unit: the service with the installed paths.
unit_rewrite() {
    bin=$PREFIX/bin/countly-sync
    exec_re='^\(Exec[A-Za-z]*=[-@:+!|]*\)\(/[^[:space:]]*/\)\{0,1\}countly-sync'
    if [ "$SYSCONFDIR" = /etc ]; then
        sed -e "s#$exec_re\([[:space:]]\)#\1$bin\3#" -e "s#$exec_re\$#\1$bin#"
    else
        sed -e "s#$exec_re\([[:space:]]\)#\1$bin\3#" -e "s#$exec_re\$#\1$bin#" \
            -e "s#/etc/countly-sync/#$CONFDIR/#g"
    fi
}

do_install() {
    if [ -z "${BIN:-}" ] || [ ! -f "$BIN" ]; then
        echo "install.sh: BIN must name the binary to install (got '${BIN:-}')" >&2
        exit 64
    fi
    # Every source first, so a missing one installs nothing.
    manifest | while read -r _mode src _target; do
        case $src in @*) continue ;; esac
        [ -f "$SRC/$src" ] || {
            echo "install.sh: $SRC/$src is missing" >&2
            exit 1
        }
    done
    [ -f "$SRC/packaging/countly-sync.service" ] || {
        echo "install.sh: $SRC/packaging/countly-sync.service is missing" >&2
        exit 1
    }
    tmp=$(mktemp)
    trap 'rm -f "$tmp"' EXIT
    unit_rewrite <"$SRC/packaging/countly-sync.service" >"$tmp"
    if ! grep -q "^Exec[A-Za-z]*=[-@:+!|]*$PREFIX/bin/countly-sync\([[:space:]]\|\$\)" "$tmp"; then
        echo "install.sh: packaging/countly-sync.service: no Exec*= line runs countly-sync" >&2
        exit 1
    fi
    manifest | while read -r mode src target; do
        case $src in
        @BIN) from=$BIN ;;
        @UNIT) from=$tmp ;;
        *) from=$SRC/$src ;;
        esac
        echo "  INSTALL $DESTDIR$target"
        install -d -m 0755 "$DESTDIR$(dirname "$target")"
        install -m "$mode" "$from" "$DESTDIR$target"
    done
}

do_uninstall() {
    manifest | while read -r _mode _src target; do
        if [ -e "$DESTDIR$target" ] || [ -L "$DESTDIR$target" ]; then
            echo "  RM      $DESTDIR$target"
            rm -f "$DESTDIR$target"
        fi
    done
    for dir in "$DESTDIR$DOCDIR" "$DESTDIR$CONFDIR"; do
        if [ -d "$dir" ] && [ -z "$(ls -A "$dir")" ]; then
            echo "  RMDIR   $dir"
            rmdir "$dir"
        fi
    done
}

case $action in
install) do_install ;;
uninstall) do_uninstall ;;
list) manifest | while read -r _mode _src target; do echo "$target"; done ;;
unit) unit_rewrite <"$SRC/packaging/countly-sync.service" ;;
*)
    echo "usage: install.sh install|uninstall|list|unit" >&2
    exit 64
    ;;
esac
