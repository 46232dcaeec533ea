"""TorchRL drives the native vector env unchanged (extra ``torchrl``)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import simrec  # noqa: F401  (registers the envs)

torchrl = pytest.importorskip("torchrl", reason="install simrec[torchrl]")


def test_gym_wrapper_runs_the_native_vector_env_across_episode_ends():
    from torchrl.envs import GymWrapper
    from torchrl.envs.utils import check_env_specs

    envs = gym.make_vec("simrec/Golf-v0", num_envs=4, autoreset_mode=AutoresetMode.DISABLED)
    env = GymWrapper(envs)
    check_env_specs(env)
    env.set_seed(0)
    rollout = env.rollout(40, break_when_any_done=False)  # sessions end and are restarted
    assert rollout.batch_size == (4, 40)
    done = rollout["next", "done"].squeeze(-1)
    assert done.sum() >= 4  # every lane finished at least one visit in 40 turns
    feedback = rollout["next", "history_feedback"]
    assert feedback.shape == (4, 40, 3 * 5 * 3) and ((feedback == 0) | (feedback == 1)).all()
    # a finished lane restarts: its next turn counter is back at the first slate
    lane, step = (int(x) for x in done.nonzero()[0])
    if step + 1 < 40:
        assert float(rollout["turn"][lane, step + 1]) == 0.0


def test_gym_wrapper_refuses_the_default_next_step_mode_with_torchrls_message():
    from torchrl.envs import GymWrapper

    with pytest.raises(RuntimeError, match="auto-reset mode must be one of SAME_STEP or DISABLED"):
        GymWrapper(gym.make_vec("simrec/Golf-v0", num_envs=2))
    assert np.all(
        gym.make_vec("simrec/Golf-v0", num_envs=2).autoreset_mode == AutoresetMode.NEXT_STEP
    )
