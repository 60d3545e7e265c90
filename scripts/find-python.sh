#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 needs Python < 3.11).
# Looks on PATH first, then in pyenv's versions folder; fails with a clear message otherwise.
set -eu
is310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }
for cand in "${PYTHON310:-}" python3.10 python3 python; do
  [ -n "$cand" ] || continue
  path=$(command -v "$cand" 2>/dev/null) || continue
  if is310 "$path"; then echo "$path"; exit 0; fi
done
roots=()
command -v pyenv >/dev/null 2>&1 && roots+=("$(pyenv root)")
roots+=("${PYENV_ROOT:-$HOME/.pyenv}")
for root in "${roots[@]}"; do
  for path in "$root"/versions/3.10*/bin/python; do
    [ -x "$path" ] && is310 "$path" && { echo "$path"; exit 0; }
  done
done
cat >&2 <<'MSG'
error: no Python 3.10 interpreter found (Rasa 3.6.21 needs Python 3.10).
Install one of:
  - pyenv:  pyenv install 3.10.13
  - Debian/Ubuntu: apt-get install python3.10 python3.10-venv
or point PYTHON310=/path/to/python3.10 at an existing one.
MSG
exit 1
