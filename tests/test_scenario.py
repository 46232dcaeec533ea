"""Scenario files: schema errors name file, line and field; events reach every persona;
assertions are judged on intervals and say by how much they fail."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

from simrec.errors import ConfigError
from simrec.persona import Drift, Intent
from simrec.scenario import Assertion, MetricRef, load_scenario
from simrec.scenario_report import result_json
from simrec.scenario_run import ScenarioResult, check, run_scenario

TINY = """\
name: tiny
env: golf
personas: {generate: {domain: golf, n: 4, seed: 0}}
persona_events: drop
episodes: 8
seeds: 5
horizon: 5
policies:
  random: random
  oracle: oracle
assertions:
  - oracle.cold_start.ctr_at_5 > random.cold_start.ctr_at_5
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    return str(info.value).replace(str(path), "s.yaml")


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ("episodes: 8", "episodes: 8\nepisodez: 4",
         "s.yaml:6: field 'episodez': unknown field; expected one of:"),
        ("seeds: 5", "seeds: 1", "s.yaml:6: field 'seeds': expected at least 2 seeds"),
        ("seeds: 5", "seeds: [1, 1]", "s.yaml:6: field 'seeds': expected at least 2 distinct seeds"),
        ("episodes: 8", "episodes: three", "s.yaml:5: field 'episodes': expected an integer in [1, 100000]"),
        ("random: random", "random: randomm", "s.yaml:9: field 'policies.random': unknown policy 'randomm'"),
        ("env: golf", "env: golff", "s.yaml:2: field 'env': unknown preset 'golff'"),
        ("horizon: 5", "horizon: 5\ndynamics: {category_decayy: 0.5}",
         "s.yaml:8: field 'dynamics.category_decayy': unknown field"),
        ("  - oracle.cold_start.ctr_at_5 > random.cold_start.ctr_at_5", "  - oracle is better",
         "s.yaml:12: field 'assertions[0]': cannot read 'oracle is better'; expected "
         "'<policy>.<behaviour>.<metric> <op> <policy>.<behaviour>.<metric>' or "
         "'<policy>.<behaviour>.<metric> <op> <number>', with op one of >=, <=, >, <"),
        ("  - oracle.cold_start.ctr_at_5 > random.cold_start.ctr_at_5",
         "  - oracle.cold_start.ctr_at_5 > 1e999",
         "s.yaml:12: field 'assertions[0]': the threshold 1e999 is not a finite number; "
         "expected a finite number"),
        ("  - oracle.cold_start.ctr_at_5 > random.cold_start.ctr_at_5",
         "  - {name: never fails, check: 'oracle.cold_start.ctr_at_5 > -1e400'}",
         "s.yaml:12: field 'assertions[0]': the threshold -1e400 is not a finite number"),
        ("  - oracle.cold_start.ctr_at_5 > random.cold_start.ctr_at_5",
         "  - oracle.cold_start.ctr_at_9 > 0.5",
         "s.yaml:12: field 'assertions[0]': unknown cold_start metric 'ctr_at_9'"),
        ("  - oracle.cold_start.ctr_at_5 > random.cold_start.ctr_at_5",
         "  - linucb.cold_start.ctr_at_5 > 0.5",
         "s.yaml:12: field 'assertions[0]': unknown policy 'linucb'"),
        ("  - oracle.cold_start.ctr_at_5 > random.cold_start.ctr_at_5",
         "  - oracle.drift.recovery > 0",
         "unknown behaviour 'drift'; expected one of: cold_start, novelty, steerability "
         "(drift metrics need a drift event)"),
        ("oracle: oracle", "greedy: greedy",
         "field 'assertions[0]': unknown policy 'oracle'"),
        ("persona_events: drop",
         "persona_events: drop\nevents:\n  - intent: {at_turn: 2, says: hi, constraint: {field: colour, op: '==', value: red}}",
         "s.yaml:6: field 'events[0].intent.constraint': catalog has no field 'colour'"),
        ("persona_events: drop",
         "persona_events: drop\nevents:\n  - drift: {at_turn: 2, tastes: {category: {moon: 1.0}}}",
         "field 'events[0].drift.tastes.category.moon': 'moon' is not a category in the catalog"),
        ("horizon: 5", "horizon: 5\nbrain_kwargs: {outside_utilty: 2.0}",
         "s.yaml:8: field 'brain_kwargs': brain 'utility': bad brain_kwargs: unknown UtilityParams field(s): outside_utilty"),
        ("horizon: 5", "horizon: 5\nbrain_kwargs: {outside_utility: high}",
         "s.yaml:8: field 'brain_kwargs.outside_utility': expected a number, got 'high'"),
        ("horizon: 5", "horizon: 5\nslate_size: 500",
         "s.yaml:8: field 'slate_size': slate_size: expected an integer in [1, 200], got 500"),
        ("oracle: oracle", "oracle: oracle\n  mmr: {policy: mmr, lam: 3}",
         "s.yaml:11: field 'policies.mmr': policy 'mmr': bad parameters {'lam': 3}: mmr: expected 0 <= lam <= 1"),
        ("oracle: oracle", "oracle: oracle\n  mine: {policy: 'nowhere.policies:Mine'}",
         "s.yaml:11: field 'policies.mine': policy 'nowhere.policies:Mine': cannot import 'nowhere.policies'"),
        ("horizon: 5", "horizon: 5\nreport: [vibes]",
         "s.yaml:8: field 'report[0]': unknown behaviour 'vibes'; expected one of: cold_start"),
        ("persona_events: drop", "persona_events: drop\nevents:\n  - shout: {at_turn: 2}",
         "s.yaml:6: field 'events[0]': expected {intent: {...}} or {drift: {...}}"),
        # Issue 16: each of these used to be a traceback or accepted silently.
        ("seeds: 5", "seeds: [0, 99999999999999999999999]",
         "s.yaml:6: field 'seeds[1]': expected a seed (an integer in [0, 4294967295]), got 99999999999999999999999"),
        ("seeds: 5", "seeds: [0, -3]", "s.yaml:6: field 'seeds[1]': expected a seed"),
        ("oracle: oracle", "oracle: oracle\n  lin: {policy: linucb, alpha: abc}",
         "s.yaml:11: field 'policies.lin.alpha': policy 'linucb': LinUCBPolicy: argument 'alpha': expected a finite number, got 'abc'"),
        ("oracle: oracle", "oracle: oracle\n  lin: {policy: linucb, alpha: .nan}",
         "s.yaml:11: field 'policies.lin.alpha': policy 'linucb': LinUCBPolicy: argument 'alpha': expected a finite number, got nan"),
        ("oracle: oracle", "oracle: oracle\n  mmr:\n    policy: mmr\n    memory: 2.7",
         "s.yaml:13: field 'policies.mmr.memory': policy 'mmr': MMRPolicy: argument 'memory': expected an integer, got 2.7"),
        ("horizon: 5", "horizon: 5\ndynamics: {initial_satisfaction: 7}",
         "s.yaml:8: field 'dynamics.initial_satisfaction': SessionDynamics: field 'initial_satisfaction': expected a number in [0, 1], got 7"),
        ("horizon: 5", "horizon: 5\nbrain_kwargs: {taste_weight: 1000}",
         "s.yaml:8: field 'brain_kwargs.taste_weight': brain 'utility': brain_kwargs: UtilityParams: field 'taste_weight': expected a number in [-100, 100], got 1000"),
        ("horizon: 5", "horizon: 5\nmetrics: {first_turns: 50}",
         "s.yaml:8: field 'metrics.first_turns': expected at most the horizon (5 turns, from 'horizon'), got 50"),
        ("  - oracle.cold_start.ctr_at_5 > random.cold_start.ctr_at_5",
         "  - oracle.cold_start.ctr_at_50 > 0",
         "s.yaml:12: field 'assertions[0]': unknown cold_start metric 'ctr_at_50'; expected one of: ctr_at_5,"),
        ("persona_events: drop",
         "persona_events: drop\nevents:\n  - intent: {at_turn: 50, says: hi, constraint: {field: tags, op: has, value: dog-friendly}}",
         "s.yaml:6: field 'events[0].intent.at_turn': expected a turn before the horizon (5 turns, from 'horizon'): an intent at turn 50 applies from slate 51, which never comes"),
        ("persona_events: drop",
         "persona_events: drop\nevents:\n  - drift: {at_turn: 5, tastes: {category: {links: 1.0}}}",
         "field 'events[0].drift.at_turn': expected a turn before the horizon (5 turns"),
        ("name: tiny", "name: a/b/c",
         "s.yaml:1: field 'name': expected a plain name of letters, digits, '_', '-' or '.' (it names the results files), got 'a/b/c'"),
        ("name: tiny", "name: ../../escaped", "s.yaml:1: field 'name': expected a plain name"),
        ("name: tiny", "name: ..", "s.yaml:1: field 'name': expected a plain name"),
    ],
)  # fmt: skip
def test_malformed_scenarios_name_file_line_and_field(tmp_path, replace, by, expected):
    assert replace in TINY
    message = error_of(tmp_path, TINY.replace(replace, by))
    assert expected in message, message


