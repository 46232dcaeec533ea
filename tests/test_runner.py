"""run_sessions and `simrec run --concurrency`: episodes run concurrently give the same log."""

from __future__ import annotations

import gymnasium as gym
import pandas as pd
import pytest
from llm_support import SECRET

import simrec  # noqa: F401  (registers envs)
from simrec.cli import main
from simrec.errors import ConfigError
from simrec.llm import fake_server as fake
from simrec.policies import make_policy
from simrec.runner import run_sessions


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


@pytest.mark.parametrize("policy", ["linucb", "steer_aware", "random"])
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
