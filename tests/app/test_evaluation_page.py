"""The evaluation lab: runs in the background (queued, with progress, cancellable), every run
stored and listed, two runs compared, exported, deleted; the page and the CLI show the same
figures for the same stored run; only analysts and admins change the live weights (checked on
the server), every change kept and reset to the defaults."""

from __future__ import annotations

import json
import threading

import pytest
from streamlit.testing.v1 import AppTest

from recsys.__main__ import main
from recsys.config import Settings
from recsys.evaluation import background, runner, runs
from recsys.feed import live_weights
from recsys.store import Store, lab
from tests.app.helpers import onboarded

RUN = "FormSubmitter:eval-form-Run evaluation"
JOB = "cb_eval_job"


@pytest.fixture(autouse=True)
def fresh_queue(monkeypatch: pytest.MonkeyPatch) -> background.EvaluationQueue:
    """A queue of the test's own (the page reads ``background.QUEUE`` through its module)."""
    queue = background.EvaluationQueue()
    monkeypatch.setattr(background, "QUEUE", queue)
    return queue


def open_lab(settings: Settings) -> AppTest:
    at = onboarded(settings)
    at.switch_page("pages/evaluation.py").run()
    assert not at.exception, at.exception
    return at


def info_texts(at: AppTest) -> str:
    return "\n".join(str(i.value) for i in at.info)


def quick(at: AppTest, *, app_data: bool = True, step: float = 0.25) -> None:
    """Fill the form for a quick run (AppTest keeps form values only when submitted in the same run)."""
    at.radio(key="eval-source").set_value(app_data)
    at.select_slider(key="eval-sweep-step").set_value(step)
    at.select_slider(key="eval-grid-step").set_value(0.5)
    at.number_input(key="eval-draws").set_value(1)


def run_to_end(at: AppTest, queue: background.EvaluationQueue) -> int:
    """Press Run, wait for the background job (no sleep: the job's event), let the page poll."""
    at.button(key=RUN).click().run()
    assert not at.exception, at.exception
    job = queue.get(at.session_state[JOB])
    assert job is not None
    assert job.wait(300)
    at.run()  # the fragment's next poll sees the job done and reruns the page
    assert not at.exception, at.exception
    assert job.state == "done", job.error
    assert job.run_id is not None
    return job.run_id


def frame_by_columns(at: AppTest, first: str):  # type: ignore[no-untyped-def]
    return [d.value for d in at.dataframe if list(d.value.columns)[:1] == [first]]


