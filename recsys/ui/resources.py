"""Cached resources shared by every session: the store and the catalogue.

Both are keyed by their location (and the catalogue by its build stamp), so a rebuilt catalogue
is picked up on the next run and tests with different data folders never share one.
Shared objects are never mutated per user.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from recsys.catalog.build import catalog_ready, catalogue_stamp
from recsys.catalog.queries import Catalog
from recsys.config import Settings, get_settings, resolved
from recsys.enrich.enricher import Enricher, make_enricher
from recsys.errors import CatalogError, CineBlendError, ModelError
from recsys.models.artifacts import damaged_versions, serving_version, versions
from recsys.store.repository import Store
from recsys.ui import plain, state

# The model stack (scikit-learn, implicit) is imported on first use, in the warm-up thread or the
# feed, never on the sign-in page (bench/click_latency.py's cold figure). Imports inside functions
# are safe from the parallel first sessions of a fresh server because no module takes part in an
# import cycle (tests/test_imports.py; tests/app/test_cold_start_server.py opens 16 at once).
if TYPE_CHECKING:
    from recsys.app.demo import Persona
    from recsys.models.service import Recommender

log = logging.getLogger(__name__)


def this_run() -> object | None:
    """An object Streamlit makes afresh for every script run (``ScriptRunContext.reset``), or
    None outside a run: identifies "this run" for what may be shared within one run only."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return getattr(ctx, "parallel_coordinator", None) if ctx is not None else None


_per_run = threading.local()


def run_memo() -> dict[Any, Any]:
    """A dict shared by the calls of one script run on this thread, empty at the next run (a
    fresh one, shared with nothing, outside a run). The run is held by a weak reference:
    identity, never an id that could be reused."""
    run = this_run()
    if run is None:
        return {}
    ref = getattr(_per_run, "run", None)
    if ref is None or ref() is not run:
        try:
            _per_run.run, _per_run.values = weakref.ref(run), {}
        except TypeError:  # a run object without weak references (another Streamlit): share nothing
            return {}
    values: dict[Any, Any] = _per_run.values
    return values


def settings() -> Settings:
    """The settings, read once per script run: a click's run asked for them several times, and
    each read checks the secrets file and asks Streamlit's resource cache (which hashes its
    arguments) whether the data folder was prepared (~0.25 ms a call on the busy server)."""
    memo = run_memo()
    cfg: Settings | None = memo.get("settings")
    if cfg is not None:
        return cfg
    cfg = get_settings()
    override = hashlib.sha256((cfg.cookie_key_override or "").encode()).hexdigest()[:16]
    key = f"{resolved(cfg.data_dir)}|{cfg.store_url}|{cfg.cookie_key_override is None}|{override}"
    if key not in _PREPARED:  # once per process and key: the resource cache's argument hashing skipped after
        _prepared(key, cfg)
        _PREPARED.add(key)
    memo["settings"] = cfg  # only once prepared: a ConfigError is raised again on every call
    return cfg


#: The keys :func:`_prepared` succeeded for in this process.
_PREPARED: set[str] = set()


@st.cache_resource(show_spinner=False, max_entries=8)
def _prepared(key: str, _cfg: Settings) -> bool:
    """Once per process and data folder: refuse a weak cookie key, make the data folder private
    (:func:`recsys.access.startup.prepare`); a ConfigError is not cached, so every run shows it."""
    from recsys.access.startup import prepare

    prepare(_cfg)
    return True


@st.cache_resource(show_spinner=False, max_entries=4)
def _store(url: str) -> Store:
    return Store.open(url)


def store(cfg: Settings | None = None) -> Store:
    """The store this session reads and writes: the shared one, or in a demo session its
    :class:`recsys.app.demo.DemoStore` (same methods; the persona's clicks stay in the session)."""
    demo = st.session_state.get(state.DEMO)
    if demo is not None:
        return demo
    return shared_store(cfg)


def shared_store(cfg: Settings | None = None) -> Store:
    """The app's one store (every account), whatever this session is (looked up in Streamlit's
    resource cache once per script run and URL)."""
    cfg = cfg or settings()
    memo = run_memo()
    found: Store | None = memo.get(("store", cfg.store_url))
    if found is None:
        found = memo[("store", cfg.store_url)] = _store(cfg.store_url)
    return found


@st.cache_resource(show_spinner=False, max_entries=2)
def _catalog(parquet_dir: str, stamp: str) -> Catalog:
    return Catalog(Path(parquet_dir))


def catalog(cfg: Settings | None = None) -> Catalog:
    """The catalogue of the newest build (raises CatalogError when there is none)."""
    cfg = cfg or settings()
    return _catalog(str(resolved(cfg.parquet_dir)), catalogue_stamp(cfg.parquet_dir))


def catalog_or_stop(cfg: Settings | None = None) -> Catalog:
    """The catalogue for a page that cannot work without it; otherwise show why and stop."""
    try:
        return catalog(cfg)
    except CatalogError as exc:
        plain.alert("error", f"{exc} The Data & model page can rebuild it.")
        st.stop()
        raise  # unreachable: st.stop() raises


