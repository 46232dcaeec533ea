"""The floor to beat: a uniformly random slate every turn."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from simrec.validation import checked_arguments


class RandomPolicy:
    """A uniformly random slate of distinct items every turn (the floor to beat)."""

    observes = False

    @checked_arguments
    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        base = env.unwrapped
        self.n_items = len(base.catalog)
        self.k = base.slate_size
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        """Reseed when a seed is given (sessions stay reproducible)."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """``slate_size`` distinct random items."""
        return self.rng.choice(self.n_items, size=self.k, replace=False)
