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

# moto_server, the AWS emulator the AWS adapter tests run against, pinned, in a venv of our own.
MOTO_VERSION=5.2.5
VENV="${CAIRN_VENV:-$HOME/.cache/cairn/venv}"
if ! "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  echo "== installing moto[server]==$MOTO_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
export CAIRN_MOTO_SERVER="$VENV/bin/moto_server"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo test"
cargo test --workspace --all-targets --locked -- --test-threads 2

echo "== benchmarks (smoke: figures only, never a pass/fail on time)"
# The binary the integration tests just built: `cargo run` would resolve features without the
# dev-dependencies and rebuild part of the tree.
"$CARGO_TARGET_DIR/debug/cairn" bench --quick --sizes 1000
