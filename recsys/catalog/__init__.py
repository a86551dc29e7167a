"""The IMDb catalogue: download (``download``), build to Parquet (``build``), DuckDB queries
(``queries``).

Parquet layout under ``Settings.parquet_dir`` (written by ``build``; swapped in whole):

``titles.parquet`` -- one row per title the app shows
    tconst VARCHAR, title_type VARCHAR (movie | tvSeries | tvMiniSeries), kind VARCHAR
    (movie | tv), primary_title VARCHAR, original_title VARCHAR, start_year INTEGER,
    end_year INTEGER, runtime_minutes INTEGER, genres VARCHAR[], average_rating DOUBLE,
    num_votes BIGINT, popularity DOUBLE, directors VARCHAR[] (names, or nconsts when
    name.basics is absent), writers VARCHAR[], cast VARCHAR[] (leading cast names, empty
    when title.principals is absent), search_text VARCHAR (lower-cased, accent-stripped
    primary + original title).
``people.parquet`` -- tconst, nconst, name, category (director | writer | actor | actress |
    ...), ordering; present only when people files were downloaded.
``movielens_ratings.parquet`` -- ml_user_id INTEGER, tconst VARCHAR, rating DOUBLE,
    timestamp BIGINT (epoch seconds); MovieLens ratings mapped to IMDb ids via links.csv.
``manifest.json`` -- build time, row counts, min_votes, source file sizes.

``popularity`` is the Bayesian-weighted IMDb rating times log votes:
``(v / (v + m) * R + m / (v + m) * C) * ln(1 + v)`` with ``R`` the title's rating, ``v`` its
votes, ``C`` the mean rating over the kept titles and ``m`` the median vote count of the kept
titles.
"""
