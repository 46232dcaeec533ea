"""The visit economy over every shipped preset and scenario: purchases a person would make.

Over at least 500 visits per env and policy (the usual baselines, the cheating oracle
and degenerate policies), in the single env and the native vector env:

* no item is bought twice, nor an item owned before the visit, unless consumable;
* no purchase breaks the request that applied to its slate, nor a dislike;
* golf visits (the preset and every shipped scenario) buy 1 to 2.5 items on average when
  the recommender serves the user (the oracle; LinUCB on the preset), never more with any
  policy, and fewer with degenerate slates.

What pays in each shipped scenario (the cheapest-items rotation, a constant slate and a
one-item slate against LinUCB and MMR) is measured by ``benchmarks/audit_user_model.py``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from simrec.env import RecSessionEnv
from simrec.presets import find_preset
from simrec.scenario import load_scenario
from simrec.vector import RecSessionVectorEnv
from tests.visit_records import Step, single_env_steps, vector_env_steps, visit_count

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
PRESETS = ("golf", "books", "retail")
DEGENERATE = ("cheapest_rotation", "constant_slate", "one_item")
"""Gauntlet policies (:mod:`simrec.policies.gauntlet`) that ignore the user entirely."""
SCENARIO_NAMES = tuple(sorted(p.stem for p in SCENARIOS.glob("*.yaml")))
POLICIES = ("random", "popularity", "greedy", "linucb", "oracle", *DEGENERATE)
VECTOR_POLICIES = ("random", "popularity", *DEGENERATE)
VISITS = 500


def env_kwargs(name: str) -> dict:
    """A shipped preset's env, or a shipped scenario's (its personas, events and settings)."""
    if name in PRESETS:
        return dict(find_preset(name).kwargs)
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    return {"catalog": scenario.catalog, "personas": scenario.personas, **scenario.env_kwargs}


@cache
def runs(name: str) -> dict[str, tuple[Step, ...]]:
    """Every step of ``VISITS`` visits per policy in the single env (memoised)."""
    env = RecSessionEnv(**env_kwargs(name))
    return {
        policy: tuple(single_env_steps(env, policy, VISITS, seed=1000 * k))
        for k, policy in enumerate(POLICIES)
    }


def per_visit(steps: tuple[Step, ...]) -> float:
    return len(purchases(steps)) / visit_count(steps)


def purchases(steps: tuple[Step, ...]) -> list[tuple[Step, int]]:
    return [
        (s, item)
        for s in steps
        for item, bought in zip(s.slate, s.purchased, strict=True)
        if bought
    ]


def check_purchases(steps: tuple[Step, ...]) -> int:
    """Assert no purchase breaks a rule; returns the number of purchases checked."""
    bought = purchases(steps)
    assert visit_count(steps) >= VISITS
    repeats = [(s, i) for s, i in bought if i in s.owned_before]
    against_request = [(s, i) for s, i in bought if s.request is not None and not s.request[i]]
    disliked = [(s, i) for s, i in bought if s.bound.dislike[i] > 0]
    assert not repeats, f"{len(repeats)} repeat purchases, e.g. {repeats[0]}"
    assert not against_request, f"{len(against_request)} against the request: {against_request[0]}"
    assert not disliked, f"{len(disliked)} disliked items bought, e.g. {disliked[0]}"
    return len(bought)


@pytest.mark.parametrize("name", PRESETS + SCENARIO_NAMES)
def test_nothing_owned_disliked_or_against_the_request_is_bought(name):
    runs_of = runs(name)
    checked = 0
    for policy, steps in runs_of.items():
        try:
            checked += check_purchases(steps)
        except AssertionError as exc:
            raise AssertionError(f"{name}, policy {policy}: {exc}") from None
    assert checked > 1000
    if name != "golf" and name in PRESETS:
        return
    figures = {policy: per_visit(steps) for policy, steps in runs_of.items()}
    needs = [p.need for p in env_kwargs(name)["personas"]] if name not in PRESETS else []
    if any(need is not None for need in needs):
        # Personas that state their need (readers stocking up, golfers browsing long):
        # serving them well sells about what they came for, never much more.
        most = max(need for need in needs if need is not None)
        assert 1.0 <= figures["oracle"] <= most, figures
        assert max(figures.values()) <= most + 1, figures
    else:
        # Golf (the preset and the scenarios of generated golfers): a visit books what a
        # golfer books; serving the user well sells what they came for, not much more.
        assert 1.0 <= figures["oracle"] <= 2.5, figures
        if name == "golf":
            assert 1.0 <= figures["linucb"] <= 2.5, figures
        assert max(figures.values()) <= 2.5, figures
    # Degenerate slates sell less than serving the user does.
    assert max(figures[g] for g in DEGENERATE) < figures["oracle"], figures


@pytest.mark.parametrize("name", PRESETS)
def test_nothing_owned_disliked_or_against_the_request_is_bought_in_the_vector_env(name):
    vec = RecSessionVectorEnv(32, **env_kwargs(name))
    checked = 0
    for k, policy in enumerate(VECTOR_POLICIES):
        try:
            checked += check_purchases(tuple(vector_env_steps(vec, policy, VISITS, seed=1000 * k)))
        except AssertionError as exc:
            raise AssertionError(f"{name}, policy {policy}: {exc}") from None
    assert checked > 500
