"""``simrec scenario robustness``: pass rates over disjoint seed blocks, perturbations that
flip a verdict, only the needed policies run, and the same figures for any worker count."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from simrec.brains.utility import UtilityParams
from simrec.cli import main
from simrec.errors import ConfigError
from simrec.scenario import load_scenario
from simrec.scenario_robustness import perturbations, robustness, seed_blocks, trimmed
from simrec.scenario_run import run_scenario
from simrec.session import SessionDynamics
from tests.test_scenario import TINY as SCENARIO
from tests.test_scenario import write as write_file

TINY = (
    SCENARIO.replace("episodes: 8\nseeds: 5", "episodes: 10\nseeds: 4")
    .replace("horizon: 5", "horizon: 5\nbrain_kwargs: {outside_utility: 2.0}\n"
             "dynamics: {category_decay: 0.9}")
    .replace("  random: random", "  random: random\n  popularity: popularity")
)  # fmt: skip


def write(tmp_path: Path, text: str, name: str = "tiny.yaml") -> Path:
    return write_file(tmp_path, text, name)


def test_seed_blocks_share_no_session_with_each_other_or_the_scenario(tmp_path):
    scenario = load_scenario(write(tmp_path, TINY.replace("seeds: 4", "seeds: [0, 4, 2]")))
    sessions = [{scenario.session_seed(s) + i for s in scenario.seeds for i in range(10)}]
    for variant in seed_blocks(scenario, 4):
        assert len(variant.scenario.seeds) == 3
        sessions.append(
            {
                variant.scenario.session_seed(s) + i
                for s in variant.scenario.seeds
                for i in range(10)
            }
        )
    assert sum(len(s) for s in sessions) == len(set().union(*sessions)) == 5 * 30


def test_every_user_model_parameter_is_perturbed_both_ways_from_the_scenarios_value(tmp_path):
    scenario = load_scenario(write(tmp_path, TINY))
    variants, skipped = perturbations(scenario, 0.25)
    names = [f.name for f in dataclasses.fields(UtilityParams)]
    names += [f.name for f in dataclasses.fields(SessionDynamics)]
    zero = {n for n in names if f"{n}: 0 " in " ".join(skipped) + " "}
    assert len(variants) == 2 * (len(names) - len(zero))
    by_label = {v.label: v.scenario for v in variants}
    # the scenario's own values are the base: outside_utility 2.0, category_decay 0.9
    assert by_label["outside_utility x0.75"].env_kwargs["brain_kwargs"]["outside_utility"] == 1.5
    assert by_label["outside_utility x1.25"].env_kwargs["brain_kwargs"]["outside_utility"] == 2.5
    assert by_label["category_decay x0.75"].env_kwargs["dynamics"].category_decay == 0.675
    capped = by_label["category_decay x1.25 (capped at 1)"]  # a share stays a share
    assert capped.env_kwargs["dynamics"].category_decay == 1.0
    taste = by_label["taste_weight x1.25"].env_kwargs["brain_kwargs"]["taste_weight"]
    assert taste == 1.25 * UtilityParams().taste_weight  # the default is the base when unset
    assert scenario.env_kwargs["brain_kwargs"] == {"outside_utility": 2.0}  # untouched
    only, _ = perturbations(scenario, 0.1, only=["fatigue_base"])
    assert [v.label for v in only] == ["fatigue_base x0.9", "fatigue_base x1.1"]
    with pytest.raises(ConfigError, match="unknown user-model parameter.*fatigue_bass"):
        perturbations(scenario, 0.1, only=["fatigue_bass"])


def test_only_the_policies_the_assertions_name_run(tmp_path):
    scenario = load_scenario(write(tmp_path, TINY.replace("seeds: 4", "seeds: 4\ngauntlet: true")))
    assert list(trimmed(scenario).policies) == ["random", "oracle"]
    relative = load_scenario(
        write(tmp_path, TINY + "  - popularity.cold_start.normalized_return < 0.9\n")
    )
    assert list(trimmed(relative).policies) == ["random", "popularity", "oracle"]


def test_pass_rates_flips_and_figures_do_not_depend_on_the_workers(tmp_path):
    probe = load_scenario(write(tmp_path, TINY + "  - popularity.novelty.churn <= 1\n"))
    churn = run_scenario(probe).figure(probe.assertions[1].left)
    # An assertion sitting exactly on its own figure: users who leave sooner break it.
    edge = f"  - popularity.novelty.churn <= {churn.high!r}\n"
    scenario = load_scenario(write(tmp_path, TINY + edge))
    one = robustness(scenario, blocks=3, parameters=["leave_base"], workers=1)
    two = robustness(scenario, blocks=3, parameters=["leave_base"], workers=2)
    assert one.to_dict() == two.to_dict()
    assert one.baseline.passed == (True, True)
    assert [v.label for v, _ in one.blocks] == ["block 1", "block 2", "block 3"]
    assert one.pass_rate(0) == sum(v.passed[0] for _, v in one.blocks) / 3
    # leave_base is negative: x0.75 makes leaving likelier and flips the churn check
    assert [change for change, _ in one.flips(1)] == ["leave_base x0.75"]
    assert one.flips(1)[0][1] < 0  # the margin where it flipped
    assert one.to_dict()["assertions"][1]["flips"][0]["change"] == "leave_base x0.75"


def test_the_command_prints_the_table_writes_json_and_fails_below_the_rate(tmp_path, capsys):
    path = write(tmp_path, TINY)
    out = tmp_path / "rob.json"
    code = main(["scenario", "robustness", str(path), "--blocks", "2", "--no-perturb",
                 "--workers", "1", "--json", str(out), "--min-rate", "0"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "tiny: 2 seed blocks of 4 seeds x 10 sessions, 0 parameter perturbations" in captured.out
    assert "oracle.cold_start.ctr_at_5 > random.cold_start.ctr_at_5" in captured.out
    data = json.loads(out.read_text())
    assert data[0]["scenario"] == "tiny" and data[0]["blocks"] == 2
    assert data[0]["assertions"][0]["blocks_passed"] in (0, 1, 2)
    never = write(tmp_path, TINY + "  - random.cold_start.ctr_at_5 > oracle.cold_start.ctr_at_5\n")
    code = main(["scenario", "robustness", str(never), "--blocks", "2", "--no-perturb",
                 "--workers", "1"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    assert "pass in fewer than 95% of seed blocks" in captured.err
    assert "tiny: random.cold_start.ctr_at_5 > oracle.cold_start.ctr_at_5 (0%)" in captured.err


def test_bad_arguments_are_clear_errors(tmp_path, capsys):
    path = write(tmp_path, TINY)
    with pytest.raises(SystemExit):
        main(["scenario", "robustness", str(path), "--blocks", "-1"])
    assert "expected an integer >= 0, got -1" in capsys.readouterr().err
    scenario = load_scenario(path)
    with pytest.raises(ConfigError, match="perturb_by: expected a share in"):
        robustness(scenario, blocks=0, perturb_by=1.5)
    empty = load_scenario(write(tmp_path, TINY.split("assertions:")[0], "empty.yaml"))
    with pytest.raises(ConfigError, match="no assertions, so nothing to measure"):
        robustness(empty, blocks=1)
