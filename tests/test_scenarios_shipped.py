"""The shipped scenarios: their verdicts hold, cannot be gamed, and are what the docs quote.

Each scenario runs once (seeded, so the figures are exact and repeatable) with the
gauntlet (``gauntlet: true``), and

* every assertion holds on non-overlapping 95% intervals;
* no gauntlet policy passes any assertion in the place of a policy it endorses
  (:func:`simrec.testing.check_gauntlet`, reusing the same run);
* the behaviour checks listed here are among the scenario's assertions, so weakening a
  scenario file fails a test;
* its figures are those in ``docs/figures.json`` (from which the docs are rendered, see
  ``tests/test_docs_figures.py``), so the documented figures are what the code gives today.

How robust each assertion is over independent seed blocks is measured by ``simrec scenario
robustness`` (minutes; its figures are in the docs and in ``docs/figures.json``).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from simrec.policies.gauntlet import GAUNTLET
from simrec.scenario import load_scenario
from simrec.scenario_gauntlet import applicable, endorsed
from simrec.scenario_run import run_scenario
from simrec.testing import check_gauntlet

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

MUST_SHOW = {
    "cold_start": [
        "linucb.cold_start.normalized_return > epsilon_greedy.cold_start.normalized_return",
        "oracle.cold_start.ctr_at_5 > linucb.cold_start.ctr_at_5",
    ],
    "novelty_trap": [
        "mmr.cold_start.normalized_return >= 0.5",
        "greedy.cold_start.normalized_return < mmr.cold_start.normalized_return",
        "greedy.novelty.churn > 0.85",
        "greedy.novelty.repetition > 0.5",
    ],
    "steerability": [
        "steer_aware.steerability.listening >= 0.3",
        "steer_aware.steerability.followed > linucb.steerability.followed",
        "steer_aware.steerability.satisfaction_followed > linucb.steerability.satisfaction_ignored",
    ],
    "preference_drift": [
        "adaptive.drift.adaptation > linucb.drift.adaptation",
        "adaptive.drift.adaptation >= 0.47",
    ],
    "semantic_ids": [
        "constrained.cold_start.return > 4.3",
        "constrained.actions.hallucination_rate <= 0",
        "unconstrained.actions.hallucination_rate > 0.5",
    ],
    "llm_recommenders": [
        "llm_conversational.cold_start.return > linucb.cold_start.return",
        "llm_reranker.novelty.final_satisfaction >= 0.65",
        "llm_reranker.steerability.listening > 0.4",
        "llm_conversational.steerability.listening > 0.4",
        "llm_reranker.steerability.followed > linucb.steerability.followed",
        "generative_unconstrained.actions.hallucination_rate > 0.5",
    ],
}


def figures_module():
    spec = importlib.util.spec_from_file_location("figures", ROOT / "benchmarks" / "figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_shipped_scenario_is_checked():
    assert sorted(p.stem for p in SCENARIOS.glob("*.yaml")) == sorted(MUST_SHOW)


@pytest.mark.parametrize("name", sorted(MUST_SHOW))
def test_shipped_scenario_holds_cannot_be_gamed_and_matches_the_docs(name):
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    assert scenario.env_kwargs.get("brain", "utility") == "utility"
    assert scenario.gauntlet, f"{name}.yaml: shipped scenarios run the gauntlet (gauntlet: true)"
    checks = [a.text for a in scenario.assertions]
    missing = [c for c in MUST_SHOW[name] if c not in checks]
    assert not missing, f"{name}.yaml lost its behaviour checks: {missing}"
    result = run_scenario(scenario)
    assert all(o.passed for o in result.outcomes), "\n".join(o.message for o in result.failures)
    gamed = {(s.assertion.text, s.substitute) for s in result.gamed}
    assert not gamed, f"gauntlet substitutions that pass an assertion of {name}.yaml: " + (
        "; ".join(s.describe() for s in result.gamed)
    )
    tried = check_gauntlet(scenario, result)
    expected = sum(
        applicable(a, label, scenario.policies[sub].resolved_form)
        for a in scenario.assertions
        for label in set(endorsed(a)) - set(scenario.gauntlet)
        for sub in scenario.gauntlet
    )
    assert len(tried) == expected and expected > 0
    assert {s.substitute for s in tried} >= set(GAUNTLET) - {"always_tag"}

    figures = figures_module()
    documented = figures.load_figures().get(name)
    measured = figures.quoted({name: figures.scenario_figures(result)}, figures.documents())
    measured = json.loads(json.dumps(measured[name]))
    assert documented == measured, (
        f"docs/figures.json does not hold what {name}.yaml gives today; "
        "run `python benchmarks/figures.py --only scenarios` (then --only robustness)"
    )


def test_the_plugin_collects_one_item_per_shipped_assertion(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.runpytest_inprocess(
        "-p",
        "simrec.pytest_plugin",
        "-p",
        "no:cacheprovider",
        "--collect-only",
        "-q",
        str(SCENARIOS),
    )
    expected = sum(len(load_scenario(p).assertions) for p in SCENARIOS.glob("*.yaml"))
    result.stdout.fnmatch_lines([f"{expected} tests collected*"])
