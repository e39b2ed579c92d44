#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the store's test suite.
#
#   scripts/pg-test-cluster.sh start [DIR]   # DIR defaults to a new temp dir
#   scripts/pg-test-cluster.sh stop DIR
#
# `start` installs PostgreSQL from Debian packages if no server binary is found,
# creates a cluster in DIR owned by the `postgres` OS user (created if missing;
# initdb refuses to run as root), starts it on 127.0.0.1 with a free port and
# trust authentication (unix socket in DIR), waits until it accepts
# connections, and prints on stdout, for `eval`:
#
#   export CONCORD_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/postgres
#   export CONCORD_TEST_PG_DIR=DIR
#
# Typical use:
#   eval "$(scripts/pg-test-cluster.sh start)"
#   cargo test -p concord-store
#   scripts/pg-test-cluster.sh stop "$CONCORD_TEST_PG_DIR"
#
# Progress messages go to stderr. `stop` stops the server and deletes DIR.
set -euo pipefail

log() { echo "pg-test-cluster: $*" >&2; }

find_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$d/postgres" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
            echo "$d"
            return 0
        fi
    done
    if command -v postgres >/dev/null && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(readlink -f "$(command -v postgres)")"
        return 0
    fi
    return 1
}

# Runs a command as the postgres OS user (when we are root), else as ourselves.
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        if command -v runuser >/dev/null; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

free_port() {
    # Ask the kernel for a free port; fall back to a random high port.
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
    else
        echo $((20000 + RANDOM % 20000))
    fi
}

start() {
    local dir="${1:-}"
    local bindir
    if ! bindir=$(find_bindir); then
        log "no PostgreSQL server found; installing it from Debian packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update >&2
        apt-get install -y postgresql >&2
        bindir=$(find_bindir) || { log "PostgreSQL installed but no server binary found"; exit 1; }
    fi
    if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        log "creating the postgres OS user"
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    if [[ -z "$dir" ]]; then
        dir=$(mktemp -d /tmp/concord-pg.XXXXXX)
    fi
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$dir"
    fi
    chmod 700 "$dir"
    local data="$dir/data"
    log "initdb in $data ($bindir)"
    as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }

    local port started=0
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        if as_pg "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
            start >&2; then
            started=1
            break
        fi
        log "could not start on port $port; trying another"
    done
    if [[ $started -ne 1 ]]; then
        cat "$dir/server.log" >&2 || true
        exit 1
    fi
    # Wait until it accepts connections over TCP.
    local ready=0
    for _ in $(seq 1 60); do
        if "$bindir/pg_isready" -h 127.0.0.1 -p "$port" -U postgres >/dev/null 2>&1; then
            ready=1
            break
        fi
        sleep 0.5
    done
    if [[ $ready -ne 1 ]]; then
        log "server did not become ready"
        cat "$dir/server.log" >&2 || true
        exit 1
    fi
    log "ready on 127.0.0.1:$port (stop with: $0 stop $dir)"
    echo "export CONCORD_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres"
    echo "export CONCORD_TEST_PG_DIR=$dir"
}

stop() {
    local dir="${1:?usage: $0 stop DIR}"
    local bindir
    bindir=$(find_bindir) || { log "no PostgreSQL server found"; exit 1; }
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    # Only ever delete what this script created.
    if [[ -d "$dir/data" && -f "$dir/initdb.log" ]]; then
        rm -rf "$dir"
        log "stopped and removed $dir"
    else
        log "$dir does not look like a cluster made by this script; left in place"
    fi
}

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    *)
        echo "usage: $0 start [DIR] | stop DIR" >&2
        exit 2
        ;;
esac
