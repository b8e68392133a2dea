#!/usr/bin/env bash
# The test command (README.md): formatting, lints, and the whole test suite.
#
# Builds go to a target directory outside the clone that survives between runs
# (CARGO_TARGET_DIR, default ~/.cache/cairn/target), so CI never rebuilds the dependency tree from
# scratch and each run compiles only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --all-targets --locked -- --test-threads 2

echo "== benchmarks (smoke: figures only, never a pass/fail on time)"
cargo run --release --locked --quiet -- bench --quick
