"""Running a scenario: every policy over every seed, metrics with intervals, assertions.

Seed ``s`` runs ``episodes`` sessions with session seeds ``s * episodes + i``, so every
policy meets the same users in the same order (paired comparisons) and seeds never
overlap. Each (policy, seed) batch is scored with :mod:`simrec.metrics`; each figure is
then summarised over seeds by its mean and 95% interval (:mod:`simrec.stats`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simrec.datagen.stepper import default_lanes
from simrec.env import RecSessionEnv
from simrec.llm.accounting import UsageLedger
from simrec.metrics import (
    cold_start_metrics,
    drift_adaptation,
    drift_metrics,
    hallucination_rate,
    novelty_metrics,
    request_curves,
    steerability_metrics,
    turn_curves,
)
from simrec.policies.adapters import load_policy
from simrec.policies.batching import serves_many
from simrec.runner import run_sessions
from simrec.scenario import Assertion, MetricRef, Scenario
from simrec.stats import Interval, interval

if TYPE_CHECKING:
    from simrec.scenario_gauntlet import Substitution

PerSeed = dict[str, dict[str, list[float]]]
"""behaviour -> metric -> one value per seed."""

COUNT_COLUMNS = ("sessions", "survival", "requests")
"""Curve columns that count users: a seed where nobody reached a turn counts 0, not NaN."""


@dataclass(frozen=True)
class Outcome:
    """Whether one assertion held, and by how much (positive margin = held)."""

    assertion: Assertion
    passed: bool
    margin: float
    message: str


@dataclass
class ScenarioResult:
    """Everything a scenario run measured."""

    scenario: Scenario
    per_seed: dict[str, PerSeed]
    curves: dict[str, pd.DataFrame]
    outcomes: list[Outcome] = field(default_factory=list)
    substitutions: list[Substitution] = field(default_factory=list)
    """With ``gauntlet: true``: every gauntlet policy checked in the place of every
    policy an assertion endorses (:mod:`simrec.scenario_gauntlet`)."""
    seed_curves: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    """policy -> one :func:`~simrec.metrics.turn_curves` frame per seed (plus ``survival``)."""
    seed_request_curves: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    """policy -> one :func:`~simrec.metrics.request_curves` frame per seed."""
    horizon: int = 0
    """Turns per session at most (the env's ``max_turns``)."""
    users_usage: UsageLedger | None = None
    """The LLM users' calls over the whole run (``None``: offline users)."""
    policy_usage: dict[str, UsageLedger] = field(default_factory=dict)
    """LLM policy label -> its own calls, apart from the users'."""

    def llm_usage(self) -> dict[str, Any]:
        """The LLM usage of the run as plain values: ``users`` (or ``None``) and
        ``policies`` (label -> the policy's calls, tokens, cost ...)."""
        users = self.users_usage.summary("user") if self.users_usage is not None else None
        return {
            "users": users.to_dict() if users is not None else None,
            "policies": {k: v.summary("policy").to_dict() for k, v in self.policy_usage.items()},
        }

    def figure(self, ref: MetricRef) -> Interval:
        """Mean and 95% interval of ``policy.behaviour.metric``."""
        return interval(self.per_seed[ref.policy][ref.behaviour][ref.metric])

    def summary(self) -> dict[str, dict[str, dict[str, Interval]]]:
        """policy -> behaviour -> metric -> interval."""
        return {
            policy: {
                b: {m: interval(v) for m, v in metrics.items()} for b, metrics in seeds.items()
            }
            for policy, seeds in self.per_seed.items()
        }

    def turn_intervals(self, policy: str) -> pd.DataFrame:
        """Per turn ``1..horizon`` and curve column of ``policy``, its interval over seeds."""
        turns = pd.RangeIndex(1, self.horizon + 1, name="turn")
        return intervals_over_seeds(self.seed_curves[policy], turns)

    def request_intervals(self, policy: str) -> pd.DataFrame:
        """Per offset from the request turn and column, the interval over seeds."""
        frames = self.seed_request_curves[policy]
        return intervals_over_seeds(frames, frames[0].index)

    @property
    def passed(self) -> bool:
        """True when every assertion held and no gauntlet substitution passed one."""
        return all(o.passed for o in self.outcomes) and not self.gamed

    @property
    def gamed(self) -> list[Substitution]:
        """The gauntlet substitutions that passed an assertion (should be none)."""
        return [s for s in self.substitutions if s.passed]

    @property
    def failures(self) -> list[Outcome]:
        """The assertions that did not hold."""
        return [o for o in self.outcomes if not o.passed]


Progress = Callable[[str, int, int], None]


def run_scenario(scenario: Scenario, progress: Progress | None = None) -> ScenarioResult:
    """Run every policy of ``scenario`` on every seed, then check the assertions.

    Args:
        scenario: a loaded scenario.
        progress: called with ``(policy label, seed index, number of seeds)`` before
            each batch (progress bars, logs).
    """
    env = RecSessionEnv(scenario.catalog, scenario.personas, **scenario.env_kwargs)
    horizon = env.max_turns
    per_seed: dict[str, PerSeed] = {}
    curves: dict[str, pd.DataFrame] = {}
    all_curves: dict[str, list[pd.DataFrame]] = {}
    all_requests: dict[str, list[pd.DataFrame]] = {}
    usage: dict[str, UsageLedger] = {}
    for label, spec in scenario.policies.items():
        values: PerSeed = {}
        seed_curves, seed_requests = [], []
        params = dict(spec.params)
        if takes_ledger(spec.policy):  # an LLM policy: its calls are counted per label
            params["ledger"] = usage[label] = UsageLedger(params.get("prices"))
        for k, seed in enumerate(scenario.seeds):
            if progress is not None:
                progress(label, k, len(scenario.seeds))
            policy = load_policy(
                spec.policy,
                env,
                seed=seed,
                params=params,
                load=spec.load,
                wrapper=spec.wrapper,
            )
            try:
                log = run_sessions(
                    env,
                    policy,
                    scenario.episodes,
                    seed=scenario.session_seed(seed),
                    action_form=spec.action_form,
                    # every session of a round at once: one concurrent round of LLM calls
                    concurrency=_lanes(policy, env, scenario.episodes),
                )
            finally:
                getattr(policy, "close", lambda: None)()
            interactions, turns = log.frames()
            for behaviour, metrics in _score(scenario, interactions, turns, horizon).items():
                for name, value in metrics.items():
                    values.setdefault(behaviour, {}).setdefault(name, []).append(value)
            curve = turn_curves(interactions, turns)
            seed_curves.append(curve.assign(survival=curve["sessions"] / scenario.episodes))
            window = scenario.settings["steer_window"]
            seed_requests.append(
                request_curves(interactions, turns, scenario.catalog, window, window)
            )
        per_seed[label] = values
        curves[label] = pd.concat(seed_curves).groupby(level=0).mean().drop(columns="survival")
        all_curves[label], all_requests[label] = seed_curves, seed_requests
    derive(scenario, per_seed)
    result = ScenarioResult(
        scenario,
        per_seed,
        curves,
        seed_curves=all_curves,
        seed_request_curves=all_requests,
        horizon=horizon,
        users_usage=getattr(env.brain, "ledger", None),
        policy_usage=usage,
    )
    getattr(env.brain, "close", lambda: None)()
    result.outcomes = [check(a, result) for a in scenario.assertions]
    if scenario.gauntlet:
        from simrec.scenario_gauntlet import substitutions

        result.substitutions = substitutions(result)
    return result


def takes_ledger(name: str) -> bool:
    """Whether the built-in policy ``name`` makes LLM calls (takes a usage ledger)."""
    from simrec.policies import POLICIES

    return hasattr(getattr(POLICIES.get(name), "config_class", None), "cache_path")


def _lanes(policy: Any, env: RecSessionEnv, episodes: int) -> int:
    """Episodes in flight for ``policy``: a policy serving many visits at once gets a round
    of its ``concurrency`` calls (and the LLM users theirs); any other plays one at a time."""
    if not serves_many(policy):
        return 1
    config = getattr(policy, "config", None)
    wanted = max(getattr(config, "concurrency", 1), default_lanes(env.brain))
    return max(1, min(wanted, episodes))


def _score(
    scenario: Scenario, interactions: pd.DataFrame, turns: pd.DataFrame, horizon: int
) -> dict[str, dict[str, float]]:
    s = scenario.settings
    out = {
        "cold_start": cold_start_metrics(interactions, turns, s["first_turns"], horizon),
        "novelty": novelty_metrics(interactions, turns, scenario.catalog, s["novelty_turns"]),
        "steerability": steerability_metrics(
            interactions, turns, s["steer_window"], catalog=scenario.catalog
        ),
    }
    if scenario.drift_turn is not None:
        out["drift"] = drift_metrics(
            interactions, turns, scenario.drift_turn, s["drift_window"], s["drift_lag"]
        )
    if scenario.semantic_ids:
        out["actions"] = {"hallucination_rate": hallucination_rate(interactions)}
    return out


def derive(scenario: Scenario, per_seed: dict[str, PerSeed]) -> None:
    """Add the figures measured against the oracle's on the same seed, for every policy.

    ``cold_start.normalized_return`` (return / the oracle's) and, with a drift,
    ``drift.relative_before`` / ``relative_after`` / ``adaptation``
    (:func:`~simrec.metrics.drift_adaptation`). NaN without an oracle. They read only
    the measured figures, so re-deriving after swapping a policy's figures for another
    policy's (the gauntlet) gives what running that policy in its place would.
    """
    oracle = per_seed.get(scenario.oracle_label) if scenario.oracle_label else None
    n = len(scenario.seeds)
    for values in per_seed.values():
        own = values["cold_start"]["return"]
        reference = oracle["cold_start"]["return"] if oracle else [math.nan] * n
        values["cold_start"]["normalized_return"] = [
            r / o if o > 0 else math.nan for r, o in zip(own, reference, strict=True)
        ]
        if "drift" not in values:
            continue
        drift = values["drift"]
        derived = [
            drift_adaptation(
                {m: drift[m][k] for m in ("ctr_before", "ctr_after")},
                {m: oracle["drift"][m][k] for m in ("ctr_before", "ctr_after")}
                if oracle
                else {"ctr_before": math.nan, "ctr_after": math.nan},
            )
            for k in range(n)
        ]
        for name in ("relative_before", "relative_after", "adaptation"):
            drift[name] = [d[name] for d in derived]


def intervals_over_seeds(frames: list[pd.DataFrame], index: pd.Index) -> pd.DataFrame:
    """Mean and 95% interval over seeds of every cell of per-seed curve frames.

    Args:
        frames: one frame per seed, same columns, indexed by turn (or offset).
        index: the rows to report; a seed without a row counts 0 users
            (:data:`COUNT_COLUMNS`) and has no value for the other columns.

    Returns:
        A frame over ``index`` whose cells are :class:`~simrec.stats.Interval` objects.
    """
    aligned = []
    for frame in frames:
        frame = frame.reindex(index)
        counts = [c for c in COUNT_COLUMNS if c in frame]
        frame[counts] = frame[counts].fillna(0)
        aligned.append(frame.to_numpy(float))
    stacked = np.stack(aligned)  # seeds x rows x columns
    columns = frames[0].columns
    return pd.DataFrame(
        {
            column: [interval(stacked[:, row, j]) for row in range(len(index))]
            for j, column in enumerate(columns)
        },
        index=index,
    )


# -- assertions ---------------------------------------------------------------------------
def check(assertion: Assertion, result: ScenarioResult) -> Outcome:
    """Evaluate ``assertion`` on the intervals of ``result``.

    ``a > b`` / ``a >= b`` hold when the lower bound of ``a`` is above (at least) the
    upper bound of ``b``; ``a < b`` / ``a <= b`` when the upper bound of ``a`` is below
    (at most) the lower bound of ``b``. A number is an interval of width zero. The
    margin is the gap between those bounds: positive when the check holds, and its
    absolute value is "by how much" when it fails.
    """
    left = result.figure(assertion.left)
    right = (
        result.figure(assertion.right)
        if isinstance(assertion.right, MetricRef)
        else Interval(assertion.right, assertion.right, assertion.right, 0)
    )
    if assertion.op in (">", ">="):
        margin, mine, theirs = left.low - right.high, "lower", "upper"
    else:
        margin, mine, theirs = right.low - left.high, "upper", "lower"
    if math.isnan(margin) or math.isnan(left.mean) or math.isnan(right.mean):
        passed, margin = False, math.nan
    else:
        passed = margin > 0 or (assertion.op in (">=", "<=") and margin == 0)
    return Outcome(
        assertion, passed, margin, _message(assertion, left, right, passed, margin, mine, theirs)
    )


def _describe(ref: MetricRef | float, figure: Interval) -> str:
    if not isinstance(ref, MetricRef):
        return f"{ref:g}"
    if figure.n == 0:
        return f"{ref} = n/a (nothing to measure)"
    return (
        f"{ref} = {figure.mean:.4g} [95% CI {figure.low:.4g}, {figure.high:.4g}; {figure.n} seeds]"
    )


def _message(
    assertion: Assertion,
    left: Interval,
    right: Interval,
    passed: bool,
    margin: float,
    mine: str,
    theirs: str,
) -> str:
    head = f"{'PASSED' if passed else 'FAILED'}: {assertion.text}"
    detail = f"{_describe(assertion.left, left)} vs {_describe(assertion.right, right)}"
    if math.isnan(margin):
        return f"{head}\n  {detail}\n  cannot decide: a figure has no value"
    relation = {">": "above", ">=": "at least", "<": "below", "<=": "at most"}[assertion.op]
    bound = f"the {mine} bound {_bound(left, mine):.4g} must be {relation} "
    bound += (
        f"the {theirs} bound {_bound(right, theirs):.4g}"
        if isinstance(assertion.right, MetricRef)
        else f"{assertion.right:g}"
    )
    verdict = f"holds by {margin:.4g}" if passed else f"short by {-margin:.4g}"
    return f"{head}\n  {detail}\n  {bound}: {verdict}"


def _bound(figure: Interval, which: str) -> float:
    return figure.low if which == "lower" else figure.high


def result_rows(result: ScenarioResult) -> list[dict[str, Any]]:
    """One row per (policy, behaviour, metric): mean, interval, seeds (the CSV layout)."""
    rows = []
    for policy, behaviours in result.summary().items():
        for behaviour, metrics in behaviours.items():
            for metric, figure in metrics.items():
                rows.append(
                    {"policy": policy, "behaviour": behaviour, "metric": metric, **figure.to_dict()}
                )
    return rows
