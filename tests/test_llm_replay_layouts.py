"""A recording replays identically whatever the process layout, or stops with a clear miss.

The sample of every request is its session and turn (never a counter), so the same run
recorded with one layout (workers, lanes, shards, batch mode, vector sub-envs) replays
with any other, bit for bit, with zero API calls.
"""

from __future__ import annotations

import gymnasium as gym
import pandas as pd
import pytest
from llm_support import SECRET

import simrec  # noqa: F401  (registers envs and brains)
from simrec.datagen import generate
from simrec.errors import CacheMissError
from simrec.llm import fake_server as fake

pytest.importorskip("anthropic")

SESSIONS = 12


def run(path, out, **layout) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate the golf run of ``SESSIONS`` sessions replayed from ``path`` with ``layout``."""
    ds = generate(
        "golf",
        "random",
        SESSIONS,
        0,
        out,
        max_turns=4,
        brain="anthropic",
        brain_kwargs={"cache": "replay", "cache_path": str(path)},
        **layout,
    )
    return ds.turns, ds.interactions


def test_a_recording_replays_identically_under_three_other_layouts(tmp_path, monkeypatch):
    path = tmp_path / "golf.sqlite"
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    with fake.FakeMessagesAPI() as api:
        recorded = generate(
            "golf",
            "random",
            SESSIONS,
            0,
            tmp_path / "recorded",
            max_turns=4,
            shard_size=6,
            workers=1,
            lanes=1,
            brain="anthropic",
            brain_kwargs={"base_url": api.url, "cache": "record", "cache_path": str(path)},
        )
    calls = api.calls
    monkeypatch.delenv("ANTHROPIC_API_KEY")  # replays need no key and make no call
    layouts = [
        {"workers": 2, "shard_size": 6, "lanes": 2},
        {"workers": 1, "shard_size": 5, "lanes": 4},
        {"workers": 1, "shard_size": 12, "lanes": 3, "batch": True, "batch_poll": 0.01},
    ]
    want_turns = recorded.turns.drop(columns=["cost_usd"])
    for n, layout in enumerate(layouts):
        turns, interactions = run(path, tmp_path / f"replay{n}", **layout)
        assert (turns["cost_usd"] == 0).all(), layout  # replays are free ...
        pd.testing.assert_frame_equal(turns.drop(columns=["cost_usd"]), want_turns, obj=str(layout))
        pd.testing.assert_frame_equal(interactions, recorded.interactions, obj=str(layout))
    assert api.calls == calls  # ... and call nobody
    assert recorded.turns["session_id"].nunique() == SESSIONS


def test_a_diverged_replay_names_persona_session_and_turn(tmp_path):
    path = tmp_path / "golf.sqlite"
    with fake.FakeMessagesAPI() as api:
        env = gym.make(
            "simrec/GolfClaude-v0",
            max_turns=2,
            brain_kwargs={
                "api_key": SECRET,
                "base_url": api.url,
                "cache": "record",
                "cache_path": str(path),
            },  # fmt: skip
        )
        env.reset(seed=0, options={"session_id": 0})
        env.step([0, 1, 2, 3, 4])
        env.close()
    replay = gym.make(
        "simrec/GolfClaude-v0", brain_kwargs={"cache": "replay", "cache_path": str(path)}
    )
    replay.reset(seed=0, options={"session_id": 0})
    replay.step([0, 1, 2, 3, 4])  # recorded
    with pytest.raises(CacheMissError, match=r"persona '[\w-]+' \(session 0\), turn 2"):
        replay.step([5, 6, 7, 8, 9])  # never recorded
    replay.close()


def test_vector_sub_envs_replay_whatever_the_number_of_sub_envs(tmp_path):
    path = tmp_path / "vec.sqlite"
    kwargs = {"cache": "record", "cache_path": str(path)}

    def replies(num_envs: int, brain_kwargs: dict) -> list[list[str]]:
        envs = gym.make_vec("simrec/GolfClaude-v0", num_envs=num_envs, max_turns=3,
                            brain_kwargs=brain_kwargs)  # fmt: skip
        envs.reset(seed=5)
        out = []
        for step in range(5):  # past the first autoresets
            actions = [[(step + i + j) % 50 for j in range(5)] for i in range(num_envs)]
            out.append(envs.step(actions)[4]["reply"].tolist())
        envs.close()
        return out

    with fake.FakeMessagesAPI() as api:
        recorded = replies(4, {"api_key": SECRET, "base_url": api.url, **kwargs})
    replayed = replies(2, {"cache": "replay", "cache_path": str(path)})
    assert replayed == [step[:2] for step in recorded]


def test_a_replayed_run_reports_zero_spent_beside_the_recorded_cost(tmp_path, monkeypatch, capsys):
    from simrec.cli import main

    cache = str(tmp_path / "c.sqlite")
    args = ["generate", "golf", "--brain", "anthropic", "--sessions", "3", "--max-turns", "2",
            "--cache-path", cache, "--no-progress"]  # fmt: skip
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    with fake.FakeMessagesAPI() as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        assert main([*args, "--cache", "record", "--out", str(tmp_path / "a")]) == 0
    recorded = capsys.readouterr().out.split("estimated cost: $")[1].split(" ")[0]
    assert float(recorded) > 0
    assert main([*args, "--cache", "replay", "--out", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert (
        f"estimated cost: $0.0000 (replayed turns cost nothing); these turns' tokens cost ${recorded} at list price"
        in out
    )


def test_a_scenario_with_llm_users_and_llm_policies_replays_exactly_under_any_layout(
    tmp_path, monkeypatch
):
    import json

    from simrec.env import RecSessionEnv
    from simrec.policies import make_policy
    from simrec.policies.llm_scripted import scripted_messages
    from simrec.runner import run_sessions
    from simrec.scenario import parse_scenario
    from simrec.scenario_run import run_scenario

    text = """
