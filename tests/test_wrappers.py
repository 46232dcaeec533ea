"""Slate action wrappers: score vectors and slot-by-slot slates."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import simrec  # noqa: F401  (registers the envs)
from simrec.errors import ActionError
from simrec.wrappers import (
    ScoreSlateVectorWrapper,
    ScoreSlateWrapper,
    SequentialSlateWrapper,
    top_k_items,
)


def test_score_action_shows_the_top_k_items_best_first():
    env = ScoreSlateWrapper(gym.make("simrec/Golf-v0"))
    assert env.action_space.shape == (200,)
    env.reset(seed=0)
    scores = np.zeros(200, dtype=np.float32)
    scores[[7, 3, 9, 1, 150]] = [0.9, 0.8, 0.7, 0.6, 0.5]
    *_, info = env.step(scores)
    assert info["slate"] == [7, 3, 9, 1, 150]
    assert info["duplicates"] == 0


def test_tied_scores_break_by_index_and_bad_scores_are_errors():
    assert top_k_items(np.zeros(6), 3).tolist() == [0, 1, 2]
    assert top_k_items(np.array([[0.0, 1.0, 1.0], [2.0, 0.0, 2.0]]), 2).tolist() == [[1, 2], [0, 2]]
    env = ScoreSlateWrapper(gym.make("simrec/Golf-v0"))
    env.reset(seed=0)
    with pytest.raises(ActionError, match="must not be NaN"):
        env.step(np.full(200, np.nan))
    with pytest.raises(ActionError, match="expected 200 scores"):
        env.step(np.zeros(5))
    with pytest.raises(ActionError, match=r"expected numbers, got <U1 values \['a', 'a', 'a'\]"):
        env.step(["a"] * 200)
    with pytest.raises(ActionError, match="expected numbers, got object values"):
        env.step(np.array([None] * 200))


@pytest.mark.parametrize("wrapper", [ScoreSlateWrapper, SequentialSlateWrapper])
def test_wrapped_envs_pass_check_env(wrapper):
    env = wrapper(gym.make("simrec/Golf-v0", render_mode="ansi").unwrapped)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # check_env notes that a wrapper is applied; that is the point here.
        warnings.filterwarnings("ignore", message=".*different from the unwrapped version")
        check_env(env)


def test_score_vector_wrapper_matches_the_vector_env_given_top_k_slates():
    scored = ScoreSlateVectorWrapper(gym.make_vec("simrec/Golf-v0", num_envs=4))
    plain = gym.make_vec("simrec/Golf-v0", num_envs=4)
    assert scored.action_space.shape == (4, 200)
    scored.reset(seed=1)
    plain.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(10):
        scores = rng.random((4, 200)).astype(np.float32)
        a = scored.step(scores)
        b = plain.step(np.argsort(-scores, axis=1)[:, :5])
        assert np.array_equal(a[1], b[1]) and list(a[4]["reply"]) == list(b[4]["reply"])


def test_sequential_slots_build_one_slate_per_user_turn():
    env = SequentialSlateWrapper(gym.make("simrec/Golf-v0"))
    obs, info = env.reset(seed=0)
    assert env.action_space.n == 200 and info["action_mask"].all()
    for slot, item in enumerate([10, 20, 30, 40]):
        obs, reward, terminated, truncated, info = env.step(item)
        assert reward == 0.0 and not terminated and not truncated
        assert obs["slate_so_far"].tolist()[: slot + 1] == [11, 21, 31, 41][: slot + 1]
        assert not info["action_mask"][item] and not env.action_masks()[item]
        assert obs["turn"][0] == 0.0  # the user has not seen anything yet
        assert env.observation_space.contains(obs)
    obs, reward, terminated, truncated, info = env.step(np.int64(50))
    assert info["slate"] == [10, 20, 30, 40, 50] and info["turn"] == 1
    assert obs["slate_so_far"].tolist() == [0] * 5 and info["action_mask"].all()
    with pytest.raises(ActionError, match="out of range"):
        env.step(200)
