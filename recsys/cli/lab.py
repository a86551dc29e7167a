"""The evaluation lab's CLI: ``evaluate``'s lab options (``--save`` with ``--name`` / ``--notes``,
``--sample-users``, the grid, segments, the extra cut-offs ``--at-k``) and ``python -m recsys runs
list | show | compare | delete | edit | inspect`` over the stored run history
(:mod:`recsys.evaluation.runs`; the page shows the same figures)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from recsys.config import Settings
from recsys.errors import CineBlendError

if TYPE_CHECKING:
    from recsys.evaluation.results import EvaluationResult
    from recsys.store import Store


def add_evaluate_options(p: argparse.ArgumentParser) -> None:
    """The lab's options of ``evaluate``."""
    from recsys.evaluation.config import AT_KS, MAX_NEW_USER_DRAWS, SWEEP_USERS

    p.add_argument("--save", action="store_true", help="store the run in the history (see `runs list`)")
    p.add_argument("--name", help="with --save: the run's name in the history (editable: `runs edit`)")
    p.add_argument("--notes", help="with --save: free-text notes on the run (editable: `runs edit`)")
    p.add_argument(
        "--at-k",
        type=int,
        nargs="*",
        default=list(AT_KS),
        metavar="K",
        help="further cut-offs reported for every model on test (default "
        + " ".join(str(k) for k in AT_KS)
        + "; -k still chooses; `--at-k` alone: none)",
    )
    p.add_argument("--sample-users", type=int, metavar="N", help="evaluate on a seeded sample of N users (quick runs)")
    p.add_argument(
        "--sweep-users",
        type=int,
        default=SWEEP_USERS,
        metavar="N",
        help="on a validation split with more users, the sweep, the grid and the ranking stages' settings "
        f"score a seeded sample of N of them and the chosen ones are then reported on every user "
        f"(default {SWEEP_USERS:,}; 0: every user)",
    )
    p.add_argument(
        "--grid",
        nargs=2,
        metavar=("X", "Y"),
        default=("content", "als"),
        help="the two scorers whose weights the 2-D grid varies on validation (default content als)",
    )
    p.add_argument(
        "--sweep-pair",
        nargs=2,
        metavar=("X", "Y"),
        default=("content", "als"),
        help="the two registered scorers the sweep trades weight between; the others keep their current "
        "weights (default content als)",
    )
    p.add_argument("--grid-step", type=float, default=0.25, help="grid resolution, 0.1 to 1 (default 0.25)")
    p.add_argument("--no-grid", action="store_true", help="skip the 2-D weight grid")
    p.add_argument("--no-segments", action="store_true", help="skip the activity / popularity / new-user segments")
    p.add_argument(
        "--new-user-draws",
        type=int,
        default=3,
        help=f"seeded draws of the simulated new user after onboarding, 0 to {MAX_NEW_USER_DRAWS} (default 3)",
    )


def config_options(args: argparse.Namespace) -> dict[str, Any]:
    """``EvaluationConfig`` keyword arguments from the lab's options."""
    return {
        "sample_users": args.sample_users,
        "sweep_users": args.sweep_users or None,
        "grid": None if args.no_grid else tuple(args.grid),
        "grid_step": args.grid_step,
        "sweep_pair": tuple(args.sweep_pair),
        "segments": not args.no_segments,
        "new_user_draws": 0 if args.no_segments else args.new_user_draws,
        "at_ks": tuple(args.at_k or ()),
    }


def save_result(
    args: argparse.Namespace, settings: Settings, result: EvaluationResult, model_version: str
) -> dict[str, Any] | None:
    """With ``--save``: store the run; returns its ``run`` header for the JSON output."""
    if not args.save:
        return None
    from recsys.catalog.build import catalogue_stamp
    from recsys.evaluation import runs
    from recsys.store import Store

    with Store.open(settings.store_url) as store:
        run_id = runs.save(
            store,
            result,
            created_by=None,
            model_version=model_version,
            catalogue_build=catalogue_stamp(settings.parquet_dir),
            dataset=runs.dataset_label(settings.movielens_url, result.config.with_app_data, result.config.sample_users),
            name=args.name,
            notes=args.notes,
        )
        meta = runs.run_meta(runs.get(store, run_id))
    print(f"Stored as run {run_id} (`python -m recsys runs show {run_id}`).", file=sys.stderr)
    return meta


def add_runs_parser(sub: Any) -> None:
    p = sub.add_parser(
        "runs",
        help="stored evaluation runs: list, show, compare, delete",
        description="The evaluation history shared with the evaluation page: every run stored by "
        "the page or by `evaluate --save`.",
    )
    runs_sub = p.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    q = runs_sub.add_parser("list", help="the stored runs, newest first")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_list)
    q = runs_sub.add_parser("show", help="one run's figures (--json: the page's export, byte for byte)")
    q.add_argument("id", type=int, help="run id (see `runs list`)")
    q.add_argument("--json", action="store_true", help="print the run's JSON document")
    q.add_argument("--csv", action="store_true", help="print the per-model table (test split) as CSV")
    q.set_defaults(func=_show)
    q = runs_sub.add_parser("compare", help="two runs side by side with deltas and a paired test")
    q.add_argument("a", type=int, help="run A")
    q.add_argument("b", type=int, help="run B")
    q.add_argument("--metric", help="per-user metric of the paired test (default: run A's)")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_compare)
    q = runs_sub.add_parser("delete", help="delete a stored run")
    q.add_argument("id", type=int, help="run id")
    q.set_defaults(func=_delete)
    q = runs_sub.add_parser("edit", help="set a run's name and / or notes (an empty text clears it)")
    q.add_argument("id", type=int, help="run id")
    q.add_argument("--name", help="the run's name")
    q.add_argument("--notes", help="the run's notes")
    q.set_defaults(func=_edit)
    q = runs_sub.add_parser(
        "inspect", help="one tested user of a run: training history, held-out titles, each model's top 10"
    )
    q.add_argument("id", type=int, help="run id")
    q.add_argument("user", type=int, nargs="?", help="tested user id (default: list the tested users)")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_inspect)


