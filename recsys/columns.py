"""One place for column names shared by frames across the package (RecTools ``Columns``), the
interaction values, and how MovieLens stars read as those values."""

from __future__ import annotations

import numpy as np


class Columns:
    TCONST = "tconst"
    USER_ID = "user_id"
    VALUE = "value"
    SCORE = "score"
    RANK = "rank"
    REASON = "reason"
    TIMESTAMP = "created_at"
    TITLE_TYPE = "title_type"
    KIND = "kind"  # "movie" or "tv"
    TITLE = "primary_title"
    ORIGINAL_TITLE = "original_title"
    START_YEAR = "start_year"
    END_YEAR = "end_year"
    RUNTIME = "runtime_minutes"
    GENRES = "genres"
    RATING = "average_rating"
    VOTES = "num_votes"
    POPULARITY = "popularity"
    LANGUAGE = "language"  # original language, ISO 639-1 ("ja"), null when unknown (issue 18)
    ML_USER_ID = "ml_user_id"  # MovieLens ratings' user column (app users negative in evaluation)


# Interaction values stored per user and title.
LIKE = 1
DISLIKE = -1
SUPERLIKE = 2
RATING_VALUES = {"like": LIKE, "dislike": DISLIKE, "superlike": SUPERLIKE}
RATING_NAMES = {value: name for name, value in RATING_VALUES.items()}  # 1 -> "like"
VALUE_LABELS = {LIKE: "Liked", DISLIKE: "Disliked", SUPERLIKE: "Superliked"}  # shown in the app

# Title types the app shows, and the section ("kind") each belongs to.
TITLE_TYPES = {"movie": "movie", "tvSeries": "tv", "tvMiniSeries": "tv"}
KINDS = ("movie", "tv")


def click_values(
    ratings: np.ndarray,
    *,
    positive_rating: float = 4.0,
    superlike_rating: float = 5.0,
    negative_rating: float = 2.0,
) -> np.ndarray:
    """MovieLens star ratings read as app clicks: superlike 2, like 1, dislike -1, and 0 for the
    lukewarm middle that is left out (ratings >= ``superlike_rating``, >= ``positive_rating``,
    <= ``negative_rating``)."""
    ratings = np.asarray(ratings, dtype=np.float64)
    disliked = np.where(ratings <= negative_rating, float(DISLIKE), 0.0)
    liked = np.where(ratings >= positive_rating, float(LIKE), disliked)
    return np.where(ratings >= superlike_rating, float(SUPERLIKE), liked)
