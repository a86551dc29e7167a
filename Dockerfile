# CineBlend app server. The same two steps as the README: scripts/start.sh's install
# (scripts/_venv.sh: .venv with the pinned requirements and the package), then scripts/start.sh,
# which starts `streamlit run app.py` (through recsys.ui.serve). compose.yaml runs two of these behind a sticky proxy.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    OPENBLAS_NUM_THREADS=1 \
    MKL_NUM_THREADS=1 \
    PIP_NO_CACHE_DIR=1

# OpenMP runtime for implicit / scikit-learn wheels
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

# the shared artifact folder's mount point, owned by the app's user (a new named volume copies
# this ownership, so the servers can write the catalogue and models there)
RUN useradd --create-home --uid 1000 cineblend \
    && mkdir -p /artifacts \
    && chown cineblend:cineblend /artifacts
WORKDIR /app
COPY --chown=cineblend:cineblend . /app
USER cineblend

# scripts/start.sh's install step (creates .venv; start.sh finds it current and only starts)
RUN bash -c "source scripts/_venv.sh requirements.txt"

# runtime files: this server's own data folder (downloads); catalogue and models go to the
# shared CINEBLEND_ARTIFACT_DIR, the store to DATABASE_URL (see compose.yaml)
ENV CINEBLEND_DATA_DIR=/app/data
EXPOSE 8501
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s \
    CMD [".venv/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
CMD ["scripts/start.sh", "--server.address=0.0.0.0", "--server.port=8501"]
