"""Deprecated: moved to :mod:`simrec.policies.oracle`."""

from simrec._deprecated import warn_moved
from simrec.policies.oracle import OraclePolicy  # noqa: F401

warn_moved("simrec.baselines.oracle", "simrec.policies.oracle")
