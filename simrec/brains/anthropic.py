"""Claude plays the user: :class:`~simrec.brains.llm.LLMBrain` on the Anthropic backend.

Each Claude model gets the request shape it accepts (a forced strict tool on Haiku 5.5,
JSON structured output where forced tool use is refused, the thinking settings each model
takes; see :mod:`simrec.llm.backends.claude_models`). Data generation can send each step
of many sessions as one Message Batches request (``simrec generate --batch``,
:mod:`simrec.datagen.batches`): the brain builds the same requests, skips those its cache
answers, and validates, repairs, caches and counts the batch's answers like live ones,
at the batch price.
"""

from __future__ import annotations

from dataclasses import dataclass

from simrec.brains.llm import FALLBACKS, LLMBrain, LLMConfig
from simrec.llm.backends.anthropic import API_KEY_ENV, MISSING_KEY

DEFAULT_MODEL = "claude-haiku-5-5"
"""Inexpensive and current (Claude Haiku 5.5: $0.10 / $0.50 per million tokens)."""


@dataclass(frozen=True)
class AnthropicConfig(LLMConfig):
    """:class:`~simrec.brains.llm.LLMConfig` with Claude Haiku 5.5 as the default model."""

    model: str = DEFAULT_MODEL


class AnthropicBrain(LLMBrain):
    """A brain whose users are played by Claude through the Messages API.

    Arguments are :class:`~simrec.brains.llm.LLMBrain`'s; the key defaults to
    ``ANTHROPIC_API_KEY``.

    Example::

        env = gym.make("simrec/GolfClaude-v0", brain_kwargs={
            "cache": "record", "cache_path": "golf.sqlite", "concurrency": 16})
        ...
        print(format_usage_report(env.unwrapped.brain.ledger))
    """

    name = "anthropic"
    backend = "anthropic"
    config_class = AnthropicConfig


__all__ = [
    "API_KEY_ENV",
    "DEFAULT_MODEL",
    "FALLBACKS",
    "MISSING_KEY",
    "AnthropicBrain",
    "AnthropicConfig",
]