def has_catalog(cfg: Settings | None = None) -> bool:
    return catalog_ready(cfg or settings())


@st.cache_resource(show_spinner=False, max_entries=4)
def _enricher(url: str, api_key: str | None, base_url: str) -> Enricher:
    return make_enricher(settings(), _store(url))


def enricher(cfg: Settings | None = None) -> Enricher:
    """Posters from TMDb (a no-op without ``TMDB_API_KEY``), shared by every session."""
    cfg = cfg or settings()
    return _enricher(cfg.store_url, cfg.tmdb_api_key, cfg.tmdb_base_url)


def posters_for(tconsts: list[str], cfg: Settings | None = None) -> dict[str, str]:
    """Poster URLs known now for ``tconsts``; queues the rest for the background fetcher (none
    without a TMDb key: the enricher is then a no-op, not looked up)."""
    cfg = cfg or settings()
    if not (cfg.tmdb_api_key or "").strip():
        return {}
    enr = enricher(cfg)
    if not enr.enabled:
        return {}
    known = enr.posters(tconsts)
    enr.prefetch(tconsts)
    return {t: info.poster_url for t, info in known.items() if info.poster_url}


@st.cache_resource(show_spinner=False, max_entries=2)
def _recommender(models_dir: str, version: str) -> Recommender:
    """One model version; ``version`` is its :func:`model_key` (name and manifest stamp)."""
    from recsys.models.service import Recommender

    return Recommender.load(Path(models_dir) / version.split("@", 1)[0])


def model_key(models_dir: Path, version: str) -> str:
    """The cache key of a model version: its name and its manifest's change time (a version
    scrubbed of a deleted user, :mod:`recsys.models.scrub`, is reloaded)."""
    try:
        return f"{version}@{(models_dir / version / 'manifest.json').stat().st_mtime_ns}"
    except OSError:
        return version


def _serving_key(cfg: Settings) -> str | None:
    """The cache key of the newest version that loads, trying each damaged one once per process
    (the verdict is remembered: :func:`recsys.models.artifacts.known_damage`)."""
    for _ in range(len(versions(cfg.models_dir)) + 1):  # bounded even if a folder keeps changing
        version = serving_version(cfg.models_dir)
        if version is None:
            break
        key = model_key(cfg.models_dir, version)
        try:
            _recommender(str(resolved(cfg.models_dir)), key)
            return key
        except ModelError as exc:  # remembered by Recommender.load: the loop moves on to an older one
            log.warning("model version %s is damaged: %s", version, exc)
    return None


#: models folder -> (its stat signature, the serving key found then, the model loaded for it):
#: see :func:`recommender`.
_SERVING: dict[str, tuple[tuple[int, int], str, Recommender]] = {}
_SERVING_LOCK = threading.Lock()


