"""Recommendation policies: the things being evaluated.

A policy is any object with ``act(observation, info) -> slate`` (``slate``: item
indices), optionally ``reset(seed)`` at the start of each session and
``update(observation, reward, info)`` after each step. A plain callable
``f(observation, info) -> slate`` works too (:func:`as_policy` wraps it). A policy whose
``act`` ignores both arguments may say so with ``observes = False``: data generation then
skips building observations for it (a large share of a step's cost).

This module holds the simplest baselines; a new policy is one small class::

    class CheapestFirst:
        def __init__(self, env):
            self.order = np.argsort(env.unwrapped.catalog.prices)
            self.k = env.unwrapped.slate_size

        def act(self, observation, info):
            return self.order[: self.k]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from simrec.baselines import SCORING_POLICIES
from simrec.errors import ConfigError


@runtime_checkable
class Policy(Protocol):
    """Chooses a slate from what the recommender can see."""

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """The next slate: ``slate_size`` item indices."""
        ...


class RandomPolicy:
    """A uniformly random slate of distinct items every turn (the floor to beat)."""

    observes = False

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


class PopularityPolicy:
    """The most popular items, always the same slate: the classic novelty trap."""

    observes = False

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        base = env.unwrapped
        self.slate = np.argsort(-base.catalog.popularity, kind="stable")[: base.slate_size]

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """The top items by popularity."""
        return self.slate.copy()


class _CallablePolicy:
    def __init__(self, fn: Callable[[dict, dict], Any]) -> None:
        self.fn = fn

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        return np.asarray(self.fn(observation, info))


def as_policy(policy: Any) -> Policy:
    """``policy`` itself if it has ``act``, or a plain callable wrapped as a policy."""
    if hasattr(policy, "act"):
        return policy
    if callable(policy):
        return _CallablePolicy(policy)
    raise ConfigError(
        f"policy: expected an object with act(observation, info) or a callable, got {policy!r}"
    )


POLICIES: dict[str, Callable[..., Policy]] = {
    "random": RandomPolicy,
    "popularity": PopularityPolicy,
    **SCORING_POLICIES,
}
"""Built-in policies by name (each takes ``(env, seed=None, **params)``; see
:mod:`simrec.baselines` for the learning ones and the cheating ``oracle``)."""


def make_policy(name: str, env: gym.Env, seed: int | None = None, **params: Any) -> Policy:
    """The built-in policy called ``name`` for ``env``, with optional ``params``."""
    if name not in POLICIES:
        raise ConfigError(f"unknown policy {name!r}; expected one of: {', '.join(POLICIES)}")
    try:
        return POLICIES[name](env, seed=seed, **params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"policy {name!r}: bad parameters {params!r}: {exc}") from None
