"""LLM-played users checked against the offline model: one scenario, several brains, the
same sessions, side by side.

Every brain plays every policy of the scenario on every seed (:mod:`.runs`); each
(policy, seed) batch is measured with the pure metrics of :mod:`simrec.metrics`:

* rates: CTR, clicks per slate, purchase rate, conversion, dismissal rate, leave rate,
  session length, final satisfaction (:func:`~simrec.metrics.reaction_rates`);
* the response to a steering request: compliance, satisfaction and churn when the
  request was followed or ignored (:func:`~simrec.metrics.steerability_metrics`);
* curves: CTR, purchase and dismissal rates by slot position
  (:func:`~simrec.metrics.position_curves`), by turn with the leave hazard
  (:func:`~simrec.metrics.turn_curves`), and by how many times an item was shown before in
  the visit, the response to repeated slates (:func:`~simrec.metrics.repeat_curves`).

Figures are reported for the policies pooled (group ``all``: the scenario's policy mix is
the probe: random slates for positions, a repetitive policy for repetition, a listening
one for requests) and for each policy, as the mean and 95% interval over seeds; a
difference from the first brain (the reference) is the interval of the per-seed paired
differences, since every brain meets the same users on the same seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simrec.calibration.runs import BrainRun, BrainSpec, Log, Progress, run_brain
from simrec.metrics import (
    position_curves,
    reaction_rates,
    repeat_curves,
    steerability_metrics,
    turn_curves,
)
from simrec.scenario import Scenario
from simrec.scenario_run import intervals_over_seeds
from simrec.stats import Interval, interval

ALL = "all"
"""The group of every policy pooled."""
RATES = (
    "ctr", "clicks_per_slate", "purchase_rate", "conversion", "dismissal_rate", "leave_rate",
    "session_length", "final_satisfaction",
)  # fmt: skip
STEERING = (
    "compliance", "satisfaction_followed", "satisfaction_ignored", "churn_followed",
    "churn_ignored", "requests",
)  # fmt: skip
CURVES = {
    "position": ("impressions", "ctr", "purchase_rate", "dismissal_rate"),
    "turn": ("sessions", "ctr", "purchase_rate", "dismissal_rate", "left", "satisfaction"),
    "repeat": ("impressions", "ctr", "dismissal_rate"),
}
"""Curve kind -> its columns (``turn``'s ``left`` is the leave hazard)."""
REPEATS = 3
"""Repeat counts of 3 and more are pooled in the last row of the ``repeat`` curve."""
_SESSION_STRIDE = 1 << 40
"""Session ids of policy ``k`` are shifted by ``k`` strides when the policies are pooled
(every policy meets the same session ids)."""


@dataclass
class GroupFigures:
    """One group's figures (a policy, or ``all``), per brain and seed.

    Attributes:
        values: brain label -> metric -> one value per seed.
        curves: brain label -> curve kind -> one frame per seed.
    """

    values: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    curves: dict[str, dict[str, list[pd.DataFrame]]] = field(default_factory=dict)


@dataclass
class Comparison:
    """What :func:`compare_brains` measured.

    Attributes:
        scenario: the scenario played.
        brains: the brains, the first being the reference of the differences.
        groups: ``all`` and each policy label -> its figures.
        usage: brain label -> its LLM usage report (LLM brains only).
        runs: the brains' event logs (for a fit, or your own metrics).
    """

    scenario: Scenario
    brains: list[BrainSpec]
    groups: dict[str, GroupFigures]
    usage: dict[str, str] = field(default_factory=dict)
    runs: dict[str, BrainRun] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        """The brains' labels, reference first."""
        return [b.label for b in self.brains]

    @property
    def horizon(self) -> int:
        """Turns per session at most."""
        return int(self.scenario.env_kwargs.get("max_turns", 20))

    def figure(self, metric: str, brain: str, group: str = ALL) -> Interval:
        """Mean and 95% interval over seeds of ``metric`` for ``brain``."""
        return interval(self.groups[group].values[brain][metric])

    def difference(self, metric: str, brain: str, group: str = ALL) -> Interval:
        """``brain`` minus the reference, paired by seed: mean and 95% interval."""
        values = self.groups[group].values
        mine, ref = values[brain][metric], values[self.labels[0]][metric]
        return interval([a - b for a, b in zip(mine, ref, strict=True)])

    def curve(self, kind: str, brain: str, group: str = ALL) -> pd.DataFrame:
        """A curve (``position``, ``turn`` or ``repeat``) of ``brain``: per row and
        column, the :class:`~simrec.stats.Interval` over seeds."""
        frames = self.groups[group].curves[brain][kind]
        return intervals_over_seeds(frames, _curve_index(kind, self))

    def to_json(self) -> dict[str, Any]:
        """Everything measured, as JSON-ready data (NaN as ``None``)."""
        s = self.scenario
        out: dict[str, Any] = {
            "scenario": s.name,
            "source": s.source,
            "seeds": list(s.seeds),
            "episodes": s.episodes,
            "horizon": self.horizon,
            "policies": list(s.policies),
            "brains": [{"label": b.label, "brain": b.brain} for b in self.brains],
            "reference": self.labels[0],
            "usage": dict(self.usage),
            "groups": {},
        }
        for group in self.groups:
            out["groups"][group] = {
                "metrics": {
                    metric: {
                        brain: self.figure(metric, brain, group).to_dict() for brain in self.labels
                    }
                    for metric in (*RATES, *STEERING)
                },
                "differences": {
                    metric: {
                        brain: self.difference(metric, brain, group).to_dict()
                        for brain in self.labels[1:]
                    }
                    for metric in (*RATES, *STEERING)
                },
                "curves": {
                    kind: {
                        brain: _curve_json(self.curve(kind, brain, group)) for brain in self.labels
                    }
                    for kind in CURVES
                },
            }
        return out


def measure(
    interactions: pd.DataFrame, turns: pd.DataFrame, scenario: Scenario
) -> tuple[dict[str, float], dict[str, pd.DataFrame]]:
    """One batch's figures: ``({metric: value}, {curve kind: frame})``."""
    rates = reaction_rates(interactions, turns)
    steering = steerability_metrics(
        interactions, turns, scenario.settings["steer_window"], catalog=scenario.catalog
    )
    values = {**{m: rates[m] for m in RATES}, **{m: steering[m] for m in STEERING}}
    curves = {
        "position": position_curves(interactions),
        "turn": turn_curves(interactions, turns),
        "repeat": repeat_curves(interactions, REPEATS),
    }
    return values, {kind: curves[kind][list(CURVES[kind])] for kind in CURVES}


def pooled(logs: Sequence[Log]) -> Log:
    """The logs of several policies on one seed as one log (session ids kept apart)."""
    parts_i, parts_t = [], []
    for k, (interactions, turns) in enumerate(logs):
        shift = k * _SESSION_STRIDE
        parts_i.append(interactions.assign(session_id=interactions["session_id"] + shift))
        parts_t.append(turns.assign(session_id=turns["session_id"] + shift))
    return pd.concat(parts_i, ignore_index=True), pd.concat(parts_t, ignore_index=True)


GAPS = {
    "CTR by turn": ("turn", "ctr", "sessions"),
    "purchase rate by turn": ("turn", "purchase_rate", "sessions"),
    "leave hazard by turn": ("turn", "left", "sessions"),
    "CTR by slot position": ("position", "ctr", "impressions"),
    "dismissals by slot position": ("position", "dismissal_rate", "impressions"),
    "CTR by times shown before": ("repeat", "ctr", "impressions"),
}
"""The curves :func:`curve_gaps` compares: kind, column, and the weight of each row."""


def curve_gaps(recorded: BrainRun, other: BrainRun) -> dict[str, float]:
    """How far ``other``'s curves are from ``recorded``'s, every policy and seed pooled.

    Returns:
        Per curve of :data:`GAPS`, the mean absolute difference over the rows both have,
        weighted by the recorded row's visits or impressions (0 = the same curve).
    """
    mine = _all_curves(recorded)
    theirs = _all_curves(other)
    out = {}
    for name, (kind, column, weight) in GAPS.items():
        a, b = mine[kind], theirs[kind]
        rows = a.index.intersection(b.index)
        w = a.loc[rows, weight].to_numpy(float)
        gap = np.abs(a.loc[rows, column].to_numpy(float) - b.loc[rows, column].to_numpy(float))
        out[name] = float((w * gap).sum() / w.sum()) if w.sum() > 0 else float("nan")
    return out


def _all_curves(run: BrainRun) -> dict[str, pd.DataFrame]:
    interactions, turns = pooled([log for batches in run.logs.values() for log in batches])
    return {
        "turn": turn_curves(interactions, turns),
        "position": position_curves(interactions),
        "repeat": repeat_curves(interactions, REPEATS),
    }


def compare_runs(scenario: Scenario, runs: Sequence[BrainRun]) -> Comparison:
    """Measure brains' runs of ``scenario`` (the first run is the reference)."""
    groups = {ALL: GroupFigures(), **{label: GroupFigures() for label in scenario.policies}}
    for run in runs:
        brain = run.spec.label
        for k in range(len(scenario.seeds)):
            batches = {label: run.logs[label][k] for label in scenario.policies}
            batches[ALL] = pooled(list(batches.values()))
            for group, (interactions, turns) in batches.items():
                values, curves = measure(interactions, turns, scenario)
                figures = groups[group]
                for metric, value in values.items():
                    figures.values.setdefault(brain, {}).setdefault(metric, []).append(value)
                for kind, frame in curves.items():
                    figures.curves.setdefault(brain, {}).setdefault(kind, []).append(frame)
    return Comparison(
        scenario,
        [run.spec for run in runs],
        groups,
        usage={r.spec.label: r.usage for r in runs if r.usage is not None},
        runs={r.spec.label: r for r in runs},
    )


def compare_brains(
    scenario: Scenario,
    brains: Sequence[BrainSpec],
    *,
    concurrency: int = 8,
    progress: Progress | None = None,
) -> Comparison:
    """Run ``scenario`` with each of ``brains`` and measure them side by side.

    Raises:
        ConfigError: fewer than two brains.
        LLMConfigError, CacheMissError: from an LLM brain.
    """
    from simrec.errors import ConfigError

    if len(brains) < 2:
        raise ConfigError("compare at least two brains, e.g. --brains utility,anthropic")
    runs = [run_brain(scenario, b, concurrency=concurrency, progress=progress) for b in brains]
    return compare_runs(scenario, runs)


def _curve_index(kind: str, comparison: Comparison) -> pd.Index:
    if kind == "position":
        k = int(comparison.scenario.env_kwargs.get("slate_size", 5))
        return pd.RangeIndex(1, k + 1, name="position")
    if kind == "turn":
        return pd.RangeIndex(1, comparison.horizon + 1, name="turn")
    return pd.RangeIndex(0, REPEATS + 1, name="shown_before")


def _curve_json(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for index, row in frame.iterrows():
        rows.append({frame.index.name: int(index), **{c: row[c].to_dict() for c in frame.columns}})
    return rows


__all__ = [
    "ALL",
    "CURVES",
    "RATES",
    "STEERING",
    "Comparison",
    "GroupFigures",
    "GAPS",
    "compare_brains",
    "compare_runs",
    "curve_gaps",
    "measure",
    "pooled",
]
