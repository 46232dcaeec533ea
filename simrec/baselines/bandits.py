"""In-session learners: greedy by category, epsilon-greedy and LinUCB over item features.

These are the cold-start baselines: each meets every user as a stranger and learns
from the clicks of the current session only.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from simrec.baselines.base import ScoringPolicy
from simrec.reaction import Reaction


def _popularity_rank(popularity: np.ndarray) -> np.ndarray:
    """Popularity mapped into [0, 1) by rank: a tie-breaker that never outweighs a click."""
    order = np.argsort(np.argsort(popularity, kind="stable"), kind="stable")
    return order / len(order)


class LinUCBPolicy(ScoringPolicy):
    """LinUCB over ``catalog.features``: a ridge model of clicks plus an optimism bonus.

    Score of item ``x``: ``theta . x + alpha * sqrt(x' A^-1 x)``. Each shown slot is one
    observation (reward: click, plus one for a purchase, minus a half for a dismissal).
    With ``discount < 1`` old evidence fades every turn (discounted LinUCB), so the
    model follows a user whose tastes drift. ``freeze_after`` stops learning after that
    many turns: a policy that profiles the user once and then only exploits.

    Args:
        alpha: width of the optimism bonus.
        ridge: prior precision (``A`` starts as ``ridge * I``).
        discount: share of old evidence kept per turn (1 = never forget).
        freeze_after: stop learning after this many turns (``None``: never).
    """

    name = "linucb"

    def __init__(
        self,
        env: gym.Env,
        seed: int | None = None,
        alpha: float = 0.6,
        ridge: float = 1.0,
        discount: float = 1.0,
        freeze_after: int | None = None,
    ) -> None:
        if alpha < 0 or ridge <= 0 or not 0 < discount <= 1:
            raise ValueError(
                f"linucb: expected alpha >= 0, ridge > 0, 0 < discount <= 1; "
                f"got alpha={alpha!r}, ridge={ridge!r}, discount={discount!r}"
            )
        base = env.unwrapped
        features = np.asarray(base.catalog.features, dtype=np.float64)
        self.x = np.column_stack([features, np.ones(len(features))])
        self.alpha, self.ridge, self.discount = float(alpha), float(ridge), float(discount)
        self.freeze_after = freeze_after
        super().__init__(env, seed)

    def begin_session(self) -> None:
        super().begin_session()
        d = self.x.shape[1]
        self.a = self.ridge * np.eye(d)
        self.b = np.zeros(d)
        self._refresh()

    def _refresh(self) -> None:
        self.a_inv = np.linalg.inv(self.a)
        self.theta = self.a_inv @ self.b

    def expected(self) -> np.ndarray:
        """The model's expected reward of every item (no exploration bonus)."""
        return self.x @ self.theta

    def scores(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """Upper confidence bounds of every item."""
        width = np.sqrt(np.maximum(((self.x @ self.a_inv) * self.x).sum(axis=1), 0.0))
        return self.expected() + self.alpha * width

    def learn(self, shown: list[tuple[int, int]], reaction: Reaction, info: dict[str, Any]) -> None:
        if self.freeze_after is not None and self.turn > self.freeze_after:
            return
        if self.discount < 1.0:
            keep = self.discount
            self.a = keep * self.a + (1.0 - keep) * self.ridge * np.eye(len(self.a))
            self.b = keep * self.b
        items = np.array([item for _, item in shown], dtype=np.int64)
        rewards = np.array(
            [
                float(reaction.clicked[pos])
                + float(reaction.purchased[pos])
                - 0.5 * float(reaction.dismissed[pos])
                for pos, _ in shown
            ]
        )
        x = self.x[items]
        self.a = self.a + x.T @ x
        self.b = self.b + x.T @ rewards
        if self.discount < 1.0:
            self._refresh()
            return
        # Woodbury: a rank-k update of the inverse costs a k x k solve, not a d x d inverse.
        ax = self.a_inv @ x.T
        self.a_inv = self.a_inv - ax @ np.linalg.solve(np.eye(len(items)) + x @ ax, ax.T)
        self.theta = self.a_inv @ self.b


class GreedyPolicy(LinUCBPolicy):
    """Exploit the best-clicked category: its items the click model rates highest, every turn.

    Until the first click it walks down the popularity ranking (popular items not shown
    yet). After, it shows the items of the category with the most clicks (purchases count double), ranked by a ridge
    model of the user's clicks (LinUCB without the optimism bonus). It never explores
    outside that category and never rotates on purpose, so it finds a liked category
    fast and then wears it out: the novelty trap.
    """

    name = "greedy"

    def __init__(self, env: gym.Env, seed: int | None = None, ridge: float = 1.0) -> None:
        self.pop = _popularity_rank(env.unwrapped.catalog.popularity)
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
