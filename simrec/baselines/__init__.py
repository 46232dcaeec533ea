"""Deprecated: the baselines moved to :mod:`simrec.policies` (one home for every policy)."""

from simrec._deprecated import warn_moved
from simrec.policies import (  # noqa: F401
    SCORING_POLICIES,
    EpsilonGreedyPolicy,
    GreedyPolicy,
    LinUCBPolicy,
    MMRPolicy,
    OraclePolicy,
    ReplyParser,
    Request,
    ScoringPolicy,
    SteerAwarePolicy,
)

warn_moved("simrec.baselines", "simrec.policies")
