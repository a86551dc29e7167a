"""The evaluation lab: runs in the background (queued, with progress, cancellable), every run
stored and listed, two runs compared, exported, deleted; the page and the CLI show the same
figures for the same stored run; only analysts and admins change the live weights (checked on
the server), every change kept and reset to the defaults."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from recsys.__main__ import main
from recsys.config import Settings
from recsys.evaluation import background, runner, runs
from recsys.evaluation import jobs as lab_jobs
from recsys.evaluation.runner import EvaluationResult
from recsys.jobs import runner as jobs
from recsys.models import registry
from recsys.models.weights import current as live_weights
from recsys.store import Store, lab
from recsys.store import jobs as rows
from tests.app.helpers import onboarded
from tests.models.test_registry import toy  # noqa: F401 - the toy scorer fixture
from tests.support.narrow import present
from tests.support.weights import full, text
from tests.support.ws_session import unescape_markdown

RUN = "FormSubmitter:eval-form-Run evaluation"
JOB = "cb_eval_job"


def job_row(settings: Settings, job_id: int) -> rows.Job:
    """The job's row once this process's job runner is idle (the job's end, no sleep)."""
    assert jobs.wait_all(300)
    with Store.open(settings.store_url) as store:
        job = rows.get(store, job_id)
    assert job is not None
    return job


def open_lab(settings: Settings) -> AppTest:
    at = onboarded(settings)
    at.switch_page("pages/evaluation.py").run()
    assert not at.exception, at.exception
    return at


def info_texts(at: AppTest) -> str:
    return "\n".join(unescape_markdown(str(i.value)) for i in at.info)


def quick(at: AppTest, *, app_data: bool = True, step: float = 0.25) -> None:
    """Fill the form for a quick run (AppTest keeps form values only when submitted in the same run)."""
    at.radio(key="eval-source").set_value(app_data)
    at.select_slider(key="eval-sweep-step").set_value(step)
    at.select_slider(key="eval-grid-step").set_value(0.5)
    at.number_input(key="eval-draws").set_value(1)


def run_to_end(at: AppTest, settings: Settings) -> int:
    """Press Run, wait for the background job (the runner's idle event), let the page poll."""
    at.button(key=RUN).click().run()
    assert not at.exception, at.exception
    job = job_row(settings, at.session_state[JOB])
    at.run()  # the fragment's next poll sees the job done and reruns the page
    assert not at.exception, at.exception
    assert job.state == "done", job.error
    assert job.result is not None
    return int(job.result["run_id"])


def frame_by_columns(at: AppTest, first: str) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe if list(d.value.columns)[:1] == [first]]


