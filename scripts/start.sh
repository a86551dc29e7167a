#!/usr/bin/env bash
# Install everything the app needs (first run only) and start it on http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh requirements.txt
.venv/bin/python -m recsys.access.startup  # a weak cookie key stops here with its reason
# uvicorn must not rewrite the client address from X-Forwarded-For itself: the app decides,
# trusting only CINEBLEND_TRUSTED_PROXIES (recsys/access/clientip.py)
export FORWARDED_ALLOW_IPS=""
# recsys.ui.serve is `streamlit run` with the app's st.navigation pages settled before the first
# session (without it, deep links opened in the first second show "Page not found")
exec .venv/bin/python -m recsys.ui.serve run app.py "$@"
