#!/usr/bin/env bash
# The benchmarks of docs/performance.md, with a release build, against a local moto that this
# script starts and stops (no AWS account is touched):
#
#   bash scripts/bench.sh                          everything (plan 1k/10k/50k, apply, start-up,
#                                                  e2e 5 runs, refresh 1×/10×/100×)
#   bash scripts/bench.sh --only plan,apply        some of it (see `cairn bench --help`)
#   bash scripts/bench.sh --scales 1,10 --runs 3   smaller cloud runs
#
# Figures are printed, never judged: a benchmark does not fail on a time.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn/target}"
source scripts/moto-env.sh

echo "== building cairn (release)"
cargo build --release --locked --quiet --bin cairn
CAIRN="$CARGO_TARGET_DIR/release/cairn"

source scripts/moto-start.sh
# moto never finishes deleting a replication group: a destroy waits this long for it.
export DATASETS_CACHE_DELETE_TIMEOUT=3s

echo "== $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(date -u +%Y-%m-%d)"
"$CAIRN" bench "$@"
