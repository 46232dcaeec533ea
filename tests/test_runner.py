"""run_sessions: the loop every runner shares — action forms, conversational slates, usage."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import simrec  # noqa: F401  (registers the envs)
from simrec.errors import ConfigError
from simrec.policies import PolicyUsage
from simrec.runner import run_sessions
from simrec.semantic_ids import SemanticIdSlate

GOLF = "simrec/Golf-v0"


class NamesByIds:
    """Names the first items by semantic id, one made-up id last; reports fake LLM usage."""

    action_form = "semantic_id"

    def __init__(self, env: gym.Env) -> None:
        self.ids = env.unwrapped.catalog.semantic_ids
        self.calls = 0

    def act(self, observation, info):
        self.calls += 1
        return [*self.ids[:4], "no/such/id"]

    def take_usage(self):
        return PolicyUsage(input_tokens=100, output_tokens=7, latency_ms=12.5, cost_usd=0.001)


def test_semantic_id_policies_get_the_wrapper_and_their_usage_logged():
    env = gym.make(GOLF)
    policy = NamesByIds(env)
    interactions, turns = run_sessions(env, policy, 2, seed=0).frames()
    assert policy.calls == len(turns)
    assert interactions["hallucinated"].to_numpy().reshape(-1, 5)[:, 4].all()
    assert interactions["hallucinated"].sum() == len(turns)
    assert (interactions["emitted_id"] == "no/such/id").sum() == len(turns)
    assert (turns["policy_input_tokens"] == 100).all() and (
        turns["policy_output_tokens"] == 7
    ).all()
    np.testing.assert_allclose(turns["policy_latency_ms"], 12.5)
    np.testing.assert_allclose(turns["policy_cost_usd"], 0.001)
    assert (turns["input_tokens"] == 0).all()  # the user's side stays apart


def test_a_policy_without_usage_leaves_the_policy_columns_at_zero():
    env = gym.make(GOLF)
    _, turns = run_sessions(env, lambda obs, info: np.arange(5), 1, seed=0).frames()
    for column in ("policy_input_tokens", "policy_output_tokens", "policy_cost_usd"):
        assert (turns[column] == 0).all()
    assert turns["message"].isna().all()


def test_usage_of_the_wrong_type_is_a_clear_error():
    class Sloppy:
        def act(self, obs, info):
            return np.arange(5)

        def take_usage(self):
            return {"input_tokens": 3}

    with pytest.raises(ConfigError, match="take_usage\\(\\) returned"):
        run_sessions(gym.make(GOLF), Sloppy(), 1)


def test_an_explicit_action_form_overrides_the_policy_and_a_wrapped_env_is_reused():
    env = gym.make(GOLF)
    ids = env.unwrapped.catalog.semantic_ids
    interactions, _ = run_sessions(
        env, lambda obs, info: list(ids[5:10]), 1, action_form="semantic_id"
    ).frames()
    assert not interactions["hallucinated"].any()
    assert set(interactions["item_index"]) == set(range(5, 10))
    wrapped = SemanticIdSlate(env)
    assert len(run_sessions(wrapped, NamesByIds(env), 1)) > 0


def test_in_conversational_mode_a_bare_slate_says_nothing_and_a_message_is_logged():
    env = gym.make(GOLF, conversational=True)
    _, quiet = run_sessions(env, lambda obs, info: np.arange(5), 1, seed=0).frames()
    assert quiet["message"].isna().all()
    talker = lambda obs, info: {"slate": np.arange(5), "message": "Five to start."}  # noqa: E731
    _, turns = run_sessions(env, talker, 1, seed=0).frames()
    assert (turns["message"] == "Five to start.").all()
    # the offline brain ignores words: the same slates get the same reactions
    assert turns["reward"].tolist() == quiet["reward"].tolist()
