"""act_together: one call per shared multi-visit policy, lane order kept for the rest."""

from __future__ import annotations

import pytest

from simrec.policies.batching import act_together, serves_many


class Lane:
    def __init__(self, calls: list) -> None:
        self.calls = calls

    def act(self, observation, info):
        self.calls.append(("act", info))
        return [info]


class Many:
    def __init__(self, calls: list, short: bool = False) -> None:
        self.calls, self.short = calls, short

    def act_many(self, observations, infos):
        self.calls.append(("many", list(infos)))
        return [[i, i] for i in infos][: -1 if self.short else None]


def test_a_shared_policy_is_asked_once_for_all_its_lanes_and_others_lane_by_lane():
    calls: list = []
    shared = Many(calls)
    policies = [shared, Lane(calls), shared, Lane(calls), shared]
    actions = act_together(policies, [None] * 5, [0, 1, 2, 3, 4])
    assert actions == [[0, 0], [1], [2, 2], [3], [4, 4]]
    assert calls == [("act", 1), ("act", 3), ("many", [0, 2, 4])]
    assert serves_many(shared) and not serves_many(Lane(calls))


def test_a_policy_answering_the_wrong_number_of_sessions_is_named():
    with pytest.raises(ValueError, match="Many.act_many returned 1 actions for 2 sessions"):
        act_together([Many([], short=True)] * 2, [None] * 2, [0, 1])
