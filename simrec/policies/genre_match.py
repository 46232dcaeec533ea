"""Genre (category) match: items whose category and tags the user chose most.

A content-based baseline: the user's profile is the share of each ``category=`` and
``tags=`` token among their history and this visit's clicks; an item scores by the
cosine between its tokens and that profile plus ``popularity_weight`` times its
popularity percentile, so well-liked items of the user's genres come first rather than
obscure ones that happen to match exactly.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from simrec.policies.history import HistoryPolicy


class GenreMatchPolicy(HistoryPolicy):
    """Recommends popular items of the categories and tags the user chose most.

    Args:
        popularity_weight: weight of the popularity percentile against the genre match
            (a cosine in [0, 1]).
    """

    name = "genre_match"

    def __init__(
        self, env: gym.Env, seed: int | None = None, popularity_weight: float = 0.5, **kwargs
    ) -> None:
        if popularity_weight < 0:
            raise ValueError(
                f"genre_match: expected popularity_weight >= 0, got {popularity_weight!r}"
            )
        self.popularity_weight = float(popularity_weight)
        super().__init__(env, seed, **kwargs)
        tokens = self.catalog.tokens
        keep = [k for k, t in enumerate(tokens) if t.startswith(("category=", "tags="))]
        matrix = self.catalog.token_matrix[:, keep]
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.tokens = matrix / np.where(norms > 0, norms, 1.0)
        self._rank_popularity()

    def _rank_popularity(self) -> None:
        rank = np.argsort(np.argsort(self.popularity, kind="stable"), kind="stable")
        self.tie_break = self.popularity_weight * rank / max(1, len(rank) - 1)

    @property
    def fitted(self) -> bool:
        return True  # needs no data: the catalog's tokens are the model

    def refit(self, matrix: np.ndarray) -> None:
        self.popularity = np.log1p(matrix.sum(axis=0))
        self._rank_popularity()

    def score_user(self, weights: np.ndarray) -> np.ndarray:
        profile = weights @ self.tokens
        norm = np.linalg.norm(profile)
        return self.tokens @ (profile / (norm or 1.0)) + self.tie_break