def test_background_run_is_stored_shown_and_matches_the_cli(
    model_settings: Settings, capsys: pytest.CaptureFixture[str], fresh_queue: background.EvaluationQueue
) -> None:
    at = open_lab(model_settings)
    assert at.title[0].value == "Evaluation lab"
    assert "Live weights: content 0.50, als 0.20, taste 0.20, popularity 0.10 (the defaults" in info_texts(at)
    assert "No stored run yet" in info_texts(at)
    assert any("Cost estimate for the default settings: about" in c.value for c in at.caption)

    # MovieLens only: no fixture user has 5 positives -> the job fails with the runner's message
    quick(at, app_data=False)
    at.button(key=RUN).click().run()
    job = fresh_queue.get(at.session_state[JOB])
    assert job is not None and job.wait(300)
    at.run()
    assert any("No user has 5 or more positive ratings" in e.value for e in at.error)
    assert "No stored run yet" in info_texts(at)  # no run with figures; the failure is kept (below)

    quick(at)
    at.text_input(key="eval-run-name").set_value("first try")
    run_id = run_to_end(at, fresh_queue)
    assert any(f"Run {run_id} finished in" in s.value for s in at.success)
    listed = frame_by_columns(at, "Run")[0]
    assert list(listed["Run"]) == [run_id, run_id - 1] and list(listed["By"]) == ["alice", "alice"]
    assert list(listed["Name"]) == ["first try", ""] and listed["Status"][0] == "done"
    assert listed["Status"][1].startswith("failed: No user has 5 or more positive ratings")
    assert listed["Settings"][0] != listed["Settings"][1]  # app data vs MovieLens only
    assert any(t.value.startswith(f"Run {run_id} · first try · ") for t in at.text)
    # the run's own intervals and cut-offs, the user inspector, from the stored run
    intervals = frame_by_columns(at, "Model")[2]
    assert "NDCG@10 95% CI" in intervals.columns and list(intervals["Model"]) == list(runner.model_names())
    at_k = frame_by_columns(at, "Model")[3]
    assert [c for c in at_k.columns if c.startswith("NDCG@")] == ["NDCG@5", "NDCG@10", "NDCG@20"]
    assert at.selectbox(key=f"eval-inspect-{run_id}").value == -1  # the one tested app user
    inspected = frame_by_columns(at, "Rank")[0]
    assert list(inspected.columns) == ["Rank", *runner.model_names()]
    assert list(inspected["Rank"]) == ["1", "2", "3"]  # the fixture catalogue leaves 3 candidates
    cells = [c for c in inspected[runner.HYBRID] if c]
    assert cells and not any(c.removeprefix("HIT: ").startswith("tt") for c in cells)  # titles by name
    side_by_side = frame_by_columns(at, "Model")[0]
    assert list(side_by_side.columns) == ["Model", "NDCG@10 validation", "NDCG@10 test"]
    table = frame_by_columns(at, "Model")[1]
    assert list(table["Model"]) == list(runner.model_names())
    # the ranking stages: every setting tried on validation, and which one the served row uses
    stages = frame_by_columns(at, "Stages")[0]
    assert stages["Stages"].iloc[0] == "none" and "Miscalibration" in stages.columns
    assert any(c.value.startswith("The served row is what the feed ranks") for c in at.caption)
    # the baseline is outside the hybrid: an empty weight cell, never "None"
    assert table["content w"][0] == "" and table["content w"][1] == "1.00"
    # the taste columns, next to coverage and diversity, each with its one-line definition
    assert list(table.columns)[-4:] == ["Diversity (genres)", "Miscalibration", "Popularity lift", "Tail share"]
    assert table["Miscalibration"].notna().all()
    shown_before = [m.value for m in at.markdown if m.value.startswith("**Shown before**")]
    assert shown_before and "Coverage, Novelty (bits), Avg popularity, Diversity (genres)" in shown_before[0]
    captions = [c.value for c in at.caption]
    for start in (
        "Coverage: share of the ranked catalogue",
        "Diversity (genres): intra-list genre diversity",
        "Miscalibration: KL divergence",
        "Popularity lift: mean ln(1 + IMDb votes)",
        "Tail share: share of the top K outside the short head",
    ):
        assert any(c.startswith(start) for c in captions), start
    assert any("(Steck 2018)" in c and "alpha 0.01" in c for c in captions)
    assert any("1 tested user (1 app user)" in c.value for c in at.caption)
    assert any("over 1 user " in m.value or "over 1 user:" in m.value for m in at.markdown)
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert any("NDCG@10 by content weight" in s for s in specs)
    assert any("on validation by content and als weight" in s and '"rect"' in s for s in specs)  # the heatmap
    assert any("the orange ring marks the live weights" in c.value for c in at.caption)
    assert any("By user activity" in m.value for m in at.markdown)
    bands = frame_by_columns(at, "Ratings in training")[0]
    assert list(bands["Users"]) == [1]
    popularity = frame_by_columns(at, "Band")[0]
    assert list(popularity["Band"]) == ["head", "torso", "tail"]
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Export run (JSON)", "Models, test (CSV)", "Models, validation (CSV)"]

    # the CLI shows the same stored run: the page's export document and the same figures
    store = Store.open(model_settings.store_url)
    try:
        exported = runs.run_json(runs.get(store, run_id))
    finally:
        store.close()
    capsys.readouterr()
    assert main(["runs", "show", str(run_id), "--json"]) == 0
    assert capsys.readouterr().out.strip() == exported
    cli = json.loads(exported)
    for metric in runner.SUMMARY:
        page = list(table[runner.metric_label(metric, 10)])
        assert [round(row[metric], 4) for row in cli["models"]] == pytest.approx(page), metric
    assert cli["best"]["chosen_on"] == "validation"
    assert main(["runs", "list"]) == 0
    assert f"{run_id}" in capsys.readouterr().out

    # a second run: compare the two side by side, with the paired test on the shared user
    quick(at, step=0.5)
    second = run_to_end(at, fresh_queue)
    assert list(frame_by_columns(at, "Run")[0]["Run"]) == [second, run_id, run_id - 1]
    at.selectbox(key=f"eval-compare-{second}").set_value(run_id).run()
    assert not at.exception, at.exception
    assert any(f"Run {run_id} (A) vs run {second} (B)" in m.value for m in at.markdown)
    differ = frame_by_columns(at, "Setting")[0]
    assert differ.values.tolist() == [["sweep", "0, 1, 0.25", "0, 1, 0.5"]]
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert any("(each run's own K)" in s for s in specs)  # the metric across the two runs
    compare = frame_by_columns(at, "Model")[0]
    assert list(compare.columns) == ["Model", "Metric", f"Run {run_id}", f"Run {second}", "Delta (B - A)"]
    tests = frame_by_columns(at, "Model")[1]
    assert set(tests["Shared users"]) == {1}
    capsys.readouterr()
    assert main(["runs", "compare", str(run_id), str(second), "--json"]) == 0
    cli_cmp = json.loads(capsys.readouterr().out)
    assert [r["Delta (B - A)"] for r in cli_cmp["table"]] == pytest.approx(list(compare["Delta (B - A)"]), nan_ok=True)

    # delete the older run
    at.selectbox(key="eval-run").set_value(run_id).run()
    at.button(key="eval-delete").click().run()
    assert not at.exception, at.exception
    assert list(frame_by_columns(at, "Run")[0]["Run"]) == [second, run_id - 1]
    assert main(["runs", "show", str(run_id)]) == 1


