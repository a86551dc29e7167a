"""What produced a stored run's figures, as settings people compare: every setting of its
configuration (the weights one by one), the dataset, the model version and the catalogue build
(:func:`run_settings`); their fingerprint (:func:`settings_id`: runs whose settings differ never
share it), what differs from a fresh evaluation's defaults (:func:`settings_summary`) and between
two runs (:func:`settings_diff`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from recsys.evaluation.config import EvaluationConfig
from recsys.store import lab

if TYPE_CHECKING:
    pass


def _text(value: Any) -> str:
    """A setting's value as shown: ``None`` -> "none", a list -> "0, 1, 0.1", a float without
    trailing zeros (``0.25``, ``1e-05``)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) if value else "none"
    return str(value)


def run_settings(run: lab.RunInfo) -> dict[str, str]:
    """Everything that produced a run's figures, flattened to ``{setting: text}``: each key of
    its configuration (the weights one by one, ``weights.content`` ...), then the dataset, the
    model version and the catalogue build. Example: ``{"k": "10", "weights.content": "0.5", ...,
    "dataset": "ml-latest-small.zip", "model version": "v3", "catalogue build": "..."}``."""
    out: dict[str, str] = {}
    cfg = run.document.get("config") or run.config or {}
    for key in sorted(cfg):
        value = cfg[key]
        if isinstance(value, Mapping):
            for name in sorted(value):
                out[f"{key}.{name}"] = _text(value[name])
            if not value:
                out[key] = "none"
        else:
            out[key] = _text(value)
    out["dataset"] = run.dataset
    out["model version"] = run.model_version
    out["catalogue build"] = run.catalogue_build
    return out


def settings_id(run: lab.RunInfo) -> str:
    """A short fingerprint of :func:`run_settings` (8 hex digits of its SHA-256): runs with the
    same settings share it, runs whose settings differ in anything never do (in practice)."""
    text = json.dumps(run_settings(run), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _defaults() -> dict[str, str]:
    from recsys.models import registry

    cfg = EvaluationConfig().to_dict()
    cfg["weights"] = registry.default_weights()
    flat = {}
    for key, value in cfg.items():
        if isinstance(value, Mapping):
            flat.update({f"{key}.{n}": _text(v) for n, v in value.items()})
        else:
            flat[key] = _text(value)
    return flat


def settings_summary(run: lab.RunInfo) -> str:
    """The settings that differ from the defaults of a fresh evaluation (weights from the
    registry's defaults), as ``"k=20, factors=32, weights.content=1"``; "defaults" when none."""
    defaults = _defaults()
    settings = run_settings(run)
    changed = [f"{key}={value}" for key, value in settings.items() if key in defaults and defaults[key] != value]
    missing = [f"{key}={defaults[key]}" for key in defaults if key not in settings and key != "at_ks"]
    return ", ".join(changed) if changed or missing else "defaults"


def settings_diff(a: lab.RunInfo, b: lab.RunInfo) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(different, same)``: every setting of either run (:func:`run_settings`) as rows
    ``Setting, Run <a>, Run <b>``, split into those that differ (a setting only one run has shows
    "-" for the other) and those that are the same. Example: runs with K 10 and 20 and nothing
    else changed -> different = [("k", "10", "20")]."""
    sa, sb = run_settings(a), run_settings(b)
    keys = list(sa) + [k for k in sb if k not in sa]
    col_a, col_b = f"Run {a.id}", f"Run {b.id}"
    schema = {"Setting": pl.String, col_a: pl.String, col_b: pl.String}
    rows = [{"Setting": k, col_a: sa.get(k, "-"), col_b: sb.get(k, "-")} for k in keys]
    different = [r for r in rows if r[col_a] != r[col_b]]
    same = [r for r in rows if r[col_a] == r[col_b]]
    return pl.DataFrame(different, schema=schema), pl.DataFrame(same, schema=schema)
