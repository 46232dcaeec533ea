"""Seed robustness of a scenario's verdicts, measured: pass rates over seed blocks, and flips.

A scenario's assertions pass on its own seeds; a user who changes the seeds should not get
a red CI for no reason. :func:`robustness` reruns the scenario on ``blocks`` independent
seed blocks of its own size (block ``b`` shifts every seed by ``b`` times the span of the
scenario's seeds, so blocks share no session with each other or with the scenario's own
run) and reports each assertion's pass rate. It also perturbs every user-model parameter
(each :class:`~simrec.brains.utility.UtilityParams` field for the utility brain, each
:class:`~simrec.session.SessionDynamics` field) by ``-by`` and ``+by`` (25%) on the
scenario's own seeds and reports the assertions whose verdict flips: a verdict that hangs
on one coefficient being exactly what it is says more about the coefficient than the
policies.

Only the policies the assertions name run (and the oracle, when an assertion uses a figure
measured against it). Runs are independent, so they spread over worker processes; results
are gathered in a fixed order, so they do not depend on the number of workers.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from typing import Any

from simrec.brains.utility import UtilityParams
from simrec.errors import ConfigError, SimrecError
from simrec.scenario import ORACLE_RELATIVE, MetricRef, Scenario
from simrec.scenario_run import run_scenario
from simrec.session import SessionDynamics
from simrec.stats import finite_or_none

SHARES = frozenset({"item_decay", "category_decay", "initial_satisfaction"})
"""Parameters that are shares (of exposure kept, of satisfaction): perturbed within [0, 1]."""


@dataclass(frozen=True)
class Variant:
    """One rerun of a scenario: different seeds, or one parameter changed."""

    kind: str
    """``block`` or ``param``."""
    label: str
    """``block 3`` or ``outside_utility x1.25``."""
    scenario: Scenario


@dataclass(frozen=True)
class Verdicts:
    """Each assertion's outcome in one run: passed or not, and the margin."""

    passed: tuple[bool, ...]
    margins: tuple[float, ...]


