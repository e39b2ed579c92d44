#!/usr/bin/env bash
# A Concord cluster on one machine: N `concord serve` nodes on one
# PostgreSQL database, behind nginx, all on loopback.
#
#   scripts/cluster.sh start [N]            # N nodes (default 3); prints the URLs
#   scripts/cluster.sh status [DIR]
#   scripts/cluster.sh failover-test [DIR] [--duration S] [--workers W] [--node I] ...
#   scripts/cluster.sh node-kill [DIR] I    # kill -9 node I
#   scripts/cluster.sh node-start [DIR] I   # start node I again, with the same arguments
#   scripts/cluster.sh stop [DIR]           # stops everything `start` started
#
# DIR is the state directory: `start` makes a new temporary one (or uses
# $CONCORD_CLUSTER_DIR) and prints, on stdout, for `eval`:
#
#   export CONCORD_CLUSTER_DIR=/tmp/concord-cluster.XXXXXX
#   export CONCORD_CLUSTER_URL=http://127.0.0.1:PORT
#
# the other subcommands take DIR or read $CONCORD_CLUSTER_DIR. Progress and
# the table of nodes go to stderr.
#
# What `start` does:
# - the database: $CONCORD_CLUSTER_DB if set (an existing postgres:// URL),
#   else a throwaway PostgreSQL from scripts/pg-test-cluster.sh;
# - the demo data (`concord demo --load`), only when the register is empty;
# - the derived data (search index, passage vectors) built once, by the CLI,
#   in node 1's index folder, then copied to every other node's own folder
#   (each node keeps its own from then on, following the outbox);
# - node I: `concord serve` in DIR/node-I with its own port, its own
#   operators' port (--metrics-addr), its own --index-dir, the same --db;
#   its pid, port and arguments are kept in DIR/node-I;
# - nginx (Debian's package, installed if missing) as the current user with
#   its own config, pid and logs in DIR/nginx: one upstream of the nodes
#   with passive health checks, GETs retried on another node when one fails.
#
# Environment:
#   CONCORD_BIN           the binary (default: the newer of target/release and
#                         target/debug/concord, else `concord` on PATH)
#   CONCORD_CLUSTER_DB    use this database instead of starting PostgreSQL
#                         (scripts/pg-test-cluster.sh, in a temporary folder
#                         of its own that `stop` deletes)
#   CONCORD_CLUSTER_PORT  nginx's port (default: a free one)
#   CONCORD_CLUSTER_LEXICAL=1  run the nodes without the MiniLM weights
#                         (lexical similarity only; no vectors to compute)
#   CONCORD_MINILM_DIR    the weights (default: models/all-MiniLM-L6-v2 here)
#   CONCORD_CLUSTER_KEEP=1  `stop` keeps a temporary DIR (logs) instead of
#                         deleting it
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
self="$repo/scripts/cluster.sh"

log() { echo "cluster: $*" >&2; }
die() {
  log "$*"
  exit 1
}

