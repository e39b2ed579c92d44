#!/usr/bin/env bash
# Dashboard benchmark: every figure of the oversight dashboard at COUNT
# recommendations with 3 addressees each, on SQLite and PostgreSQL, from the
# in-memory fact table (crates/domain/src/dashboard/facts.rs, built by one lean
# read, kept in step from the outbox) beside the same figures computed by
# SQL GROUP BY queries on the tables (dashboard_bench's own sql.rs, in
# crates/app/examples/dashboard_bench/), in one run; checks that both give
# the same figures.
#
# Usage: benches/dashboard.sh [COUNT]     (default 1000000)
#   DASH_SQLITE=sqlite:///path.db DASH_PG=postgres://... benches/dashboard.sh
#   reuses databases already filled (`concord gen --count N --seed 42
#   --addressees 3` then `concord import --format json`).
# Prints Markdown; copy it to benches/RESULTS-dashboard.md.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000000}
cargo build --release -p concord-cli >/dev/null
cargo build --release -p concord-app --example dashboard_bench >/dev/null
target=${CARGO_TARGET_DIR:-$PWD/target}
bin=$target/release/concord
bench=$target/release/examples/dashboard_bench
work=$(mktemp -d /tmp/concord-dash.XXXXXX)
pg_dir=""
cleanup() { [ -n "$pg_dir" ] && bash scripts/pg-test-cluster.sh stop "$pg_dir" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
if [ -z "${DASH_SQLITE:-}" ] || [ -z "${DASH_PG:-}" ]; then
  pg_dir=$(mktemp -d /tmp/concord-dash-pg.XXXXXX)
  eval "$(bash scripts/pg-test-cluster.sh start "$pg_dir")"
  export CONCORD_PROGRESS=plain
  "$bin" gen --count "$count" --seed 42 --addressees 3 --out "$work/gen.jsonl" 2>/dev/null
  DASH_SQLITE="sqlite://$work/dash.db"
  "$bin" --db "$DASH_SQLITE" --index-dir "$work/idx-s" import --format json "$work/gen.jsonl" >/dev/null 2>&1
  psql "$CONCORD_TEST_PG_URL" -qc "DROP DATABASE IF EXISTS dash_bench" -c "CREATE DATABASE dash_bench" >/dev/null
  DASH_PG="${CONCORD_TEST_PG_URL%/*}/dash_bench"
  "$bin" --db "$DASH_PG" --index-dir "$work/idx-p" import --format json "$work/gen.jsonl" >/dev/null 2>&1
  rm -f "$work/gen.jsonl"
fi
echo "load average before: $(cat /proc/loadavg)"
echo
for url in "$DASH_SQLITE" "$DASH_PG"; do
  /usr/bin/time -f 'peak RSS of the bench process: %M KiB' "$bench" "$url" "${DASH_RUNS:-20}"
done
echo "load average after: $(cat /proc/loadavg)"
