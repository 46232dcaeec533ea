"""The gauntlet check: who an assertion endorses, substitutions that reuse runs exactly,
``gauntlet: true`` in scenario files, and the importable ``check_gauntlet``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simrec.cli import main
from simrec.errors import ConfigError
from simrec.policies.gauntlet import GAUNTLET, gauntlet_lineup
from simrec.scenario import Assertion, load_scenario
from simrec.scenario_gauntlet import endorsed, substituted, substitutions, with_gauntlet
from simrec.scenario_run import run_scenario
from simrec.testing import check_gauntlet
from tests.test_scenario import TINY
from tests.test_scenario import write as write_file

pytest_plugins = ["pytester"]

# The oracle's early clicks: no policy that never looks at the user comes close.
SOUND = "  - oracle.cold_start.ctr_at_5 > random.cold_start.ctr_at_5\n"
SMALL = (
    TINY.replace("name: tiny", "name: small")
    .replace("n: 4,", "n: 6,")
    .replace("episodes: 8", "episodes: 12")
    .replace(SOUND, "")
)
# Low repetition alone rewards any policy that walks the catalog: the gauntlet games it.
GAMEABLE = "  - random.novelty.repetition < 0.5\n"


def write(tmp_path: Path, text: str, name: str = "small.yaml") -> Path:
    return write_file(tmp_path, text, name)


def parse(text: str) -> Assertion:
    scenario_text = SMALL + "  - " + text + "\n"
    from simrec.scenario import parse_scenario

    return parse_scenario(scenario_text).assertions[0]


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ("oracle.novelty.return > random.novelty.return", ("oracle",)),
        ("random.novelty.churn > oracle.novelty.churn", ("oracle",)),  # less churn is better
        ("oracle.novelty.churn < random.novelty.churn", ("oracle",)),
        ("random.novelty.return < oracle.novelty.return", ("oracle",)),
        ("oracle.steerability.listening >= 0.5", ("oracle",)),
        ("oracle.novelty.repetition <= 0.2", ("oracle",)),
        ("random.novelty.repetition > 0.2", ()),  # a claim that random is bad
        ("oracle.steerability.requests > 3", ()),  # a count endorses nobody
        ("oracle.cold_start.ctr_at_5 > oracle.novelty.churn", ("oracle",)),
    ],
)
def test_an_assertion_endorses_the_policies_it_claims_do_well(check, expected):
    assert endorsed(parse(check)) == expected


def test_every_metric_a_scenario_reports_says_which_way_is_better():
    from simrec.metrics import DIRECTION, direction
    from simrec.scenario import parse_scenario

    text = SMALL + SOUND + "events:\n  - drift: {at_turn: 2, tastes: {category: {desert: 1.0}}}\n"
    names = parse_scenario(text).metric_names()
    for behaviour, metrics in names.items():
        for metric in metrics:
            assert metric in DIRECTION or direction(metric) != 0, f"{behaviour}.{metric}"


def test_a_substitution_gives_what_running_the_policy_in_that_place_gives(tmp_path):
    base = load_scenario(write(tmp_path, SMALL + SOUND))
    result = run_scenario(with_gauntlet(base))
    swapped = substituted(result, "random", "cheapest_rotation")
    rerun = run_scenario(
        load_scenario(
            write(tmp_path, (SMALL + SOUND).replace("random: random", "random: cheapest_rotation"))
        )
    )
    assert swapped.per_seed["random"] == rerun.per_seed["random"]
    assert swapped.per_seed["oracle"] == rerun.per_seed["oracle"]
    # In the oracle's place, the figures measured against the oracle follow the substitute.
    in_oracle = substituted(result, "oracle", "cheapest")
    assert in_oracle.per_seed["oracle"]["cold_start"]["normalized_return"] == [1.0] * 5
    assert (
        in_oracle.per_seed["random"]["cold_start"]["normalized_return"]
        != (result.per_seed["random"]["cold_start"]["normalized_return"])
    )


def test_the_gauntlet_cannot_pass_a_sound_assertion_but_games_a_careless_one(tmp_path):
    sound = check_gauntlet(write(tmp_path, SMALL + SOUND))
    scenario = load_scenario(write(tmp_path, SMALL + SOUND))
    lineup = gauntlet_lineup(scenario.catalog, scenario.personas)
    assert {s.substitute for s in sound} == set(lineup)
    assert {s.endorsed for s in sound} == {"oracle"} and not any(s.passed for s in sound)
    with pytest.raises(AssertionError) as info:
        check_gauntlet(write(tmp_path, SMALL + SOUND + GAMEABLE))
    message = str(info.value)
    assert "gauntlet substitutions passed an assertion" in message
    assert "random.novelty.repetition < 0.5: cheapest_rotation in the place of random PASSED" in (
        message
    )


def test_substitutions_need_a_run_with_the_gauntlet(tmp_path):
    result = run_scenario(load_scenario(write(tmp_path, SMALL + SOUND)))
    with pytest.raises(ConfigError, match="add 'gauntlet: true'"):
        substitutions(result)


def test_the_lineup_shows_what_the_personas_like_request_and_drift_to():
    from simrec.catalog_gen import generate_catalog
    from simrec.persona_gen import generate_personas

    catalog = generate_catalog("golf", 80, 0)
    scenario = load_scenario_text(
        SMALL
        + SOUND
        + "events:\n"
        + "  - intent: {at_turn: 2, says: 'Dogs!', constraint: "
        + "{field: tags, op: has, value: dog-friendly}}\n"
        + "  - drift: {at_turn: 3, tastes: {category: {desert: 2.0}, tags: {scenic: 1.0}}}\n"
    )
    lineup = gauntlet_lineup(scenario.catalog, scenario.personas)
    assert set(GAUNTLET) - {"always_tag"} < set(lineup)
    assert lineup["always_requested"] == (
        "always_tag",
        {"constraint": {"field": "tags", "op": "has", "value": "dog-friendly"}},
    )
    assert lineup["always_drifted"] == ("always_tag", {"tag": "category=desert"})
    liked = lineup["always_liked"][1]["tag"]
    personas = generate_personas("golf", 6, 0)
    weights = sum(p.taste_vector(catalog) for p in personas)
    assert liked == catalog.tokens[int(weights.argmax())]


def load_scenario_text(text: str):
    from simrec.scenario import parse_scenario

    return parse_scenario(text)


def test_gauntlet_true_adds_the_policies_and_a_gamed_assertion_fails_the_run(tmp_path, capsys):
    path = write(tmp_path, SMALL.replace("assertions:", "gauntlet: true\nassertions:") + SOUND)
    scenario = load_scenario(path)
    assert scenario.own_policies == ["random", "oracle"]
    assert set(scenario.gauntlet) == set(gauntlet_lineup(scenario.catalog, scenario.personas))
    assert main(["scenario", "run", str(path), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "small: 2 policies (+ " in out and "gauntlet: 0 of " in out
    assert "│ cheapest_rotation" in out  # the gauntlet's own table
    data = json.loads((tmp_path / "out" / "small.json").read_text())
    assert data["gauntlet"]["gamed"] == 0 and data["gauntlet"]["substitutions"] > 0
    assert data["policies"]["cheapest"]["gauntlet"] is True
    assert data["policies"]["oracle"]["gauntlet"] is False
    assert data["assertions"][0]["gamed_by"] == []

    gamed = write(tmp_path, path.read_text() + GAMEABLE)
    assert main(["scenario", "run", str(gamed), "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert "GAMED: random.novelty.repetition < 0.5" in captured.out
    assert "small: gamed: random.novelty.repetition < 0.5" in captured.err
    data = json.loads((tmp_path / "out" / "small.json").read_text())
    assert data["assertions"][1]["passed"] is True and data["passed"] is False
    assert "cheapest_rotation" in {g["policy"] for g in data["assertions"][1]["gamed_by"]}


def test_a_label_the_gauntlet_needs_is_a_located_error(tmp_path):
    text = SMALL.replace("assertions:", "gauntlet: true\nassertions:").replace(
        "random: random", "cheapest: random"
    ) + SOUND.replace("random.", "cheapest.")
    with pytest.raises(ConfigError, match=r"small.yaml:11: field 'gauntlet': the gauntlet adds "
                       r"policies labelled cheapest"):  # fmt: skip
        load_scenario(write(tmp_path, text))


def test_the_pytest_plugin_fails_a_gamed_assertion(pytester, monkeypatch, tmp_path):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    text = SMALL.replace("assertions:", "gauntlet: true\nassertions:") + SOUND + GAMEABLE
    pytester.makefile(".yaml", small=text)
    result = pytester.runpytest_inprocess("-p", "simrec.pytest_plugin", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*but the gauntlet games it:*", "*cheapest_rotation in the place*"]
    )


def test_a_claim_about_semantic_id_decoding_is_not_substituted_by_index_policies(tmp_path):
    # Every index policy "never hallucinates": the claim is about the decoder, so the
    # gauntlet does not stand in for it there, but still does for its merit claims.
    text = SMALL.replace("random: random", "random: random\n  gen: generative_constrained")
    never = "  - gen.actions.hallucination_rate <= 0\n"
    merit = "  - gen.cold_start.ctr_at_5 > 0.99\n"  # false for gen; nothing may pass it
    scenario = load_scenario(write(tmp_path, text + SOUND + never))
    result = run_scenario(with_gauntlet(scenario))
    assert result.summary()["cheapest"]["actions"]["hallucination_rate"].mean == 0
    tried = {(s.assertion.text, s.endorsed) for s in result.substitutions}
    assert ("gen.actions.hallucination_rate <= 0", "gen") not in tried
    assert ("oracle.cold_start.ctr_at_5 > random.cold_start.ctr_at_5", "oracle") in tried
    assert not result.gamed
    merit_run = run_scenario(with_gauntlet(load_scenario(write(tmp_path, text + never + merit))))
    assert {s.endorsed for s in merit_run.substitutions} == {"gen"}
    assert {s.assertion.text for s in merit_run.substitutions} == {merit.strip()[2:]}
