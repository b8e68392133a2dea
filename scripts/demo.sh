#!/usr/bin/env bash
# The main job (README.md): the reference environment (environments/dev.yaml, the datasets
# system) planned, applied, re-planned and destroyed against a local AWS emulator that this script
# starts and stops itself. No AWS account is touched: the SDK reaches moto only through
# AWS_ENDPOINT_URL, with throw-away credentials.
#
#   bash scripts/demo.sh            plan, apply, plan again (must be empty), destroy
#   bash scripts/demo.sh plan       only the first plan
#   ENV=stg bash scripts/demo.sh    another environment
#   EXAMPLE=eldonia bash scripts/demo.sh    an example under examples/ instead of the root stack
set -euo pipefail
cd "$(dirname "$0")/.."

ENV="${ENV:-dev}"
# The project: the repository's root, or examples/$EXAMPLE.
DIR="${EXAMPLE:+examples/$EXAMPLE}"
DIR="${DIR:-.}"
STEPS="${1:-all}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn/target}"
source scripts/moto-env.sh

# CAIRN_BIN: an already built cairn (the one the tests built, say) instead of building here.
CAIRN="${CAIRN_BIN:-}"
if [ -z "$CAIRN" ]; then
  echo "== building cairn"
  cargo build --locked --quiet
  CAIRN="$CARGO_TARGET_DIR/debug/cairn"
fi

case "$ENV" in prd) RUNNING=4 ;; *) RUNNING=2 ;; esac
source scripts/moto-start.sh

# A fresh emulator knows nothing of an earlier run: the state of one is stale, so start clean.
STATE="$DIR/.cairn/state/$ENV.json"
if [ -f "$STATE" ]; then
  mv "$STATE" "$STATE.before-demo"
  echo "== moved the earlier $STATE aside to $STATE.before-demo"
fi
[ -f "$DIR/.cairn/fake-cloud.json" ] && mv "$DIR/.cairn/fake-cloud.json" "$DIR/.cairn/fake-cloud.json.before-demo"

echo "== cairn -C $DIR plan -e $ENV"
"$CAIRN" -C "$DIR" plan -e "$ENV"
[ "$STEPS" = plan ] && exit 0

echo "== cairn apply -e $ENV --auto-approve"
"$CAIRN" -C "$DIR" -v apply -e "$ENV" --auto-approve

echo "== cairn plan -e $ENV --detailed-exitcode (expect: No changes)"
"$CAIRN" -C "$DIR" plan -e "$ENV" --detailed-exitcode

echo "== cairn destroy -e $ENV --auto-approve"
# moto never finishes deleting an ElastiCache replication group (AWS takes minutes): the destroy
# waits this long for it, then ends with the timeout message and keeps the cache (and the network
# it sits in) in state, as it would for any stuck delete.
export DATASETS_CACHE_DELETE_TIMEOUT=10s ELDONIA_CACHE_DELETE_TIMEOUT=10s
if ! "$CAIRN" -C "$DIR" destroy -e "$ENV" --auto-approve; then
  echo "== what stays in state (the cache moto never deletes, and what it depends on):"
  "$CAIRN" -C "$DIR" state list -e "$ENV"
  if "$CAIRN" -C "$DIR" state list -e "$ENV" | grep -v -e '^module\.cache\.' -e '^module\.network\.' >/dev/null; then
    echo "== destroy left more than the cache and its network" >&2
    exit 1
  fi
fi
