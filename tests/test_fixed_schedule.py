"""The fixed_schedule policy: one slate per turn for every user, from a list or a file."""

from __future__ import annotations

import gymnasium as gym
import pytest

from simrec.errors import ConfigError
from simrec.policies import make_policy
from tests.conftest import make_persona, small_catalog


@pytest.fixture
def env() -> gym.Env:
    return gym.make(
        "simrec/RecSession-v0", catalog=small_catalog(), personas=[make_persona()], slate_size=3
    )


def test_each_turn_shows_its_slate_and_the_last_repeats(env):
    policy = make_policy("fixed_schedule", env, schedule=[["it-001", 2, 3], [4]])
    slates = [policy.act(None, {"turn": t}).tolist() for t in range(3)]
    assert slates == [[1, 2, 3], [4, 4, 4], [4, 4, 4]]  # a short slate leaves empty slots
    policy.act(None, {"turn": 0})  # a new visit starts the schedule again
    assert policy.act(None, {"turn": 1}).tolist() == [4, 4, 4]


def test_bad_schedules_are_clear_errors(env, tmp_path):
    with pytest.raises(ConfigError, match="turn 2: 'it-999' is neither an item id"):
        make_policy("fixed_schedule", env, schedule=[[1, 2, 3], ["it-999"]])
    with pytest.raises(ConfigError, match=r"turn 1: expected a list of 1 to 3 items"):
        make_policy("fixed_schedule", env, schedule=[[1, 2, 3, 4]])
    with pytest.raises(ConfigError, match="expected a non-empty list of slates"):
        make_policy("fixed_schedule", env, schedule=[])
    with pytest.raises(ConfigError, match="missing.json: cannot read the schedule"):
        make_policy("fixed_schedule", env, schedule=str(tmp_path / "missing.json"))
    broken = tmp_path / "broken.json"
    broken.write_text('{"schedule": [[1, 2],\n oops]}')
    with pytest.raises(ConfigError, match="broken.json: line 2: not JSON"):
        make_policy("fixed_schedule", env, schedule=str(broken))
    other = tmp_path / "other.json"
    other.write_text('{"slates": []}')
    with pytest.raises(ConfigError, match=r'other.json: expected \{"schedule"'):
        make_policy("fixed_schedule", env, schedule=str(other))


def test_by_default_it_rotates_down_the_popularity_ranking(env):
    policy = make_policy("fixed_schedule", env)
    slates = [policy.act(None, {"turn": t}).tolist() for t in range(2)]
    assert slates == [[0, 1, 2], [3, 4, 5]]  # the small catalog's popularity falls with index