usage() {
  sed -n '2,/^set -euo/p' "$self" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

# --- helpers -----------------------------------------------------------------

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

find_bin() {
  if [[ -n "${CONCORD_BIN:-}" ]]; then
    [[ -x "$CONCORD_BIN" ]] || die "CONCORD_BIN=$CONCORD_BIN is not an executable"
    echo "$CONCORD_BIN"
    return
  fi
  local target="${CARGO_TARGET_DIR:-$repo/target}" best=""
  local b
  for b in "$target/release/concord" "$target/debug/concord"; do
    if [[ -x "$b" && (-z "$best" || "$b" -nt "$best") ]]; then best=$b; fi
  done
  if [[ -z "$best" ]] && command -v concord >/dev/null; then best=$(command -v concord); fi
  [[ -n "$best" ]] || die "no concord binary: build one (cargo build -p concord-cli) or set CONCORD_BIN"
  echo "$best"
}

find_nginx() {
  local n
  n=$(command -v nginx || true)
  [[ -z "$n" && -x /usr/sbin/nginx ]] && n=/usr/sbin/nginx
  if [[ -z "$n" ]]; then
    log "nginx is missing; installing it from Debian's packages"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >&2
    n=$(command -v nginx || echo /usr/sbin/nginx)
    [[ -x "$n" ]] || die "nginx was installed but no nginx binary was found"
  fi
  echo "$n"
}

# The state directory of every subcommand but start.
state_dir() {
  local dir="${1:-${CONCORD_CLUSTER_DIR:-}}"
  [[ -n "$dir" ]] || die "no state directory: give DIR or set CONCORD_CLUSTER_DIR (printed by start)"
  [[ -f "$dir/cluster.conf" ]] || die "$dir is not a cluster's state directory (no cluster.conf)"
  echo "$dir"
}

# cluster.conf: key=value lines (values are paths, URLs and numbers).
conf_get() {
  local file=$1 key=$2
  sed -n "s/^$key=//p" "$file" | tail -n 1
}

alive() {
  local pid=$1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
    && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
}

# The pid in FILE, if that process is alive and still runs the program it
# was started as (pids are reused).
live_pid() {
  local file=$1 want=$2 pid
  [[ -f "$file" ]] || return 1
  pid=$(cat "$file")
  alive "$pid" || return 1
  # A binary rebuilt since shows as "PATH (deleted)".
  local exe
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [[ "${exe% (deleted)}" == "$(readlink -f "$want")" ]] || return 1
  echo "$pid"
}

http_code() {
  curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" 2>/dev/null || true
}

# Waits until URL answers 200, while PID (if given) lives; TIMEOUT seconds.
wait_ready() {
  local url=$1 timeout=$2 pid=${3:-} waited=0
  while [[ "$(http_code "$url")" != 200 ]]; do
    if [[ -n "$pid" ]] && ! alive "$pid"; then return 2; fi
    if ((waited >= timeout * 10)); then return 1; fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# --- nodes -------------------------------------------------------------------

# Starts node I (its arguments were written by start) in the background, in
# a session of its own (so that a Ctrl-C meant for a script does not reach
# it); returns at once.
node_start() {
  local dir=$1 i=$2 ndir bin pid
  ndir="$dir/node-$i"
  [[ -f "$ndir/args" ]] || die "node $i: no $ndir/args (is there a node $i?)"
  bin=$(conf_get "$dir/cluster.conf" bin)
  if pid=$(live_pid "$ndir/pid" "$bin"); then
    die "node $i is already running (pid $pid)"
  fi
  local -a args=()
  mapfile -d '' -t args <"$ndir/args"
  local minilm
  minilm=$(conf_get "$dir/cluster.conf" minilm)
  echo "== started $(date -u +%FT%T.%3NZ)" >>"$ndir/stderr.log"
  (
    cd "$ndir"
    exec env CONCORD_MINILM_DIR="$minilm" setsid "${args[@]}" >>"$ndir/stdout.log" 2>>"$ndir/stderr.log" </dev/null
  ) &
  echo $! >"$ndir/pid"
}

node_kill() {
  local dir=$1 i=$2 bin pid
  bin=$(conf_get "$dir/cluster.conf" bin)
  pid=$(live_pid "$dir/node-$i/pid" "$bin") || die "node $i is not running"
  kill -9 "$pid"
  log "node $i (pid $pid) killed with SIGKILL"
}

# --- nginx -------------------------------------------------------------------

write_nginx_conf() {
  local dir=$1 port=$2 n=$3
  local ndir="$dir/nginx" i user_line=""
  mkdir -p "$ndir/tmp"
  # Only a master running as root switches its workers to another user;
  # keep them as the current user (who owns the state directory).
  if [[ $(id -u) -eq 0 ]]; then user_line="user root;"; fi
  {
    cat <<EOF
# Made by scripts/cluster.sh: nginx for a Concord cluster on loopback.
$user_line
daemon on;
worker_processes auto;
pid $ndir/nginx.pid;
error_log $ndir/error.log warn;
events { worker_connections 1024; }
http {
    # The upstream that answered (a GET retried on another node lists both),
    # and the load test's request id, to tell which node served what.
    log_format cluster '\$msec \$status \$request_time "\$upstream_addr" '
                       '"\$upstream_status" "\$upstream_response_time" '
                       '"\$http_x_load_id" "\$request"';
    access_log $ndir/access.log cluster;
    client_body_temp_path $ndir/tmp/body;
    proxy_temp_path $ndir/tmp/proxy;
    fastcgi_temp_path $ndir/tmp/fastcgi;
    uwsgi_temp_path $ndir/tmp/uwsgi;
    scgi_temp_path $ndir/tmp/scgi;

    upstream concord {
        # Shared by the workers, so that they agree on which node is down.
        zone concord 64k;
EOF
    for ((i = 1; i <= n; i++)); do
      # Passive health: one failed attempt (refused, reset, timed out, 502
      # or 503) takes a node out for 2 s; then one request tries it again.
      echo "        server 127.0.0.1:$(cat "$dir/node-$i/port") max_fails=1 fail_timeout=2s;"
    done
    cat <<EOF
        keepalive 32;
    }

    server {
        listen 127.0.0.1:$port;
        server_name localhost;
        client_max_body_size 2m;
        client_header_timeout 10s;
        client_body_timeout 30s;
        keepalive_timeout 30s;

        location / {
            proxy_pass http://concord;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # What Concord reads (docs/deploy.md): Host, the scheme, and the
            # client's address (replacing whatever the client sent).
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_connect_timeout 2s;
            proxy_read_timeout 35s;
            # A node that refuses, resets, times out or answers 502/503 is
            # skipped: the request goes to the next node. nginx never
            # repeats a POST or PATCH that reached a node (non_idempotent
            # is not given), so only safe requests are retried.
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 3;
            proxy_next_upstream_timeout 15s;
        }
    }
}
EOF
  } >"$ndir/nginx.conf"
}

nginx_start() {
  local dir=$1
  local nginx ndir="$dir/nginx"
  nginx=$(conf_get "$dir/cluster.conf" nginx)
  "$nginx" -t -q -p "$ndir" -c "$ndir/nginx.conf" -e "$ndir/error.log" \
    || die "nginx refused its configuration $ndir/nginx.conf (see above)"
  "$nginx" -p "$ndir" -c "$ndir/nginx.conf" -e "$ndir/error.log" \
    || die "nginx did not start; see $ndir/error.log"
}

# --- subcommands ---------------------------------------------------------------

start_dir="" start_pg_dir=""
start_failed() {
  log "start failed; stopping what it started (logs kept in $start_dir)"
  if [[ -f "$start_dir/cluster.conf" ]]; then
    CONCORD_CLUSTER_KEEP=1 cmd_stop "$start_dir" || true
  elif [[ -n "$start_pg_dir" ]]; then
    bash "$repo/scripts/pg-test-cluster.sh" stop "$start_pg_dir" 2>/dev/null || true
  fi
}

cmd_start() {
  local n=${1:-3}
  if ! [[ "$n" =~ ^[0-9]+$ ]] || ((n < 1 || n > 32)); then
    die "N must be a number from 1 to 32, not '$n'"
  fi
  command -v python3 >/dev/null || die "python3 is needed (free ports, the load test)"
  command -v curl >/dev/null || die "curl is needed"
  local bin nginx dir created=0
  bin=$(find_bin)
  nginx=$(find_nginx)
  dir=${CONCORD_CLUSTER_DIR:-}
  if [[ -z "$dir" ]]; then
    dir=$(mktemp -d /tmp/concord-cluster.XXXXXX)
    created=1
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f "$dir/cluster.conf" ]]; then
    die "$dir already holds a cluster: stop it first (scripts/cluster.sh stop $dir)"
  fi
  # Whatever goes wrong from here (or a Ctrl-C), stop what was started.
  start_dir=$dir
  trap start_failed EXIT
  trap 'exit 130' INT TERM

  local db pg_dir=""
  if [[ -n "${CONCORD_CLUSTER_DB:-}" ]]; then
    db=$CONCORD_CLUSTER_DB
    [[ "$db" == postgres://* || "$db" == postgresql://* ]] \
      || die "CONCORD_CLUSTER_DB must be a postgres:// URL (nodes share one database)"
  else
    # Its own temporary folder: initdb runs as the postgres user, who must
    # be able to reach it.
    pg_dir=$(mktemp -d /tmp/concord-cluster-pg.XXXXXX)
    start_pg_dir=$pg_dir
    local pg_env
    pg_env=$(bash "$repo/scripts/pg-test-cluster.sh" start "$pg_dir") || die "could not start PostgreSQL"
    db=$(sed -n 's/^export CONCORD_TEST_PG_URL=//p' <<<"$pg_env")
    [[ -n "$db" ]] || die "pg-test-cluster.sh printed no URL"
  fi
  local minilm=${CONCORD_MINILM_DIR:-$repo/models/all-MiniLM-L6-v2}
  if [[ "${CONCORD_CLUSTER_LEXICAL:-}" == 1 ]]; then minilm="$dir/no-minilm"; fi
  local port=${CONCORD_CLUSTER_PORT:-$(free_port)}
  {
    echo "bin=$bin"
    echo "nginx=$nginx"
    echo "db=$db"
    echo "pg_dir=$pg_dir"
    echo "created=$created"
    echo "nodes=$n"
    echo "port=$port"
    echo "minilm=$minilm"
  } >"$dir/cluster.conf"
  log "state in $dir; binary $bin; database $db"

  # Node folders, ports and arguments first: the derived data is built in
  # node 1's folder.
  local i ndir
  for ((i = 1; i <= n; i++)); do
    ndir="$dir/node-$i"
    mkdir -p "$ndir"
    free_port >"$ndir/port"
    free_port >"$ndir/metrics_port"
    printf '%s\0' "$bin" --db "$db" --index-dir "$ndir/index" serve \
      --addr "127.0.0.1:$(cat "$ndir/port")" \
      --metrics-addr "127.0.0.1:$(cat "$ndir/metrics_port")" \
      --trusted-proxy 127.0.0.1 --public-url "http://127.0.0.1:$port" \
      --insecure-cookies >"$ndir/args"
  done

  # The demo data, into an empty register only (never into a real one).
  local total
  total=$("$bin" --db "$db" --index-dir "$dir/node-1/index" list --limit 1 --json \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])') \
    || die "cannot read the register at $db"
  if [[ "$total" == 0 ]]; then
    log "loading the demo data"
    "$bin" --db "$db" --index-dir "$dir/node-1/index" demo --load >&2
  else
    log "the register already holds records: demo data not loaded"
  fi
  # Derived data, built once: the search index (a search brings it up to
  # date), then the passage vectors when the weights are there.
  log "building the search index in node 1's folder"
  CONCORD_MINILM_DIR=$minilm "$bin" --db "$db" --index-dir "$dir/node-1/index" \
    search warm --limit 1 >/dev/null
  if [[ -f "$minilm/model.safetensors" ]]; then
    log "computing the passage vectors once (all-MiniLM-L6-v2 from $minilm)"
    CONCORD_MINILM_DIR=$minilm "$bin" --db "$db" --index-dir "$dir/node-1/index" \
      similar --text "warm up the vectors" --limit 1 >/dev/null
  else
    log "no MiniLM weights at $minilm: the nodes run with lexical similarity only"
  fi
  for ((i = 2; i <= n; i++)); do
    ndir="$dir/node-$i"
    [[ -e "$ndir/index" ]] && continue
    cp -a "$dir/node-1/index" "$ndir/index"
    if [[ -f "$dir/node-1/index.vectors" ]]; then cp -a "$dir/node-1/index.vectors" "$ndir/index.vectors"; fi
  done

  for ((i = 1; i <= n; i++)); do node_start "$dir" "$i"; done
  local rc
  for ((i = 1; i <= n; i++)); do
    ndir="$dir/node-$i"
    rc=0
    wait_ready "http://127.0.0.1:$(cat "$ndir/port")/readyz" 300 "$(cat "$ndir/pid")" || rc=$?
    if ((rc != 0)); then
      tail -n 20 "$ndir/stderr.log" >&2 || true
      if ((rc == 2)); then die "node $i died while starting (its log: $ndir/stderr.log)"; fi
      die "node $i was not ready within 300 s (its log: $ndir/stderr.log)"
    fi
  done
  log "$n nodes ready"

  write_nginx_conf "$dir" "$port" "$n"
  nginx_start "$dir"
  wait_ready "http://127.0.0.1:$port/readyz" 30 || die "nginx does not answer on port $port; see $dir/nginx/error.log"
  trap - EXIT INT TERM

  {
    echo
    echo "Concord cluster: $n nodes behind nginx"
    echo "  balancer   http://127.0.0.1:$port/"
    for ((i = 1; i <= n; i++)); do
      echo "  node $i     http://127.0.0.1:$(cat "$dir/node-$i/port")/   metrics http://127.0.0.1:$(cat "$dir/node-$i/metrics_port")/metrics   pid $(cat "$dir/node-$i/pid")"
    done
    echo "  database   $db"
    echo "  state      $dir"
    echo "  stop with  scripts/cluster.sh stop $dir"
    echo
  } >&2
  echo "export CONCORD_CLUSTER_DIR=$dir"
  echo "export CONCORD_CLUSTER_URL=http://127.0.0.1:$port"
}

cmd_status() {
  local dir n port bin i ndir pid state code served bad=0
  dir=$(state_dir "${1:-}")
  n=$(conf_get "$dir/cluster.conf" nodes)
  port=$(conf_get "$dir/cluster.conf" port)
  bin=$(conf_get "$dir/cluster.conf" bin)
  printf '%-8s %-7s %-8s %-6s %-7s %s\n' what pid port state readyz "requests served (its /metrics, since it started)"
  for ((i = 1; i <= n; i++)); do
    ndir="$dir/node-$i"
    if pid=$(live_pid "$ndir/pid" "$bin"); then
      state=up
      code=$(http_code "http://127.0.0.1:$(cat "$ndir/port")/readyz")
      served=$(curl -s -m 5 "http://127.0.0.1:$(cat "$ndir/metrics_port")/metrics" 2>/dev/null \
        | awk '/^concord_http_requests_total/ && !/route="\/(readyz|healthz|metrics)"/ {s += $NF} END {print s + 0}')
    else
      pid=- state=down code=- served=- bad=1
    fi
    printf '%-8s %-7s %-8s %-6s %-7s %s\n' "node-$i" "$pid" "$(cat "$ndir/port")" "$state" "$code" "$served"
  done
  if [[ -f "$dir/nginx/nginx.pid" ]] && alive "$(cat "$dir/nginx/nginx.pid")"; then
    pid=$(cat "$dir/nginx/nginx.pid") state=up code=$(http_code "http://127.0.0.1:$port/readyz")
  else
    pid=- state=down code=- bad=1
  fi
  printf '%-8s %-7s %-8s %-6s %-7s %s\n' nginx "$pid" "$port" "$state" "$code" "http://127.0.0.1:$port/"
  printf 'database %s\n' "$(conf_get "$dir/cluster.conf" db)"
  return "$bad"
}

cmd_stop() {
  local dir n bin i pid ndir nginx waited
  dir=$(state_dir "${1:-}")
  n=$(conf_get "$dir/cluster.conf" nodes)
  bin=$(conf_get "$dir/cluster.conf" bin)
  nginx=$(conf_get "$dir/cluster.conf" nginx)
  # nginx first, so that no request reaches a stopping node.
  if [[ -f "$dir/nginx/nginx.pid" ]] && pid=$(cat "$dir/nginx/nginx.pid") && alive "$pid"; then
    kill -QUIT "$pid" 2>/dev/null || true
    for ((waited = 0; waited < 100; waited++)); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
    log "nginx stopped"
  fi
  # SIGTERM lets requests in flight finish; SIGKILL after 15 s.
  local -a pids=()
  for ((i = 1; i <= n; i++)); do
    ndir="$dir/node-$i"
    if pid=$(live_pid "$ndir/pid" "$bin"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for pid in "${pids[@]}"; do
    for ((waited = 0; waited < 150; waited++)); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      log "pid $pid did not stop within 15 s: SIGKILL"
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  ((${#pids[@]} == 0)) || log "${#pids[@]} nodes stopped"
  local pg_dir
  pg_dir=$(conf_get "$dir/cluster.conf" pg_dir)
  if [[ -n "$pg_dir" && -d "$pg_dir" ]]; then
    bash "$repo/scripts/pg-test-cluster.sh" stop "$pg_dir" 2>/dev/null || true
    log "PostgreSQL stopped"
  fi
  if [[ "$(conf_get "$dir/cluster.conf" created)" == 1 && "${CONCORD_CLUSTER_KEEP:-}" != 1 ]]; then
    rm -rf "$dir"
    log "removed $dir"
  else
    rm -f "$dir/cluster.conf"
    log "kept $dir (logs)"
  fi
}

cmd_failover_test() {
  local dir
  if [[ $# -gt 0 && "$1" != -* ]]; then
    dir=$(state_dir "$1")
    shift
  else
    dir=$(state_dir "")
  fi
  exec python3 "$repo/scripts/cluster-failover.py" "$dir" "$@"
}

# node-kill/node-start take [DIR] I.
node_cmd() {
  local what=$1 dir i
  shift
  case $# in
    1) dir=$(state_dir "") i=$1 ;;
    2) dir=$(state_dir "$1") i=$2 ;;
    *) usage ;;
  esac
  [[ "$i" =~ ^[0-9]+$ && -d "$dir/node-$i" ]] || die "no node $i in $dir"
  "$what" "$dir" "$i"
}

case "${1:-}" in
  start)
    shift
    cmd_start "$@"
    ;;
  stop)
    shift
    cmd_stop "$@"
    ;;
  status)
    shift
    cmd_status "$@"
    ;;
  failover-test)
    shift
    cmd_failover_test "$@"
    ;;
  node-kill)
    shift
    node_cmd node_kill "$@"
    ;;
  node-start)
    shift
    node_cmd node_start "$@"
    ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
