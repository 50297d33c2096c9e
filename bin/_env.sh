# Shared by bin/run and bin/test: find Python >= 3.12, make .venv, install riffweb into it.
# Sourced, not executed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

python_ok() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null
}

find_python() {
  local candidate
  for candidate in python3.14 python3.13 python3.12 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 && python_ok "$(command -v "$candidate")"; then
      command -v "$candidate"
      return 0
    fi
  done
  local pyenv_root="${PYENV_ROOT:-}"
  if [ -z "$pyenv_root" ] && command -v pyenv >/dev/null 2>&1; then
    pyenv_root="$(pyenv root)"
  fi
  pyenv_root="${pyenv_root:-$HOME/.pyenv}"
  for candidate in $(ls -d "$pyenv_root"/versions/3.* 2>/dev/null | sort -Vr); do
    if [ -x "$candidate/bin/python" ] && python_ok "$candidate/bin/python"; then
      echo "$candidate/bin/python"
      return 0
    fi
  done
  return 1
}

# Installs exactly the locked packages, each checked against its hash, then riffweb itself
# without letting pip pick anything else: `ensure_venv` uses requirements.lock,
# `ensure_venv test` requirements-test.lock (both made by bin/lock).
ensure_venv() {
  local lock="requirements.lock"
  [ -n "${1:-}" ] && lock="requirements-$1.lock"
  if [ ! -x .venv/bin/python ] || ! python_ok .venv/bin/python; then
    local python
    if ! python="$(find_python)"; then
      echo "riffweb needs Python 3.12 or newer (Django 6 requires it)." >&2
      echo "Looked on PATH (python3.14 … python3, python) and in pyenv's versions (\$PYENV_ROOT/versions)." >&2
      echo "Install one, e.g. 'pyenv install 3.12' or your system's python3.12 package, then run this again." >&2
      exit 1
    fi
    echo "Using $python ($("$python" --version))"
    rm -rf .venv
    "$python" -m venv .venv
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r "$lock"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  export PATH="$ROOT/.venv/bin:$PATH"
  export VIRTUAL_ENV="$ROOT/.venv"
}

# The front-end files riffweb serves (wavesurfer.js), exactly as package-lock.json pins them.
ensure_node_modules() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "riffweb needs npm (Node.js) to install its pinned front-end files: 'apt-get install npm'." >&2
    exit 1
  fi
  if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.riffweb-lock; then
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.riffweb-lock
  fi
}
