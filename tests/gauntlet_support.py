"""Degenerate policies that must never out-earn personalisation (until simrec ships its gauntlet).

Each ignores the user: a model where one of them earns more than LinUCB or MMR pays for
something other than matching tastes, following requests and variety.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class CheapestRotation:
    """Rotates through the cheapest 20% of the catalog, ``k`` items a turn, never looking."""

    observes = False

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        base = env.unwrapped
        self.k = base.slate_size
        order = np.argsort(base.catalog.prices, kind="stable")
        self.pool = order[: max(self.k, len(order) // 5)]
        self.turn = 0

    def reset(self, seed: int | None = None) -> None:
        self.turn = 0

    def act(self, observation: Any, info: Any) -> np.ndarray:
        start = self.turn * self.k
        self.turn += 1
        return self.pool[np.arange(start, start + self.k) % len(self.pool)]


class ConstantSlate:
    """The same ``k`` items every turn (a fixed draw from the catalog, not the most popular)."""

    observes = False

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        base = env.unwrapped
        rng = np.random.default_rng(12345)
        self.slate = rng.choice(len(base.catalog), size=base.slate_size, replace=False)

    def act(self, observation: Any, info: Any) -> np.ndarray:
        return self.slate.copy()


class OneItem:
    """One item shown every turn (the most popular), the other slots its duplicates."""

    observes = False

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        base = env.unwrapped
        top = int(np.argmax(base.catalog.popularity))
        self.slate = np.full(base.slate_size, top, dtype=np.int64)

    def act(self, observation: Any, info: Any) -> np.ndarray:
        return self.slate.copy()


GAUNTLET = {
    "cheapest_rotation": "tests.gauntlet_support:CheapestRotation",
    "constant_slate": "tests.gauntlet_support:ConstantSlate",
    "one_item": "tests.gauntlet_support:OneItem",
}
"""Scenario policy specs (dotted paths) by label."""
