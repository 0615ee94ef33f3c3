#!/usr/bin/env bash
# Idempotent setup from nothing but Python 3.11: .venv with the package and its locked
# dependencies, then the raw data from the team's DVC store. Safe to run again: it only
# reinstalls when pyproject.toml or requirements.lock changed.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

if [ -z "${PYTHON:-}" ]; then
  PYTHON=$(command -v python3.11 || command -v python3 || true)
fi
if [ -z "$PYTHON" ] || ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "setup: Python 3.11 is required (found: ${PYTHON:-none}); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements.lock -nt "$stamp" ]; then
  echo "setup: installing the package and its locked dependencies (a few minutes the first time)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet --constraint requirements.lock --editable ".[dev]"
  touch "$stamp"
fi
echo "setup: environment ready ($((SECONDS - started)) s)"

# Team mode (docs/DOCUMENTATION.md) and its tests need PostgreSQL's server. Opt-in: Debian's package is
# installed when missing and apt-get can (as root); otherwise setup goes on, and only team mode lacks it.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing PostgreSQL for team mode (Debian's postgresql package)"
    if ! (export DEBIAN_FRONTEND=noninteractive && apt-get update -qq && apt-get install -y -qq postgresql >/dev/null); then
      echo "setup: could not install PostgreSQL; team mode and its tests need it (apt-get install postgresql)" >&2
    fi
  else
    echo "setup: PostgreSQL not found; team mode needs it (as root: apt-get install postgresql)"
  fi
fi

# The numerics tests run training under another processor's CPUID with Debian's qemu-user
# (tests/training/test_numerics.py); installed like PostgreSQL, when missing and root.
if ! command -v qemu-x86_64 >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing qemu-user for the cross-processor numerics tests (Debian's qemu-user package)"
    if ! (export DEBIAN_FRONTEND=noninteractive && apt-get update -qq && apt-get install -y -qq qemu-user >/dev/null); then
      echo "setup: could not install qemu-user; the cross-processor numerics tests need it" >&2
    fi
  else
    echo "setup: qemu-x86_64 not found; the cross-processor numerics tests need it (as root: apt-get install qemu-user)"
  fi
fi

if [ ! -f data/raw/teleconnect.csv ]; then
  echo "setup: fetching data/raw/teleconnect.csv from the DVC remote"
  .venv/bin/dvc pull --quiet data/raw/teleconnect.csv.dvc
fi
echo "setup: done ($((SECONDS - started)) s)"
