"""Experiments and their arms (pure data, checked), and the sticky A/B assignment.

An arm is a full setting of the feed: hybrid weights over any registered scorer and, optionally,
ranking-stage strengths (:mod:`recsys.models.rerank.registry`; missing stages at their defaults).
Arms whose settings are identical are refused: they could only ever produce a tie.

**Assignment** (A/B): ``sha256("<experiment id>:<user id>")`` read as an integer, modulo the
number of arms. Every server computes the same arm for the same tester with no shared state, so
the assignment is sticky across sessions and servers; the store keeps a copy for the analysis.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from recsys.columns import KINDS
from recsys.errors import CineBlendError, ModelError
from recsys.models import registry
from recsys.models.rerank import registry as stages_registry

METHODS: dict[str, str] = {"ab": "A/B test", "interleave": "Team-draft interleaving"}
SECTIONS: dict[str, str] = {"movie": "Movies", "tv": "TV shows"}
ARM_NAME_MAX = 40
#: Fewest onboarded testers an experiment on a section needs: each A/B arm one, interleaving two
#: (a verdict from a single person is that person's taste).
MIN_TESTERS_PER_ARM = 1
MIN_TESTERS_INTERLEAVE = 2


class ExperimentError(CineBlendError):
    """An experiment that cannot be created, started or shipped as asked; the message says why."""


@dataclass(frozen=True)
class Arm:
    """One setting under test: ``weights`` (every registered scorer, checked) and ``stages``
    (only the strengths that differ from the model's)."""

    name: str
    weights: dict[str, float]
    stages: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "weights": dict(self.weights), "stages": dict(self.stages)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Arm:
        return cls(str(data["name"]), dict(data["weights"]), dict(data.get("stages") or {}))

    def describe(self) -> str:
        """``"content 0.50, als 0.20, taste 0.20, popularity 0.10; calibration 0.70"``."""
        text = registry.format_weights(self.weights)
        if self.stages:
            text += "; " + ", ".join(f"{k} {v:.2f}" for k, v in self.stages.items())
        return text

    def key(self) -> tuple[tuple[str, float], ...]:
        """What makes two arms the same setting: their checked weights and full stage strengths."""
        full = stages_registry.check_strengths(self.stages)
        return tuple(sorted(self.weights.items())) + tuple(sorted(("stage:" + k, v) for k, v in full.items()))


@dataclass(frozen=True)
class Experiment:
    id: int
    name: str
    section: str
    method: str
    arms: tuple[Arm, ...]
    status: str
    created_at: datetime
    created_by: str | None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    shipped_arm: str | None = None
    notes: str | None = None

    def arm(self, name: str) -> Arm:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise ExperimentError(f"Experiment {self.id} has no arm named {name!r}; its arms: {self.arm_names()}.")

    def arm_names(self) -> str:
        return ", ".join(a.name for a in self.arms)

    def describe(self) -> str:
        """``"#3 Taste vs blend (A/B test, Movies, running)"``."""
        return f"#{self.id} {self.name} ({METHODS[self.method]}, {SECTIONS[self.section]}, {self.status})"


def check_arms(arms: Sequence[Mapping[str, Any] | Arm]) -> tuple[Arm, ...]:
    """Two or more arms with distinct names and distinct settings; weights and stages checked
    against the registries. One-line :class:`ExperimentError` otherwise, e.g. ``Arms A and B have
    identical settings (content 0.50, ...): an experiment needs settings that differ.``"""
    if len(arms) < 2:
        raise ExperimentError(f"An experiment needs two or more arms; got {len(arms)}.")
    out: list[Arm] = []
    for raw in arms:
        arm = raw if isinstance(raw, Arm) else Arm.from_dict(raw)
        name = " ".join(arm.name.split())
        if not name or len(name) > ARM_NAME_MAX:
            raise ExperimentError(f"An arm name has 1 to {ARM_NAME_MAX} characters; got {arm.name!r}.")
        try:
            weights = registry.check_weights(arm.weights)
            stages_registry.check_strengths(arm.stages)
        except ModelError as exc:
            raise ExperimentError(f"Arm {name}: {exc}") from None
        stages = {k: float(v) for k, v in arm.stages.items()}
        out.append(Arm(name, weights, stages))
    names = [a.name for a in out]
    if len(set(names)) != len(names):
        raise ExperimentError(f"Arm names must differ; got {', '.join(names)}.")
    seen: dict[tuple[tuple[str, float], ...], Arm] = {}
    for arm in out:
        twin = seen.get(arm.key())
        if twin is not None:
            raise ExperimentError(
                f"Arms {twin.name} and {arm.name} have identical settings ({arm.describe()}): "
                "an experiment needs settings that differ."
            )
        seen[arm.key()] = arm
    return tuple(out)


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ExperimentError(f"Unknown method {method!r}; choose one of: {', '.join(METHODS)}.")
    return method


def check_section(section: str) -> str:
    if section not in KINDS:
        raise ExperimentError(f"Unknown section {section!r}; choose one of: {', '.join(KINDS)}.")
    return section


def min_testers(method: str, arms: int) -> int:
    """Onboarded testers an experiment needs before it can start."""
    return MIN_TESTERS_INTERLEAVE if method == "interleave" else MIN_TESTERS_PER_ARM * arms


def assign(experiment_id: int, user_id: int, arms: Sequence[str]) -> str:
    """The A/B arm of ``user_id``: ``sha256("<experiment>:<user>")`` modulo the arm count; the same
    on every server and in every session. ``assign(1, 1, ["A", "B"])`` -> ``"B"``."""
    digest = hashlib.sha256(f"{int(experiment_id)}:{int(user_id)}".encode()).digest()
    return arms[int.from_bytes(digest[:8], "big") % len(arms)]


def render_seed(session: str, experiment_id: int, section: str) -> int:
    """The interleaving coin flips of one session's feed: stable across its reruns."""
    digest = hashlib.sha256(f"{session}:{int(experiment_id)}:{section}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
