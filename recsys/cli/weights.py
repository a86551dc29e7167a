"""``python -m recsys weights show|set|reset|history``: the live hybrid weights from the command
line, through :mod:`recsys.models.weights` like the lab and the notebook (the same role check, the same
audited history). ``--as NAME`` names the existing analyst or admin account the change is made as.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from recsys.config import Settings
from recsys.errors import CineBlendError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "weights",
        help="the hybrid weights every feed uses: show, set, reset, history",
        description="The weights the feed, `recommend` and `evaluate` use: live (set here or in the "
        "evaluation lab), else the current model's tuned weights (`tune`, then `train`), else the "
        "defaults. Every change is kept with who, when, old, new and why.",
    )
    weights_sub = p.add_subparsers(dest="weights_command", metavar="ACTION", required=True)
    q = weights_sub.add_parser("show", help="the weights in use and where they come from")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_show)
    q = weights_sub.add_parser("set", help="make weights live for every feed (analysts and admins)")
    q.add_argument("weights", help="name=value pairs of registered scorers, e.g. content=0.5,als=0.3,taste=0.2")
    _who(q)
    q.add_argument("--run", type=int, help="the evaluation run the weights come from (see `runs list`)")
    q.set_defaults(func=_set)
    q = weights_sub.add_parser("reset", help="drop the live weights: back to the tuned ones, else the defaults")
    _who(q)
    q.set_defaults(func=_reset)
    q = weights_sub.add_parser("history", help="every change, newest first")
    q.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_history)


def _who(q: argparse.ArgumentParser) -> None:
    q.add_argument(
        "--as",
        dest="as_user",
        action="append",
        required=True,
        metavar="NAME",
        help="the existing analyst or admin account the change is made as (its role is checked)",
    )
    q.add_argument("--reason", default="", help="why (kept in the history)")


def _one_account(args: argparse.Namespace) -> str:
    names = list(dict.fromkeys(args.as_user))
    if len(names) != 1:
        raise CineBlendError(f"--as names one account; got {', '.join(names)}.")
    return str(names[0])


def _store(settings: Settings) -> Any:
    from recsys.store import Store

    return Store.open(settings.store_url)


def _model(settings: Settings) -> Any:
    from recsys.models.config import latest_config

    return latest_config(settings.models_dir)


def _show(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.models import weights

    with _store(settings) as store:
        resolved = weights.resolve(store, _model(settings))
    if args.json:
        print(
            json.dumps(
                {
                    "weights": resolved.weights,
                    "source": resolved.source,
                    "changed_at": resolved.changed_at,
                    "changed_by": resolved.changed_by,
                },
                indent=2,
                default=str,
            )
        )
    else:
        print(resolved.describe())
    return 0


def _set(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.models import weights
    from recsys.models.registry import parse_weights

    new = parse_weights(args.weights)
    who = _one_account(args)
    with _store(settings) as store:
        if args.run is not None:
            from recsys.store import lab

            if lab.get_run(store, args.run) is None:
                raise CineBlendError(f"No stored run {args.run}; see `python -m recsys runs list`.")
        change = weights.apply(store, new, by=who, reason=args.reason, run_id=args.run)
    print(
        f"Live weights now {weights.text(change.new)} (change {change.id}, by {who}); feeds use them from their next render."
    )
    return 0


def _reset(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.models import weights

    who = _one_account(args)
    with _store(settings) as store:
        change = weights.reset(store, by=who, recommender=_model(settings), reason=args.reason)
        now = weights.resolve(store, _model(settings))
    print(f"Live weights removed (change {change.id}, by {who}); feeds now use {now.describe()}.")
    return 0


def _history(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.models import weights

    with _store(settings) as store:
        changes = weights.history(store, max(1, args.limit))
    if args.json:
        print(json.dumps([c.__dict__ for c in changes], indent=2, default=str))
        return 0
    if not changes:
        print("No change yet: the feed uses the model's tuned weights, else the defaults.")
        return 0
    for c in changes:
        run = f", from run {c.run_id}" if c.run_id is not None else ""
        why = f": {c.reason}" if c.reason else ""
        print(
            f"{c.id:>4}  {c.changed_at:%Y-%m-%d %H:%M} UTC  {c.changed_by or 'unknown'}  {c.action:<5}  "
            f"{weights.text(c.new)}{run}{why}"
        )
    return 0
