"""Deprecated: moved to :mod:`simrec.policies.steer_aware`."""

from simrec._deprecated import warn_moved
from simrec.policies.steer_aware import ReplyParser, Request, SteerAwarePolicy  # noqa: F401

warn_moved("simrec.baselines.steer", "simrec.policies.steer_aware")
