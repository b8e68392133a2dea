#!/usr/bin/env bash
# The test command (README.md): formatting, the whole test suite, and a benchmark smoke run.
# Lints (`cargo clippy --all-targets -- -D warnings`) are run before every commit rather than
# here, because clippy's check build would compile the dependency tree a second time.
#
# Builds go to a target directory outside the clone that survives between runs
# (CARGO_TARGET_DIR, default ~/.cache/cairn/target), so CI never rebuilds the dependency tree from
# scratch and each run compiles only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

# moto_server, the AWS emulator the AWS adapter tests run against.
source scripts/moto-env.sh
# checkov, which the tests run on cairn's JSON plans as teams run it on Terraform's.
source scripts/checkov-env.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo test"
cargo test --workspace --all-targets --locked -- --test-threads 2

echo "== benchmarks (smoke: figures only, never a pass/fail on time)"
# The binary the integration tests just built: `cargo run` would resolve features without the
# dev-dependencies and rebuild part of the tree.
"$CARGO_TARGET_DIR/debug/cairn" bench --quick --sizes 1000
