"""The gauntlet check: no degenerate policy may pass an assertion in the place of the one it endorses.

An assertion endorses the policies it claims do well: in ``a.novelty.return >
b.novelty.return`` that is ``a`` (more return is better); in ``a.novelty.churn >
b.novelty.churn`` it is ``b`` (less churn is better, :func:`simrec.metrics.direction`); in
``a.steerability.listening >= 0.5`` it is ``a``. A verdict means something only if a
policy that lacks the behaviour cannot earn it, so the check puts each gauntlet policy
(:mod:`simrec.policies.gauntlet`) in the place of each endorsed policy and requires
every such *substitution* to fail.

A substitution is made only where it can mean something: a claim about how a policy
names items (``constrained.actions.hallucination_rate <= 0``) is a property of semantic-id
decoding that every item-index policy has by construction, so the gauntlet (which acts by
index) does not stand in there (:func:`applicable`, :data:`simrec.metrics.ACTION_FORM_METRICS`).
Such an assertion still has to hold for the policy it names; whether a *merit* claim of
the same policy can be gamed is checked as usual.

Runs are reused: the gauntlet's policies run once on the scenario's seeds, and a
substitution swaps their per-seed figures in for the endorsed policy's (the oracle's
relative figures re-derived), which is exactly what running the gauntlet policy under
that label would give — every policy of a scenario meets the same users on the same
seeds, and the gauntlet's policies do not depend on their seed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from simrec.errors import ConfigError
from simrec.metrics import direction, measures
from simrec.scenario import Assertion, MetricRef, PolicySpec, Scenario
from simrec.scenario_run import Outcome, ScenarioResult, check, derive


@dataclass(frozen=True)
class Substitution:
    """One gauntlet policy checked in the place of one endorsed policy of one assertion."""

    assertion: Assertion
    endorsed: str
    substitute: str
    outcome: Outcome

    @property
    def passed(self) -> bool:
        """True when the substitute passed the assertion: a verdict that can be gamed."""
        return self.outcome.passed

    def describe(self) -> str:
        """One line: the assertion, who stood in for whom, and the margin."""
        verdict = "PASSED (the verdict can be gamed)" if self.passed else "failed"
        return (
            f"{self.assertion.text}: {self.substitute} in the place of {self.endorsed} "
            f"{verdict}, margin {self.outcome.margin:.4g}"
        )


def endorsed(assertion: Assertion) -> tuple[str, ...]:
    """The policies ``assertion`` claims do well (see the module docstring).

    ``left > right`` endorses ``left`` when more of its metric is better and ``right``
    when less of its metric is better; ``<`` the other way round. A side whose metric is
    a context figure (a base rate, a count) endorses nobody.
    """
    greater = assertion.op in (">", ">=")
    sides: list[tuple[MetricRef, int]] = [(assertion.left, 1 if greater else -1)]
    if isinstance(assertion.right, MetricRef):
        sides.append((assertion.right, -1 if greater else 1))
    out = [ref.policy for ref, sign in sides if direction(ref.metric) * sign > 0]
    return tuple(dict.fromkeys(out))


def applicable(assertion: Assertion, label: str, substitute_form: str) -> bool:
    """Whether a policy acting in ``substitute_form`` can stand in for ``label`` here.

    Every metric the assertion reads of ``label`` must say something about a policy
    acting that way (:func:`simrec.metrics.measures`): a policy that acts by item index
    never hallucinates, so it cannot stand in for the policy a hallucination claim is
    about — the claim is a property of decoding semantic ids, true of any index policy by
    construction, not a merit a degenerate policy could earn.
    """
    refs = [assertion.left, assertion.right]
    return all(
        measures(ref.metric, substitute_form)
        for ref in refs
        if isinstance(ref, MetricRef) and ref.policy == label
    )


def with_gauntlet(scenario: Scenario) -> Scenario:
    """``scenario`` with the gauntlet's policies added after its own (no-op if it has them).

    Raises:
        ConfigError: a gauntlet label is already one of the scenario's policies.
    """
    if scenario.gauntlet:
        return scenario
    from simrec.policies.gauntlet import gauntlet_lineup

    lineup = gauntlet_lineup(scenario.catalog, scenario.personas)
    taken = sorted(set(lineup) & set(scenario.policies))
    if taken:
        raise ConfigError(
            f"the gauntlet adds policies labelled {', '.join(taken)}, which the scenario "
            "already uses; rename them"
        )
    specs = {label: PolicySpec(label, name, params) for label, (name, params) in lineup.items()}
    return dataclasses.replace(
        scenario, policies={**scenario.policies, **specs}, gauntlet=tuple(specs)
    )


def substituted(result: ScenarioResult, label: str, by: str) -> ScenarioResult:
    """``result`` as if policy ``by`` had run under ``label`` (figures swapped, re-derived)."""
    # derive() assigns new lists, so copying the dicts down to the lists is enough.
    per_seed = {p: {b: dict(m) for b, m in v.items()} for p, v in result.per_seed.items()}
    per_seed[label] = {b: dict(m) for b, m in result.per_seed[by].items()}
    derive(result.scenario, per_seed)
    return dataclasses.replace(result, per_seed=per_seed, outcomes=[], substitutions=[])


def substitutions(result: ScenarioResult) -> list[Substitution]:
    """Every gauntlet policy of ``result`` checked in the place of every endorsed policy.

    ``result`` must come from a scenario with the gauntlet (:func:`with_gauntlet`).
    Endorsed policies that are themselves gauntlet policies are not substituted, nor is a
    gauntlet policy where it is not :func:`applicable` (a claim about semantic-id
    decoding, which no index policy can make or break).
    """
    scenario = result.scenario
    if not scenario.gauntlet:
        raise ConfigError(
            f"{scenario.source}: no gauntlet policies in this run; add 'gauntlet: true' to "
            "the scenario or run it through simrec.scenario_gauntlet.with_gauntlet"
        )
    out = []
    for assertion in scenario.assertions:
        for label in endorsed(assertion):
            if label in scenario.gauntlet:
                continue
            for substitute in scenario.gauntlet:
                form = scenario.policies[substitute].resolved_form
                if not applicable(assertion, label, form):
                    continue
                outcome = check(assertion, substituted(result, label, substitute))
                out.append(Substitution(assertion, label, substitute, outcome))
    return out


__all__ = [
    "Substitution",
    "applicable",
    "endorsed",
    "substituted",
    "substitutions",
    "with_gauntlet",
]
