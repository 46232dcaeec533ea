"""A fixed per-turn schedule: slate ``t`` of every visit is the same for every user.

What a policy that never looks at the user can earn at best, once the schedule is
searched well (:func:`simrec.rl.schedules.best_fixed_schedule`): the bar a learned policy
must clear to show that it personalises. It also replays a policy's most common slate
per turn (:func:`simrec.rl.schedules.most_common_slates`), which tells how much of that
policy's return needs no personalisation at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from simrec.errors import ConfigError
from simrec.policies.gauntlet import ScriptedPolicy, _item_index, popularity_order


class FixedSchedulePolicy(ScriptedPolicy):
    """Shows slate ``t`` of the schedule at turn ``t`` (the last one again after its end).

    Args:
        env: the env the policy acts in.
        seed: unused (the schedule is fixed).
        schedule: one slate per turn (lists of item ids or indices, 1 to ``slate_size``
            each; fewer leave empty slots), or the path of a JSON file holding
            ``{"schedule": [[item id, ...], ...]}`` (what
            :meth:`simrec.rl.schedules.Schedule.save` writes). Default: a popularity
            rotation over ``max_turns`` turns (the start of the schedule search).

    Raises:
        ConfigError: the file is missing or not such JSON, or a slate names an item the
            catalog does not have (naming the file, the turn and the item).
    """

    name = "fixed_schedule"

    def __init__(
        self,
        env: gym.Env,
        seed: int | None = None,
        schedule: Sequence[Any] | str | Path | None = None,
    ) -> None:
        super().__init__(env, seed)
        where = "fixed_schedule: schedule"
        if schedule is None:
            base = env.unwrapped
            schedule = popularity_rotation(self.k, base.max_turns, popularity_order(self.catalog))
        if isinstance(schedule, (str, Path)):
            where = str(schedule)
            schedule = _read_schedule(Path(schedule))
        if isinstance(schedule, (bytes, str)) or not len(schedule):
            raise ConfigError(f"{where}: expected a non-empty list of slates, got {schedule!r}")
        slates = []
        for turn, slate in enumerate(schedule, start=1):
            if isinstance(slate, (str, bytes)) or not 1 <= len(slate) <= self.k:
                raise ConfigError(
                    f"{where}: turn {turn}: expected a list of 1 to {self.k} items, got {slate!r}"
                )
            try:
                items = [_item_index(self.catalog, x, f"{where}: turn {turn}") for x in slate]
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            slates.append(self.padded(items))
        self.slates = np.stack(slates)

    def slate_for(self, turn: int) -> np.ndarray:
        return self.slates[min(turn, len(self.slates) - 1)].copy()


def popularity_rotation(k: int, turns: int, order: np.ndarray) -> np.ndarray:
    """``(turns, k)`` slates: turn ``t`` shows the next ``k`` items down ``order`` (round and
    round)."""
    index = np.arange(turns * k) % len(order)
    return np.asarray(order)[index].reshape(turns, k)


def _read_schedule(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the schedule: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: line {exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("schedule"), list):
        raise ConfigError(f'{path}: expected {{"schedule": [[item id, ...], ...]}}')
    return data["schedule"]


__all__ = ["FixedSchedulePolicy", "popularity_rotation"]
