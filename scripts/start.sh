#!/usr/bin/env bash
# Install everything the app needs (first run only) and start it on http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh requirements.txt
.venv/bin/python -m recsys.startup  # a weak cookie key stops here with its reason
exec .venv/bin/python -m streamlit run app.py "$@"
