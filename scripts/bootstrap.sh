#!/usr/bin/env bash
# Create .venv with a Python 3.10 interpreter and install the pinned requirements.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(scripts/find-python.sh)
if ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
  echo "Creating .venv with $PY"
  rm -rf .venv
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip wheel
echo "Installing requirements (the first time takes a few minutes) ..."
.venv/bin/python -m pip install --quiet -r requirements.txt -c constraints.txt
touch .venv/.installed
