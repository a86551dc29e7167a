# Sourced by start.sh and test.sh: make .venv exist with the pinned requirements installed.
# Re-installs only when a requirements file changed (stamp of their checksums).
set -euo pipefail
REQS="${1:-requirements.txt}"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)'; then
  echo "CineBlend needs Python 3.11 or newer (found: $("$PY" --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv ..."
  "$PY" -m venv .venv
fi
stamp=".venv/.requirements.$(basename "$REQS").sha"
# the stamp covers the pins, the project metadata and this folder (the editable install points here)
sum=$( (cat requirements*.txt pyproject.toml; pwd -P) | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  echo "Installing Python packages from $REQS (a few minutes on the first run; one line per package) ..."
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  # pip's own "Collecting ..." / "Downloading ..." lines are the progress; the noise is dropped
  set +e
  .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off -r "$REQS" |
    grep --line-buffered -E '^(Collecting|Downloading|Installing|Successfully)'
  pip_status=${PIPESTATUS[0]}
  set -e
  if [ "$pip_status" != 0 ]; then
    echo "pip could not install $REQS (exit $pip_status); see its error above." >&2
    exit "$pip_status"
  fi
  # the package itself, editable and without re-resolving the pins, so bench/ and notebooks/
  # import recsys from this checkout
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  # the ranking's compiled kernels (numba) into its disk cache now, not on a fresh server's first
  # feed (which waited 1.7 s more for them: bench/click_latency.py's cold sign-in -> feed)
  echo "Compiling the ranking kernels ..."
  .venv/bin/python -c "from recsys.models import compiled; compiled.warm()"
  echo "$sum" > "$stamp"
fi
