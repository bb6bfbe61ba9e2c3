#!/usr/bin/env bash
# The benchmark in one command: regenerates bench/RESULTS.md (see docs/performance.md).
#   bench/run.sh                                  both databases, 2,000,000 numbers
#   bench/run.sh --numbers 20000 --duration 3     a quick look at small scale
#   bench/run.sh --help                           every option
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (Debian) ..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
VENV="${VOX_VENV:-.venv}"
if [ ! -x "$VENV/bin/py-spy" ]; then
  echo "installing py-spy into $VENV (the profile of the server, --profile-seconds) ..." >&2
  "$VENV/bin/python" -m pip install -q py-spy
fi
PYTHONPATH=. exec "$VENV/bin/python" -m bench.run "$@"
