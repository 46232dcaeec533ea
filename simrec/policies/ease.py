"""EASE: item-to-item weights learned in closed form from the users met (Steck, 2019).

An item-kNN in spirit (an item scores by how much it goes with the user's items), with
the weights fitted as one ridge regression of every item on all the others:
``B = I - P / diag(P)``, ``P = (X'X + ridge I)^-1``, diagonal zeroed.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from simrec.policies.history import HistoryPolicy


class EASEPolicy(HistoryPolicy):
    """Recommends what goes with the user's history and this visit's clicks (EASE weights).

    Args:
        ridge: the ridge penalty (larger: smoother, closer to popularity).
    """

    name = "ease"

    def __init__(
        self, env: gym.Env, seed: int | None = None, ridge: float = 500.0, **kwargs
    ) -> None:
        if ridge <= 0:
            raise ValueError(f"ease: expected ridge > 0, got {ridge!r}")
        self.ridge = float(ridge)
        super().__init__(env, seed, **kwargs)

    def refit(self, matrix: np.ndarray) -> None:
        gram = matrix.T @ matrix
        gram[np.diag_indices_from(gram)] += self.ridge
        inverse = np.linalg.inv(gram)
        self.weights = -inverse / np.diag(inverse)
        np.fill_diagonal(self.weights, 0.0)
        self.popularity = np.log1p(matrix.sum(axis=0))

    def score_user(self, weights: np.ndarray) -> np.ndarray:
        chosen = np.flatnonzero(weights)  # only the user's rows of B matter (a history is short)
        # popularity breaks ties among items nothing in the history points to
        return weights[chosen] @ self.weights[chosen] + 1e-6 * self.popularity
