# pg.sh -- a private PostgreSQL server for tests.  Source it.
#
#   pg_start [LOG]   initdb + start a cluster in a fresh folder of its own
#                    (mktemp -d), unix socket only, on a free port; status 1
#                    with the reason in $PG_ERROR. LOG (optional): where to
#                    copy the server's log when it stops.
#   pg_psql ARGS...  psql connected to it (as postgres, UTF-8, -X)
#   pg_stop          stop it and remove its folder (safe to call when not
#                    started; use in traps)
#
# As root the server runs as user postgres (initdb refuses root): the
# folder is handed to postgres, and it lies outside the checkout, which
# may sit where postgres cannot go (a 0750 home, /root). PG_BIN defaults to
# the newest /usr/lib/postgresql/*/bin.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_DIR=""
PG_SOCK=""
PG_PORT=""
PG_ERROR=""
PG_LOG=""
PG_AS=()
PG_STARTED=0

# pg_as CMD...: CMD as the cluster's owner, from inside its folder (the
# caller's working folder may be closed to that user).
pg_as() {
    (cd "$PG_DIR" && "${PG_AS[@]}" "$@")
}

pg_start() {
    PG_LOG=${1:-}
    local tool
    for tool in initdb pg_ctl psql; do
        if [ ! -x "$PG_BIN/$tool" ]; then
            PG_ERROR="PostgreSQL tool $tool not found in '$PG_BIN' (apt-get install postgresql)"
            return 1
        fi
    done
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/countly-sync-pg.XXXXXX") || {
        PG_ERROR="mktemp -d failed"
        return 1
    }
    mkdir -p "$PG_DIR/data" "$PG_DIR/sock"
    PG_SOCK=$PG_DIR/sock
    if [ $((${#PG_SOCK} + 20)) -gt 107 ]; then # a unix socket path holds 107 bytes
        PG_ERROR="socket folder $PG_SOCK too long for a unix socket (set TMPDIR shorter)"
        return 1
    fi
    PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    PG_AS=()
    if [ "$(id -u)" = 0 ]; then
        if ! id postgres >/dev/null 2>&1; then
            PG_ERROR="running as root but there is no user postgres"
            return 1
        fi
        chmod 0755 "$PG_DIR" # mktemp -d made it 0700 (root's)
        chown -R postgres: "$PG_DIR"
        PG_AS=(runuser -u postgres --)
        if ! pg_as test -w "$PG_DIR/data"; then
            PG_ERROR="user postgres cannot reach $PG_DIR (a parent folder is not searchable)"
            return 1
        fi
    fi
    if ! pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
        --locale=C >"$PG_DIR/initdb.log" 2>&1; then
        PG_ERROR="initdb failed: $(tail -n 3 "$PG_DIR/initdb.log" | tr '\n' ' ')"
        return 1
    fi
    if ! pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-p $PG_PORT -k $PG_SOCK -c listen_addresses='' -c fsync=off" start \
        >"$PG_DIR/pg_ctl.log" 2>&1; then
        PG_ERROR="pg_ctl start failed: $(tail -n 3 "$PG_DIR/server.log" 2>/dev/null | tr '\n' ' ')"
        return 1
    fi
    PG_STARTED=1
}

pg_psql() {
    PGCLIENTENCODING=UTF8 "$PG_BIN/psql" -X -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres "$@"
}

pg_stop() {
    if [ "${PG_STARTED:-0}" = 1 ]; then
        pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1
        PG_STARTED=0
    fi
    if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
        [ -n "$PG_LOG" ] && cp "$PG_DIR/server.log" "$PG_LOG" 2>/dev/null
        rm -rf "$PG_DIR"
    fi
    PG_DIR=""
}
