"""TorchRL drives the native vector env unchanged (extra ``torchrl``)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import simrec  # noqa: F401  (registers the envs)

torchrl = pytest.importorskip("torchrl", reason="install simrec[torchrl]")
torch = pytest.importorskip("torch", reason="install simrec[torchrl]")


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


def test_gym_env_with_array_info_rolls_out_async_sub_envs_and_reads_their_info():
    from torchrl.envs import GymEnv

    # "simrec:" imports simrec in each worker process (they start fresh: spawn)
    env = GymEnv("simrec:simrec/Golf-v0", num_envs=2, info_format="arrays")
    try:
        env.set_seed(0)
        rollout = env.rollout(25, break_when_any_done=False)
    finally:
        env.close()
    assert rollout.batch_size == (2, 25)
    step = rollout["next"]
    assert step["done"].any()  # golf visits end within 25 turns
    satisfaction = step["ground_truth_satisfaction"]
    assert satisfaction.dtype == torch.float64 and ((satisfaction >= 0) & (satisfaction <= 1)).all()
    assert step["clicked"].shape == (2, 25, 5) and step["clicked"].any()
    # a purchase is always of a clicked item, in TorchRL's tensors as in the env
    assert not (step["purchased"] & ~step["clicked"]).any()
    assert step["turn"].shape == (2, 25, 1)  # the observation's turn, not overwritten by info


@pytest.mark.parametrize(
    ("mode", "autoreset", "info_format"),
    [
        ("sync", AutoresetMode.DISABLED, "full"),  # TorchRL resets lanes, reads no info
        ("sync", AutoresetMode.SAME_STEP, "arrays"),  # TorchRL reads info and final_obs
        ("async", AutoresetMode.DISABLED, "full"),
    ],
)
def test_gym_wrapper_drives_gymnasiums_own_vector_envs(mode, autoreset, info_format):
    from torchrl.envs import GymWrapper
    from torchrl.envs.utils import check_env_specs

    envs = gym.make_vec(
        "simrec:simrec/Golf-v0",
        num_envs=2,
        vectorization_mode=mode,
        vector_kwargs={"autoreset_mode": autoreset},
        info_format=info_format,
    )
    env = GymWrapper(envs)
    try:
        check_env_specs(env)
        env.set_seed(3)
        rollout = env.rollout(30, break_when_any_done=False)
    finally:
        env.close()
    done = rollout["next", "done"].squeeze(-1)
    assert rollout.batch_size == (2, 30) and done.sum() >= 2
    lane, step = (int(x) for x in done.nonzero()[0])
    if step + 1 < 30:  # the lane restarted: a fresh visit at its first slate
        assert float(rollout["turn"][lane, step + 1]) == 0.0
    if info_format == "arrays":
        assert rollout["next", "session_id"].dtype == torch.int64


def test_gym_wrapper_reads_array_info_of_grounded_personas_with_unequal_histories():
    from torchrl.envs import GymWrapper

    from simrec.env import RecSessionEnv
    from tests.conftest import grounded_catalog, make_grounded_persona

    catalog = grounded_catalog()
    pool = [
        make_grounded_persona("u1", seed=1, history=("it-010", "it-002", "it-007")),
        make_grounded_persona("u2", seed=2, history=()),
        make_grounded_persona("u3", seed=3, history=("it-004",)),
    ]

    def make():
        return RecSessionEnv(catalog, pool, max_turns=6, info_format="arrays")

    envs = gym.vector.SyncVectorEnv([make] * 3, autoreset_mode=AutoresetMode.SAME_STEP)
    env = GymWrapper(envs)
    env.set_seed(0)
    rollout = env.rollout(14, break_when_any_done=False)
    env.close()
    personas = rollout["next", "persona_index"]
    assert set(personas.unique().tolist()) <= {0, 1, 2} and rollout["next", "done"].sum() >= 3
