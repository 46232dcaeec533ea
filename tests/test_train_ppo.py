"""examples/train_ppo.py: trains, prints the comparison, saves a model a scenario can load.

A tiny deterministic run (a couple of rollouts): what PPO learns at the full budget is a
documented figure (docs/rl.md), not a test.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from simrec.scenario import load_scenario
from simrec.scenario_run import run_scenario

pytest.importorskip("stable_baselines3", reason="install simrec[rl] for the RL extras")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_ppo.py"


def load_example():
    spec = importlib.util.spec_from_file_location("train_ppo", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_ppo"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def tiny_args(example, tmp_path, **overrides):
    settings = dict(
        total_timesteps=128, num_envs=2, num_steps=64, batch_size=64, n_epochs=1,
        eval_episodes=6, schedule_visits=3, schedule_passes=0, baselines="random,linucb,oracle",
        save_path=str(tmp_path / "ppo-golf.zip"), schedule_path=str(tmp_path / "schedule.json"),
    )  # fmt: skip
    return example.Args(**{**settings, **overrides})


def test_the_example_trains_compares_and_saves_a_model_that_loads_again(capsys, tmp_path):
    example = load_example()
    returns = example.main(tiny_args(example, tmp_path, json_path=str(tmp_path / "ppo.json")))
    out = capsys.readouterr().out
    for row in ("PPO (item features)", "best fixed schedule", "PPO's most common", "linucb"):
        assert f"| {row}" in out
    assert set(returns) == {
        "ppo", "best_fixed_schedule", "ppo_most_common_slates", "random", "linucb", "oracle"
    }  # fmt: skip
    assert "(slates of 1)" in out  # the example's default: one item per turn
    assert "PPO / best fixed schedule:" in out
    assert (tmp_path / "ppo-golf.zip").exists() and (tmp_path / "schedule.json").exists()
    assert all(len(v) == 6 for v in returns.values())
    figures = json.loads((tmp_path / "ppo.json").read_text())
    assert figures["slate_size"] == 1
    assert figures["policies"]["ppo"]["mean"] == pytest.approx(returns["ppo"].mean())
    low, high = figures["ppo_vs_fixed"]["low"], figures["ppo_vs_fixed"]["high"]
    assert low <= figures["ppo_vs_fixed"]["mean"] <= high
    # Deterministic: the saved model replays the same held-out returns, and training again
    # with the same seed gives the same model.
    for sub in ("x", "y"):
        (tmp_path / sub).mkdir()
    again = example.main(tiny_args(example, tmp_path / "x", load=str(tmp_path / "ppo-golf.zip")))
    assert np.array_equal(again["ppo"], returns["ppo"])
    retrained = example.main(tiny_args(example, tmp_path / "y", baselines=""))
    assert np.array_equal(retrained["ppo"], returns["ppo"])


@pytest.mark.parametrize("wrapper", ["action_form: score, ", ""])
def test_a_scenario_runs_the_saved_model_with_its_item_features(tmp_path, wrapper):
    from simrec.policies.adapters import load_policy

    example = load_example()
    args = tiny_args(example, tmp_path)
    example.train(args).save(args.save_path)
    env = gym.make("simrec/Golf-v0", slate_size=args.slate_size)
    policy = load_policy("stable_baselines3:PPO", env, load=args.save_path)
    assert policy.translate.visit is not None  # the item features were recognised
    scenario = tmp_path / "ppo.yaml"
    scenario.write_text(
        f"env: golf\nslate_size: {args.slate_size}\nepisodes: 4\nseeds: 2\n"
        "policies:\n"
        f"  ppo: {{policy: 'stable_baselines3:PPO', load: ppo-golf.zip, {wrapper}device: cpu}}\n"
        "assertions:\n  - ppo.novelty.return >= -100\n"
    )
    result = run_scenario(load_scenario(scenario))
    assert result.passed, result.outcomes[0].message
    assert len(result.per_seed["ppo"]["novelty"]["return"]) == 2


def test_the_headroom_compares_the_oracle_with_the_schedule_at_the_presets_own_slate_size(
    tmp_path,
):
    example = load_example()
    figures = example.headroom(tiny_args(example, tmp_path, slate_size=0, eval_episodes=8))
    assert figures["slate_size"] == 5  # golf's own
    oracle, fixed = figures["oracle"]["mean"], figures["best_fixed_schedule"]["mean"]
    assert figures["oracle_vs_fixed"]["mean"] == pytest.approx(oracle / fixed)
    assert figures["oracle_vs_fixed"]["low"] <= oracle / fixed <= figures["oracle_vs_fixed"]["high"]
    schedule = json.loads((tmp_path / "schedule.json").read_text())["schedule"]
    assert len(schedule[0]) == 5