env: golf
brain: anthropic
conversational: true
cache: talk.sqlite
personas: {generate: {domain: golf, n: 6, seed: 1}}
episodes: 3
seeds: 2
horizon: 3
policies:
  talk: {policy: llm_conversational, candidates: 8, concurrency: 3}
  rank: {policy: llm_reranker, candidates: 8, concurrency: 3}
"""
    with fake.FakeMessagesAPI(default=scripted_messages()) as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        monkeypatch.setenv("SIMREC_CACHE_MODE", "record")
        recorded = run_scenario(parse_scenario(text, base_dir=tmp_path))  # 3 lanes a round
    calls = api.calls
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "SIMREC_CACHE_MODE"):
        monkeypatch.delenv(name)
    scenario = parse_scenario(text, base_dir=tmp_path)
    replayed = run_scenario(scenario)  # no key, no server: replay
    as_json = lambda r: json.dumps(r.per_seed, sort_keys=True)  # noqa: E731 (NaN == NaN)
    assert as_json(replayed) == as_json(recorded)
    assert replayed.llm_usage()["policies"]["talk"]["api_calls"] == 0
    assert calls > 2 * 2 * 3 * 2  # users and policies, both seeds, both policies

    path = str(tmp_path / "talk.sqlite")
    replay = {"cache": "replay", "cache_path": path}

    def logged(concurrency: int) -> pd.DataFrame:
        env = RecSessionEnv(
            scenario.catalog, scenario.personas, **{**scenario.env_kwargs, "brain_kwargs": replay}
        )
        policy = make_policy("llm_conversational", env, seed=0, candidates=8, **replay)
        turns = run_sessions(env, policy, 3, seed=3, concurrency=concurrency).frames()[1]
        policy.close()
        env.close()
        return turns

    one_at_a_time, lanes = logged(1), logged(3)  # seed 1's sessions: ids 3, 4, 5
    pd.testing.assert_frame_equal(one_at_a_time, lanes)
    assert (one_at_a_time["policy_input_tokens"] > 0).all()
    assert (one_at_a_time["input_tokens"] > 0).all()  # the users' calls, apart
    assert one_at_a_time["message"].notna().all()  # the policy spoke every turn