def test_broken_yaml_and_missing_personas_are_reported_with_their_location(tmp_path):
    assert error_of(tmp_path, "name: [unclosed\n").startswith("s.yaml:2: invalid YAML")
    message = error_of(
        tmp_path, TINY.replace("{generate: {domain: golf, n: 4, seed: 0}}", "nowhere/")
    )
    assert message.startswith("s.yaml:3: field 'personas':") and "not found" in message
    message = error_of(tmp_path, TINY.replace("env: golf\n", ""))
    assert "field 'catalog': required field is missing" in message


def test_normalized_return_needs_an_oracle(tmp_path):
    text = TINY.replace("oracle: oracle", "greedy: greedy").replace(
        "oracle.cold_start.ctr_at_5 > random.cold_start.ctr_at_5",
        "greedy.cold_start.normalized_return > 0.5",
    )
    assert "normalized_return needs an oracle policy" in error_of(tmp_path, text)


def test_scenario_events_are_added_to_every_persona_and_paths_resolve_next_to_the_file(tmp_path):
    personas = tmp_path / "pool"
    personas.mkdir()
    for pid in ("a", "b"):
        (personas / f"{pid}.yaml").write_text(
            f"id: {pid}\ndomain: golf\nbio: x\ntastes: {{category: {{links: 1.0}}}}\n"
            "intents:\n  - {at_turn: 1, says: cheaper, constraint: {field: price, op: '<=', value: 50}}\n"
        )
    text = TINY.replace("{generate: {domain: golf, n: 4, seed: 0}}", "pool").replace(
        "persona_events: drop",
        "events:\n  - intent: {at_turn: 2, says: 'Only links, please.', "
        "constraint: {field: category, op: '==', value: links}}\n"
        "  - drift: {at_turn: 3, tastes: {category: {desert: 2.0}}}",
    )
    scenario = load_scenario(write(tmp_path, text))
    assert [p.persona_id for p in scenario.personas] == ["a", "b"]
    for persona in scenario.personas:
        assert [type(i) for i in persona.intents] == [Intent, Intent]
        assert persona.intents[1].says == "Only links, please."
        assert persona.drifts == (Drift(3, {"category": {"desert": 2.0}}),)
    assert scenario.drift_turn == 3 and "drift" in scenario.metric_names()
    dropped = load_scenario(
        write(tmp_path, text.replace("events:", "persona_events: drop\nevents:"))
    )
    assert all(len(p.intents) == 1 for p in dropped.personas)


