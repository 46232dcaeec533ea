"""Recommendation policies: the things being evaluated, all in one place.

A policy is any object with ``act(observation, info) -> slate`` (``slate``: item
indices), optionally ``reset(seed)`` at the start of each session and
``update(observation, reward, info)`` after each step; a plain callable
``f(observation, info) -> slate`` works too (:func:`as_policy`). See
:mod:`simrec.policies.base` for the contract.

=================  =============================  ==========================================
name               module                         what it does
=================  =============================  ==========================================
``random``         :mod:`~.random`                a random slate of distinct items (the floor)
``popularity``     :mod:`~.popularity`            the most popular items, always the same
``greedy``         :mod:`~.greedy`                exploits the best-clicked category
``epsilon_greedy`` :mod:`~.greedy`                greedy with random slots (``epsilon``)
``linucb``         :mod:`~.linucb`                LinUCB over ``catalog.features``, in-session
``mmr``            :mod:`~.mmr`                   maximal marginal relevance (diversifier)
``steer_aware``    :mod:`~.steer_aware`           a base policy plus parsing of the user's replies
``oracle``         :mod:`~.oracle`                reads the hidden user (CHEATING upper bound)
``generative_*``   :mod:`~.generative`            emits semantic ids token by token, decoding
                                                  ``constrained`` to the catalog's prefix tree
                                                  or ``unconstrained`` (may hallucinate)
=================  =============================  ==========================================

The gauntlet (:mod:`~.gauntlet`: ``constant_slate``, ``one_item``, ``one_fresh_item``,
``cheapest``, ``cheapest_rotation``, ``priciest``, ``always_tag``, ``reshow_clicked``,
``reshow_purchased``) are degenerate policies a scenario's verdicts must reject.

Adapters (stable-baselines3 models, dotted paths in scenario files) are in
:mod:`~.adapters`; names resolve through :mod:`~.registry`. A new policy is one small
class::

    class CheapestFirst:
        def __init__(self, env):
            self.order = np.argsort(env.unwrapped.catalog.prices)
            self.k = env.unwrapped.slate_size

        def act(self, observation, info):
            return self.order[: self.k]
"""

from __future__ import annotations

from simrec.policies.adapters import SB3Policy, adapt, import_object, load_policy
from simrec.policies.base import (
    EMPTY,
    Policy,
    PolicyUsage,
    ScoringPolicy,
    as_policy,
    take_usage,
    with_message,
)
from simrec.policies.generative import (
    ConstrainedGenerativePolicy,
    GenerativePolicy,
    UnconstrainedGenerativePolicy,
)
from simrec.policies.greedy import EpsilonGreedyPolicy, GreedyPolicy
from simrec.policies.linucb import LinUCBPolicy
from simrec.policies.mmr import MMRPolicy
from simrec.policies.oracle import OraclePolicy
from simrec.policies.popularity import PopularityPolicy
from simrec.policies.random import RandomPolicy
from simrec.policies.registry import POLICIES, SCORING_POLICIES, make_policy
from simrec.policies.steer_aware import ReplyParser, Request, SteerAwarePolicy

__all__ = [
    "EMPTY",
    "POLICIES",
    "SCORING_POLICIES",
    "ConstrainedGenerativePolicy",
    "EpsilonGreedyPolicy",
    "GenerativePolicy",
    "GreedyPolicy",
    "LinUCBPolicy",
    "MMRPolicy",
    "OraclePolicy",
    "Policy",
    "PolicyUsage",
    "PopularityPolicy",
    "RandomPolicy",
    "ReplyParser",
    "Request",
    "SB3Policy",
    "ScoringPolicy",
    "SteerAwarePolicy",
    "UnconstrainedGenerativePolicy",
    "adapt",
    "as_policy",
    "import_object",
    "load_policy",
    "make_policy",
    "take_usage",
    "with_message",
]
