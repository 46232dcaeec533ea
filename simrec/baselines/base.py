"""Deprecated: moved to :mod:`simrec.policies.base`."""

from simrec._deprecated import warn_moved
from simrec.policies.base import EMPTY, ScoringPolicy  # noqa: F401

warn_moved("simrec.baselines.base", "simrec.policies.base")