def _folder_signature(path: Path) -> tuple[int, int] | None:
    """(inode, change time) of a folder: adding, removing or renaming an entry changes it."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns


def recommender(cfg: Settings | None = None) -> Recommender | None:
    """The newest model version that verifies (reloaded when a newer version appears), or None
    when there is none; a damaged version is refused once, logged, and an older one served.

    Every feed run (each click) asks, so the answer is remembered per models folder while the
    folder and the served version's manifest are unchanged (two ``stat`` calls), instead of
    listing the folder and checking every version's manifest twice (~14 ``stat`` and 2 directory
    reads a click: ~1.5 ms of a click's run here). Only a served version that is the newest
    folder is remembered: a newer folder that is incomplete or known damaged could change in
    place (its manifest written, its files repaired) without the models folder changing, so
    then every call looks again. A new version is published by renaming its folder into place
    (:mod:`recsys.models.artifacts`), which changes the models folder; a scrub rewrites the
    served manifest, which changes its key. The model itself is remembered with its key (a key
    names one content: the version and its manifest's stamp), so an unchanged folder costs the
    two ``stat`` calls and not a resource-cache lookup, which hashes its arguments (0.18 -> 0.03
    ms of CPU a feed click in the server).
    """
    cfg = cfg or settings()
    models = str(resolved(cfg.models_dir))
    signature = _folder_signature(cfg.models_dir)
    with _SERVING_LOCK:
        known = _SERVING.get(models)
    if (
        known is not None
        and signature is not None
        and known[0] == signature
        and model_key(cfg.models_dir, known[1].split("@", 1)[0]) == known[1]
    ):
        return known[2]
    key = _serving_key(cfg)
    newest = versions(cfg.models_dir)
    model = None if key is None else _recommender(models, key)
    with _SERVING_LOCK:
        if (
            model is not None
            and key is not None
            and signature is not None
            and "@" in key
            and newest
            and newest[0].name == key.split("@", 1)[0]
        ):
            # the signature taken before looking: a change since shows next time
            _SERVING[models] = (signature, key, model)
        else:
            _SERVING.pop(models, None)
    return model


def damaged_models(cfg: Settings | None = None) -> list[str]:
    """Versions newer than the one served (or all, when none loads) that failed verification."""
    cfg = cfg or settings()
    served = serving_version(cfg.models_dir)
    return [v for v in damaged_versions(cfg.models_dir) if served is None or v > served]


@st.cache_resource(show_spinner=False, max_entries=2)
def _personas(parquet_dir: str, stamp: str, models_dir: str, version: str | None) -> list[Persona]:
    from recsys.app.demo import pick_personas
    from recsys.app.feed import feed_genres

    cat = _catalog(parquet_dir, stamp)
    model = _recommender(models_dir, version) if version is not None else None
    recommend = feed_genres(model, cat) if model is not None else None
    return pick_personas(cat.movielens_ratings(in_catalog_only=True), cat.all_titles(), recommend=recommend)


def personas(cfg: Settings | None = None) -> list[Persona]:
    """The demo personas of the current catalogue and model (none without MovieLens ratings),
    named after what their feeds show: read from the model version's folder, where training
    saves them (:func:`recsys.app.pipeline.save_demo_personas`); for a model saved without them, or
    none, picked in a background thread (never on a visitor's page: CineBlendError "being
    prepared" until then, after waiting :data:`PERSONAS_WAIT_S`)."""
    cfg = cfg or settings()
    # the version served, without loading it here (a damaged one is known once a load failed)
    name = serving_version(cfg.models_dir)
    stamp = catalogue_stamp(cfg.parquet_dir)
    parquet, models = str(resolved(cfg.parquet_dir)), str(resolved(cfg.models_dir))
    version = model_key(cfg.models_dir, name) if name is not None else None
    if version is not None:
        saved = _saved_personas(models, version, stamp)
        if saved is not None:
            return saved
    future = _in_background(
        ("personas", parquet, stamp, models, version), _pick_personas, parquet, stamp, models, version
    )
    try:
        return future.result(timeout=PERSONAS_WAIT_S)
    except TimeoutError:
        raise CineBlendError("Demo profiles are being prepared; reload the page in a few seconds.") from None


#: How long a sign-in page waits for personas picked in the background (tiny catalogues: at once).
PERSONAS_WAIT_S = 0.3
_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cineblend-warm-up")
_TASKS: dict[tuple[str | None, ...], Future[Any]] = {}
_TASKS_LOCK = threading.Lock()


def warm_up(cfg: Settings | None = None) -> None:
    """Start loading the newest model in the background thread (once per version), so the feed
    after sign-in finds it loaded; the sign-in page calls it last, after its own elements (the
    model stack's imports would otherwise compete with them for the interpreter)."""
    cfg = cfg or settings()
    name = serving_version(cfg.models_dir)
    if name is not None:
        models = str(resolved(cfg.models_dir))
        version = model_key(cfg.models_dir, name)
        _in_background(("model", models, version), _recommender, models, version)
    _in_background(("imports",), _import_request_stack)


def _import_request_stack() -> None:
    """Import what a request imports on first use beyond the model: the details dialog's "More
    like this" reads scikit-learn's stop words (:mod:`recsys.models.similar`), and importing
    scikit-learn made a fresh server's first details click take 0.5-0.7 s (``bench/click_latency.py``
    details p95 470 ms, the other clicks 32 ms). The ranking's compiled kernels
    (:mod:`recsys.models.compiled`) are compiled, or loaded from numba's disk cache, here too
    (~1.5 s to compile, ~0.3 s to load) and not in a visitor's first feed."""
    import sklearn.feature_extraction.text  # noqa: F401

    from recsys.models import compiled

    compiled.warm()


def _in_background(key: tuple[str | None, ...], fn: Callable[..., Any], *args: Any) -> Future[Any]:
    """``fn(*args)`` once per ``key`` in the warm-up thread (a failed run is retried on the next
    call); its future."""
    with _TASKS_LOCK:
        future = _TASKS.get(key)
        if future is None or (future.done() and future.exception() is not None):
            future = _TASKS[key] = _BACKGROUND.submit(fn, *args)
            while len(_TASKS) > 16:  # old model versions / catalogues
                _TASKS.pop(next(iter(_TASKS)))
        return future


@st.cache_resource(show_spinner=False, max_entries=2)
def _saved_personas(models_dir: str, version: str, stamp: str) -> list[Persona] | None:
    from recsys.app.demo import PERSONAS_FILE, load_personas

    return load_personas(Path(models_dir) / version.split("@")[0] / PERSONAS_FILE, stamp)


def _pick_personas(parquet_dir: str, stamp: str, models_dir: str, version: str | None) -> list[Persona]:
    """The personas picked now (the warm-up thread), saved in the model's folder for the next
    start."""
    from recsys.app.demo import PERSONAS_FILE, save_personas

    try:
        picked = _personas(parquet_dir, stamp, models_dir, version)
    except ModelError:
        return _personas(parquet_dir, stamp, "", None)
    if version is not None:
        try:
            save_personas(picked, Path(models_dir) / version.split("@")[0] / PERSONAS_FILE, stamp)
        except OSError as exc:
            log.warning("could not save the demo personas: %s", exc)
    return picked
