#!/usr/bin/env bash
# Install the test dependencies (first run only) and run the whole test suite.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/store -x
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh requirements-dev.txt
export OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
exec .venv/bin/python -m pytest "$@"
