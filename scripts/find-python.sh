#!/usr/bin/env bash
# Print the path of a Python 3.12 or newer, preferring the one .python-version names.
# Exits 1 with a clear message naming what it found otherwise.
set -u
want=$(cat "$(dirname "$0")/../.python-version" 2>/dev/null || echo 3.13)
candidates=()
command -v pyenv >/dev/null 2>&1 && candidates+=("$(pyenv root)/versions/$want"*/bin/python3 "$(pyenv root)"/versions/3.1[2-9]*/bin/python3)
candidates+=("$HOME/.pyenv/versions/$want"*/bin/python3 "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3)
for name in "python$want" python3.13 python3.14 python3.12 python3; do
  p=$(command -v "$name" 2>/dev/null) && candidates+=("$p")
done
found=()
for p in "${candidates[@]}"; do
  [ -x "$p" ] || continue
  v=$("$p" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
  found+=("$p ($v)")
  if "$p" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    echo "$p"
    exit 0
  fi
done
echo "This project needs Python 3.12 or newer (Django 6.1). Found: ${found[*]:-no Python at all}." >&2
echo "Install one, e.g. 'pyenv install 3.13', and run make again." >&2
exit 1
