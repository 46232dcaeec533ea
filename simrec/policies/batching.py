"""Asking many sessions' policies for their slates at once.

Runners that keep several episodes in flight (``simrec run --concurrency``, scenarios, data
generation) call :func:`act_together` once per round instead of ``act`` once per lane. A
policy that serves many visits itself declares ``act_many(observations, infos) ->
actions`` (the LLM policies: one concurrent round of calls for every lane); the runners
then build it once and give every lane that same object, and this function asks it once
for all of its lanes. Every other policy acts lane by lane, in lane order, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def serves_many(policy: Any) -> bool:
    """Whether ``policy`` serves many visits at once (has ``act_many``): one object for
    every lane, asked once per round."""
    return callable(getattr(policy, "act_many", None))


def act_together(
    policies: Sequence[Any], observations: Sequence[Any], infos: Sequence[Any]
) -> list[Any]:
    """The action of every lane: ``policies[i]`` acting on ``observations[i]``, ``infos[i]``.

    Lanes whose policy is one object that :func:`serves_many` are asked in one
    ``act_many`` call (in lane order); other policies' ``act`` is called lane by lane.
    """
    actions: list[Any] = [None] * len(policies)
    shared: dict[int, list[int]] = {}
    for lane, policy in enumerate(policies):
        if serves_many(policy):
            shared.setdefault(id(policy), []).append(lane)
        else:
            actions[lane] = policy.act(observations[lane], infos[lane])
    for lanes in shared.values():
        chosen = policies[lanes[0]].act_many(
            [observations[i] for i in lanes], [infos[i] for i in lanes]
        )
        if len(chosen) != len(lanes):
            raise ValueError(
                f"{type(policies[lanes[0]]).__name__}.act_many returned {len(chosen)} actions "
                f"for {len(lanes)} sessions"
            )
        for lane, action in zip(lanes, chosen, strict=True):
            actions[lane] = action
    return actions


__all__ = ["act_together", "serves_many"]
