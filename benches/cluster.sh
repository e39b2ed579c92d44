#!/usr/bin/env bash
# Cluster benchmark: a generated corpus (`concord gen`, seed 42) imported
# into a throwaway PostgreSQL, served by three `concord serve` nodes behind
# nginx (scripts/cluster.sh); then, in the same run, wrk on the search mix of
# benches/search.sh against one node directly, through nginx to that node
# alone, and through the balancer to all three, in turn, twice round; then
# the failover test (one node killed with SIGKILL under load and restarted).
#
# Usage: benches/cluster.sh [COUNT]   (default 100000 records)
# Writes benches/RESULTS-cluster.md. Needs wrk and nginx (apt-get install -y
# wrk nginx) and PostgreSQL (scripts/pg-test-cluster.sh installs it).
# CONCORD_BIN picks the binary (default: a release build made here).
# CONCORD_BENCH_DURATION: seconds of each wrk run (default 30).
#
# The nodes run with lexical similarity only (CONCORD_CLUSTER_LEXICAL=1):
# the passage vectors of 100,000 records would take hours to compute on two
# cores, and the mix's one- and two-word queries are ranked lexically anyway
# (meaning is blended in from three words on).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}
secs=${CONCORD_BENCH_DURATION:-30}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

if [[ -z "${CONCORD_BIN:-}" ]]; then
  cargo build --release -p concord-cli >/dev/null
  CONCORD_BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/concord
fi
export CONCORD_BIN
bin=$CONCORD_BIN
work=$(mktemp -d /tmp/concord-cluster-bench.XXXXXX)
pg_dir=$(mktemp -d /tmp/concord-cluster-bench-pg.XXXXXX)
cluster="$work/cluster"
started=""
one="$work/nginx-one"
cleanup() {
  if [[ -f "$one/nginx.pid" ]]; then kill -QUIT "$(cat "$one/nginx.pid")" 2>/dev/null || true; fi
  if [[ -n "$started" ]]; then bash scripts/cluster.sh stop "$cluster" >/dev/null 2>&1 || true; fi
  bash scripts/pg-test-cluster.sh stop "$pg_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
pg_env=$(bash scripts/pg-test-cluster.sh start "$pg_dir") || { echo "could not start PostgreSQL" >&2; exit 1; }
db=$(sed -n 's/^export CONCORD_TEST_PG_URL=//p' <<<"$pg_env")

echo "== $count records into PostgreSQL" >&2
CONCORD_PROGRESS=plain "$bin" gen --count "$count" --seed 42 --out "$work/corpus.json" --format json 2>/dev/null
# The import builds the search index in node 1's folder; cluster.sh copies
# it to the other nodes.
mkdir -p "$cluster/node-1"
/usr/bin/time -f '%e' -o "$work/import.time" \
  "$bin" --db "$db" --index-dir "$cluster/node-1/index" import "$work/corpus.json" >/dev/null 2>"$work/import.err"

started=1
CONCORD_CLUSTER_DIR=$cluster CONCORD_CLUSTER_DB=$db CONCORD_CLUSTER_LEXICAL=1 \
  bash scripts/cluster.sh start 3 >"$work/cluster.env" 2>"$work/cluster.err" \
  || { cat "$work/cluster.err" >&2; exit 1; }
port=$(sed -n 's/^port=//p' "$cluster/cluster.conf")
balancer="http://127.0.0.1:$port"
node1="http://127.0.0.1:$(cat "$cluster/node-1/port")"
# A second nginx, the cluster's configuration with node 1 alone in the
# upstream: what the hop through nginx costs, apart from the three nodes.
mkdir -p "$one/tmp"
one_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
sed -e "s|$cluster/nginx|$one|g" -e "s|listen 127.0.0.1:$port;|listen 127.0.0.1:$one_port;|" \
  -e "/server 127.0.0.1:$(cat "$cluster/node-2/port") /d" -e "/server 127.0.0.1:$(cat "$cluster/node-3/port") /d" \
  "$cluster/nginx/nginx.conf" >"$one/nginx.conf"
nginx -p "$one" -c "$one/nginx.conf" -e "$one/error.log"
one_url="http://127.0.0.1:$one_port"

cat >"$work/mix.lua" <<'LUA'
local paths = {
  "/api/v1/search?q=medication", "/api/v1/search?q=ambulance+delay",
  "/api/v1/search?q=%22mental+health%22", "/api/v1/search?q=training&issuer=HSSIB",
  "/api/v1/search?q=sepsis", "/api/v1/search?q=care+home&sort=newest",
  "/api/v1/search?q=discharge&theme=discharge", "/api/v1/search?q=prison",
  "/api/v1/search?q=medication+review", "/api/v1/search?q=sepsis+antibiotics",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA
# Warm every node's caches, each directly, then the path through nginx.
for i in 1 2 3; do
  wrk -t1 -c2 -d3s -s "$work/mix.lua" "http://127.0.0.1:$(cat "$cluster/node-$i/port")" >/dev/null
done
wrk -t2 -c8 -d3s -s "$work/mix.lua" "$balancer" >/dev/null

out=benches/RESULTS-cluster.md
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
for round in 1 2; do
  for target in direct nginx-one balancer; do
    case $target in
      direct) url=$node1 ;;
      nginx-one) url=$one_url ;;
      balancer) url=$balancer ;;
    esac
    echo "== wrk round $round: $target ($url)" >&2
    wrk -t2 -c8 -d"${secs}s" --latency -s "$work/mix.lua" "$url" >"$work/wrk-$target-$round.txt"
    rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk-$target-$round.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$work/wrk-$target-$round.txt")
    p90=$(awk '$1 == "90%" {print $2}' "$work/wrk-$target-$round.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$work/wrk-$target-$round.txt")
    errs=$(awk '/Non-2xx|Socket errors/ {$1=$1; print}' "$work/wrk-$target-$round.txt" | paste -sd ';' -)
    rows+=("| $round | $target | $rps | $p50 | $p90 | $p99 | ${errs:-none} |")
  done
