#!/usr/bin/env bash
# Page benchmark: time to first byte (p50/p95 over N requests each, one at a
# time, on loopback) and weight of the home, search and recommendation pages
# served by `concord serve` from a release build, plus the weight of the
# embedded assets a first visit fetches (cached for a year afterwards).
#
# Usage: benches/pages.sh DB_URL INDEX_DIR [N]     (default N=200)
#   PAGES="search recommendation" measures only those (default: all three)
#   e.g. benches/pages.sh sqlite:///tmp/pages-bench/s1m.db /tmp/pages-bench/s1m.index
# The server migrates the database and follows its outbox: give it a copy,
# never a database someone else reads. Prints Markdown for
# benches/RESULTS-pages.md. Needs curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
db=$1
index=$2
n=${3:-200}
target=${CARGO_TARGET_DIR:-$PWD/target}
bin=$target/release/concord
[ -x "$bin" ] || { echo "build it first: cargo build --release -p concord-cli" >&2; exit 1; }
work=$(mktemp -d /tmp/concord-pages.XXXXXX)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$bin" --db "$db" --index-dir "$index" serve --addr 127.0.0.1:0 >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 600); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
base=$(grep -o 'http://[0-9.:]*' "$work/out" | head -1)
[ -n "$base" ] || { cat "$work/err" >&2; exit 1; }

# Queries of two words that occur in the generated corpus, and record ids
# taken from their results (so every record page exists).
queries=(sepsis "ambulance handover" "medication errors" falls "discharge planning"
  "mental health" "staffing levels" "maternity triage" "deteriorating patient" "patient safety"
  "hospital discharge" "care home" "escalation" "infection control" "pressure ulcers")
: >"$work/ids"
for q in "${queries[@]}"; do
  curl -s -G "$base/api/v1/search" --data-urlencode "q=$q" --data-urlencode per_page=20 |
    jq -r '.hits[].id' >>"$work/ids"
done
mapfile -t ids <"$work/ids"
[ "${#ids[@]}" -gt 0 ] || { echo "no records found to measure" >&2; exit 1; }

# time to first byte (ms) and size of each response, one line per request
measure() { # name, then paths
  local name=$1; shift
  local paths=("$@") i
  for i in $(seq 20); do curl -s -m 60 -o /dev/null "$base${paths[$((i % ${#paths[@]}))]}"; done # warm up
  for i in $(seq "$n"); do
    curl -s -m 60 -o /dev/null -w "%{http_code} %{time_starttransfer} %{size_download}\n" \
      "$base${paths[$((i % ${#paths[@]}))]}"
  done >"$work/$name"
  if grep -qv '^200 ' "$work/$name"; then
    echo "$name: a request did not answer 200" >&2
    exit 1
  fi
  awk '{print $2 * 1000}' "$work/$name" | sort -n >"$work/$name.ms"
  local p50 p95 bytes
  p50=$(awk -v n="$n" 'NR == int(n * 0.50 + 0.5) {printf "%.1f", $1}' "$work/$name.ms")
  p95=$(awk -v n="$n" 'NR == int(n * 0.95 + 0.5) {printf "%.1f", $1}' "$work/$name.ms")
  bytes=$(awk '{s += $3} END {printf "%.0f", s / NR}' "$work/$name")
  echo "| $name | $n | $p50 | $p95 | $bytes |"
}

# The record page shows its similar sections once the similarity index is
# built (minutes at a million records; until then it says they are being
# worked out): measure after that, and say how long the wait was.
t0=$(date +%s)
for _ in $(seq 300); do
  # (Read whole, then searched: with pipefail, `curl | grep -q` can stop on
  # curl's broken pipe and end the wait too early.)
  page=$(curl -s -m 60 "$base/recommendations/${ids[0]}" || true)
  grep -q "still being worked out" <<<"$page" || break
  sleep 5
done
ready_s=$(($(date +%s) - t0))

search_paths=()
for q in "${queries[@]}"; do search_paths+=("/search?q=$(jq -rn --arg q "$q" '$q|@uri')"); done
record_paths=()
for id in "${ids[@]}"; do record_paths+=("/recommendations/$id"); done

records=$(curl -s "$base/api/v1/search?per_page=1" | jq -r .total)
echo "# Pages: time to first byte and weight"
echo
echo "$(date -u +%Y-%m-%d) · $(nproc) cores · $records records · release build · one request at a time on loopback · load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Similarity index ready ${ready_s} s after the first record page was asked for (the server builds it in the background from its start)."
echo
echo "| page | requests | p50 ms | p95 ms | HTML bytes (mean) |"
echo "|---|---|---|---|---|"
for page in ${PAGES:-home search recommendation}; do
  case $page in
    home) measure home / ;;
    search) measure search "${search_paths[@]}" ;;
    recommendation) measure recommendation "${record_paths[@]}" ;;
    *) echo "unknown page $page" >&2; exit 1 ;;
  esac
done
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Assets a first visit fetches (then cached for a year under a versioned address), uncompressed / gzip -9:"
echo
echo "| asset | bytes | gzip |"
echo "|---|---|---|"
home=$(curl -s "$base/")
for a in $(grep -oE '(href|src)="/assets/[^"]+\.(css|js)"' <<<"$home" | cut -d'"' -f2); do
  curl -s "$base$a" -o "$work/asset"
  echo "| ${a##*/} | $(wc -c <"$work/asset") | $(gzip -9c "$work/asset" | wc -c) |"
done
