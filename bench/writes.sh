#!/usr/bin/env bash
# Writes of one account against the same load spread over many: the "Writes" section of
# bench/RESULTS.md (see bench/writes.py and docs/performance.md).
#   bench/writes.sh                          both databases, 16 clients, 10 s each
#   bench/writes.sh --db postgresql --seconds 5
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHONPATH=. exec "${VOX_VENV:-.venv}/bin/python" -m bench.writes "$@"