def _open(settings: Settings) -> Store:
    from recsys.store import Store

    return Store.open(settings.store_url)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.evaluation import run_views
    from recsys.evaluation.report import text_table
    from recsys.store import lab

    with _open(settings) as store:
        stored = lab.list_runs(store, statuses=None)
    table = run_views.runs_table(stored)
    if args.json:
        print(json.dumps(table.to_dicts(), indent=2, default=str))
    elif not stored:
        print("No stored runs yet: `python -m recsys evaluate --save` or the evaluation page stores one.")
    else:
        print(text_table(table))
    return 0


def _show(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.evaluation import run_compare, run_settings, run_views, runs
    from recsys.evaluation.report import segments_text, text_table

    with _open(settings) as store:
        run = runs.get(store, args.id)
    if args.json:
        print(runs.run_json(run))
        return 0
    if args.csv:
        sys.stdout.write(run_views.models_csv(run))
        return 0
    from recsys.evaluation.report import at_k_table

    doc = run.document
    cfg = doc.get("config", {})
    print(
        f"{run_views.run_label(run)}: {run.dataset}, {run.protocol} protocol, K={cfg.get('k')}; model "
        f"{run.model_version}; catalogue {run.catalogue_build}; settings #{run_settings.settings_id(run)} "
        f"({run_settings.settings_summary(run)})."
    )
    if run.notes:
        print(f"Notes: {run.notes}")
    if run.status != "done":
        print(f"This run {run.status}: {run.reason or 'no reason given'}. It has no figures.")
        return 0
    print()
    print(text_table(run_views.stored_models_table(run, "test")))
    intervals = run_compare.figure_intervals(run)
    if intervals.height:
        print(
            f"\nBootstrap 95% intervals (test, {run_compare.BOOTSTRAP_RESAMPLES:,} seeded resamples of the tested users):"
        )
        print(text_table(intervals))
    at_k = at_k_table(doc)
    if at_k.height:
        print("\nEvery model at several cut-offs (test):")
        print(text_table(at_k))
    val = run_views.stored_models_table(run, "validation")
    if val.height:
        print("\nValidation split:")
        print(text_table(val))
    seg = segments_text(doc, cfg.get("metric", "ndcg"), int(cfg.get("k", 10)))
    if seg:
        print("\n" + seg)
    return 0


def _compare(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.evaluation import run_compare, run_views, runs

    with _open(settings) as store:
        a, b = runs.get(store, args.a), runs.get(store, args.b)
    try:
        cmp = run_compare.compare_runs(a, b, args.metric)
    except CineBlendError:
        raise
    if args.json:
        print(json.dumps(cmp.to_dict(), indent=2, default=str))
    else:
        print(run_views.compare_text(cmp, int(a.document.get("config", {}).get("k", 10))))
    return 0


def _delete(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.evaluation import runs

    with _open(settings) as store:
        runs.delete(store, args.id)
    print(f"Deleted run {args.id}.")
    return 0


def _edit(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.evaluation import run_views, runs

    if args.name is None and args.notes is None:
        raise CineBlendError("Nothing to change: give --name and / or --notes.")
    with _open(settings) as store:
        runs.annotate(store, args.id, name=args.name, notes=args.notes)
        run = runs.get(store, args.id)
    print(f"{run_views.run_label(run)}" + (f"; notes: {run.notes}" if run.notes else ""))
    return 0


def _inspect(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.evaluation import runs
    from recsys.evaluation.report import text_table

    with _open(settings) as store:
        run = runs.get(store, args.id)
    if args.user is None:
        users = runs.inspector_users(run)
        if not users:
            raise CineBlendError(f"Run {run.id} stored no per-user lists; run the evaluation again to inspect users.")
        print(f"Run {run.id} tested {len(users):,} users: " + " ".join(str(u) for u in users))
        return 0
    view = runs.inspect_user(run, args.user)
    if args.json:
        doc = {
            "run": run.id,
            "user": view.user,
            "history": view.history.to_dicts(),
            "held_out": view.held_out,
            "tops": view.tops,
            "hits": {m: view.hits(m) for m in view.tops},
        }
        print(json.dumps(doc, indent=2))
        return 0
    print(f"Run {run.id}, user {view.user}: {view.history.height} training ratings, {len(view.held_out)} held out.")
    print("Held out: " + ", ".join(view.held_out))
    print("\nEach model's top list (HIT: a held-out title):")
    print(text_table(view.tops_table()))
    print("\nTraining history (oldest first):")
    print(text_table(view.history))
    return 0
