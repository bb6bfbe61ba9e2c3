#!/usr/bin/env bash
# The export benchmark (see docs/performance.md): exports of the big account in both formats
# against the database's own export (PostgreSQL's COPY, the sqlite3 shell).
#   bench/export.sh                                  both databases, 2,000,000 numbers
#   bench/export.sh --numbers 400000 --rounds 1      a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v sqlite3 >/dev/null 2>&1; then
  echo "installing the sqlite3 shell (Debian) ..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null
fi
if ! command -v psql >/dev/null 2>&1; then
  echo "installing psql (Debian) ..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
fi
VENV="${VOX_VENV:-.venv}"
PYTHONPATH=. exec "$VENV/bin/python" -m bench.export "$@"
