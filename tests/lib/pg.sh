# pg.sh -- a private PostgreSQL server for tests.  Source it.
#
#   pg_start DIR     initdb + start a cluster in DIR, unix socket only, on a
#                    free port; status 1 with the reason in $PG_ERROR
#   pg_psql ARGS...  psql connected to it (as postgres, UTF-8, -X)
#   pg_stop          stop it (safe to call when not started; use in traps)
#
# As root the server runs as user postgres (initdb refuses root). PG_BIN
# defaults to the newest /usr/lib/postgresql/*/bin.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_DIR=""
PG_SOCK=""
PG_PORT=""
PG_ERROR=""
PG_AS=()
PG_SOCK_TMP=""

pg_start() {
    PG_DIR=$1
    local tool
    for tool in initdb pg_ctl psql; do
        if [ ! -x "$PG_BIN/$tool" ]; then
            PG_ERROR="PostgreSQL tool $tool not found in '$PG_BIN' (apt-get install postgresql)"
            return 1
        fi
    done
    rm -rf "$PG_DIR" && mkdir -p "$PG_DIR/data" "$PG_DIR/sock"
    PG_SOCK=$PG_DIR/sock
    if [ $((${#PG_SOCK} + 20)) -gt 107 ]; then # a unix socket path holds 107 bytes
        PG_SOCK_TMP=$(mktemp -d /tmp/pgsock.XXXXXX) && PG_SOCK=$PG_SOCK_TMP
    fi
    PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    PG_AS=()
    if [ "$(id -u)" = 0 ]; then
        if ! id postgres >/dev/null 2>&1; then
            PG_ERROR="running as root but there is no user postgres"
            return 1
        fi
        chown -R postgres: "$PG_DIR" "$PG_SOCK"
        PG_AS=(runuser -u postgres --)
        if ! runuser -u postgres -- test -w "$PG_DIR/data"; then
            PG_ERROR="user postgres cannot reach $PG_DIR (a parent folder is not searchable)"
            return 1
        fi
    fi
    if ! "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
        --locale=C >"$PG_DIR/initdb.log" 2>&1; then
        PG_ERROR="initdb failed: $(tail -n 3 "$PG_DIR/initdb.log" | tr '\n' ' ')"
        return 1
    fi
    if ! "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
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
        "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1
        PG_STARTED=0
    fi
    [ -n "$PG_SOCK_TMP" ] && rm -rf "$PG_SOCK_TMP"
    PG_SOCK_TMP=""
}