def test_runs_are_reproducible_and_every_policy_meets_the_same_users(tmp_path):
    scenario = load_scenario(write(tmp_path, TINY))
    first, second = run_scenario(scenario), run_scenario(scenario)
    assert first.per_seed == second.per_seed
    assert first.per_seed["oracle"]["cold_start"]["normalized_return"] == [1.0] * 5
    assert scenario.session_seed(1) == 8  # seed 1 owns sessions 8..15


def test_per_turn_and_per_request_curves_carry_intervals_over_seeds(tmp_path):
    steered = TINY.replace(
        "persona_events: drop\n",
        "persona_events: drop\nevents:\n  - intent: {at_turn: 2, says: Cheap please.,"
        " constraint: {field: price, op: '<=', value: 60}}\n",
    )
    result = run_scenario(load_scenario(write(tmp_path, steered)))
    data = result_json(result)
    turns = data["turn_intervals"]["random"]
    assert turns["turn"] == [1, 2, 3, 4, 5]
    # everyone sees slate 1: survival 1 on every seed, an interval of width zero
    assert turns["survival"]["mean"][0] == turns["survival"]["ci_low"][0] == 1.0
    seeds = [c.loc[2, "ctr"] for c in result.seed_curves["random"]]
    assert turns["ctr"]["mean"][1] == pytest.approx(sum(seeds) / len(seeds))
    assert turns["ctr"]["n"][1] == 5 and turns["ctr"]["ci_low"][1] <= turns["ctr"]["mean"][1]
    assert data["turn_intervals"]["random"]["sessions"]["mean"][0] == 8  # episodes per seed
    requests = data["request_intervals"]["oracle"]
    assert requests["offset"] == [-4, -3, -2, -1, 0, 1, 2, 3, 4, 5]  # steer_window 5
    # slate 1 is one before the request turn 2; a request counts from the first slate its
    # constraint applies to (slate 3), so every visit shown slate 3 is counted
    reached = data["turn_intervals"]["oracle"]["sessions"]["mean"][2]
    assert requests["requests"]["mean"][3] == reached == requests["requests"]["mean"][4]
    assert reached > 4  # most of the 8 visits per seed
    assert requests["compliance"]["mean"][5] > 0.9  # the oracle reads the hidden request
    assert data["drift_turn"] is None


