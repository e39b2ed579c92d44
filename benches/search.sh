#!/usr/bin/env bash
# Search benchmark: at each size, a generated corpus (`concord gen`) is
# imported into SQLite, indexed by `concord reindex`, then searched side by
# side with SQLite FTS5 and PostgreSQL full-text search over the same
# documents (crates/search/examples/search_bench.rs); then `concord serve`
# is measured for memory and, under wrk on loopback for 30 s, for throughput.
#
# Usage: benches/search.sh [COUNT...]   (default: 100000 1000000)
# Writes benches/RESULTS-search.md. Needs wrk (apt-get install -y wrk) and
# PostgreSQL (a throwaway cluster via scripts/pg-test-cluster.sh).
# CONCORD_BENCH_KEEP=1 keeps the generated databases and indexes in /tmp.
# The query mix (in the example) has only two-word queries whose words occur
# together in the generated corpus, so all three engines answer them strictly.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("${@:-100000 1000000}")
# shellcheck disable=SC2206
counts=(${counts[*]})
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

cargo build --release -p concord-cli >/dev/null
cargo build --release -p concord-search --example search_bench >/dev/null
target=${CARGO_TARGET_DIR:-$PWD/target}
bin=$target/release/concord
bench=$target/release/examples/search_bench
work=$(mktemp -d /tmp/concord-search-bench.XXXXXX)
pg_dir=$(mktemp -d /tmp/concord-search-bench-pg.XXXXXX)
server=""
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null || true
  bash scripts/pg-test-cluster.sh stop "$pg_dir" >/dev/null 2>&1 || true
  if [[ -n "${CONCORD_BENCH_KEEP:-}" ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
pg_env=$(bash scripts/pg-test-cluster.sh start "$pg_dir") || { echo "could not start PostgreSQL" >&2; exit 1; }
eval "$pg_env"

out=benches/RESULTS-search.md
{
  echo "# Search benchmark"
  echo
  echo "Produced by \`benches/search.sh ${counts[*]}\` on $(date -u +%Y-%m-%d), $(nproc) cores,"
  echo "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) of memory; release build."
  echo "Each engine returns the top 20 by BM25 (ts_rank for PostgreSQL) and facet counts"
  echo "for the whole match set; ours also makes highlighted snippets. Latencies are in-process"
  echo "(no HTTP) for all three engines; HTTP throughput is measured separately with wrk."
  echo "Load average (1/5/15 min) when the run started: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
} >"$out"

for n in "${counts[@]}"; do
  dir="$work/$n"; mkdir -p "$dir"
  echo "== $n records" >&2
  CONCORD_PROGRESS=plain "$bin" gen --count "$n" --seed 42 --out "$dir/corpus.json" --format json 2>/dev/null
  db="sqlite://$dir/concord.db"
  /usr/bin/time -f '%e' -o "$dir/import.time" "$bin" --db "$db" import "$dir/corpus.json" >/dev/null 2>"$dir/import.err"
  import_s=$(cat "$dir/import.time")
  /usr/bin/time -f '%e %M' -o "$dir/reindex.time" "$bin" --db "$db" reindex >/dev/null 2>/dev/null
  read -r reindex_s reindex_kib <"$dir/reindex.time"
  {
    echo "## $n records"
    echo
    echo "- \`concord import\` (database and outbox, then, with no server running, the CLI builds the search index itself): ${import_s} s"
    echo "- \`concord reindex\` (tantivy build from the database): ${reindex_s} s, peak RSS $((reindex_kib / 1024)) MiB"
    echo
  } >>"$out"
  echo "- load average before the queries: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out"
  echo >>"$out"
  "$bench" --db "$db" --index "$dir/concord.index" --work "$dir" --pg "$CONCORD_TEST_PG_URL" --rounds 5 >>"$out"

  # The serving process: memory after warm-up and under load.
  "$bin" --db "$db" serve --addr 127.0.0.1:0 >"$dir/serve.out" 2>/dev/null &
  server=$!
  for _ in $(seq 1 100); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.2; done
  base=$(sed -n 's/^listening on //p' "$dir/serve.out")
  for q in medication "mental+health" "%22care+home%22" "training&issuer=HSSIB"; do
    curl -s "$base/api/v1/search?q=$q" >/dev/null
  done
  rss_idle=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$server/status")
  cat >"$dir/mix.lua" <<'LUA'
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
  wrk -t2 -c8 -d30s --latency -s "$dir/mix.lua" "$base" >"$dir/wrk.txt"
  rss_peak=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$server/status")
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
  {
    echo "### Serving (\`concord serve\`, HTTP on loopback)"
    echo
    echo "- RSS after warm-up: ${rss_idle} MiB; peak RSS during the load test: ${rss_peak} MiB"
    echo "- \`wrk -t2 -c8 -d30s --latency\` cycling 10 searches (words, phrase, filters, sort) on /api/v1/search:"
    echo
    echo '```'
    grep -E "Requests/sec|Latency |50%|90%|99%|requests in|Non-2xx" "$dir/wrk.txt"
    echo '```'
    echo
  } >>"$out"
done
echo "wrote $out" >&2
