"""Built-in policies by name: what ``policy: linucb`` in a scenario or ``--policy`` means."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from simrec.errors import ArgumentError, ConfigError
from simrec.policies.base import Policy, ScoringPolicy
from simrec.policies.ease import EASEPolicy
from simrec.policies.fixed_schedule import FixedSchedulePolicy
from simrec.policies.gauntlet import GAUNTLET
from simrec.policies.generative import ConstrainedGenerativePolicy, UnconstrainedGenerativePolicy
from simrec.policies.genre_match import GenreMatchPolicy
from simrec.policies.greedy import EpsilonGreedyPolicy, GreedyPolicy
from simrec.policies.history import PopularUnseenPolicy
from simrec.policies.linucb import LinUCBPolicy
from simrec.policies.llm_conversational import LLMConversationalPolicy
from simrec.policies.llm_reranker import LLMRerankerPolicy
from simrec.policies.mf import MFPolicy
from simrec.policies.mmr import MMRPolicy
from simrec.policies.oracle import OraclePolicy
from simrec.policies.popularity import PopularityPolicy
from simrec.policies.random import RandomPolicy
from simrec.policies.steer_aware import SteerAwarePolicy
from simrec.validation import check_arguments, check_seed

SCORING_POLICIES: dict[str, type[ScoringPolicy]] = {
    "greedy": GreedyPolicy,
    "epsilon_greedy": EpsilonGreedyPolicy,
    "linucb": LinUCBPolicy,
    "mmr": MMRPolicy,
    "steer_aware": SteerAwarePolicy,
    "oracle": OraclePolicy,
    "popular_unseen": PopularUnseenPolicy,
    "ease": EASEPolicy,
    "mf": MFPolicy,
    "genre_match": GenreMatchPolicy,
}
"""The baselines built on :class:`ScoringPolicy` (``steer_aware`` can sit on any of them)."""

POLICIES: dict[str, Callable[..., Policy]] = {
    "random": RandomPolicy,
    "popularity": PopularityPolicy,
    **SCORING_POLICIES,
    "generative_constrained": ConstrainedGenerativePolicy,
    "generative_unconstrained": UnconstrainedGenerativePolicy,
    "llm_reranker": LLMRerankerPolicy,
    "llm_conversational": LLMConversationalPolicy,
    "fixed_schedule": FixedSchedulePolicy,
    **GAUNTLET,
}
"""Built-in policies by name (each takes ``(env, seed=None, **params)``); the degenerate
policies of the gauntlet (:mod:`simrec.policies.gauntlet`) are among them."""


def make_policy(name: str, env: gym.Env, seed: int | None = None, **params: Any) -> Policy:
    """The built-in policy called ``name`` for ``env``, with optional ``params``."""
    if name not in POLICIES:
        raise ConfigError(f"unknown policy {name!r}; expected one of: {', '.join(POLICIES)}")
    if seed is not None:
        check_seed(seed, f"policy {name!r}: seed")
    factory = POLICIES[name]
    try:
        # every registered policy, decorated or not: its constructor's hints say what each
        # parameter must be (a string for a float, nan, 2.7 for an int are refused here)
        target = factory.__init__ if inspect.isclass(factory) else factory
        check_arguments(
            target, *((None,) if inspect.isclass(factory) else ()), env, seed=seed, **params
        )
        return factory(env, seed=seed, **params)
    except ArgumentError as exc:  # already names the argument and what was expected
        raise ArgumentError(f"policy {name!r}: {exc}", exc.argument) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"policy {name!r}: bad parameters {params!r}: {exc}") from None
