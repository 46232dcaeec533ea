"""Genre (category) match: items whose category and tags the user chose most.

A content-based baseline: the user's profile is the share of each ``category=`` and
``tags=`` token among their history and this visit's clicks; an item scores by the
cosine between its tokens and that profile, popular items first among equals.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from simrec.policies.history import HistoryPolicy


class GenreMatchPolicy(HistoryPolicy):
    """Recommends popular items of the categories and tags the user chose most."""

    name = "genre_match"

    def __init__(self, env: gym.Env, seed: int | None = None, **kwargs) -> None:
        super().__init__(env, seed, **kwargs)
        tokens = self.catalog.tokens
        keep = [k for k, t in enumerate(tokens) if t.startswith(("category=", "tags="))]
        matrix = self.catalog.token_matrix[:, keep]
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.tokens = matrix / np.where(norms > 0, norms, 1.0)
        rank = np.argsort(np.argsort(self.popularity, kind="stable"), kind="stable")
        self.tie_break = 0.01 * rank / max(1, len(rank) - 1)

    @property
    def fitted(self) -> bool:
        return True  # needs no data: the catalog's tokens are the model

    def refit(self, matrix: np.ndarray) -> None:
        self.popularity = np.log1p(matrix.sum(axis=0))
        rank = np.argsort(np.argsort(self.popularity, kind="stable"), kind="stable")
        self.tie_break = 0.01 * rank / max(1, len(rank) - 1)

    def score_user(self, weights: np.ndarray) -> np.ndarray:
        profile = weights @ self.tokens
        norm = np.linalg.norm(profile)
        return self.tokens @ (profile / (norm or 1.0)) + self.tie_break