def test_a_run_can_be_cancelled_and_stores_nothing(
    model_settings: Settings, fresh_queue: background.EvaluationQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    evaluate = runner.evaluate_catalogue

    def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        progress = kwargs["progress"]
        progress("evaluation: loading data", 0, 2)
        started.set()
        assert release.wait(60)
        return evaluate(*args, **kwargs)  # reports progress at once: the cancel flag stops it

    monkeypatch.setattr(runner, "evaluate_catalogue", held)
    at = open_lab(model_settings)
    quick(at)
    at.button(key=RUN).click().run()
    assert started.wait(60)
    at.run()
    assert not at.exception, at.exception
    bars = at.get("progress")
    assert bars and "evaluation: loading data" in bars[0].proto.text and "left" in bars[0].proto.text
    at.button(key="eval-cancel").click().run()
    release.set()
    job = fresh_queue.get(at.session_state[JOB])
    assert job is not None and job.wait(120)
    at.run()
    assert job.state == "cancelled"
    assert any("cancelled" in i.value for i in at.info)
    store = Store.open(model_settings.store_url)
    try:
        assert lab.list_runs(store) == []
        kept = lab.list_runs(store, statuses=None)  # kept in the history with the reason
        assert [(r.status, r.reason) for r in kept] == [
            ("cancelled", "The evaluation was cancelled; nothing was stored.")
        ]
    finally:
        store.close()


def test_one_job_per_user_and_a_rate_limit(fresh_queue: background.EvaluationQueue) -> None:
    gate = threading.Event()
    config = runner.EvaluationConfig()

    def work(progress):  # type: ignore[no-untyped-def]
        gate.wait(30)
        return 1

    job = fresh_queue.submit("ann", config, 1.0, work)
    with pytest.raises(runner.EvaluationError, match="already have an evaluation queued or running"):
        fresh_queue.submit("ann", config, 1.0, work)
    other = fresh_queue.submit("bob", config, 1.0, work)  # queued behind ann's, not parallel
    assert fresh_queue.position(other) == 1
    gate.set()
    assert job.wait(30) and other.wait(30)
    limited = background.EvaluationQueue(runs_per_window=2)
    for _ in range(2):
        assert limited.submit("ann", config, 1.0, lambda p: 1).wait(30)
    with pytest.raises(runner.EvaluationError, match="At most 2 evaluations per 10 minutes per user; try again in"):
        limited.submit("ann", config, 1.0, lambda p: 1)


def test_hyperparameters_are_bounded_with_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    for args, message in (
        (["--factors", "512"], "ALS factors must be between 1 and 256, got 512."),
        (["--iterations", "200"], "ALS iterations must be between 1 and 50, got 200."),
        (["-k", "101"], "K must be between 1 and 100, got 101."),
    ):
        assert main(["evaluate", "--weights", "content=1", *args]) == 1
        assert capsys.readouterr().err.strip() == f"error: {message}"


def test_only_analysts_and_admins_change_the_live_weights(
    model_settings: Settings, fresh_queue: background.EvaluationQueue
) -> None:
    at = open_lab(model_settings)  # alice is the first account: admin
    quick(at)
    at.slider(key="eval-pop").set_value(0.2)
    run_to_end(at, fresh_queue)
    use = next(s for s in at.select_slider if str(s.key).startswith("eval-use-content-"))
    use.set_value(1.0).run()
    at.button(key="eval-use").click().run()
    assert not at.exception, at.exception
    store = Store.open(model_settings.store_url)
    try:
        expected = {"content": 1.0, "als": 0.0, "taste": 0.2, "popularity": 0.2}
        assert live_weights(store) == expected
        assert "Live weights: content 0.71, als 0.00, taste 0.14, popularity 0.14, set by alice" in info_texts(at)
        change = lab.weight_history(store)[0]
        assert (change.changed_by, change.action, change.old, change.new) == ("alice", "apply", None, expected)

        # demoted while the page is open: the button's action is refused on the server
        alice = store.get_user("alice")
        assert alice is not None
        store._update_user(alice.id, role="tester")
        at.button(key="eval-use").click().run()
        assert any("Only analysts and admins may change the live weights" in e.value for e in at.error)
        assert len(lab.weight_history(store)) == 1
        at.run()
        assert not [b for b in at.button if b.key in ("eval-use", "eval-reset-weights")]

        store._update_user(alice.id, role="analyst")
        at.run()
        at.button(key="eval-reset-weights").click().run()
        assert not at.exception, at.exception
        assert live_weights(store) == {"content": 0.5, "als": 0.2, "taste": 0.2, "popularity": 0.1}
        history = lab.weight_history(store)
        assert [c.action for c in history] == ["reset", "apply"] and history[0].old == expected
        shown = next(d.value for d in at.dataframe if "Action" in d.value.columns)
        assert list(shown["Action"]) == ["reset", "apply"]
    finally:
        store.close()


def test_a_tester_is_told_before_an_expensive_run(
    model_settings: Settings, fresh_queue: background.EvaluationQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_lab(model_settings)
    store = Store.open(model_settings.store_url)
    try:
        alice = store.get_user("alice")
        assert alice is not None
        store._update_user(alice.id, role="tester")
    finally:
        store.close()
    monkeypatch.setattr(background, "estimate_seconds", lambda size, config: 600.0)
    at.run()
    quick(at)
    at.button(key=RUN).click().run()
    assert any("take about 10 min of the shared server" in w.value for w in at.warning)
    assert JOB not in at.session_state  # nothing started
    quick(at)
    at.button(key=RUN).click().run()  # pressed again: runs
    assert JOB in at.session_state
    job = fresh_queue.get(at.session_state[JOB])
    assert job is not None and job.wait(300)
