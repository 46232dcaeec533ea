"""LinUCB over item features: the cold-start bandit baseline.

It meets every user as a stranger and learns from the clicks of the current session
only (with ``discount < 1`` it forgets, for users whose tastes drift).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from simrec.policies.base import ScoringPolicy
from simrec.reaction import Reaction
from simrec.validation import checked_arguments


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

    @checked_arguments
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
