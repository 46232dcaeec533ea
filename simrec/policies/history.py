"""The shared shape of policies that know the user's past.

A real recommender knows what a returning user chose before: the env gives it as
``info["user_history"]`` at the visit's reset (catalog indices, oldest first, read with
:func:`simrec.env.user_history`; empty for a stranger). A
:class:`HistoryPolicy` scores every item from that history plus the items clicked in this
visit, never re-shows what the user already has or was already shown this visit, and
learns item-to-item structure from the users it meets: each finished visit (history
plus clicks) becomes one more row of its training data, and the model is refitted when
the rows have grown by half. :meth:`HistoryPolicy.fit` warm-starts it from a log.
Without any history or data it falls back to the catalog's popularity (cold start).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from simrec.env import user_history
from simrec.policies.base import ScoringPolicy
from simrec.reaction import Reaction


class HistoryPolicy(ScoringPolicy):
    """Base class: subclasses implement :meth:`refit` and :meth:`score_user`.

    Args:
        env: the env whose catalog and slate size the policy uses.
        seed: seeds tie-breaking.
        click_weight: how much an item clicked in this visit counts, against 1 for an
            item of the user's history.
    """

    def __init__(self, env: gym.Env, seed: int | None = None, click_weight: float = 2.0) -> None:
        self.click_weight = float(click_weight)
        self.rows: list[np.ndarray] = []
        self._fitted_rows = -1
        self.history = np.zeros(0, dtype=np.int64)
        super().__init__(env, seed)
        self.popularity = np.log1p(np.asarray(self.catalog.popularity, dtype=np.float64))

    # -- data ------------------------------------------------------------------------------
    def fit(self, histories: Sequence[np.ndarray]) -> HistoryPolicy:
        """Learn from a log: one array of catalog indices per user (oldest first)."""
        self.rows = [np.asarray(h, dtype=np.int64) for h in histories]
        self._refit()
        return self

    def _refit(self) -> None:
        self._fitted_rows = len(self.rows)
        if self.rows:
            self.refit(self.matrix())

    def matrix(self) -> np.ndarray:
        """Users x items 0/1 matrix of the rows learned from."""
        out = np.zeros((len(self.rows), self.n_items))
        for r, items in enumerate(self.rows):
            out[r, items] = 1.0
        return out

    @property
    def fitted(self) -> bool:
        """Whether the model has learned from any row yet."""
        return self._fitted_rows > 0

    # -- lifecycle ------------------------------------------------------------------------
    def begin_session(self) -> None:
        """Keep the last visit as a row of data; start the next one knowing nothing yet."""
        visit = getattr(self, "clicked", [])
        if len(self.history) or visit:
            self.rows.append(np.unique(np.concatenate([self.history, np.asarray(visit, np.int64)])))
            if len(self.rows) >= 1.5 * max(self._fitted_rows, 1) + 1:
                self._refit()
        super().begin_session()
        self.history = np.zeros(0, dtype=np.int64)
        self.clicked: list[int] = []
        self.excluded = np.zeros(self.n_items, dtype=bool)
        self._history_read = False

    def scores(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """The model's scores for this user; what the user has or was shown: ``-inf``."""
        if not self._history_read:
            self._history_read = True
            history = user_history(info)
            if len(history):
                self.history = history
                self.excluded[history] = True
        scores = self.score_items(self.history, np.asarray(self.clicked, dtype=np.int64))
        return np.where(self.excluded, -np.inf, scores)

    def score_items(self, history: np.ndarray, clicked: np.ndarray) -> np.ndarray:
        """Scores of every item for a user with ``history`` who clicked ``clicked`` (this visit)."""
        if not self.fitted or (len(history) == 0 and len(clicked) == 0):
            return self.cold_scores()
        weights = np.zeros(self.n_items)
        weights[history] = 1.0
        weights[clicked] += self.click_weight
        return self.score_user(weights)

    def cold_scores(self) -> np.ndarray:
        """A stranger: the most popular items first."""
        return self.popularity

    def learn(self, shown: list[tuple[int, int]], reaction: Reaction, info: dict[str, Any]) -> None:
        for pos, item in shown:
            self.excluded[item] = True
            if reaction.clicked[pos]:
                self.clicked.append(item)

    # -- to implement ---------------------------------------------------------------------
    def refit(self, matrix: np.ndarray) -> None:
        """Fit the model on a users x items 0/1 matrix."""
        raise NotImplementedError

    def score_user(self, weights: np.ndarray) -> np.ndarray:
        """Scores of every item for a user whose items carry ``weights`` (0 = not chosen)."""
        raise NotImplementedError


class PopularUnseenPolicy(HistoryPolicy):
    """The most popular items the user does not have yet (popularity learned from users met)."""

    name = "popular_unseen"

    def refit(self, matrix: np.ndarray) -> None:
        self.popularity = np.log1p(matrix.sum(axis=0))

    def score_user(self, weights: np.ndarray) -> np.ndarray:
        return self.popularity
