"""The most popular items, always the same slate: the classic novelty trap."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from simrec.validation import checked_arguments


def popularity_rank(popularity: np.ndarray) -> np.ndarray:
    """Popularity mapped into [0, 1) by rank: a tie-breaker that never outweighs a click."""
    order = np.argsort(np.argsort(popularity, kind="stable"), kind="stable")
    return order / len(order)


class PopularityPolicy:
    """The most popular items, always the same slate: the classic novelty trap."""

    observes = False

    @checked_arguments
    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        base = env.unwrapped
        self.slate = np.argsort(-base.catalog.popularity, kind="stable")[: base.slate_size]

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """The top items by popularity."""
        return self.slate.copy()
