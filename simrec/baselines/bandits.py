"""Deprecated: moved to :mod:`simrec.policies.greedy`."""

from simrec._deprecated import warn_moved
from simrec.policies.greedy import EpsilonGreedyPolicy, GreedyPolicy  # noqa: F401
from simrec.policies.linucb import LinUCBPolicy  # noqa: F401

warn_moved("simrec.baselines.bandits", "simrec.policies.greedy")
