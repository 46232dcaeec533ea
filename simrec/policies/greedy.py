"""Greedy by category and epsilon-greedy: exploit the best-clicked category.

Both meet every user as a stranger and learn from the clicks of the current session
only; greedy never explores, so it falls into the novelty trap.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from simrec.policies.linucb import LinUCBPolicy
from simrec.policies.popularity import popularity_rank
from simrec.reaction import Reaction
from simrec.validation import checked_arguments


class GreedyPolicy(LinUCBPolicy):
    """Exploit the best-clicked category: its items the click model rates highest, every turn.

    Until the first click it walks down the popularity ranking (popular items not shown
    yet). After, it shows the items of the category with the most clicks (purchases count double), ranked by a ridge
    model of the user's clicks (LinUCB without the optimism bonus). It never explores
    outside that category and never rotates on purpose, so it finds a liked category
    fast and then wears it out: the novelty trap.
    """

    name = "greedy"

    @checked_arguments
    def __init__(self, env: gym.Env, seed: int | None = None, ridge: float = 1.0) -> None:
        self.pop = popularity_rank(env.unwrapped.catalog.popularity)
        self.codes = env.unwrapped.catalog.category_codes
        super().__init__(env, seed, alpha=0.0, ridge=ridge)

    def begin_session(self) -> None:
        super().begin_session()
        self.clicks = np.zeros(len(self.catalog.category_names))
        self.shown = np.zeros(self.n_items, dtype=bool)

    def scores(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """Unseen popular items before any click; then the best category by expected reward."""
        if not self.clicks.any():
            return self.pop - 2.0 * self.shown
        best = int(np.argmax(self.clicks))
        return self.expected() + 0.01 * self.pop + (self.codes == best) * 100.0

    def learn(self, shown: list[tuple[int, int]], reaction: Reaction, info: dict[str, Any]) -> None:
        super().learn(shown, reaction, info)
        for pos, item in shown:
            self.shown[item] = True
            if reaction.clicked[pos]:
                self.clicks[self.codes[item]] += 1.0 + reaction.purchased[pos]


class EpsilonGreedyPolicy(GreedyPolicy):
    """Greedy, but each slot shows a random unseen-this-turn item with probability ``epsilon``.

    Args:
        epsilon: per-slot exploration probability.
    """

    name = "epsilon_greedy"

    @checked_arguments
    def __init__(self, env: gym.Env, seed: int | None = None, epsilon: float = 0.2) -> None:
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon: expected a number in [0, 1], got {epsilon!r}")
        self.epsilon = float(epsilon)
        super().__init__(env, seed)

    def select(self, scores: np.ndarray) -> np.ndarray:
        """The greedy slate with some slots replaced by random (allowed) items."""
        slate = self.top_k(scores)
        explore = self.rng.random(self.k) < self.epsilon
        if explore.any():
            pool = np.setdiff1d(np.flatnonzero(np.isfinite(scores)), slate)
            explore[np.cumsum(explore) > len(pool)] = False
            slate[explore] = self.rng.choice(pool, size=int(explore.sum()), replace=False)
        return slate
