#!/usr/bin/env bash
# Import throughput: `concord import` of generated corpora into SQLite and
# PostgreSQL, beside sqlite3's own `.import` of the same rows into one plain
# table (the floor: no parsing of our format, no validation, no child
# tables, no audit or outbox).
#
# Usage: benches/import.sh [COUNT...]   (default: 100000 1000000)
# Writes benches/RESULTS-import.md. Needs sqlite3 and PostgreSQL (the script
# starts a throwaway cluster with scripts/pg-test-cluster.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("${@:-100000 1000000}")
# shellcheck disable=SC2206
counts=(${counts[*]})

cargo build --release -p concord-cli >/dev/null
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/concord
work=$(mktemp -d /tmp/concord-bench.XXXXXX)
# Its own folder: the server runs as the postgres user, who cannot enter $work.
pg_dir=$(mktemp -d /tmp/concord-bench-pg.XXXXXX)
cleanup() { bash scripts/pg-test-cluster.sh stop "$pg_dir" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
pg_env=$(bash scripts/pg-test-cluster.sh start "$pg_dir") || { echo "could not start PostgreSQL" >&2; exit 1; }
eval "$pg_env"
pg_base=${CONCORD_TEST_PG_URL%/*}

# seconds and peak memory (MiB) of a command
measure() {
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; return 1; }
  read -r secs kib <"$work/time"
  echo "$secs $((kib / 1024))"
}

results=$work/results.md
{
  echo "| records | target | seconds | records/s | peak MiB |"
  echo "|---:|---|---:|---:|---:|"
} >"$results"

for n in "${counts[@]}"; do
  corpus=$work/gen-$n.jsonl
  "$bin" gen --count "$n" --seed 42 --out "$corpus" 2>/dev/null
  # SQLite
  read -r s m < <(measure "$bin" --db "sqlite://$work/s-$n.db" import --format json "$corpus")
  echo "| $n | concord import, SQLite | $s | $(awk -v n="$n" -v s="$s" 'BEGIN{printf "%d", n/s}') | $m |" >>"$results"
  # PostgreSQL
  db=bench_$n
  psql "$CONCORD_TEST_PG_URL" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  read -r s m < <(measure "$bin" --db "$pg_base/$db" import --format json "$corpus")
  echo "| $n | concord import, PostgreSQL | $s | $(awk -v n="$n" -v s="$s" 'BEGIN{printf "%d", n/s}') | $m |" >>"$results"
  # The floor: the same rows as CSV, loaded by sqlite3 itself.
  "$bin" --db "sqlite://$work/s-$n.db" export --format csv --out "$work/rows-$n.csv" 2>/dev/null
  read -r s m < <(measure sqlite3 "$work/floor-$n.db" ".mode csv" ".import $work/rows-$n.csv recs")
  echo "| $n | sqlite3 .import (CSV, one table, floor) | $s | $(awk -v n="$n" -v s="$s" 'BEGIN{printf "%d", n/s}') | $m |" >>"$results"
  rm -f "$work"/s-"$n".db* "$work"/floor-"$n".db "$corpus"
done

{
  echo "# Import throughput"
  echo
  echo "Command: \`benches/import.sh ${counts[*]}\` on $(date -u +%Y-%m-%d), $(nproc) cores, release build."
  echo "Corpus: \`concord gen --seed 42\` (JSON lines). Each \`concord import\` is one transaction into a fresh database,"
  echo "writing the records, their addressees, responses, tags and links, one audit row each, and an outbox row each."
  echo
  cat "$results"
} >benches/RESULTS-import.md
cat benches/RESULTS-import.md
