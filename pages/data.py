"""Data & model: what CineBlend downloads, from where, under which terms; download and build."""

import streamlit as st

from recsys.config import DEFAULT_IMDB_BASE_URL, DEFAULT_MOVIELENS_URL, IMDB_FILES, IMDB_OPTIONAL_FILES
from recsys.errors import CineBlendError
from recsys.timefmt import readable_time
from recsys.ui import jobs, plain, resources, retrain_panel
from recsys.urls import mask_url, public_source

cfg = resources.settings()
may_run = jobs.may_start(cfg)

st.title("Data & model")
if not may_run:
    jobs.admin_only_note(resources.has_catalog(cfg))
elif not resources.has_catalog(cfg):
    st.info(
        "Welcome to CineBlend. Before testers can rate anything, the app needs its catalogue: "
        "download the public IMDb and MovieLens files below (a few hundred MB from IMDb, "
        "about 1 MB from MovieLens), then it builds a local catalogue. This takes a few minutes "
        "and is needed only once."
    )

# where the files come from and go to are the admin's business (issue 20, item 6): a mirror's
# path or a private host and the server's folders are not shown to anyone else
imdb_source = f"`{mask_url(cfg.imdb_base_url)}`" if may_run else public_source(cfg.imdb_base_url, DEFAULT_IMDB_BASE_URL)
movielens_source = (
    f"`{mask_url(cfg.movielens_url)}`" if may_run else public_source(cfg.movielens_url, DEFAULT_MOVIELENS_URL)
)
stored = (
    f"Files are stored under `{cfg.data_dir}/raw/`; the catalogue keeps movies, TV series and mini-series with "
    f"at least {cfg.min_votes} IMDb votes, under `{cfg.data_dir}/parquet/`."
    if may_run
    else f"The catalogue keeps movies, TV series and mini-series with at least {cfg.min_votes} IMDb votes."
)
st.subheader("What is downloaded, and from where")
st.markdown(
    f"""
- **IMDb non-commercial datasets** from {imdb_source}: {", ".join(f"`{f}`" for f in IMDB_FILES)}
  (titles, ratings, directors and writers) and, for cast names,
  {", ".join(f"`{f}`" for f in IMDB_OPTIONAL_FILES)}.
  Terms: personal and non-commercial use only, see
  [IMDb's non-commercial licensing](https://developer.imdb.com/non-commercial-datasets/).
  Information courtesy of IMDb (https://www.imdb.com). Used with permission.
- **MovieLens ml-latest-small** (100,000 ratings by 600 users) from {movielens_source}, used as
  background ratings for collaborative filtering. Terms: research use, no redistribution, cite
  F. Maxwell Harper and Joseph A. Konstan, *The MovieLens Datasets: History and Context*, ACM TiiS
  2015; see [GroupLens' usage license](https://files.grouplens.org/datasets/movielens/ml-latest-small-README.html).

{stored}
The same steps on the command line: `python -m recsys fetch` then `python -m recsys build`.
"""
)

if resources.has_catalog(cfg):
    try:
        stats = resources.catalog(cfg).stats()
    except CineBlendError as exc:
        plain.alert("error", exc)
    else:
        st.subheader("Current catalogue")
        cols = st.columns(4)
        by_kind = stats.get("by_kind", {})
        cols[0].metric("Movies", f"{by_kind.get('movie', 0):,}")
        cols[1].metric("TV shows", f"{by_kind.get('tv', 0):,}")
        cols[2].metric("Years", f"{stats.get('year_min', '?')}–{stats.get('year_max', '?')}")
        cols[3].metric("MovieLens ratings", f"{stats.get('movielens_ratings', 0):,}")
        if stats.get("built_at"):
            st.caption(f"Built {readable_time(stats['built_at'])}")

if may_run:
    st.subheader("Download and build")
    st.caption(
        "Safe to run again: partial downloads resume, and the current catalogue stays in use until the new one "
        "is complete."
    )
    st.button(
        "Download and build the catalogue",
        key="data-fetch-build",
        type="primary",
        on_click=jobs.request,
        args=("fetch_build",),
    )

if resources.has_catalog(cfg):
    st.subheader("Recommender model")
    model = resources.recommender(cfg)
    damaged = resources.damaged_models(cfg)
    if damaged and model is not None:
        plain.alert(
            "warning", f"Model damaged (version {damaged[0]} failed verification), serving version {model.version}."
        )
    elif damaged:
        st.error("Model damaged: no saved version verifies; the feed ranks by popularity until you retrain.")
    if model is None and not damaged:
        st.warning("No trained model yet: the feed ranks by popularity until you train one.")
    elif model is not None:
        trained = readable_time(model.version) if model.version else "unsaved"
        st.caption(f"Model trained {trained} (version {model.version}), in use by every feed.")
    if may_run:
        st.caption(
            "Retraining folds every tester's ratings into the collaborative model. The same as "
            "`python -m recsys train`."
        )
        st.button("Retrain the model", key="data-train", on_click=jobs.request, args=("train",))
    retrain_panel.show(cfg, may_run)  # scheduled retraining (issue 22 item 5)
jobs.panel(cfg)
