"""simrec.rl.schedules: the best fixed per-turn schedule and a policy's most common slates."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

from simrec.errors import ConfigError
from simrec.events import sessions_frame
from simrec.policies import make_policy
from simrec.policies.fixed_schedule import popularity_rotation
from simrec.rl.schedules import ScheduleRunner, best_fixed_schedule, most_common_slates
from simrec.runner import run_sessions
from tests.conftest import make_persona, small_catalog

ENV_ID = "simrec/RecSession-v0"


def env_kwargs() -> dict:
    personas = [
        make_persona(id="sunny", tastes={"tags": {"sunny": 1.0}}),
        make_persona(id="loud", tastes={"tags": {"loud": 1.0}}, price_sensitivity=0.9),
    ]
    return {"catalog": small_catalog(12), "personas": personas, "slate_size": 2, "max_turns": 3}


def test_the_runner_matches_the_fixed_schedule_policy_in_the_single_env():
    kwargs = env_kwargs()
    schedule = np.array([[0, 1], [2, 3], [4, 5]])
    runner = ScheduleRunner(ENV_ID, range(10, 20), kwargs)
    env = gym.make(ENV_ID, **kwargs)
    policy = make_policy("fixed_schedule", env, schedule=schedule.tolist())
    log = run_sessions(env, policy, episodes=10, seed=10)
    expected = sessions_frame(log.frames()[1])["return"].to_numpy()
    assert np.array_equal(runner.session_returns(schedule), expected)
    means, alive = runner.returns(np.stack([schedule, schedule[::-1]]))
    assert means[0] == pytest.approx(expected.mean())
    assert alive.shape == (2, 3) and (alive[:, 0] == 1).all()


def test_the_search_ends_where_no_single_swap_earns_more():
    kwargs = env_kwargs()
    seeds = range(24)
    found = best_fixed_schedule(ENV_ID, seeds, passes=10, env_kwargs=kwargs, min_alive=0.0)
    runner = ScheduleRunner(ENV_ID, seeds, kwargs)
    (value,), _ = runner.returns(found.slates[None])
    assert found.train_return == pytest.approx(value)
    catalog = small_catalog(12)
    start = popularity_rotation(2, 3, np.argsort(-np.asarray(catalog.popularity)))
    assert value > runner.returns(start[None])[0][0]
    swaps = []
    for t in range(3):
        for slot in range(2):
            for item in set(range(12)) - set(found.slates[t].tolist()):
                trial = found.slates.copy()
                trial[t, slot] = item
                swaps.append(trial)
    assert runner.returns(np.stack(swaps))[0].max() <= value
    assert len(found.item_ids) == 3 and found.item_ids[0][0].startswith("it-")


def test_a_saved_schedule_is_shown_by_the_fixed_schedule_policy(tmp_path):
    kwargs = env_kwargs()
    found = best_fixed_schedule(ENV_ID, range(8), passes=1, env_kwargs=kwargs)
    path = found.save(tmp_path / "schedule.json")
    env = gym.make(ENV_ID, **kwargs)
    policy = make_policy("fixed_schedule", env, schedule=str(path))
    env.reset(seed=0)
    shown = [policy.act(None, {"turn": t}).tolist() for t in range(4)]
    assert shown == [*found.slates.tolist(), found.slates[-1].tolist()]


def test_most_common_slates_takes_each_turns_mode_and_keeps_empty_slots_empty():
    env = gym.make(ENV_ID, **env_kwargs())
    rows = []
    slates = {  # session -> slates by turn
        1: [(3, 4), (5, -1)],
        2: [(3, 4), (6, 7)],
        3: [(4, 3), (5, -1)],
    }
    for session, by_turn in slates.items():
        for turn, slate in enumerate(by_turn, start=1):
            for position, item in enumerate(slate):
                rows.append((session, turn, position, item))
    frame = pd.DataFrame(rows, columns=["session_id", "turn", "position", "item_index"])
    common = most_common_slates(env, frame)
    # turn 3 was never reached: it repeats turn 2; the empty slot repeats the first item
    assert common.slates.tolist() == [[3, 4], [5, 5], [5, 5]]
    with pytest.raises(ConfigError, match="no slates"):
        most_common_slates(env, frame.iloc[:0])