def fake_result(scenario, values: dict[str, list[float]]) -> ScenarioResult:
    per_seed = {p: {"novelty": {"return": v}} for p, v in values.items()}
    return ScenarioResult(scenario, per_seed, {})


@pytest.mark.parametrize(
    ("a", "op", "b", "passed", "margin"),
    [
        ([10, 11, 12], ">", [1, 2, 3], True, None),
        ([10, 11, 12], "<", [1, 2, 3], False, None),
        ([2, 3, 4], ">", [1, 2, 3], False, None),  # means differ, intervals overlap
        ([2.0, 2.0], ">=", 2.0, True, 0.0),
        ([2.0, 2.0], ">", 2.0, False, 0.0),
        ([1.0, 1.2], "<", 5.0, True, None),
    ],
)
def test_assertions_hold_on_the_interval_not_the_mean(tmp_path, a, op, b, passed, margin):
    scenario = load_scenario(write(tmp_path, TINY))
    right = MetricRef("random", "novelty", "return") if isinstance(b, list) else float(b)
    result = fake_result(scenario, {"oracle": a, "random": b if isinstance(b, list) else [0, 0]})
    text = f"oracle.novelty.return {op} {'random.novelty.return' if isinstance(b, list) else b}"
    outcome = check(Assertion(text, MetricRef("oracle", "novelty", "return"), op, right), result)
    assert outcome.passed is passed, outcome.message
    if margin is not None:
        assert outcome.margin == margin
    if not passed:
        assert "short by" in outcome.message and outcome.margin <= 0
        assert f"FAILED: {text}" in outcome.message


def test_an_assertion_on_a_missing_figure_fails_saying_why(tmp_path):
    scenario = load_scenario(write(tmp_path, TINY))
    result = fake_result(scenario, {"oracle": [math.nan, math.nan], "random": [1.0, 2.0]})
    outcome = check(
        Assertion(
            "o > r",
            MetricRef("oracle", "novelty", "return"),
            ">",
            MetricRef("random", "novelty", "return"),
        ),
        result,
    )
    assert not outcome.passed and "cannot decide" in outcome.message


def test_llm_scenario_records_once_then_replays_identically_without_the_api(tmp_path, monkeypatch):
    from simrec.llm.fake_server import FakeMessagesAPI
    from simrec.scenario import load_scenario
    from simrec.scenario_run import run_scenario

    path = tmp_path / "claude.yaml"
    path.write_text(
        "env: golf\nbrain: anthropic\ncache: recordings/claude.sqlite\n"
        "episodes: 2\nseeds: 2\nhorizon: 2\n"
        "policies: {random: random, popularity: popularity}\n"
        "assertions: ['random.cold_start.ctr_at_2 >= 0.0']\n"
    )
    with FakeMessagesAPI() as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-scenario")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        monkeypatch.setenv("SIMREC_CACHE_MODE", "record")
        recorded = run_scenario(load_scenario(path)).summary()
        assert api.calls > 0
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "SIMREC_CACHE_MODE"):
        monkeypatch.delenv(name)
    replayed = run_scenario(load_scenario(path)).summary()  # no server, no key: replay only
    assert str(replayed) == str(recorded)
    assert (tmp_path / "recordings" / "claude.sqlite").is_file()


SEMANTIC = """\
name: semantic
env: golf
personas: {generate: {domain: golf, n: 4, seed: 0}}
persona_events: drop
episodes: 4
seeds: 2
horizon: 3
policies:
  random: random
  constrained: generative_constrained
  unconstrained: {policy: generative_unconstrained, diversity: 0.5}
assertions:
  - constrained.actions.hallucination_rate <= 0
  - unconstrained.actions.hallucination_rate > 0.5
"""


class IdsFromCallable:
    """A plain class that names the catalog's first items by id, declaring nothing."""

    def __init__(self, env, seed=None):
        self.ids = list(env.unwrapped.catalog.semantic_ids[:4]) + ["made/up"]

    def act(self, observation, info):
        return self.ids


