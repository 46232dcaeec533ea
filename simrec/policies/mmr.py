"""Maximal marginal relevance: relevant items that differ from each other and from recent slates."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from simrec.policies.linucb import LinUCBPolicy
from simrec.validation import checked_arguments

_PRECOMPUTE_UP_TO = 3000


class MMRPolicy(LinUCBPolicy):
    """MMR diversifier over an in-session relevance model (ridge regression on features).

    Items are picked one at a time by ``lam * relevance - (1 - lam) * max similarity``
    to the items already in the slate and in the last ``memory`` slates, where
    relevance is the ridge model's expected reward plus a small optimism bonus, rescaled
    to [0, 1] each turn, and similarity mixes the cosine of feature vectors with
    sharing a category (weight ``category_share``). Remembering
    recent slates keeps it from showing the same items turn after turn.

    Args:
        lam: weight of relevance against diversity, in [0, 1].
        memory: how many past slates count as "already shown".
        category_share: weight of "same category" in the similarity, in [0, 1].
        alpha, ridge, discount: of the relevance model (see :class:`LinUCBPolicy`).
    """

    name = "mmr"

    @checked_arguments
    def __init__(
        self,
        env: gym.Env,
        seed: int | None = None,
        lam: float = 0.6,
        memory: int = 2,
        alpha: float = 0.3,
        ridge: float = 1.0,
        discount: float = 1.0,
        category_share: float = 0.5,
    ) -> None:
        if not 0.0 <= lam <= 1.0 or memory < 0 or not 0.0 <= category_share <= 1.0:
            raise ValueError(
                f"mmr: expected 0 <= lam <= 1 and memory >= 0, got {lam!r}, {memory!r}"
            )
        self.lam, self.memory, self.category_share = float(lam), int(memory), float(category_share)
        super().__init__(env, seed, alpha=alpha, ridge=ridge, discount=discount)
        features = self.x[:, :-1]  # without LinUCB's bias column
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        self.unit = features / np.where(norms > 0, norms, 1.0)
        self.codes = env.unwrapped.catalog.category_codes
        # All pairwise similarities once for catalogs up to a few thousand items.
        small = self.n_items <= _PRECOMPUTE_UP_TO
        self._all = self._similarity(np.arange(self.n_items)) if small else None

    def begin_session(self) -> None:
        super().begin_session()
        self.recent: list[list[int]] = []

    def select(self, scores: np.ndarray) -> np.ndarray:
        """Build the slate greedily by marginal relevance (``-inf`` scores are never picked)."""
        available = np.isfinite(scores)
        rel = np.where(available, scores, 0.0)
        low, high = float(rel[available].min()), float(rel[available].max())
        rel = (rel - low) / (high - low) if high > low else np.zeros_like(rel)
        rel = rel + self.rng.random(self.n_items) * 1e-9
        chosen: list[int] = []
        context = [i for slate in self.recent[-self.memory :] for i in slate] if self.memory else []
        max_sim = self.similarity(context).max(axis=1) if context else np.zeros(self.n_items)
        for _ in range(self.k):
            value = self.lam * rel - (1.0 - self.lam) * max_sim
            value[~available] = -np.inf
            pick = int(np.argmax(value))
            chosen.append(pick)
            available[pick] = False
            max_sim = np.maximum(max_sim, self.similarity([pick])[:, 0])
        return np.array(chosen, dtype=np.int64)

    def similarity(self, items: list[int]) -> np.ndarray:
        """``(n_items, len(items))`` similarity of every item to each of ``items``."""
        if self._all is not None:
            return self._all[:, items]
        return self._similarity(np.asarray(items))

    def _similarity(self, items: np.ndarray) -> np.ndarray:
        cosine = self.unit @ self.unit[items].T
        same = self.codes[:, None] == self.codes[items][None, :]
        return (1.0 - self.category_share) * cosine + self.category_share * same

    def learn(self, shown, reaction, info) -> None:  # noqa: D102 (see LinUCBPolicy.learn)
        super().learn(shown, reaction, info)
        self.recent.append([item for _, item in shown])
