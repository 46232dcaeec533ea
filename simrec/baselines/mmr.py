"""Deprecated: moved to :mod:`simrec.policies.mmr`."""

from simrec._deprecated import warn_moved
from simrec.policies.mmr import MMRPolicy  # noqa: F401

warn_moved("simrec.baselines.mmr", "simrec.policies.mmr")