def test_semantic_id_policies_add_the_actions_behaviour(tmp_path, monkeypatch):
    scenario = load_scenario(write(tmp_path, SEMANTIC))
    assert scenario.semantic_ids and scenario.metric_names()["actions"] == ("hallucination_rate",)
    assert [s.resolved_form for s in scenario.policies.values()] == [
        "item_index", "semantic_id", "semantic_id",
    ]  # fmt: skip
    result = run_scenario(scenario)
    assert result.passed, [o.message for o in result.failures]
    assert result.per_seed["random"]["actions"]["hallucination_rate"] == [0.0, 0.0]
    plain = load_scenario(write(tmp_path, TINY, "tiny.yaml"))
    assert not plain.semantic_ids and "actions" not in plain.metric_names()
    assert "actions" not in run_scenario(plain).per_seed["random"]
    # a policy that declares nothing gets its form from the file
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    text = SEMANTIC.replace(
        "unconstrained: {policy: generative_unconstrained, diversity: 0.5}",
        'mine: {policy: "test_scenario:IdsFromCallable", action_form: semantic_id}',
    ).replace(
        "unconstrained.actions.hallucination_rate > 0.5", "mine.actions.hallucination_rate > 0.19"
    )
    result = run_scenario(load_scenario(write(tmp_path, text, "mine.yaml")))
    assert result.per_seed["mine"]["actions"]["hallucination_rate"] == [0.2, 0.2]


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ("constrained: generative_constrained",
         "constrained: {policy: generative_constrained, action_form: strings}",
         "s.yaml:10: field 'policies.constrained.action_form': expected one of item_index, "
         "semantic_id, semantic_tokens"),
        ("horizon: 3", "horizon: 3\nconversational: maybe",
         "s.yaml:8: field 'conversational': expected true or false"),
    ],
)  # fmt: skip
def test_semantic_and_conversational_settings_are_validated(tmp_path, replace, by, expected):
    assert expected in error_of(tmp_path, SEMANTIC.replace(replace, by))


def test_conversational_scenarios_run_policies_with_and_without_words(tmp_path):
    text = TINY.replace("persona_events: drop", "persona_events: drop\nconversational: true")
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.env_kwargs["conversational"] is True
    assert run_scenario(scenario).passed


def test_a_scenario_cache_is_its_llm_policies_recording_and_must_be_read(tmp_path, monkeypatch):
    llm = TINY.replace(
        "  oracle: oracle\n",
        "  oracle: oracle\n  rank: {policy: llm_reranker}\n"
        "  own: {policy: llm_reranker, cache: replay, cache_path: mine.sqlite}\n",
    )
    scenario = load_scenario(write(tmp_path, "cache: rec/x.sqlite\n" + llm))
    assert scenario.policies["rank"].params == {
        "cache": "replay",
        "cache_path": str(tmp_path / "rec" / "x.sqlite"),
    }
    assert scenario.policies["own"].params["cache_path"] == str(tmp_path / "mine.sqlite")
    assert scenario.policies["random"].params == {}
    assert "brain_kwargs" not in scenario.env_kwargs  # the users are offline
    monkeypatch.setenv("SIMREC_CACHE_MODE", "record")
    again = load_scenario(write(tmp_path, "cache: rec/x.sqlite\n" + llm))
    assert again.policies["own"].params["cache"] == "record"  # re-records without editing
    message = error_of(tmp_path, "cache: x.sqlite\n" + TINY)
    assert "field 'cache': nothing in this scenario calls an LLM" in message


def test_an_llm_policys_calls_are_reported_apart_in_the_results(tmp_path, monkeypatch):
    from simrec.llm.fake_server import FakeMessagesAPI
    from simrec.policies.llm_scripted import scripted_messages
    from simrec.scenario_report import llm_usage_report

    text = TINY.replace("  oracle: oracle\n", "  rank: {policy: llm_reranker, candidates: 8}\n")
    text = text.replace("oracle.cold_start.ctr_at_5 > random", "rank.cold_start.ctr_at_5 > random")
    with FakeMessagesAPI(default=scripted_messages()) as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-scenario")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        result = run_scenario(
            load_scenario(write(tmp_path, "seeds: 2\n" + text.replace("seeds: 5\n", "")))
        )
    usage = result_json(result)["llm_usage"]
    assert usage["users"] is None and set(usage["policies"]) == {"rank"}
    assert usage["policies"]["rank"]["api_calls"] == api.calls > 0
    assert usage["policies"]["rank"]["input_tokens"] == api.usage["input_tokens"]
    assert api.peak_in_flight > 1  # a round of sessions at once
    assert f"policy 'rank' LLM calls: {api.calls} sent" in llm_usage_report(result)
