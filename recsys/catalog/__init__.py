"""The IMDb catalogue: download (``download``), build to Parquet (``build``), DuckDB queries
(``queries``), title languages (``language``).

Parquet layout under ``Settings.parquet_dir`` (written by ``build``; swapped in whole):

``titles.parquet`` -- one row per title the app shows
    tconst VARCHAR, title_type VARCHAR (movie | tvSeries | tvMiniSeries), kind VARCHAR
    (movie | tv), primary_title VARCHAR, original_title VARCHAR, start_year INTEGER,
    end_year INTEGER, runtime_minutes INTEGER, genres VARCHAR[] (empty when IMDb has none),
    average_rating DOUBLE (NULL only for unrated titles, possible when min_votes is 0),
    num_votes BIGINT, popularity DOUBLE, directors VARCHAR[] (names, or nconsts when
    name.basics is absent or lacks the person), writers VARCHAR[], cast VARCHAR[] (leading
    cast names: the first 4 actors / actresses by ordering; empty when title.principals is
    absent), language VARCHAR (original language, ISO 639-1 such as ja, NULL when unknown;
    see ``language``), region VARCHAR (ISO 3166-1 country the akas tie the original title
    to, NULL without title.akas or when unclear), search_text VARCHAR (lower-cased,
    accent-stripped primary + original title).
``people.parquet`` -- tconst, nconst, name, category (director | writer | actor | actress |
    ...), ordering; the title.principals rows of catalogue titles (name falls back to the
    nconst); present only when people files were downloaded.
``movielens_ratings.parquet`` -- ml_user_id INTEGER, tconst VARCHAR, rating DOUBLE,
    timestamp BIGINT (epoch seconds), in_catalog BOOLEAN; MovieLens ratings mapped to IMDb ids
    via links.csv, kept when the id is a movie-ish title of title.basics (in_catalog says
    whether it is also in titles.parquet; see ``build``), one rating per user and tconst.
``manifest.json`` -- build time, row counts, min_votes, source file sizes, with_akas and
    the titles per language.

``popularity`` is the Bayesian-weighted IMDb rating times log votes:
``(v / (v + m) * R + m / (v + m) * C) * ln(1 + v)`` with ``R`` the title's rating, ``v`` its
votes, ``C`` the mean rating over the kept titles and ``m`` the median vote count of the kept
titles (interpolated median); 0 for an unrated title.
"""
