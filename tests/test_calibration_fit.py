"""Maximum likelihood recovers the utility brain's parameters from its own reactions, and
the fitted model reproduces the recorded curves better than the defaults."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simrec.brains.utility import UtilityParams
from simrec.calibration.compare import curve_gaps
from simrec.calibration.fit import Recording, check_fields, fit_utility, log_likelihood
from simrec.calibration.params import BrainParams
from simrec.calibration.runs import BrainSpec, run_brain
from simrec.errors import ConfigError
from simrec.scenario import parse_scenario

pytest.importorskip("scipy")

SCENARIO = """
name: recovery
env: golf
personas: {generate: {domain: golf, n: 30, seed: 3}}
persona_events: drop
events:
  - intent: {at_turn: 3, says: "Only dog-friendly courses, please.",
             constraint: {field: tags, op: has, value: dog-friendly}}
episodes: 40
seeds: 3
horizon: 10
policies:
  random: random
  constant: constant_slate
"""
TRUE = {"outside_utility": 2.2, "position_weight": 0.9, "purchase_base": -2.3, "leave_base": -2.4}
TOLERANCE = {
    "outside_utility": 0.25,
    "position_weight": 0.2,
    "purchase_base": 0.35,
    "leave_base": 0.45,
}
"""Each well under the distance from the default (0.8, 0.55, 1.3, 1.1)."""


@pytest.fixture(scope="module")
def recorded():
    scenario = parse_scenario(SCENARIO)
    run = run_brain(scenario, BrainSpec("true", "utility", TRUE), concurrency=1)
    logs = [log for batches in run.logs.values() for log in batches]
    recording = Recording.from_logs(logs, scenario.catalog, scenario.personas, scenario.env_kwargs)
    return scenario, run, recording


def test_the_true_parameters_are_recovered_from_the_brains_own_reactions(recorded):
    scenario, run, recording = recorded
    assert recording.steps > 1000
    result = fit_utility(recording, tuple(TRUE))
    defaults = UtilityParams()
    for name, true in TRUE.items():
        error = abs(result.fitted[name] - true)
        assert error < TOLERANCE[name], (name, result.fitted[name], true)
        assert TOLERANCE[name] < abs(getattr(defaults, name) - true)
        se = result.standard_errors[name]
        assert 0 < se < TOLERANCE[name] and error < 4 * se, (name, error, se)
    assert result.fitted_loglik.total > result.start_loglik.total
    truth = log_likelihood(recording, UtilityParams(**TRUE))
    assert result.fitted_loglik.total >= truth.total - 1e-6  # the maximum is at least the truth's
    # the fitted model reproduces the recorded curves better than the defaults
    fitted = result.params()
    assert fitted.brain_kwargs == pytest.approx(result.fitted)
    simulated = {
        label: run_brain(scenario, BrainSpec(label, "utility", kwargs), concurrency=1)
        for label, kwargs in (("defaults", {}), ("fitted", dict(fitted.brain_kwargs)))
    }
    gaps = {label: curve_gaps(run, sim) for label, sim in simulated.items()}
    for curve in ("CTR by turn", "purchase rate by turn", "leave hazard by turn",
                  "CTR by slot position"):  # fmt: skip
        assert gaps["fitted"][curve] < gaps["defaults"][curve], (curve, gaps)


def test_session_dynamics_are_fitted_through_the_replayed_sessions(recorded):
    _, _, recording = recorded
    base = log_likelihood(recording, UtilityParams(**TRUE))
    slower = dataclasses.replace(recording.dynamics, category_decay=0.95)
    assert log_likelihood(recording, UtilityParams(**TRUE), slower).total < base.total
    subset = dataclasses.replace(recording, visits=recording.visits[:30], _bound={})
    result = fit_utility(
        subset, ("category_decay",), base=BrainParams(TRUE, {}), standard_errors=False
    )
    assert abs(result.fitted["category_decay"] - 0.6) < 0.2
    assert result.params().dynamics == pytest.approx(
        {"category_decay": result.fitted["category_decay"]}
    )
    assert result.params().brain_kwargs == TRUE


def test_an_impossible_event_lowers_the_likelihood_without_making_it_infinite(recorded):
    _, _, recording = recorded
    # a very negative purchase base makes every recorded purchase nearly impossible
    harsh = log_likelihood(recording, UtilityParams(**{**TRUE, "purchase_base": -20.0}))
    assert (
        np.isfinite(harsh.total)
        and harsh.purchase < log_likelihood(recording, UtilityParams(**TRUE)).purchase
    )


def test_steps_a_fallback_played_are_replayed_but_not_counted(recorded):
    _, run, recording = recorded
    interactions, turns = run.logs["random"][0]
    first = turns["session_id"].iloc[0]
    marked = turns.assign(invalid_response=turns["session_id"] == first)
    full = Recording.from_logs(
        [(interactions, turns)], recording.catalog, recording.personas.values()
    )
    fewer = Recording.from_logs(
        [(interactions, marked)], recording.catalog, recording.personas.values()
    )
    n_first = int((turns["session_id"] == first).sum())
    assert fewer.steps == full.steps - n_first and len(fewer.visits) == len(full.visits)
    a, b = log_likelihood(full, UtilityParams()), log_likelihood(fewer, UtilityParams())
    assert b.steps == fewer.steps and b.total > a.total  # fewer terms, each a log-probability


def test_field_lists_are_checked():
    with pytest.raises(ConfigError, match="unknown field 'outside'"):
        check_fields(["outside"])
    with pytest.raises(ConfigError, match="only what users say"):
        check_fields(["chat_rate"])
    with pytest.raises(ConfigError, match="named twice"):
        check_fields(["leave_base", "leave_base"])
    assert check_fields(["leave_base", "item_decay"]) == ("leave_base", "item_decay")
