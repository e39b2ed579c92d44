#!/usr/bin/env bash
# Restart benchmark: how long `concord serve` takes from its start until
# /readyz answers 200 (every derived index caught up) and a record page
# shows its related sections, on a first start (nothing kept: the
# dashboard's fact table and the similarity index are built from every
# record, then saved beside the search index) and on a second start (both
# loaded from those snapshots), on one database, in one run.
#
# Usage: benches/restart.sh [N]          (records; default 100000)
# Needs a release build (cargo build --release -p concord-cli), curl, jq.
# Prints Markdown for benches/RESULTS-restart.md.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
target=${CARGO_TARGET_DIR:-$PWD/target}
bin=$target/release/concord
[ -x "$bin" ] || { echo "build it first: cargo build --release -p concord-cli" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is missing: apt-get install -y jq" >&2; exit 1; }
work=$(mktemp -d /tmp/concord-restart.XXXXXX)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
# Lexical only: the vectors would take hours to compute at this size, and
# are kept between runs already.
export CONCORD_MINILM_DIR=$work/no-model
# The servers say at info level whether each index was loaded or built.
export CONCORD_LOG=info,tower_http=error
db="sqlite://$work/bench.db"
index=$work/bench.index
# Beside the search index, as `concord serve` keeps them.
kept_similarity=$work/bench.similarity
kept_dashboard=$work/bench.dashboard

echo "generating and importing $n records..." >&2
"$bin" gen --count "$n" --seed 42 --out "$work/corpus.jsonl" 2>/dev/null
import_started=$(date +%s.%N)
CONCORD_PROGRESS=plain "$bin" --db "$db" --index-dir "$index" import "$work/corpus.jsonl" >/dev/null 2>"$work/import.err" ||
  { cat "$work/import.err" >&2; exit 1; }
import_s=$(echo "$(date +%s.%N) - $import_started" | bc)

now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }

# One start: seconds to listening, to the dashboard's figures, to /readyz
# 200, to a record page with its related sections; then the snapshots'
# sizes once written, and the server's resident memory.
start() { # label
  local label=$1 t0 base listen dash ready page rss id
  t0=$(now)
  "$bin" --db "$db" --index-dir "$index" serve --addr 127.0.0.1:0 >"$work/out.$label" 2>"$work/err.$label" &
  server=$!
  for _ in $(seq 6000); do grep -q listening "$work/out.$label" 2>/dev/null && break; sleep 0.05; done
  base=$(grep -o 'http://[0-9.:]*' "$work/out.$label" | head -1)
  [ -n "$base" ] || { cat "$work/err.$label" >&2; exit 1; }
  listen=$(since "$t0")
  curl -s -m 3600 -o /dev/null "$base/api/v1/dashboard"
  dash=$(since "$t0")
  until [ "$(curl -s -m 60 -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ]; do sleep 0.2; done
  ready=$(since "$t0")
  id=$(curl -s "$base/api/v1/search?per_page=1&q=sepsis" | jq -r '.hits[0].id')
  until ! curl -s -m 60 "$base/recommendations/$id" | grep -q "still being worked out"; do sleep 0.2; done
  page=$(since "$t0")
  rss=$(($(ps -o rss= -p "$server") / 1024))
  # The first start saves both in the background after building them.
  for _ in $(seq 3000); do
    [ -s "$kept_similarity" ] && [ -s "$kept_dashboard" ] && break
    sleep 0.2
  done
  loaded=$(grep -c "loaded from its snapshot" "$work/err.$label" || true)
  echo "| $label | $listen | $dash | $ready | $page | $rss | $loaded of 2 |"
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=""
}

start "first start (built from the records)" >>"$work/rows"
start "second start (loaded from the snapshots)" >>"$work/rows"
echo "# Restart: from \`concord serve\` to ready"
echo
echo "$(date -u +%Y-%m-%d) · $(nproc) cores · $n records (\`concord gen --seed 42\`, SQLite, imported in ${import_s%.*} s) · release build · lexical similarity · load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| start | listening s | dashboard figures s | /readyz 200 s | record page with related sections s | RSS MiB | indexes loaded |"
echo "|---|---|---|---|---|---|---|"
cat "$work/rows"
echo
echo "Snapshots: similarity index $(($(stat -c %s "$kept_similarity") / 1048576)) MiB, dashboard fact table $(($(stat -c %s "$kept_dashboard") / 1048576)) MiB; search index $(du -sm "$index" | cut -f1) MiB."
