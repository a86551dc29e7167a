"""``python -m recsys experiments list|show|stop`` (and ``create|start|pause|ship`` for headless
use): the online experiments of :mod:`recsys.experiments`, through the same role-checked
functions as the lab page. ``--as NAME`` names the analyst or admin account a change is made as.

Example::

    python -m recsys experiments create --name "Taste vs blend" --section movie --method interleave \\
        --arm "A=content=0.5,als=0.2,taste=0.2,popularity=0.1" \\
        --arm "B=content=0.2,als=0.6,taste=0.2;calibration=0.7" --as ann
    python -m recsys experiments start 1 --as ann
    python -m recsys experiments show 1            # per-arm rates, preference, verdict
    python -m recsys experiments show 1 --csv      # the per-arm table
    python -m recsys experiments stop 1 --as ann   # logs kept
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from recsys.config import Settings
from recsys.errors import CineBlendError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "experiments",
        help="online A/B tests and interleaving with testers: list, show, stop",
        description="Online experiments comparing hybrid settings on the testers' feed. Changes are "
        "made as an analyst or admin account (--as); stopping keeps every log.",
    )
    es = p.add_subparsers(dest="experiments_command", metavar="ACTION", required=True)
    q = es.add_parser("list", help="every experiment, newest first")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_list)
    q = es.add_parser("show", help="one experiment's results: rates per arm, preference, verdict")
    q.add_argument("id", type=int)
    fmt = q.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the whole result as JSON")
    fmt.add_argument("--csv", action="store_true", help="print the per-arm table as CSV")
    q.set_defaults(func=_show)
    for action, text in (
        ("start", "start or resume (its testers see the arms from their next render)"),
        ("pause", "pause (its testers see the live weights; logs kept)"),
        ("stop", "stop for good (its testers see the live weights; every log kept)"),
    ):
        q = es.add_parser(action, help=text)
        q.add_argument("id", type=int)
        _who(q)
        q.set_defaults(func=_status, action=action)
    q = es.add_parser("create", help="a new experiment (a draft until started)")
    q.add_argument("--name", required=True)
    q.add_argument("--section", required=True, choices=("movie", "tv"))
    q.add_argument("--method", required=True, choices=("ab", "interleave"))
    q.add_argument(
        "--arm",
        action="append",
        required=True,
        metavar="NAME=WEIGHTS[;STAGES]",
        help='an arm, e.g. "B=content=0.2,als=0.8;calibration=0.7" (two or more)',
    )
    _who(q)
    q.set_defaults(func=_create)
    q = es.add_parser("ship", help="make an arm's weights live (audited, linked to the experiment)")
    q.add_argument("id", type=int)
    q.add_argument("arm")
    _who(q)
    q.add_argument("--reason", default="", help="why (kept in the weight history)")
    q.set_defaults(func=_ship)


def _who(q: argparse.ArgumentParser) -> None:
    q.add_argument("--as", dest="as_user", required=True, metavar="NAME", help="the analyst or admin account")


def _store(settings: Settings) -> Any:
    from recsys.store import Store

    return Store.open(settings.store_url)


def parse_arm(text: str) -> dict[str, Any]:
    """``"B=content=0.2,als=0.8;calibration=0.7"`` -> ``{"name": "B", "weights": {...}, "stages": {...}}``."""
    from recsys.models.registry import parse_weights
    from recsys.models.rerank.registry import parse_strengths

    name, sep, rest = text.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise CineBlendError(f"An arm is NAME=WEIGHTS[;STAGES], e.g. B=content=0.2,als=0.8; got {text!r}.")
    weights_text, _, stages_text = rest.partition(";")
    return {
        "name": name.strip(),
        "weights": parse_weights(weights_text),
        "stages": parse_strengths(stages_text) if stages_text.strip() else {},
    }


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.experiments import records

    with _store(settings) as store:
        found = records.list_all(store)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": e.id,
                        "name": e.name,
                        "section": e.section,
                        "method": e.method,
                        "status": e.status,
                        "arms": [a.to_dict() for a in e.arms],
                        "created_by": e.created_by,
                        "created_at": e.created_at,
                        "shipped_arm": e.shipped_arm,
                    }
                    for e in found
                ],
                indent=2,
                default=str,
            )
        )
        return 0
    if not found:
        print("No experiment yet; create one on the Experiments page or with `experiments create`.")
        return 0
    for e in found:
        shipped = f", shipped {e.shipped_arm}" if e.shipped_arm else ""
        print(f"{e.describe()}  arms {e.arm_names()}  by {e.created_by or 'unknown'}{shipped}")
    return 0


def _show(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.experiments import analysis, records

    with _store(settings) as store:
        exp = records.get(store, args.id)
        if exp is None:
            raise CineBlendError(f"No experiment {args.id}; `python -m recsys experiments list` shows them.")
        result = analysis.analyse(store, exp)
    if args.json:
        print(result.to_json())
        return 0
    if args.csv:
        print(result.to_csv(), end="")
        return 0
    print(exp.describe())
    for arm, row in zip(exp.arms, result.arms, strict=True):
        r = row.rates
        print(
            f"  {arm.name}: {arm.describe()}\n"
            f"    {row.cards} cards ({row.exposures} exposures) in {row.sessions} sessions of {row.testers} testers; "
            + ", ".join(
                f"{name} {r[name].rate:.1%} [{r[name].low:.1%}, {r[name].high:.1%}]"
                for name in ("like", "superlike", "dislike", "hide")
            )
        )
    if result.preference is not None:
        wins = ", ".join(f"{k} {v}" for k, v in result.preference.wins.items())
        print(f"  sessions preferring each arm: {wins} (of {result.preference.sessions} sessions)")
    print(result.verdict.text)
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.experiments import manage

    with _store(settings) as store:
        fn = {"start": manage.start, "pause": manage.pause, "stop": manage.stop}[args.action]
        exp = fn(store, args.id, by=args.as_user)
    print(f"{exp.describe()}; every log is kept.")
    return 0


def _create(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.experiments import manage

    arms = [parse_arm(a) for a in args.arm]
    with _store(settings) as store:
        exp = manage.create(store, by=args.as_user, name=args.name, section=args.section, method=args.method, arms=arms)
    print(f"Created {exp.describe()}; start it with `python -m recsys experiments start {exp.id} --as NAME`.")
    return 0


def _ship(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.experiments import manage
    from recsys.models import weights

    with _store(settings) as store:
        change = manage.ship(store, args.id, args.arm, by=args.as_user, reason=args.reason)
    print(f"Live weights now {weights.text(change.new)} (change {change.id}, from experiment {args.id}).")
    return 0
