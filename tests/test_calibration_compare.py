"""LLM-played users side by side with the offline model: the same sessions for every
brain, figures with intervals over seeds, paired differences, a table and a JSON file;
through the real SDK against the fake Messages API answering with the scripted user."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from llm_support import SECRET

from simrec.calibration.compare import ALL, compare_brains, compare_runs, pooled
from simrec.calibration.report import print_comparison, write_comparison
from simrec.calibration.runs import BrainSpec, brain_specs, run_brain
from simrec.errors import ConfigError
from simrec.llm.fake_server import FakeMessagesAPI
from simrec.llm.scripted_user import scripted_messages
from simrec.scenario import parse_scenario

pytest.importorskip("anthropic")

SCENARIO = """
name: check
env: golf
personas: {generate: {domain: golf, n: 6, seed: 5}}
persona_events: drop
events:
  - intent: {at_turn: 2, says: "Only dog-friendly courses, please.",
             constraint: {field: tags, op: has, value: dog-friendly}}
episodes: 3
seeds: 2
horizon: 5
policies:
  random: random
  listens: {policy: steer_aware, base: greedy}
  constant: constant_slate
"""


def llm(api, **extra) -> BrainSpec:
    return BrainSpec("anthropic", "anthropic", {"api_key": SECRET, "base_url": api.url,
                                                "max_retries": 1, **extra})  # fmt: skip


def test_brains_are_compared_on_the_same_sessions(tmp_path):
    scenario = parse_scenario(SCENARIO)
    cache = tmp_path / "check.sqlite"
    with FakeMessagesAPI(default=scripted_messages()) as api:
        comparison = compare_brains(
            scenario,
            [BrainSpec("utility", "utility"), llm(api, cache="record", cache_path=str(cache))],
            concurrency=3,
        )
    assert comparison.labels == ["utility", "anthropic"]
    for brain, run in comparison.runs.items():
        for label in scenario.policies:
            for k, (_, turns) in enumerate(run.logs[label]):
                first = scenario.session_seed(scenario.seeds[k])
                assert sorted(set(turns["session_id"])) == list(range(first, first + 3))
                assert set(turns["brain"]) <= {brain, "anthropic->utility"}
    ctr = comparison.figure("ctr", "anthropic")
    assert ctr.n == 2 and 0 <= ctr.mean <= 1
    diff = comparison.difference("ctr", "anthropic")
    per_seed = comparison.groups[ALL].values
    expected = [
        a - b for a, b in zip(per_seed["anthropic"]["ctr"], per_seed["utility"]["ctr"], strict=True)
    ]
    assert diff.mean == pytest.approx(sum(expected) / 2)
    position = comparison.curve("position", "anthropic")
    assert list(position.index) == [1, 2, 3, 4, 5]
    assert comparison.figure("requests", "utility", "listens").mean > 0
    # a recording replays to the same figures, with no API call
    replayed = compare_brains(
        scenario,
        [BrainSpec("utility", "utility"),
         BrainSpec("anthropic", "anthropic", {"cache": "replay", "cache_path": str(cache)})],
        concurrency=2,
    )  # fmt: skip
    assert replayed.to_json()["groups"] == comparison.to_json()["groups"]
    assert "0 sent" in replayed.usage["anthropic"]
    path = write_comparison(replayed, tmp_path / "out" / "check-brains.json")
    data = json.loads(path.read_text())
    assert data["reference"] == "utility" and set(data["groups"]) == {ALL, *scenario.policies}
    assert set(data["groups"][ALL]["differences"]["ctr"]) == {"anthropic"}
    assert data["groups"][ALL]["curves"]["turn"]["anthropic"][0]["turn"] == 1
    assert SECRET not in path.read_text()


def test_the_table_shows_every_brain_and_the_difference(capsys):
    scenario = parse_scenario(SCENARIO.replace("seeds: 2", "seeds: 3"))
    runs = [run_brain(scenario, BrainSpec(b, "utility", kw), concurrency=1)
            for b, kw in (("utility", {}), ("keen", {"outside_utility": 0.5}))]  # fmt: skip
    comparison = compare_runs(scenario, runs)
    from rich.console import Console

    print_comparison(comparison, Console(width=240))
    out = capsys.readouterr().out
    assert "keen − utility" in out and "leave hazard (leaves per turn)" in out
    assert "by slot position" in out and "by times the item was shown before" in out
    row = next(line for line in out.splitlines() if line.startswith("│ CTR (share"))
    assert row.rstrip("│ ").endswith("*")  # a much lower outside utility: clearly more clicks
    assert comparison.difference("ctr", "keen").low > 0


def test_runs_do_not_depend_on_concurrency():
    scenario = parse_scenario(SCENARIO)
    spec = BrainSpec("utility", "utility")
    one, three = (run_brain(scenario, spec, concurrency=c) for c in (1, 3))
    for label in scenario.policies:
        for a, b in zip(one.logs[label], three.logs[label], strict=True):
            pd.testing.assert_frame_equal(a[0], b[0])
            pd.testing.assert_frame_equal(a[1], b[1])
    interactions, turns = pooled([one.logs[p][0] for p in scenario.policies])
    assert turns["session_id"].nunique() == 3 * len(scenario.policies)


def test_brain_names_are_checked(tmp_path):
    scenario = parse_scenario(SCENARIO)
    with pytest.raises(ConfigError, match="unknown brain 'claude'"):
        brain_specs(["utility", "claude"], scenario)
    with pytest.raises(ConfigError, match="each brain once"):
        brain_specs(["utility", "utility"], scenario)
    with pytest.raises(ConfigError, match="at least two brains"):
        compare_brains(scenario, [BrainSpec("utility", "utility")])
    params = tmp_path / "fitted.yaml"
    params.write_text("brain_kwargs: {outside_utility: 2.5}\ndynamics: {item_decay: 0.7}\n")
    specs = brain_specs(["utility", f"utility:{params}", "anthropic"], scenario, {"model": "m"})
    assert [s.label for s in specs] == ["utility", "utility[fitted]", "anthropic"]
    assert specs[1].kwargs == {"outside_utility": 2.5} and specs[1].dynamics == {"item_decay": 0.7}
    assert specs[2].kwargs == {"model": "m"}
