"""The lab's tables: stored runs (save, list newest first, get, delete; ids never reused) and
the live-weight change log written with the setting in one transaction."""

from __future__ import annotations

from recsys.models.weights import current as live_weights
from recsys.store import Store, lab
from tests.support.weights import full


def _save(store: Store, n: int) -> int:
    return lab.save_run(
        store,
        created_by="ada",
        model_version="v1",
        catalogue_build="b1",
        dataset="ml-latest-small.zip",
        protocol="temporal",
        config={"k": 10},
        document={"n": n, "models": []},
        per_user=bytes([n]) * 10,
    )


def test_runs_are_saved_listed_and_deleted(store: Store) -> None:
    first, second = _save(store, 1), _save(store, 2)
    assert [r.id for r in lab.list_runs(store)] == [second, first]
    run = lab.get_run(store, first)
    assert run is not None and run.document == {"n": 1, "models": []} and run.per_user == b"\x01" * 10
    assert run.created_by == "ada" and run.created_at.tzinfo is not None
    assert lab.delete_run(store, first) and not lab.delete_run(store, first)
    assert lab.get_run(store, first) is None
    assert _save(store, 3) == second + 1  # a deleted id is never reused


def test_weight_changes_are_kept_with_the_setting(store: Store) -> None:
    defaults = full(content=0.5, als=0.2, taste=0.2, popularity=0.1)
    lab.change_live_weights(store, {"content": 1.0}, "ann", defaults=defaults)
    assert live_weights(store)["content"] == 1.0
    lab.change_live_weights(store, None, "bob", defaults=defaults)
    assert live_weights(store) == defaults and store.setting_info("hybrid_weights") is None
    history = lab.weight_history(store)
    assert [(c.changed_by, c.action, c.old, c.new) for c in history] == [
        ("bob", "reset", {"content": 1.0}, defaults),
        ("ann", "apply", None, {"content": 1.0}),
    ]


def test_deleting_an_account_takes_its_name_off_weight_changes(store: Store) -> None:
    from sqlalchemy import select

    from recsys.store.schema import weight_changes

    ada = store.create_user("ada", "Ada", "ada@example.com", "h")
    lab.change_live_weights(store, {"content": 0.6, "als": 0.4}, "ada", defaults={"content": 0.5, "als": 0.5})
    store.delete_user(ada.id)
    with store.engine.connect() as conn:
        assert conn.scalars(select(weight_changes.c.changed_by)).all() == [None]


def test_names_notes_and_failed_runs_are_kept(store: Store) -> None:
    done = lab.save_run(
        store,
        created_by="ada",
        model_version="v1",
        catalogue_build="b1",
        dataset="ml",
        protocol="temporal",
        config={"k": 10},
        document={"models": []},
        per_user=b"x",
        lists=b"lists",
        name="  ALS   128 factors ",
    )
    failed = lab.save_run(
        store,
        created_by="bob",
        model_version="v1",
        catalogue_build="b1",
        dataset="ml",
        protocol="temporal",
        config={"k": 10},
        document={"config": {"k": 10}},
        per_user=b"",
        status="failed",
        reason="No user has 5 or more positive ratings",
    )
    # the history lists every run; the run chooser only those with figures
    assert [(r.id, r.status) for r in lab.list_runs(store, statuses=None)] == [(failed, "failed"), (done, "done")]
    assert [r.id for r in lab.list_runs(store)] == [done]
    run = lab.get_run(store, done)
    assert run is not None and run.name == "ALS 128 factors" and run.notes is None and run.lists == b"lists"
    assert lab.annotate_run(store, done, notes="  more factors helped?  ")
    assert lab.annotate_run(store, done, name="")  # an empty name clears it, the notes stay
    run = lab.get_run(store, done)
    assert run is not None and (run.name, run.notes) == (None, "more factors helped?")
    assert not lab.annotate_run(store, 999, name="x")
    gone = lab.get_run(store, failed)
    assert gone is not None and gone.reason == "No user has 5 or more positive ratings" and gone.lists == b""


def test_a_weight_change_links_to_its_run(store: Store) -> None:
    defaults = {"content": 0.5, "als": 0.5}
    change = lab.change_live_weights(store, {"content": 0.7, "als": 0.3}, "ann", defaults=defaults, run_id=12)
    lab.change_live_weights(store, None, "ann", defaults=defaults)
    assert change.run_id == 12
    assert [c.run_id for c in lab.weight_history(store)] == [None, 12]
