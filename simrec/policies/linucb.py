"""LinUCB over item features: the cold-start bandit baseline.

It meets every user as a stranger and learns from the clicks of the current session
only (with ``discount < 1`` it forgets, for users whose tastes drift).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import gymnasium as gym
import numpy as np

from simrec.catalog import Catalog
from simrec.memo import per_object
from simrec.policies.base import ScoringPolicy, batched
from simrec.reaction import Reaction
from simrec.validation import checked_arguments


@lru_cache(maxsize=32)
def _prior(d: int, ridge: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``A = ridge * I``, its inverse, ``b = 0`` and ``theta = 0``, read-only: shared by
    every session of every policy of that shape (learning replaces them, never writes into
    them), so a new session costs no allocation and no inversion."""
    a = ridge * np.eye(d)
    a_inv = np.linalg.inv(a)
    b = np.zeros(d)
    theta = a_inv @ b
    for array in (a, a_inv, b, theta):
        array.flags.writeable = False
    return a, a_inv, b, theta


@per_object
def _design(catalog: Catalog) -> np.ndarray:
    """The catalog's features and a bias column, read-only (one per catalog, shared by
    every session's model)."""
    features = np.asarray(catalog.features, dtype=np.float64)
    x = np.column_stack([features, np.ones(len(features))])
    x.flags.writeable = False
    return x


_BLOCK_BYTES = 1 << 19
"""Size of the ``x A^-1`` products computed at once: kept in cache, not fresh pages."""


def upper_bounds(policies: Sequence[LinUCBPolicy]) -> np.ndarray:
    """``theta . x + alpha * sqrt(x' A^-1 x)`` of every item, one row per policy: the
    per-policy products stacked into batched ``matmul`` calls whose every slice is the
    2-D product a single policy would compute (the same bits)."""
    x = policies[0].x
    if any(p.x is not x for p in policies):  # policies of other catalogs: one by one
        return np.stack([upper_bounds([p])[0] for p in policies])
    out = np.empty((len(policies), len(x)))
    block = max(1, _BLOCK_BYTES // max(x.size * x.itemsize, 1))
    for start in range(0, len(policies), block):
        some = policies[start : start + block]
        a_inv = np.stack([p.a_inv for p in some])
        theta = np.stack([p.theta for p in some])[:, :, None]
        alpha = np.array([p.alpha for p in some])[:, None]
        spread = np.matmul(x, a_inv)
        np.multiply(spread, x, out=spread)
        width = np.sqrt(np.maximum(spread.sum(axis=2), 0.0))
        out[start : start + block] = np.matmul(x, theta)[:, :, 0] + alpha * width
    return out


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
        self.x = _design(env.unwrapped.catalog)
        self.alpha, self.ridge, self.discount = float(alpha), float(ridge), float(discount)
        self.freeze_after = freeze_after
        self._prior = _prior(self.x.shape[1], self.ridge)
        super().__init__(env, seed)

    def begin_session(self) -> None:
        super().begin_session()
        self.a, self.a_inv, self.b, self.theta = self._prior

    def _refresh(self) -> None:
        self.a_inv = np.linalg.inv(self.a)
        self.theta = self.a_inv @ self.b

    def expected(self) -> np.ndarray:
        """The model's expected reward of every item (no exploration bonus)."""
        return self.x @ self.theta

    @batched(lambda policies, observations, infos: upper_bounds(policies))
    def scores(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """Upper confidence bounds of every item."""
        return upper_bounds([self])[0]

    @batched(lambda policies, shown, reactions, infos: _learn(policies, shown, reactions))
    def learn(self, shown: list[tuple[int, int]], reaction: Reaction, info: dict[str, Any]) -> None:
        _learn([self], [shown], [reaction])

    def _learn_discounted(self, items: np.ndarray, rewards: np.ndarray) -> None:
        keep = self.discount
        self.a = keep * self.a + (1.0 - keep) * self.ridge * np.eye(len(self.a))
        self.b = keep * self.b
        x = self.x[items]
        self.a = self.a + x.T @ x
        self.b = self.b + x.T @ rewards
        self._refresh()


def _learn(
    policies: Sequence[LinUCBPolicy],
    shown: Sequence[list[tuple[int, int]]],
    reactions: Sequence[Reaction],
) -> None:
    """Each policy learns its shown items' rewards (click, plus one for a purchase, minus
    a half for a dismissal). Undiscounted ones of the same design matrix and slate length
    update together: the Woodbury step of each, stacked into batched products and solves
    whose every slice is the policy's own 2-D computation (the same bits)."""
    batches: dict[tuple[int, int], list[tuple[LinUCBPolicy, np.ndarray, np.ndarray]]] = {}
    for policy, pairs, reaction in zip(policies, shown, reactions, strict=True):
        if policy.freeze_after is not None and policy.turn > policy.freeze_after:
            continue
        items = np.array([item for _, item in pairs], dtype=np.int64)
        rewards = np.array(
            [
                float(reaction.clicked[pos])
                + float(reaction.purchased[pos])
                - 0.5 * float(reaction.dismissed[pos])
                for pos, _ in pairs
            ]
        )
        if policy.discount < 1.0:
            policy._learn_discounted(items, rewards)
        elif len(items):  # nothing shown: A, b and their products stay as they are
            batches.setdefault((len(items), id(policy.x)), []).append((policy, items, rewards))
    for batch in batches.values():
        _woodbury(batch)


def _woodbury(batch: list[tuple[LinUCBPolicy, np.ndarray, np.ndarray]]) -> None:
    """``A += X'X``, ``b += X'r`` and a rank-k update of ``A^-1`` (a k x k solve, not a
    d x d inverse) for every policy of ``batch`` at once."""
    policies = [p for p, _, _ in batch]
    x = policies[0].x[np.stack([items for _, items, _ in batch])]  # (B, k, d)
    rewards = np.stack([r for _, _, r in batch])[:, :, None]
    xt = x.transpose(0, 2, 1)
    a = np.stack([p.a for p in policies]) + xt @ x
    b = (np.stack([p.b for p in policies])[:, :, None] + xt @ rewards)[:, :, 0]
    a_inv = np.stack([p.a_inv for p in policies])
    ax = a_inv @ xt
    a_inv = a_inv - ax @ np.linalg.solve(np.eye(x.shape[1]) + x @ ax, ax.transpose(0, 2, 1))
    theta = (a_inv @ b[:, :, None])[:, :, 0]
    for j, policy in enumerate(policies):
        policy.a, policy.b, policy.a_inv, policy.theta = a[j], b[j], a_inv[j], theta[j]
