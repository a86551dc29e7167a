"""The evaluation lab: runs on a button press, shows the models table, the sweep chart and the
significance result, matches the CLI's figures, and "Use these weights" changes the feed's."""

from __future__ import annotations

import json

import pytest

from recsys.__main__ import main
from recsys.config import Settings
from recsys.evaluation import runner
from recsys.feed import live_weights
from recsys.store import Store
from tests.app.helpers import onboarded

RUN = "FormSubmitter:eval-form-Run evaluation"


def open_lab(settings: Settings):  # type: ignore[no-untyped-def]
    at = onboarded(settings)
    at.switch_page("pages/evaluation.py").run()
    assert not at.exception, at.exception
    return at


def info_texts(at) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(str(i.value) for i in at.info)


def test_run_shows_table_chart_significance_and_matches_the_cli(
    model_settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = []
    evaluate = runner.evaluate_catalogue

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(kwargs.get("catalog"))
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(runner, "evaluate_catalogue", counting)
    at = open_lab(model_settings)
    assert at.title[0].value == "Evaluation lab"
    assert "Live weights: content 0.50, als 0.20, taste 0.20, popularity 0.10 (the defaults" in info_texts(at)
    assert "press **Run evaluation**" in info_texts(at)
    assert not at.dataframe  # nothing runs before the button

    # changing a control does not run anything (the controls sit in a form)
    at.select_slider(key="eval-sweep-step").set_value(0.25)
    at.run()
    assert not at.dataframe

    at.button(key=RUN).click().run()  # MovieLens only: no fixture user has 5 positives
    assert not at.exception, at.exception
    assert any("No user has 5 or more positive ratings" in e.value for e in at.error)
    assert not at.dataframe

    # AppTest keeps form values only when they are submitted in the same run
    at.radio(key="eval-source").set_value(True)
    at.select_slider(key="eval-sweep-step").set_value(0.25)
    at.button(key=RUN).click().run()
    assert not at.exception, at.exception
    side_by_side = at.dataframe[0].value
    assert list(side_by_side.columns) == ["Model", "NDCG@10 validation", "NDCG@10 test"]
    table = at.dataframe[1].value  # the test split's full table
    assert list(table["Model"]) == list(runner.model_names())
    assert list(table["Model"]) == [
        "popularity",
        "content",
        "ALS",
        "taste",
        "popularity (IMDb)",
        "hybrid (current)",
        "hybrid (best sweep step)",
    ]
    assert list(side_by_side["NDCG@10 test"]) == list(table["NDCG@10"])
    validation = at.dataframe[2].value
    assert list(validation["Model"]) == list(table["Model"])
    assert "NDCG@10" in table.columns and "Diversity (genres)" in table.columns
    # alice's 10 onboarding likes make her the one tested user (MovieLens fixture users have < 5 positives)
    assert any("1 tested user (1 app user)" in c.value for c in at.caption)
    charts = at.get("vega_lite_chart")
    spec = charts[0].proto.spec
    assert "NDCG@10 by content weight" in spec and "strokeDash" in spec  # the baseline's dashed rule
    assert any("Best step by NDCG@10 (chosen on validation)" in m.value for m in at.markdown)
    assert any("over 1 users" in m.value for m in at.markdown)  # the significance line
    sweep = at.dataframe[3].value
    assert list(sweep["content w"]) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert "NDCG@10 (validation)" in sweep.columns

    # the CLI with the same settings prints the same figures
    capsys.readouterr()
    assert main(["evaluate", "--with-app-data", "--sweep", "0:1:0.25", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in cli["models"]] == list(table["Model"])
    for metric in runner.SUMMARY:
        page = list(table[runner.metric_label(metric, 10)])
        assert [round(row[metric], 4) for row in cli["models"]] == pytest.approx(page), metric
    assert cli["best"]["weights"]["content"] == list(sweep["content w"])[list(sweep["best"]).index("◀ best")]
    assert cli["best"]["chosen_on"] == "validation"
    assert [r["model"] for r in cli["validation"]["models"]] == list(validation["Model"])

    # returning to the page shows the cached result at once, without pressing the button
    before = len(runs)
    at.switch_page("pages/feed.py").run()
    at.switch_page("pages/evaluation.py").run()
    assert not at.exception
    assert list(at.dataframe[1].value["NDCG@10"]) == list(table["NDCG@10"])
    assert len(runs) == before  # served from the cache, not evaluated again
    assert at.radio(key="eval-source").value is True  # the controls show the last run's settings


def test_use_these_weights_sets_the_live_weights(model_settings: Settings) -> None:
    at = open_lab(model_settings)
    at.radio(key="eval-source").set_value(True)
    at.select_slider(key="eval-sweep-step").set_value(0.5)
    at.slider(key="eval-pop").set_value(0.2)
    at.button(key=RUN).click().run()
    assert not at.exception, at.exception
    # any two configurations can be tested against each other
    pick = next(s for s in at.selectbox if str(s.key).startswith("eval-sig-a-"))
    pick.set_value("popularity").run()
    assert any(m.value.startswith("NDCG@10: popularity ") and "vs hybrid (current)" in m.value for m in at.markdown)
    use = next(s for s in at.select_slider if str(s.key).startswith("eval-use-content-"))
    use.set_value(1.0).run()
    at.button(key="eval-use").click().run()
    assert not at.exception, at.exception
    store = Store.open(model_settings.store_url)
    try:
        expected = {"content": 1.0, "als": 0.0, "taste": 0.2, "popularity": 0.2}
        assert live_weights(store) == expected
        value, _, by = store.setting_info("hybrid_weights")  # type: ignore[misc]
        assert value == expected and by == "alice"
    finally:
        store.close()
    assert "Live weights: content 1.00, als 0.00, taste 0.20, popularity 0.20, set by alice" in info_texts(at)
    assert any("The feed now uses content 1.00" in s.value for s in at.success)


def test_an_old_stored_weight_list_is_read_in_scorer_order(model_settings: Settings) -> None:
    store = Store.open(model_settings.store_url)
    try:
        store.set_setting("hybrid_weights", [0.2, 0.7, 0.1], updated_by="ds")
        assert live_weights(store) == {"content": 0.2, "als": 0.7, "taste": 0.0, "popularity": 0.1}
        store.set_setting("hybrid_weights", {"nope": 1}, updated_by="ds")
        assert live_weights(store) == {"content": 0.5, "als": 0.2, "taste": 0.2, "popularity": 0.1}
    finally:
        store.close()
