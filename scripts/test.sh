#!/usr/bin/env bash
# Install the test dependencies (first run only) and run the whole test suite.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/store -x
#
# scripts/test.sh --fast: the inner loop, unit + AppTest tests only (no Chromium, no app server,
# no PostgreSQL, no shared mirror, no notebook kernel, nothing marked slow), on two workers;
# 72 s of wall time (127 s of CPU) on an idle 2-core AMD EPYC VM, 7 Dec 2026 (README).
# Without --fast: the whole suite (what CI runs).
#
# System packages the end-to-end and PostgreSQL tests use (Debian): chromium (driven by Python
# Playwright; never `playwright install`, which downloads its own browser) and postgresql (a
# throwaway server the tests start on loopback). Installed with apt-get when missing and we are
# root or have password-less sudo; otherwise the script says what to install and those tests skip
# (under CI=true they fail instead).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--fast" ]; then
  shift
  source scripts/_venv.sh requirements-dev.txt
  export OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
  exec .venv/bin/python -m pytest -q -n "${CINEBLEND_TEST_WORKERS:-2}" --dist worksteal \
    -m "not (browser or server or postgres or mirror or notebook or slow)" "$@"
fi

missing=()
[ -x "${CINEBLEND_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=none
  if [ "$(id -u)" = 0 ]; then
    sudo_cmd=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd="sudo -n"
  fi
  if [ "$sudo_cmd" != none ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages for the browser / PostgreSQL tests: ${missing[*]} ..."
    if ! { $sudo_cmd apt-get update -qq &&
           DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
      echo "WARNING: could not install ${missing[*]}; the tests that need them will skip (fail under CI)." >&2
    fi
  else
    echo "NOTE: ${missing[*]} not installed and no root / sudo: the browser and PostgreSQL tests" \
         "will skip. Install with: sudo apt-get install ${missing[*]}" >&2
  fi
fi

source scripts/_venv.sh requirements-dev.txt
export OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
exec .venv/bin/python -m pytest "$@"