done
# Which node answered, through the balancer (nginx's log).
spread=$(awk '$4 ~ /^"127/ {gsub(/"/, "", $4); n[$4]++} END {for (k in n) printf "%s %d\n", k, n[k]}' \
  "$cluster/nginx/access.log" | sort)

echo "== failover test (3 nodes, 20 s)" >&2
failover=$(bash scripts/cluster.sh failover-test "$cluster" --duration 20 --workers 4 2>&1) || true

{
  echo "# Cluster benchmark"
  echo
  echo "Produced by \`benches/cluster.sh $count\` on $(date -u +%Y-%m-%d): $(nproc) cores,"
  echo "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) of memory, $(nginx -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2),"
  echo "binary \`$bin\`. Load average (1/5/15 min) before the wrk runs: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "- Data: \`concord gen --count $count --seed 42\` imported into a throwaway PostgreSQL"
  echo "  ($(cat "$work/import.time") s, with the search index built by the import)."
  echo "- Cluster: \`CONCORD_CLUSTER_DB=... CONCORD_CLUSTER_LEXICAL=1 scripts/cluster.sh start 3\`:"
  echo "  three \`concord serve\` nodes, each with its own copy of the search index, on the one"
  echo "  database; nginx (\`worker_processes auto\`, an upstream of the three with keepalive)."
  echo "- Load: \`wrk -t2 -c8 -d${secs}s --latency\` cycling the 10 searches of benches/search.sh"
  echo "  (words, a phrase, filters, a sort) on \`/api/v1/search\`, after a warm-up of every node,"
  echo "  against three targets in turn, twice round: **direct** (node 1's own port), **nginx-one**"
  echo "  (a second nginx with the same configuration but node 1 alone in its upstream: the cost"
  echo "  of the hop) and **balancer** (the cluster's nginx, three nodes)."
  echo "- **Everything shares the same 2 cores**: three nodes, nginx, PostgreSQL and wrk. Three"
  echo "  nodes here cannot be three times one node: a search is CPU work, and there is no more"
  echo "  CPU to spread it over. What the balancer buys on one machine is surviving a node's"
  echo "  death (below); throughput grows only with nodes on machines of their own."
  echo
  echo "| round | target | req/s | p50 | p90 | p99 | errors |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Requests answered by each node through nginx (its access log, warm-up included):"
  echo
  echo '```'
  echo "$spread"
  echo '```'
  echo
  for target in direct nginx-one balancer; do
    echo "wrk's own output, round 2, $target:"
    echo
    echo '```'
    grep -E "Requests/sec|Latency |50%|75%|90%|99%|requests in|Non-2xx|Socket" "$work/wrk-$target-2.txt"
    echo '```'
    echo
  done
  echo "## Failover"
  echo
  echo "\`scripts/cluster.sh failover-test DIR --duration 20 --workers 4\` on the same cluster:"
  echo "four Python workers send GETs (the search API and page, recommendation pages and"
  echo "their API, the home page, /readyz) through nginx; node 1 gets SIGKILL at 5 s and is"
  echo "started again with the same arguments at 10 s."
  echo
  echo '```'
  echo "$failover"
  echo '```'
} >"$out"
echo "wrote $out" >&2
