# Sourced by scripts/test.sh: makes sure checkov (the policy scanner teams run on Terraform plans,
# which the tests run on cairn's JSON plans) is installed at the pinned version in a virtual
# environment of its own (its dependencies conflict with moto's), and exports its path as
# CAIRN_CHECKOV (where the tests look for it).
CHECKOV_VERSION=3.2.533
CHECKOV_VENV="${CAIRN_CHECKOV_VENV:-$HOME/.cache/cairn/checkov-venv}"
if ! "$CHECKOV_VENV/bin/checkov" --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  echo "== installing checkov==$CHECKOV_VERSION into $CHECKOV_VENV"
  python3 -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi
export CAIRN_CHECKOV="$CHECKOV_VENV/bin/checkov"
