"""Baseline policies beyond random and popularity: the yardsticks scenarios compare.

=================  ==========================================================
name               what it does
=================  ==========================================================
``greedy``         exploits the best-clicked category (never explores)
``epsilon_greedy`` greedy with random slots (``epsilon``)
``linucb``         LinUCB over ``catalog.features``, learning within the session
``mmr``            maximal marginal relevance over an in-session relevance model
``steer_aware``    a base policy plus keyword parsing of the user's replies
``oracle``         reads the hidden user (CHEATING upper bound)
=================  ==========================================================

All learn within one session only (cold start: every user is new). Each is built as
``Policy(env, seed=None, **params)``.
"""

from __future__ import annotations

from simrec.baselines.bandits import EpsilonGreedyPolicy, GreedyPolicy, LinUCBPolicy
from simrec.baselines.base import ScoringPolicy
from simrec.baselines.mmr import MMRPolicy
from simrec.baselines.oracle import OraclePolicy
from simrec.baselines.steer import ReplyParser, Request, SteerAwarePolicy

SCORING_POLICIES: dict[str, type[ScoringPolicy]] = {
    "greedy": GreedyPolicy,
    "epsilon_greedy": EpsilonGreedyPolicy,
    "linucb": LinUCBPolicy,
    "mmr": MMRPolicy,
    "steer_aware": SteerAwarePolicy,
    "oracle": OraclePolicy,
}
"""The baselines of this package by name (``make_policy`` knows them too)."""

__all__ = [
    "SCORING_POLICIES",
    "EpsilonGreedyPolicy",
    "GreedyPolicy",
    "LinUCBPolicy",
    "MMRPolicy",
    "OraclePolicy",
    "ReplyParser",
    "Request",
    "ScoringPolicy",
    "SteerAwarePolicy",
]
