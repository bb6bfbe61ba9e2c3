#!/usr/bin/env bash
# A bulk job of the big account against its references: the "Bulk" section of
# bench/RESULTS.md (see bench/bulk.py).
#   bench/bulk.sh                                 both databases, 100,000 numbers
#   bench/bulk.sh --db postgresql --numbers 20000
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHONPATH=. exec "${VOX_VENV:-.venv}/bin/python" -m bench.bulk "$@"
