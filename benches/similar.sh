#!/usr/bin/env bash
# Similarity benchmark at generated corpus sizes.
#
# Usage: benches/similar.sh [COUNT...]   (default: 100000 1000000)
#
# For each COUNT:
#  1. `concord gen --count COUNT --seed 42` (JSON lines);
#  2. in process (crates/similar/examples/similar_bench.rs): index build,
#     latency of one draft (p50/p99 over 200 drafts), brute-force exact
#     comparison on a sample (1,000 drafts below 1M records, 50 at 1M) to
#     measure the candidate stage's recall, corpus-wide duplicate grouping;
#     peak RSS from /usr/bin/time -v; the drafts run twice on the same index,
#     with the budgets grown for its size and with the old fixed budgets
#     (Budget::FIXED), so before/after share one build and one machine load
#     (SIMILAR_BUDGET=POSTINGS,TERM_POOL adds a third run);
#  3. end to end (COUNT <= SIMILAR_E2E_MAX, default 100000): `concord import
#     --format json` into a fresh SQLite database, then `concord similar
#     --text` (a cold process: builds the index from the database, then
#     answers) and `concord duplicates`, each with its wall time and peak RSS.
#
# Release build; honours CARGO_TARGET_DIR. Prints the figures; copy them to
# benches/RESULTS-similar.md.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("${@:-100000 1000000}")
# shellcheck disable=SC2206
counts=(${counts[*]})
e2e_max=${SIMILAR_E2E_MAX:-100000}

cargo build --release -p concord-cli -p concord-similar --example similar_bench >/dev/null
target=${CARGO_TARGET_DIR:-$PWD/target}
bin=$target/release/concord
bench=$target/release/examples/similar_bench
work=$(mktemp -d /tmp/concord-similar-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# wall seconds and peak MiB of a command; its stdout goes to $work/out
measure() {
  /usr/bin/time -v -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; return 1; }
  local wall kib
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time")
  kib=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time")
  echo "$wall, peak $((kib / 1024)) MiB"
}

draft="Emergency departments should screen every adult for sepsis at triage and give antibiotics within one hour of recognition."

for n in "${counts[@]}"; do
  corpus=$work/corpus-$n.jsonl
  "$bin" gen --count "$n" --seed 42 --out "$corpus" >/dev/null
  brute=1000
  [ "$n" -ge 1000000 ] && brute=50
  echo "## $n records"
  echo
  echo "in process: $bench $corpus 200 $brute"
  echo '```'
  /usr/bin/time -v -o "$work/time" "$bench" "$corpus" 200 "$brute"
  sed -n 's/.*Maximum resident set size (kbytes): \(.*\)/peak RSS (MiB)          \1/p' "$work/time" |
    awk '{ $NF = int($NF / 1024); print }'
  echo '```'
  if [ "$n" -le "$e2e_max" ]; then
    db="sqlite://$work/db-$n/concord.db"
    mkdir -p "$work/db-$n"
    echo
    echo "end to end on SQLite:"
    echo "- import --format json: $(measure "$bin" --db "$db" import --format json "$corpus")"
    echo "- similar --text (cold: index built from the database): $(measure "$bin" --db "$db" similar --text "$draft" --json)"
    echo "- duplicates --json: $(measure "$bin" --db "$db" duplicates --json)"
  fi
  echo
  rm -f "$corpus"
done
