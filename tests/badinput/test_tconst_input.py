"""Unknown or malformed title ids (tconsts) given to the store, the catalogue and the CLI.

The store refuses anything that is not ``tt`` + 7 to 10 ASCII digits with a message that shows
the expected form, and stores nothing (no current value, no history row, no hidden title);
catalogue look-ups answer "not found"; the CLI exits 1 with one line.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from recsys.catalog.queries import Catalog, is_valid_tconst
from recsys.config import Settings
from recsys.errors import UnknownTitleError
from recsys.store import Store
from recsys.store.accounts import register
from tests.app.helpers import PASSWORD
from tests.badinput.support import ANY_CHAR, bounded
from tests.support.cli import cli, cli_env, one_line_error, run_cli

VALID = re.compile(r"tt[0-9]{7,10}")
MALFORMED = [
    "",
    "tt",
    "tt_bad",
    "tt123456",  # 6 digits
    "tt12345678901",  # 11 digits
    "TT0111161",
    "tt0111161\n",
    " tt0111161",
    "tt0111161 ",
    "tt0111161\x00",
    "tt011116a",
    "tt٠١٢٣٤٥٦",  # Arabic-Indic digits
    "tt０１１１１６１",  # full-width digits
    "nm0000001",
    "tt0111161' OR '1'='1",
    "'; DELETE FROM interactions; --",
    "%",
    "_",
    "tt%",
    "tt_______",
    "x" * 10_000,
]
NOT_STRINGS: list[object] = [None, 111161, 0.5, b"tt0111161", ["tt0111161"], {"tt0111161": 1}]
malformed = st.one_of(
    st.sampled_from(MALFORMED),
    st.text(ANY_CHAR, max_size=14).filter(lambda s: not VALID.fullmatch(s)),
    st.from_regex(r"tt[0-9]{7,10}", fullmatch=True).flatmap(
        lambda t: st.sampled_from([t + "\n", t + " ", " " + t, t.upper(), t[:-1] + "x", t + "0" * 3])
    ),
)


@pytest.fixture
def user_id(store: Store) -> int:
    return register(store, "alice", "Alice", "alice@example.com", PASSWORD).id


def nothing_stored(store: Store, user_id: int) -> None:
    assert store.interactions(user_id).height == 0
    assert store.history(user_id).height == 0
    assert store.hidden_tconsts(user_id) == set()


@given(tconst=malformed)
@bounded(80)
def test_store_refuses_malformed_ids_and_stores_nothing(store: Store, user_id: int, tconst: str) -> None:
    assume(not is_valid_tconst(tconst))
    for call in (
        lambda: store.rate(user_id, tconst, 1),
        lambda: store.rate(user_id, tconst, -1),
        lambda: store.unrate(user_id, tconst),
        lambda: store.hide(user_id, tconst),
        lambda: store.unhide(user_id, tconst),
    ):
        with pytest.raises(UnknownTitleError) as info:
            call()
        message = str(info.value)
        assert "is not an IMDb title id" in message and "e.g. tt0111161" in message
        assert "\n" not in message.replace(repr(tconst), "")
    nothing_stored(store, user_id)


@pytest.mark.parametrize("tconst", NOT_STRINGS, ids=lambda v: type(v).__name__)
def test_store_refuses_ids_that_are_not_text(store: Store, user_id: int, tconst: object) -> None:
    with pytest.raises(UnknownTitleError):
        store.rate(user_id, tconst, 1)  # type: ignore[arg-type]  # a wrong type on purpose: the check under test
    with pytest.raises(UnknownTitleError):
        store.hide(user_id, tconst)  # type: ignore[arg-type]  # a wrong type on purpose: the check under test
    nothing_stored(store, user_id)


@pytest.mark.parametrize("value", [0, 3, -2, 1.0, True, "1", None, np.float64(1.0), 10**20])
def test_store_refuses_values_other_than_like_dislike_superlike(store: Store, user_id: int, value: object) -> None:
    with pytest.raises(ValueError, match="like"):
        store.rate(user_id, "tt0100001", value)  # type: ignore[arg-type]  # a wrong type on purpose: the check under test
    nothing_stored(store, user_id)


def test_well_formed_ids_of_any_length_round_trip(store: Store, user_id: int) -> None:
    """The store does not know the catalogue: a well-formed id is stored as given (the app only
    rates ids it showed from the catalogue), and removing it leaves only the history."""
    for tconst in ("tt0000001", "tt9999999999"):
        assert store.rate(user_id, tconst, 2) is True
        assert store.hide(user_id, tconst) is True
        assert store.unrate(user_id, tconst) is True
        assert store.unhide(user_id, tconst) is True
    assert store.interactions(user_id).height == 0 and store.hidden_tconsts(user_id) == set()


@given(tconst=st.one_of(malformed, st.from_regex(r"tt9[0-9]{6,9}", fullmatch=True)))
@bounded(60)
def test_catalogue_lookups_answer_not_found(catalog: Catalog, tconst: str) -> None:
    assume(tconst not in set(catalog.all_titles()["tconst"].to_list()))
    assert catalog.title(tconst) is None
    assert catalog.titles([tconst, "tt0100001", tconst])["tconst"].to_list() == ["tt0100001"]
    assert catalog.people(tconst).height == 0


# ---------------------------------------------------------------------------------- the CLI


@pytest.mark.slow  # starts python interpreters (the CLI as a subprocess)
def test_cli_recommend_tt_bad_exits_1_with_one_line(app_settings: Settings) -> None:
    line = one_line_error(run_cli("recommend", "--like", "tt_bad", env=cli_env(app_settings.data_dir)))
    assert line == ("error: 'tt_bad' is not an IMDb title id (expected tt followed by digits)")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--like", "tt0100001", "--dislike", "tt0100001' OR '1'='1"], "is not an IMDb title id"),
        (["--like", "tt0100001\n"], "is not an IMDb title id"),
        (["--like", "x" * 10_000], "is not an IMDb title id"),
        (["--superlike", "tt9999999"], "tt9999999 is not in the catalogue"),
        (["--like", "tt0100001", "--weights", "a,b,c"], "The weight of content must be a number"),
    ],
)
def test_cli_recommend_refuses_bad_input_with_one_line(
    model_settings: Settings, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    line = one_line_error(cli(capsys, "recommend", *args))
    assert says in line


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--weights", "nan,1,1"], "The weight of content must be a finite number >= 0, got 'nan'."),
        (["--weights=-1,0,0"], "The weight of content must be a finite number >= 0, got '-1'."),
        (["--weights", "0,0,0"], "Hybrid weights must not all be zero"),
        (["-n", "-5"], "-n must be at least 1, got -5"),
    ],
)
def test_cli_recommend_with_odd_weights_or_counts_does_not_crash(
    model_settings: Settings, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    proc = cli(capsys, "recommend", "--like", "tt0100001", *args)
    assert proc.stdout == ""
    assert says in one_line_error(proc)
