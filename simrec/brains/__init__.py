"""Brains decide how a persona reacts to a slate. See :mod:`simrec.brains.base`."""

from simrec.brains.base import Brain, make_brain, register_brain
from simrec.brains.utility import UtilityBrain, UtilityParams

__all__ = ["Brain", "UtilityBrain", "UtilityParams", "make_brain", "register_brain"]

register_brain("utility", UtilityBrain)
