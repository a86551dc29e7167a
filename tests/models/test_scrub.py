"""Deleting an account takes its ALS row out of every saved model version, and every version
still verifies and loads afterwards (the manifest is rewritten with the new checksums)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from recsys.app import users
from recsys.app.pipeline import train_model
from recsys.config import Settings
from recsys.models.artifacts import verify, versions
from recsys.models.base import load_npz
from recsys.models.service import Recommender
from recsys.store import Store, accounts

PASSWORD = "Secret#123"


def als_users(version: Path) -> list[str]:
    return json.loads((version / "hybrid" / "als" / "users.json").read_text())


def test_removing_an_account_scrubs_its_rows_from_every_saved_model(app_settings: Settings) -> None:
    with Store.open(app_settings.store_url) as store:
        accounts.register(store, "root", "Root", "root@example.com", PASSWORD)
        dave = accounts.register(store, "dave", "Dave", "dave@example.com", PASSWORD)
        keep = accounts.register(store, "erin", "Erin", "erin@example.com", PASSWORD)
        from recsys.catalog.queries import Catalog

        tconsts = Catalog(app_settings.parquet_dir).all_titles()["tconst"].to_list()[:8]
        for i, tconst in enumerate(tconsts):
            store.rate(dave.id, tconst, 1 if i % 3 else 2)
            store.rate(keep.id, tconst, 1)
    train_model(app_settings)
    train_model(app_settings)  # a current and a kept version
    saved = versions(app_settings.models_dir)
    assert len(saved) == 2
    before = {v.name: (als_users(v), load_npz(v / "hybrid" / "als" / "als.npz")["user_factors"]) for v in saved}
    for version in saved:
        assert f"app:{dave.id}" in als_users(version) and f"app:{keep.id}" in als_users(version)

    with Store.open(app_settings.store_url) as store:
        removal = users.remove(store, "dave", app_settings.models_dir, app_settings.data_dir)
        assert store.get_user("dave") is None
        assert store.interactions(dave.id).height == 0 and store.history(dave.id).height == 0
    assert sorted(removal.model_versions) == sorted(v.name for v in saved)

    for version in saved:
        names = als_users(version)
        assert f"app:{dave.id}" not in names and f"app:{keep.id}" in names
        factors = load_npz(version / "hybrid" / "als" / "als.npz")["user_factors"]
        old_names, old_factors = before[version.name]
        assert names == [n for n in old_names if n != f"app:{dave.id}"]
        assert factors.shape[0] == len(names) == old_factors.shape[0] - 1
        # every other row is untouched, in the same order
        kept_rows = [i for i, n in enumerate(old_names) if n != f"app:{dave.id}"]
        assert np.array_equal(factors, old_factors[kept_rows])
        verify(version)  # checksums still valid
        Recommender.load(version)  # and it loads


def test_removing_a_user_who_is_in_no_model_changes_no_file(app_settings: Settings, model_settings: Settings) -> None:
    with Store.open(app_settings.store_url) as store:
        accounts.register(store, "root", "Root", "root@example.com", PASSWORD)
        accounts.register(store, "zoe", "Zoe", "zoe@example.com", PASSWORD)
        manifests = {v.name: (v / "manifest.json").read_bytes() for v in versions(app_settings.models_dir)}
        removal = users.remove(store, "zoe", app_settings.models_dir, app_settings.data_dir)
    assert removal.model_versions == ()
    assert manifests == {v.name: (v / "manifest.json").read_bytes() for v in versions(app_settings.models_dir)}
