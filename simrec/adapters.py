"""Deprecated: moved to :mod:`simrec.policies.adapters`."""

from simrec._deprecated import warn_moved
from simrec.policies.adapters import SB3Policy, adapt, import_object, load_policy  # noqa: F401

warn_moved("simrec.adapters", "simrec.policies.adapters")
