"""stable-baselines3 trains on the env unchanged (smoke test: construct and learn briefly)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("stable_baselines3", reason="install simrec[rl] for the RL extras")


def test_ppo_multi_input_policy_learns_a_few_hundred_steps():
    from stable_baselines3 import PPO

    env = gym.make("simrec/Golf-v0")
    model = PPO(
        "MultiInputPolicy", env, n_steps=128, batch_size=64, n_epochs=1, seed=0, device="cpu"
    )
    model.learn(total_timesteps=256)
    obs, _ = env.reset(seed=1)
    action, _ = model.predict(obs, deterministic=True)
    assert action.shape == (5,) and np.all((action >= 0) & (action < 200))
    env.step(action)
