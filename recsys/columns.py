"""One place for column names shared by frames across the package (RecTools ``Columns``)."""

from __future__ import annotations


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


# Interaction values stored per user and title.
LIKE = 1
DISLIKE = -1
SUPERLIKE = 2
RATING_VALUES = {"like": LIKE, "dislike": DISLIKE, "superlike": SUPERLIKE}

# Title types the app shows, and the section ("kind") each belongs to.
TITLE_TYPES = {"movie": "movie", "tvSeries": "tv", "tvMiniSeries": "tv"}
KINDS = ("movie", "tv")
