"""A saved stable-baselines3 model runs in a scenario through ``policy: ... load: ...``."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest

from simrec.policies.adapters import SB3Policy
from simrec.scenario import load_scenario
from simrec.scenario_run import run_scenario

pytest.importorskip("stable_baselines3", reason="install simrec[rl] for the RL extras")


def test_a_saved_ppo_model_is_loaded_from_the_scenario_and_evaluated(tmp_path: Path):
    from stable_baselines3 import PPO

    model = PPO("MultiInputPolicy", gym.make("simrec/Golf-v0"), n_steps=64, seed=0, device="cpu")
    model.save(tmp_path / "ppo.zip")
    scenario = tmp_path / "rl.yaml"
    scenario.write_text(
        "env: golf\nepisodes: 2\nseeds: 2\nhorizon: 3\n"
        "policies:\n"
        "  ppo: {policy: 'stable_baselines3:PPO', load: ppo.zip, device: cpu}\n"
        "  random: random\n"
        "assertions:\n  - ppo.novelty.session_length <= 3\n"
    )
    loaded = load_scenario(scenario)
    assert loaded.policies["ppo"].load == str(tmp_path / "ppo.zip")
    result = run_scenario(loaded)
    assert result.passed, result.outcomes[0].message
    assert len(result.per_seed["ppo"]["cold_start"]["return"]) == 2
    slate = SB3Policy(model).act(*gym.make("simrec/Golf-v0").reset(seed=0))
    assert slate.shape == (5,) and slate.dtype.kind == "i"
