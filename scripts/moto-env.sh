# Sourced by scripts/test.sh and scripts/demo.sh: makes sure moto_server, the AWS emulator, is
# installed at the pinned version in a virtual environment of our own, and exports its path as
# CAIRN_MOTO_SERVER (where the tests look for it).
MOTO_VERSION=5.2.5
VENV="${CAIRN_VENV:-$HOME/.cache/cairn/venv}"
if ! "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  echo "== installing moto[server]==$MOTO_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
export CAIRN_MOTO_SERVER="$VENV/bin/moto_server"