def test_background_run_is_stored_shown_and_matches_the_cli(
    model_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    at = open_lab(model_settings)
    assert at.title[0].value == "Evaluation lab"
    assert f"Every feed uses: {text(content=0.5, als=0.2, taste=0.2, popularity=0.1)} (defaults)." in info_texts(at)
    assert "No stored run yet" in info_texts(at)
    assert any("Cost estimate for the default settings: about" in c.value for c in at.caption)

    # MovieLens only: no fixture user has 5 positives -> the job fails with the runner's message
    quick(at, app_data=False)
    at.button(key=RUN).click().run()
    job_row(model_settings, at.session_state[JOB])
    at.run()
    assert any("No user has 5 or more positive ratings" in unescape_markdown(e.value) for e in at.error)
    assert "No stored run yet" in info_texts(at)  # no run with figures; the failure is kept (below)

    quick(at)
    at.text_input(key="eval-run-name").set_value("first try")
    run_id = run_to_end(at, model_settings)
    assert any(f"Run {run_id} finished in" in unescape_markdown(s.value) for s in at.success)
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
    assert any("NDCG@10 by content share of content + als" in s and "orange ring: the live weights" in s for s in specs)
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
    second = run_to_end(at, model_settings)
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


def test_a_run_can_be_cancelled_and_stores_nothing(model_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()
    evaluate = runner.evaluate_catalogue

    def held(*args: Any, **kwargs: Any) -> EvaluationResult:
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
    assert bars and bars[0].proto.text.startswith("Loading the ratings: about") and "left" in bars[0].proto.text
    job_id = at.session_state[JOB]
    at.button(key="eval-cancel").click().run()
    release.set()
    job = job_row(model_settings, job_id)
    at.run()
    assert job.cancelled and job.error == "Cancelled; nothing of it was stored."
    assert any("Cancelled" in unescape_markdown(i.value) for i in at.info)
    store = Store.open(model_settings.store_url)
    try:
        assert lab.list_runs(store) == []
        kept = lab.list_runs(store, statuses=None)  # kept in the history with the reason
        assert [(r.status, r.reason) for r in kept] == [("cancelled", "Cancelled before it finished; no figures.")]
    finally:
        store.close()


def test_one_job_per_user_and_a_rate_limit(model_settings: Settings) -> None:
    """Counted in the store, so every server refuses the same requests."""
    with Store.open(model_settings.store_url) as store:
        first = rows.enqueue(store, lab_jobs.EVALUATE, requested_by="ann", server="web-a:1:aaaaaa")
        with pytest.raises(jobs.JobRefused, match="already have an evaluation queued or running"):
            lab_jobs._admit(store, "ann", None)
        lab_jobs._admit(store, "bob", None)  # another user may queue behind ann's
        rows.finish(store, first.id)
        lab_jobs._admit(store, "ann", None)
        for _ in range(background.RUNS_PER_WINDOW - 1):
            rows.finish(store, rows.enqueue(store, lab_jobs.EVALUATE, requested_by="ann", server="web-b:2:bbbbbb").id)
        with pytest.raises(jobs.JobRefused, match="At most 6 evaluations per 10 minutes per user; try again in"):
            lab_jobs._admit(store, "ann", None)


def test_hyperparameters_are_bounded_with_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    for args, message in (
        (["--factors", "512"], "ALS factors must be between 1 and 256, got 512."),
        (["--iterations", "200"], "ALS iterations must be between 1 and 50, got 200."),
        (["-k", "101"], "K must be between 1 and 100, got 101."),
    ):
        assert main(["evaluate", "--weights", "content=1", *args]) == 1
        assert capsys.readouterr().err.strip() == f"error: {message}"


def test_only_analysts_and_admins_change_the_live_weights(model_settings: Settings) -> None:
    at = open_lab(model_settings)  # alice is the first account: admin
    quick(at)
    run_id = run_to_end(at, model_settings)
    choice = next(s for s in at.selectbox if str(s.key) == f"eval-use-choice-{run_id}")
    # one tested user: no lead can beat the noise, so the live weights stay preselected
    assert choice.value == 0 and any("The live weights are already best" in m.value for m in at.markdown)
    choice.set_value(1).run()  # "Sweep step 1": content's share 0
    deltas = next(
        d.value for d in at.dataframe if list(d.value.columns) == ["Figure", "Split", "Live", "New", "Change"]
    )
    assert set(deltas["Figure"]) >= {"NDCG@10", "Miscalibration", "Popularity lift", "Tail share"}
    at.button(key="eval-use").click().run()
    assert not at.exception, at.exception
    assert any(
        m.value.startswith(f"**New:** {text(content=0.0, als=0.7, taste=0.2, popularity=0.1)}") for m in at.markdown
    )
    assert live_weights(Store.open(model_settings.store_url)) == registry.default_weights()  # nothing before confirming
    at.text_input(key="eval-apply-reason").set_value("first step looks better")
    at.button(key="eval-apply-confirm").click().run()
    assert not at.exception, at.exception
    store = Store.open(model_settings.store_url)
    try:
        expected = full(content=0.0, als=0.7, taste=0.2, popularity=0.1)
        assert live_weights(store) == expected
        assert any(
            t.startswith(
                f"Every feed uses: {text(content=0.0, als=0.7, taste=0.2, popularity=0.1)} (live: set by alice"
            )
            for t in info_texts(at).splitlines()
        )
        change = lab.weight_history(store)[0]
        assert (change.changed_by, change.action, change.old, change.new, change.reason, change.run_id) == (
            "alice",
            "apply",
            None,
            expected,
            "first step looks better",
            run_id,
        )

        # the same weights again: the confirmation says so and offers no Apply
        at.button(key="eval-use").click().run()
        assert at.button(key="eval-apply-confirm").disabled
        assert any("live weights already" in unescape_markdown(i.value) for i in at.info)
        at.button(key="eval-apply-cancel").click().run()
        # demoted while the confirmation (of other weights) is open: its write is refused
        next(s for s in at.selectbox if str(s.key) == f"eval-use-choice-{run_id}").set_value(2).run()
        at.button(key="eval-use").click().run()
        alice = store.get_user("alice")
        assert alice is not None
        store._update_user(alice.id, role="tester")
        at.button(key="eval-apply-confirm").click().run()
        # the next run re-reads the role: no confirmation is processed (weights.apply would refuse
        # it too: tests/test_weights.py)
        assert len(lab.weight_history(store)) == 1
        at.run()
        assert not [b for b in at.button if b.key in ("eval-use", "eval-reset-weights")]

        store._update_user(alice.id, role="analyst")
        at.run()
        at.button(key="eval-reset-weights").click().run()
        assert not at.exception, at.exception
        assert live_weights(store) == full(content=0.5, als=0.2, taste=0.2, popularity=0.1)
        history = lab.weight_history(store)
        assert [c.action for c in history] == ["reset", "apply"] and history[0].old == expected
        shown = next(d.value for d in at.dataframe if "Action" in d.value.columns)
        assert list(shown["Action"]) == ["reset", "apply"] and list(shown["Run"])[1] == run_id
        assert any(t.endswith("(defaults).") for t in info_texts(at).splitlines())  # no "never changed" above a history
    finally:
        store.close()


def test_a_tester_is_told_before_an_expensive_run(model_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
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
    assert any("take about 10 min of the shared server" in unescape_markdown(w.value) for w in at.warning)
    assert JOB not in at.session_state  # nothing started
    quick(at)
    at.button(key=RUN).click().run()  # pressed again: runs
    assert JOB in at.session_state
    job_row(model_settings, at.session_state[JOB])


def test_a_newly_registered_scorer_gets_every_lab_control(model_settings: Settings, toy: object) -> None:
    """One registry line (tests/models/test_registry.py's toy) and the lab offers it in the sweep,
    the grid and the hand-set weights, and a run measures it."""
    at = open_lab(model_settings)
    for key in ("eval-sweep-x", "eval-sweep-y", "eval-grid-x", "eval-grid-y"):
        assert "recency" in at.selectbox(key=key).options, key
    quick(at)
    at.selectbox(key="eval-sweep-x").set_value("recency")
    run_id = run_to_end(at, model_settings)
    choice = next(s for s in at.selectbox if str(s.key) == f"eval-use-choice-{run_id}")
    choice.set_value(len(choice.options) - 1).run()  # "Set each weight by hand"
    assert at.number_input(key="eval-hand-recency").value == 0.0
    steps = [str(o) for o in choice.options if str(o).startswith("Sweep step")]
    shown = {present(re.search(r"recency (\d+\.\d\d)", o)).group(1) for o in steps}
    assert len(steps) >= 3 and len(shown) >= 3  # the sweep varies its weight
