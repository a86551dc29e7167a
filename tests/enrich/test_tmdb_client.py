"""The TMDb client against a fake TMDb on loopback: hits, misses, retries, timeouts, bad bodies,
rejected keys and both ways of authenticating."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from recsys.enrich import Missing, TmdbClient, TmdbInfo, is_read_access_token
from recsys.enrich.tmdb import REJECTED_KEY_MESSAGE, _retry_after, parse_find
from recsys.errors import EnrichError, UnknownTitleError
from tests.enrich.conftest import T0, Clock, Sleeps
from tests.enrich.fake_tmdb import API_KEY, TITLES, TOKEN, FakeTmdb, Reply, find_body
from tests.support.net import free_port

POSTER = "https://image.tmdb.org/t/p/w342"


def client_for(server: FakeTmdb, clock: Clock, sleeps: Sleeps, credential: str = API_KEY, **kwargs: Any) -> TmdbClient:
    return TmdbClient(credential, base_url=server.url, clock=clock, sleep=sleeps, **kwargs)


def test_movie_hit(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    with client_for(tmdb, clock, sleeps) as client:
        info = client.find("tt0111161")
    assert info == TmdbInfo(
        tconst="tt0111161",
        tmdb_id=278,
        media_type="movie",
        poster_url=POSTER + "/9cqNxx0GxF0bflZmeSMuL5tnGzr.jpg",
        overview="Imprisoned in the 1940s for a double murder, banker Andy Dufresne ...",
        fetched_at=T0,
    )
    assert info.tmdb_url == "https://www.themoviedb.org/movie/278"
    [seen] = tmdb.seen
    assert seen.tconst == "tt0111161"
    assert seen.query == {"external_source": ["imdb_id"], "api_key": [API_KEY]}
    assert "authorization" not in seen.headers
    assert sleeps == []


def test_tv_hit(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    with client_for(tmdb, clock, sleeps) as client:
        info = client.find("tt0903747")
    assert info is not None
    assert (info.tmdb_id, info.media_type) == (1396, "tv")
    assert info.poster_url == POSTER + "/ztkUQFLlC19CCMYHW9o1zWhJRNq.jpg"
    assert info.overview is not None and info.overview.startswith("A chemistry teacher")
    assert info.tmdb_url == "https://www.themoviedb.org/tv/1396"


def test_hit_without_poster_or_overview(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    with client_for(tmdb, clock, sleeps) as client:
        info = client.find("tt7777777")
    assert info is not None
    assert (info.tmdb_id, info.poster_url, info.overview) == (424242, None, None)


def test_movie_results_win_over_tv_results(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    tmdb.script("tt0000001", Reply(200, find_body(movie=[{"id": 5}], tv=[{"id": 6}])))
    with client_for(tmdb, clock, sleeps) as client:
        info = client.find("tt0000001")
    assert info is not None and (info.tmdb_id, info.media_type) == (5, "movie")


def test_miss_is_none_and_lookup_says_missing(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    with client_for(tmdb, clock, sleeps) as client:
        assert client.find("tt9999999") is None
        assert client.lookup("tt9999999") == Missing("tt9999999", T0)
    assert tmdb.count("tt9999999") == 2
    assert sleeps == []


def test_404_is_a_miss(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    tmdb.script("tt0000404", Reply(404, {"status_code": 34, "success": False}))
    with client_for(tmdb, clock, sleeps) as client:
        assert client.lookup("tt0000404") == Missing("tt0000404", T0)
    assert tmdb.count("tt0000404") == 1


def test_read_access_token_goes_as_bearer_header(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    with client_for(tmdb, clock, sleeps, credential=TOKEN) as client:
        assert client.uses_bearer_token
        info = client.find("tt0111161")
    assert info is not None and info.tmdb_id == 278
    [seen] = tmdb.seen
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.query == {"external_source": ["imdb_id"]}  # no api_key parameter


def test_credential_kind_is_recognised() -> None:
    assert not is_read_access_token(API_KEY)
    assert is_read_access_token(TOKEN)
    assert not is_read_access_token("a.b.c")  # too short to be a token


def test_429_waits_retry_after_then_succeeds(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    tmdb.script(
        "tt0111161",
        Reply(429, {"status_code": 25}, {"Retry-After": "2"}),
        Reply(200, TITLES["tt0111161"]),
    )
    with client_for(tmdb, clock, sleeps) as client:
        info = client.find("tt0111161")
    assert info is not None and info.tmdb_id == 278
    assert sleeps == [2.0]
    assert tmdb.count("tt0111161") == 2


def test_429_retry_after_is_capped(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    tmdb.script(
        "tt0111161",
        Reply(429, {"status_code": 25}, {"Retry-After": "3600"}),
        Reply(200, TITLES["tt0111161"]),
    )
    with client_for(tmdb, clock, sleeps, max_wait=4.0) as client:
        assert client.find("tt0111161") is not None
    assert sleeps == [4.0]


def test_429_without_retry_after_backs_off_exponentially(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    tmdb.script("tt0111161", Reply(429), Reply(429), Reply(200, TITLES["tt0111161"]))
    with client_for(tmdb, clock, sleeps, backoff=0.25) as client:
        assert client.find("tt0111161") is not None
    assert sleeps == [0.25, 0.5]


def test_retry_after_header_forms() -> None:
    assert _retry_after("7") == 7.0
    assert _retry_after(" 1.5 ") == 1.5
    assert _retry_after("-3") == 0.0
    assert _retry_after(None) is None
    assert _retry_after("soon") is None
    assert _retry_after("nan") is None
    in_20s = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 15 <= (_retry_after(in_20s) or 0) <= 20


def test_5xx_then_success(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    tmdb.script("tt0903747", Reply(500, "oops"), Reply(502), Reply(200, TITLES["tt0903747"]))
    with client_for(tmdb, clock, sleeps) as client:
        info = client.find("tt0903747")
    assert info is not None and info.media_type == "tv"
    assert sleeps == [0.5, 1.0]  # backoff * 2**attempt
    assert tmdb.count("tt0903747") == 3


def test_5xx_gives_up_after_the_retries(
    tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    tmdb.script("tt0111161", Reply(503))
    with caplog.at_level(logging.WARNING), client_for(tmdb, clock, sleeps, retries=2) as client:
        assert client.lookup("tt0111161") is None  # not a miss: nothing to cache
    assert tmdb.count("tt0111161") == 3
    assert sleeps == [0.5, 1.0]
    assert "gave up after 3 attempts (HTTP 503)" in caplog.text


def test_read_timeout_is_retried_and_fast(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    tmdb.hold("tt0111161")  # every request for it hangs until released ...
    started = time.monotonic()
    with client_for(tmdb, clock, sleeps, timeout=(1.0, 0.2), retries=1) as client:
        assert client.lookup("tt0111161") is None
        # ... and the client is still usable afterwards
        assert client.find("tt0903747") is not None
    elapsed = time.monotonic() - started
    assert tmdb.count("tt0111161") == 2
    assert sleeps == [0.5]
    assert elapsed < 2.0, f"two 0.2 s read timeouts took {elapsed:.2f} s"


def test_timeout_then_success(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    held = tmdb.hold("tt0111161")
    tmdb.script("tt0111161", Reply(200, TITLES["tt0111161"]))  # the retry is answered at once
    with client_for(tmdb, clock, sleeps, timeout=(1.0, 0.2)) as client:
        info = client.find("tt0111161")
    held.set()
    assert info is not None and info.tmdb_id == 278
    assert sleeps == [0.5]


def test_connection_refused_is_retried_and_never_logs_the_key(
    clock: Clock, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with (
        caplog.at_level(logging.DEBUG),
        TmdbClient(API_KEY, base_url=url, retries=2, clock=clock, sleep=sleeps) as client,
    ):
        assert client.lookup("tt0111161") is None
    assert sleeps == [0.5, 1.0]
    assert "gave up after 3 attempts (ConnectionError" in caplog.text
    assert API_KEY not in caplog.text


def test_malformed_json_is_a_logged_miss_without_retry(
    tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    tmdb.script("tt0111161", Reply(200, b'{"movie_results": [{"id": 278,'))
    with caplog.at_level(logging.WARNING), client_for(tmdb, clock, sleeps) as client:
        assert client.find("tt0111161") is None
        assert client.lookup("tt0111161") is None  # unknown, so not cached as a miss
    assert "malformed JSON" in caplog.text
    assert tmdb.count("tt0111161") == 2
    assert sleeps == []


@pytest.mark.parametrize(
    ("body", "log"),
    [
        ([], "with a list, not an object"),
        ({"status_code": 34}, "without movie_results / tv_results"),
        ({"movie_results": "278"}, "movie_results as a str"),
        ({"movie_results": [{"id": "278"}]}, "without a valid id"),
        ({"movie_results": [], "tv_results": [{"id": True}]}, "without a valid id"),
        ({"movie_results": ["tt0111161"]}, "without a valid id"),
    ],
)
def test_unexpected_shapes_are_logged_misses(
    tmdb: FakeTmdb,
    clock: Clock,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
    body: object,
    log: str,
) -> None:
    tmdb.script("tt0111161", Reply(200, body))
    with caplog.at_level(logging.WARNING), client_for(tmdb, clock, sleeps) as client:
        assert client.find("tt0111161") is None
    assert log in caplog.text


def test_odd_poster_path_is_dropped_but_the_hit_kept() -> None:
    body = find_body(movie=[{"id": 9, "poster_path": "https://evil.example/x.jpg", "overview": 3}])
    info = parse_find("tt0000009", body, T0)
    assert isinstance(info, TmdbInfo)
    assert (info.tmdb_id, info.poster_url, info.overview) == (9, None, None)


def test_401_raises_once_then_the_client_is_off(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    with client_for(tmdb, clock, sleeps, credential="ffffffffffffffffffffffffffffffff") as client:
        with pytest.raises(EnrichError) as info:
            client.find("tt0111161")
        assert str(info.value) == REJECTED_KEY_MESSAGE
        assert str(info.value) == "TMDb rejected the API key; check TMDB_API_KEY"
        assert client.disabled
        assert client.find("tt0903747") is None  # no second error, no request
        assert client.lookup("tt0111161") is None
    assert len(tmdb.seen) == 1
    assert sleeps == []


def test_rejected_token_is_reported_the_same_way(tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps) -> None:
    with client_for(tmdb, clock, sleeps, credential=TOKEN[:-4] + "AAAA") as client:
        with pytest.raises(EnrichError, match="check TMDB_API_KEY"):
            client.find("tt0111161")
        assert client.disabled


@pytest.mark.parametrize("tconst", ["0111161", "tt111", "tt0111161/../x", "nm0000001", ""])
def test_malformed_tconst_is_refused_before_any_request(
    tmdb: FakeTmdb, clock: Clock, sleeps: Sleeps, tconst: str
) -> None:
    with client_for(tmdb, clock, sleeps) as client, pytest.raises(UnknownTitleError):
        client.find(tconst)
    assert tmdb.seen == []


def test_empty_key_is_refused() -> None:
    with pytest.raises(EnrichError, match="TMDB_API_KEY"):
        TmdbClient("  ")
