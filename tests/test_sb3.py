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


@pytest.mark.parametrize("env_id", ["simrec/Golf-v0", "simrec/Books-v0", "simrec/Retail-v0"])
def test_sb3_check_env_passes_without_a_single_warning(env_id):
    import warnings

    from stable_baselines3.common.env_checker import check_env

    env = gym.make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []  # no "looks like an image" (issue 16)
    assert len(env.observation_space["history_feedback"].shape) == 1


def test_flat_history_feedback_reshapes_to_the_slot_grid():
    env = gym.make("simrec/Golf-v0", history_window=2)
    env.reset(seed=0)
    *_, info = env.step(np.arange(5))
    obs, *_ = env.step(np.arange(5, 10))
    grid = obs["history_feedback"].reshape(2, 5, 3)  # window, slot, clicked/purchased/dismissed
    reaction = info["reaction"]  # the older slate is row 1
    np.testing.assert_array_equal(grid[1, :, 0], np.asarray(reaction.clicked, dtype=np.float32))
    np.testing.assert_array_equal(grid[1, :, 2], np.asarray(reaction.dismissed, dtype=np.float32))
