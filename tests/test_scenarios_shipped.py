"""The shipped scenarios separate good policies from bad ones (the issue's "must show").

Each scenario runs once (seeded, so the figures are exact and repeatable) and every
assertion in it must hold on non-overlapping 95% intervals. The behaviour checks listed
here must be among the scenario's assertions, so weakening a scenario file fails a test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simrec.scenario import load_scenario
from simrec.scenario_run import run_scenario

pytest_plugins = ["pytester"]

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

MUST_SHOW = {
    "cold_start": [
        "linucb.cold_start.ctr_at_5 > popularity.cold_start.ctr_at_5",
        "linucb.cold_start.ctr_at_5 > random.cold_start.ctr_at_5",
        "oracle.cold_start.ctr_at_5 > linucb.cold_start.ctr_at_5",
        "oracle.cold_start.ctr_at_5 > popularity.cold_start.ctr_at_5",
        "oracle.cold_start.ctr_at_5 > random.cold_start.ctr_at_5",
    ],
    "novelty_trap": [
        "greedy.novelty.ctr_at_2 > mmr.novelty.ctr_at_2",
        "mmr.novelty.return > greedy.novelty.return",
        "greedy.novelty.churn > mmr.novelty.churn",
        "greedy.novelty.session_length < mmr.novelty.session_length",
    ],
    "steerability": [
        "steer_aware.steerability.compliance >= 0.8",
        "steer_aware.steerability.compliance > random.steerability.compliance",
        "steer_aware.steerability.compliance > popularity.steerability.compliance",
        "steer_aware.steerability.compliance > linucb.steerability.compliance",
        "steer_aware.steerability.compliance > mmr.steerability.compliance",
        "steer_aware.steerability.satisfaction_followed > linucb.steerability.satisfaction_ignored",
    ],
    "semantic_ids": [
        "constrained.cold_start.ctr_at_5 > random.cold_start.ctr_at_5",
        "constrained.actions.hallucination_rate <= 0",
        "unconstrained.actions.hallucination_rate > 0.5",
    ],
    "llm_recommenders": [
        "llm_conversational.cold_start.return > linucb.cold_start.return",
        "llm_reranker.novelty.final_satisfaction > linucb.novelty.final_satisfaction",
        "llm_reranker.steerability.listening > 0.4",
        "llm_conversational.steerability.listening > 0.4",
        "llm_reranker.steerability.followed > linucb.steerability.followed",
        "generative_unconstrained.actions.hallucination_rate > 0.5",
    ],
    "preference_drift": [
        "adaptive.drift.ctr_after > frozen.drift.ctr_after",
        "adaptive.drift.recovery > frozen.drift.recovery",
        "frozen.drift.recovery < 0",
        "adaptive.drift.recovery > -0.3",
        "frozen.drift.recovery < -0.3",
    ],
}


@pytest.mark.parametrize("name", sorted(MUST_SHOW))
def test_shipped_scenario_separates_policies_on_the_offline_brain(name):
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    assert scenario.env_kwargs.get("brain", "utility") == "utility"
    checks = [a.text for a in scenario.assertions]
    missing = [c for c in MUST_SHOW[name] if c not in checks]
    assert not missing, f"{name}.yaml lost its behaviour checks: {missing}"
    result = run_scenario(scenario)
    failures = "\n".join(o.message for o in result.failures)
    assert result.passed, failures
    if name == "steerability":  # every steer-blind policy is far below the steer-aware one
        summary = result.summary()
        aware = summary["steer_aware"]["steerability"]["compliance"].mean
        for blind in ("random", "popularity", "linucb", "mmr"):
            assert summary[blind]["steerability"]["compliance"].mean < aware - 0.5


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
