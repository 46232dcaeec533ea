"""run_sessions: the loop every runner shares — episodes run concurrently give the same log
(`simrec run --concurrency`); semantic-id action forms, conversational slates, policy usage."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from llm_support import SECRET

import simrec  # noqa: F401  (registers envs)
from simrec.cli import main
from simrec.errors import ConfigError
from simrec.llm import fake_server as fake
from simrec.policies import PolicyUsage, make_policy
from simrec.runner import run_sessions
from simrec.semantic_ids import SemanticIdSlate

GOLF = "simrec/Golf-v0"


def frames(env, concurrency: int, policy: str = "linucb", episodes: int = 7, seed: int = 4):
    log = run_sessions(
        env,
        make_policy(policy, env, seed=seed),
        episodes,
        seed=seed,
        concurrency=concurrency,
        policy_factory=lambda lane, s: make_policy(policy, lane, seed=s),
    )
    return log.frames()


@pytest.mark.parametrize(
    "policy",
    ["linucb", "steer_aware", "random", "generative_constrained", "generative_unconstrained"],
)
def test_any_concurrency_gives_the_sequential_event_log(policy):
    env = gym.make("simrec/Golf-v0")
    want = frames(env, 1, policy)
    for concurrency in (2, 3, 16):
        got = frames(env, concurrency, policy)
        pd.testing.assert_frame_equal(got[0], want[0])
        pd.testing.assert_frame_equal(got[1], want[1])


def test_concurrency_needs_a_policy_per_episode():
    env = gym.make("simrec/Golf-v0")
    with pytest.raises(ConfigError, match="needs a policy_factory"):
        run_sessions(env, make_policy("random", env), 3, concurrency=2)
    with pytest.raises(ConfigError, match="concurrency: expected an integer >= 1"):
        run_sessions(env, make_policy("random", env), 3, concurrency=0)


def test_llm_episodes_run_concurrently_and_replay_under_another_concurrency(tmp_path):
    path = str(tmp_path / "run.sqlite")

    def play(concurrency: int, brain_kwargs: dict):
        env = gym.make("simrec/GolfClaude-v0", max_turns=3, brain_kwargs=brain_kwargs)
        out = frames(env, concurrency, "popularity", episodes=6)
        env.unwrapped.brain.close()
        return out

    with fake.FakeMessagesAPI(gather=6) as api:
        recorded = play(6, {"api_key": SECRET, "base_url": api.url, "cache": "record",
                            "cache_path": path, "concurrency": 6})  # fmt: skip
    assert api.peak_in_flight == 6  # the six episodes' calls were in flight together
    for concurrency in (1, 4):
        replayed = play(concurrency, {"cache": "replay", "cache_path": path})
        pd.testing.assert_frame_equal(replayed[1], recorded[1])
        pd.testing.assert_frame_equal(replayed[0], recorded[0])


def test_simrec_run_prints_the_same_transcripts_whatever_the_concurrency(capsys):
    outputs = []
    for concurrency in ("1", "5"):
        assert main(["run", "golf", "--policy", "mmr", "--episodes", "5", "--seed", "7",
                     "--concurrency", concurrency]) == 0  # fmt: skip
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert outputs[0].index("episode 1/5") < outputs[0].index("episode 5/5")


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


def test_usage_as_a_mapping_fills_every_policy_column_and_bad_fields_are_errors():
    from simrec.events import POLICY_USAGE_FIELDS
    from simrec.policies import PolicyUsage

    assert (
        tuple(f"policy_{name}" for name in PolicyUsage.__dataclass_fields__) == POLICY_USAGE_FIELDS
    )

    class Mapped(NamesByIds):
        usage = {"input_tokens": 9.0, "cache_read_tokens": 4.0, "fallbacks": 1.0, "cost_usd": 0.5}

        def take_usage(self):
            return dict(self.usage)

    env = gym.make(GOLF)
    _, turns = run_sessions(env, Mapped(env), 1, seed=0).frames()
    assert (turns["policy_input_tokens"] == 9).all()
    assert (turns["policy_cache_read_tokens"] == 4).all()
    assert (turns["policy_fallbacks"] == 1).all() and (turns["policy_cost_usd"] == 0.5).all()
    for bad, problem in (({"tokens": 3}, "unknown usage field 'tokens'"),
                         ({"cost_usd": float("nan")}, "cost_usd: expected a non-negative")):  # fmt: skip
        Mapped.usage = bad
        with pytest.raises(ConfigError, match=problem):
            run_sessions(env, Mapped(env), 1)


def test_usage_of_the_wrong_type_is_a_clear_error():
    class Sloppy:
        def act(self, obs, info):
            return np.arange(5)

        def take_usage(self):
            return [("input_tokens", 3)]

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


def test_concurrent_lanes_log_messages_and_usage_like_one_lane():
    env = gym.make(GOLF, conversational=True)

    class Talker(NamesByIds):
        def act(self, observation, info):
            return {"slate": super().act(observation, info), "message": "Have a look."}

    logs = [
        run_sessions(env, Talker(env), 5, concurrency=c, policy_factory=lambda e, s: Talker(e))
        for c in (1, 3)
    ]
    (inter_a, turns_a), (inter_b, turns_b) = (log.frames() for log in logs)
    pd.testing.assert_frame_equal(inter_a, inter_b)
    pd.testing.assert_frame_equal(turns_a, turns_b)
    assert (turns_b["message"] == "Have a look.").all() and (
        turns_b["policy_input_tokens"] == 100
    ).all()
    assert inter_b["hallucinated"].sum() == len(turns_b)