@dataclass
class RobustnessReport:
    """What :func:`robustness` measured for one scenario."""

    scenario: Scenario
    baseline: Verdicts
    """The scenario's own seeds and parameters."""
    blocks: list[tuple[Variant, Verdicts]] = field(default_factory=list)
    perturbations: list[tuple[Variant, Verdicts]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Parameters not perturbed, and why (a zero value, a brain without them)."""

    def pass_rate(self, index: int) -> float:
        """Share of seed blocks in which assertion ``index`` passed (NaN without blocks)."""
        if not self.blocks:
            return math.nan
        return sum(v.passed[index] for _, v in self.blocks) / len(self.blocks)

    def worst_margin(self, index: int) -> float:
        """The smallest margin of assertion ``index`` over the seed blocks."""
        margins = [v.margins[index] for _, v in self.blocks]
        finite = [m for m in margins if not math.isnan(m)]
        return min(finite) if finite else math.nan

    def flips(self, index: int) -> list[tuple[str, float]]:
        """Perturbations under which assertion ``index`` flips, with the margin there."""
        base = self.baseline.passed[index]
        return [
            (variant.label, v.margins[index])
            for variant, v in self.perturbations
            if v.passed[index] != base
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form: per assertion, the pass rate, worst margin and flips."""
        return {
            "scenario": self.scenario.name,
            "source": self.scenario.source,
            "seeds": len(self.scenario.seeds),
            "episodes": self.scenario.episodes,
            "blocks": len(self.blocks),
            "perturbations": [variant.label for variant, _ in self.perturbations],
            "skipped": self.skipped,
            "assertions": [
                {
                    "check": a.text,
                    "passed": self.baseline.passed[i],
                    "margin": finite_or_none(self.baseline.margins[i]),
                    "blocks_passed": sum(v.passed[i] for _, v in self.blocks),
                    "pass_rate": finite_or_none(self.pass_rate(i)),
                    "worst_margin": finite_or_none(self.worst_margin(i)),
                    "flips": [{"change": c, "margin": finite_or_none(m)} for c, m in self.flips(i)],
                }
                for i, a in enumerate(self.scenario.assertions)
            ],
        }


def trimmed(scenario: Scenario) -> Scenario:
    """``scenario`` with only the policies its assertions need (and the gauntlet off)."""
    refs: list[MetricRef] = []
    for a in scenario.assertions:
        refs += [a.left] + ([a.right] if isinstance(a.right, MetricRef) else [])
    needed = {r.policy for r in refs}
    if scenario.oracle_label and any(r.metric in ORACLE_RELATIVE for r in refs):
        needed.add(scenario.oracle_label)
    policies = {k: v for k, v in scenario.policies.items() if k in needed}
    return dataclasses.replace(scenario, policies=policies, gauntlet=())


def seed_blocks(scenario: Scenario, blocks: int, first: int = 1) -> list[Variant]:
    """``blocks`` reruns on disjoint seed blocks of the scenario's size (``first``, … on)."""
    span = max(scenario.seeds) + 1
    return [
        Variant(
            "block",
            f"block {b}",
            dataclasses.replace(scenario, seeds=[s + b * span for s in scenario.seeds]),
        )
        for b in range(first, first + blocks)
    ]


def perturbations(
    scenario: Scenario, by: float = 0.25, only: Sequence[str] | None = None
) -> tuple[list[Variant], list[str]]:
    """Every user-model parameter times ``1 - by`` and ``1 + by``; and what was skipped.

    Shares (:data:`SHARES`) stay within [0, 1]. A parameter at 0 is not perturbed (a
    relative change leaves it where it is).

    Args:
        scenario: the scenario whose parameters (defaults plus its ``brain_kwargs`` and
            ``dynamics``) are perturbed.
        by: the relative change.
        only: perturb only these parameters (names of either dataclass).

    Raises:
        ConfigError: ``only`` names a parameter that is neither.
    """
    kwargs = scenario.env_kwargs
    brain = kwargs.get("brain", "utility")
    out: list[Variant] = []
    skipped: list[str] = []
    params: dict[str, float] = {}
    if brain == "utility":
        defaults = dataclasses.asdict(UtilityParams())
        params = {**defaults, **kwargs.get("brain_kwargs", {})}
        params = {k: v for k, v in params.items() if k in defaults}
    else:
        skipped.append(f"UtilityParams: the scenario's brain is {brain!r}")
    dynamics = kwargs.get("dynamics") or SessionDynamics()
    groups = (("brain", params), ("dynamics", dataclasses.asdict(dynamics)))
    if only is not None:
        known = {n for f in (UtilityParams, SessionDynamics) for n in _names(f)}
        unknown = sorted(set(only) - known)
        if unknown:
            raise ConfigError(
                f"unknown user-model parameter(s) {', '.join(unknown)}; expected "
                f"UtilityParams or SessionDynamics fields: {', '.join(sorted(known))}"
            )
    for group, values in groups:
        for name, value in values.items():
            if only is not None and name not in only:
                continue
            if value == 0:
                skipped.append(f"{name}: 0 (a relative change leaves it at 0)")
                continue
            for factor in (1.0 - by, 1.0 + by):
                changed = value * factor
                note = ""
                if name in SHARES and changed > 1.0:
                    changed, note = 1.0, " (capped at 1)"
                label = f"{name} x{factor:g}{note}"
                out.append(Variant("param", label, _with(scenario, group, name, changed)))
    return out, skipped


def _names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _with(scenario: Scenario, group: str, name: str, value: float) -> Scenario:
    kwargs = dict(scenario.env_kwargs)
    if group == "brain":
        kwargs["brain_kwargs"] = {**kwargs.get("brain_kwargs", {}), name: value}
    else:
        dynamics = kwargs.get("dynamics") or SessionDynamics()
        kwargs["dynamics"] = dataclasses.replace(dynamics, **{name: value})
    return dataclasses.replace(scenario, env_kwargs=kwargs)


def verdicts_of(scenario: Scenario) -> Verdicts:
    """Run ``scenario`` and keep each assertion's outcome."""
    result = run_scenario(scenario)
    return Verdicts(
        tuple(o.passed for o in result.outcomes), tuple(o.margin for o in result.outcomes)
    )


def robustness(
    scenario: Scenario,
    blocks: int = 25,
    perturb_by: float | None = 0.25,
    parameters: Sequence[str] | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RobustnessReport:
    """Rerun ``scenario`` on seed blocks and with perturbed parameters.

    Args:
        scenario: a loaded scenario (its gauntlet and unneeded policies are dropped).
        blocks: independent seed blocks of the scenario's size (0: none).
        perturb_by: relative change of each parameter (``None``: no perturbations).
        parameters: perturb only these (default: every user-model parameter).
        workers: processes to spread runs over (default: the CPUs this process may use).
        progress: called with ``(runs done, runs in all)`` as runs finish.

    Raises:
        ConfigError: the scenario has no assertions, or a perturbed parameter is invalid
            for the brain (naming it).
    """
    if not scenario.assertions:
        raise ConfigError(f"{scenario.source}: no assertions, so nothing to measure")
    if blocks < 0:
        raise ConfigError(f"blocks: expected a number >= 0, got {blocks}")
    base = trimmed(scenario)
    variants = [Variant("base", "scenario's own seeds", base)] + seed_blocks(base, blocks)
    skipped: list[str] = []
    if perturb_by is not None:
        if not 0 < perturb_by < 1:
            raise ConfigError(f"perturb_by: expected a share in (0, 1), got {perturb_by}")
        changed, skipped = perturbations(base, perturb_by, parameters)
        variants += changed
    results = _run_all(variants, workers or _usable_cpus(), progress)
    report = RobustnessReport(scenario, results[0], skipped=skipped)
    for variant, verdicts in zip(variants[1:], results[1:], strict=True):
        (report.blocks if variant.kind == "block" else report.perturbations).append(
            (variant, verdicts)
        )
    return report


def _run_all(
    variants: Sequence[Variant], workers: int, progress: Callable[[int, int], None] | None
) -> list[Verdicts]:
    """Every variant's verdicts, in order, over ``workers`` processes."""
    if workers <= 1 or len(variants) <= 1:
        out = []
        for i, variant in enumerate(variants):
            out.append(_verdicts(variant))
            if progress is not None:
                progress(i + 1, len(variants))
        return out
    context = get_context("fork") if "fork" in get_all_start_methods() else None
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(_verdicts, v) for v in variants]
        out = []
        for i, future in enumerate(futures):
            out.append(future.result())
            if progress is not None:
                progress(i + 1, len(variants))
        return out


def _verdicts(variant: Variant) -> Verdicts:
    try:
        return verdicts_of(variant.scenario)
    except SimrecError as exc:
        raise ConfigError(f"{variant.label}: {exc}") from None


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


__all__ = [
    "RobustnessReport",
    "SHARES",
    "Variant",
    "Verdicts",
    "perturbations",
    "robustness",
    "seed_blocks",
    "trimmed",
    "verdicts_of",
]
