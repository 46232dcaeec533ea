"""Brains decide how a persona reacts to a slate. See :mod:`simrec.brains.base`."""

from typing import Any

from simrec.brains.base import Brain, make_brain, register_brain
from simrec.brains.utility import UtilityBrain, UtilityParams

__all__ = ["Brain", "UtilityBrain", "UtilityParams", "make_brain", "register_brain"]

register_brain("utility", UtilityBrain)


def _anthropic_brain(**kwargs: Any) -> Brain:
    """Build :class:`simrec.brains.anthropic.AnthropicBrain`; imported on first use so that
    ``import simrec`` works without the optional ``anthropic`` SDK (``pip install simrec[llm]``)."""
    from simrec.brains.anthropic import AnthropicBrain

    return AnthropicBrain(**kwargs)


register_brain("anthropic", _anthropic_brain)


def _openai_brain(**kwargs: Any) -> Brain:
    """Build :class:`simrec.brains.openai.OpenAIBrain` (any OpenAI-compatible server);
    imported on first use, like the anthropic brain."""
    from simrec.brains.openai import OpenAIBrain

    return OpenAIBrain(**kwargs)


register_brain("openai", _openai_brain)
