"""The event log: one interaction row per slot, one turn row per step, stable dtypes."""

from __future__ import annotations

import json

import numpy as np

from simrec.env import RecSessionEnv
from simrec.events import INTERACTION_DTYPES, TURN_DTYPES, empty_frames, sessions_frame
from simrec.policies import RandomPolicy
from simrec.runner import run_sessions
from tests.conftest import make_persona, small_catalog


def test_run_sessions_logs_every_slot_and_turn_with_documented_dtypes():
    env = RecSessionEnv(small_catalog(), [make_persona()], max_turns=6)
    log = run_sessions(env, RandomPolicy(env, seed=0), episodes=5, seed=10)
    interactions, turns = log.frames()
    assert {c: str(t) for c, t in interactions.dtypes.items()} == INTERACTION_DTYPES
    assert {c: str(t) for c, t in turns.dtypes.items()} == TURN_DTYPES
    assert len(interactions) == 5 * len(turns)
    assert sorted(turns["session_id"].unique()) == [10, 11, 12, 13, 14]
    assert (interactions.groupby(["session_id", "turn"])["clicked"].sum() <= 1).all()
    rewards = interactions.groupby(["session_id", "turn"])["reward"].sum()
    np.testing.assert_allclose(
        rewards.to_numpy(), turns.set_index(["session_id", "turn"])["reward"].to_numpy()
    )
    assert (
        turns.groupby("session_id")["turn"]
        .apply(lambda t: list(t) == list(range(1, len(t) + 1)))
        .all()
    )


def test_log_matches_what_the_env_reported():
    env = RecSessionEnv(small_catalog(), [make_persona()], max_turns=4)
    seen = []
    log = run_sessions(
        env,
        lambda obs, info: np.array([3, 3, 5, 8, 13]),
        episodes=2,
        on_step=lambda e, info: seen.append(info),
    )
    interactions, turns = log.frames()
    assert list(turns["reply"]) == [info["reply"] for info in seen]
    assert list(turns["duplicates"]) == [1] * len(seen)
    first = interactions[(interactions.session_id == 0) & (interactions.turn == 1)]
    assert list(first["item_index"]) == [3, -1, 5, 8, 13]
    assert first["item_id"].isna().tolist() == [False, True, False, False, False]


def test_constraint_columns_record_the_hidden_request_for_scoring():
    persona = make_persona(
        intents=[
            {
                "at_turn": 1,
                "says": "Only alpha, please.",
                "constraint": {"field": "category", "op": "==", "value": "alpha"},
            }
        ]
    )
    env = RecSessionEnv(small_catalog(), [persona], max_turns=3)
    log = run_sessions(env, lambda obs, info: np.array([0, 1, 2, 3, 4]), episodes=1)
    interactions, turns = log.frames()
    assert turns["constraint"].isna().tolist()[:1] == [True]
    assert json.loads(turns["constraint"].iloc[1]) == {
        "field": "category",
        "op": "==",
        "value": "alpha",
    }
    second = interactions[interactions.turn == 2]
    assert second["satisfies_constraint"].tolist() == [True, False, False, True, False]
    assert interactions[interactions.turn == 1]["satisfies_constraint"].isna().all()


def test_sessions_frame_summarises_each_session():
    env = RecSessionEnv(small_catalog(), [make_persona()], max_turns=5)
    _, turns = run_sessions(env, RandomPolicy(env, seed=1), episodes=4).frames()
    sessions = sessions_frame(turns)
    assert list(sessions["session_id"]) == [0, 1, 2, 3]
    assert (sessions["turns"] <= 5).all()
    assert not sessions["return"].isna().any()
    assert len(empty_frames()[0]) == 0


def test_policy_usage_is_charged_to_the_last_turn_only():
    from simrec.events import EventLog

    log = EventLog()
    try:
        log.charge_policy(input_tokens=1)
        raise AssertionError("charging before any turn must fail")
    except ValueError as exc:
        assert "no turn logged" in str(exc)
    env = RecSessionEnv(small_catalog(), [make_persona()], slate_size=3, max_turns=3)
    env.event_log = log
    env.reset(seed=0)
    env.step(np.array([0, 1, 2]))
    env.step(np.array([3, 4, 5]))
    log.charge_policy(input_tokens=40, output_tokens=2, latency_ms=5.0, cost_usd=0.25)
    log.charge_policy(input_tokens=1)
    _, turns = log.frames()
    assert turns["policy_input_tokens"].tolist() == [0, 41]
    assert turns["policy_output_tokens"].tolist() == [0, 2]
    assert turns["policy_latency_ms"].tolist() == [0.0, 5.0]
    assert turns["policy_cost_usd"].tolist() == [0.0, 0.25]
    try:
        log.charge_policy(input_tokenz=1)
        raise AssertionError("an unknown usage field must fail")
    except ValueError as exc:
        assert "unknown usage field 'input_tokenz'" in str(exc)
