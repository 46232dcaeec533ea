"""What each Claude model accepts, so every request has a shape that model takes.

The current models differ in ways that turn a request one model answers into a 400 on
another (sources, checked November 2026; see docs/claude.md for the citations):

* **Forced tool use** (``tool_choice`` ``tool``/``any``) is rejected by Claude Opus 5.5,
  Sonnet 5.5 and Fable 5.1 ("Forced tool use returns an error"); Haiku 5.5 and earlier
  models accept it. Where it is rejected, the answer comes as JSON structured output
  (``output_config.format``), validated and repaired exactly like a tool call.
* **Thinking**: Opus 5.5 and Fable 5.1 think adaptively, always (``thinking`` disabled or
  with a budget is a 400): send no ``thinking`` field and a low ``effort``. Sonnet 5.5's
  lowest setting is ``between_tools`` (``disabled`` is a 400). Haiku 5.5 thinks by default
  and accepts ``disabled`` at effort high or below, which forced tool use requires
  ("Thinking may not be enabled when tool_choice forces tool use"). Haiku 4.5 thinks only
  when asked (extended thinking).
* **Sampling parameters**: every Claude model from Opus 4.7 on (all four current ones)
  rejects a non-default ``temperature``, ``top_p`` or ``top_k``.
* **Prompt caching** needs a prefix of at least 512 tokens on the 5.x models and 4,096
  on Haiku 4.5.

Prices are list prices in USD per million tokens (5-minute cache writes; Haiku 5.5 at
its rate for prompts up to 100K tokens), overridable with ``prices=``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ClaudeModel:
    """The request shape one Claude model takes.

    Attributes:
        model: the model id.
        forced_tool: whether ``tool_choice`` may force the answer tool.
        thinking: the ``thinking`` field to send (``None``: send none).
        thinks: whether answers carry thinking (then ``thinking_allowance`` output tokens
            are added to ``max_tokens``, which bounds thinking and answer together).
        effort: ``output_config.effort`` to send (``None``: the model's default).
        sampling: whether a non-default ``temperature`` is accepted.
        min_cache_tokens: the shortest prefix the API caches.
        price: list price in USD per million tokens ``(input, output, cache read,
            cache write)``, or ``None`` (unpriced).
    """

    model: str
    forced_tool: bool
    thinking: dict[str, Any] | None
    thinks: bool
    effort: str | None
    sampling: bool
    min_cache_tokens: int
    price: tuple[float, float, float, float] | None = field(default=None, compare=False)

    thinking_allowance: int = 2048


CLAUDE_MODELS: dict[str, ClaudeModel] = {
    m.model: m
    for m in (
        ClaudeModel(
            "claude-fable-5-1", False, None, True, "low", False, 512, (10.0, 50.0, 0.25, 12.5)
        ),
        ClaudeModel(
            "claude-opus-5-5", False, None, True, "low", False, 512, (4.0, 20.0, 0.20, 5.0)
        ),
        ClaudeModel(
            "claude-sonnet-5-5",
            False,
            {"type": "between_tools"},
            False,
            "low",
            False,
            512,
            (2.0, 10.0, 0.10, 2.5),
        ),
        ClaudeModel(
            "claude-haiku-5-5",
            True,
            {"type": "disabled"},
            False,
            None,
            False,
            512,
            (0.10, 0.50, 0.01, 0.125),
        ),
        # Legacy models still served.
        ClaudeModel(
            "claude-opus-5",
            True,
            {"type": "disabled"},
            False,
            None,
            False,
            512,
            (5.0, 25.0, 0.50, 6.25),
        ),
        ClaudeModel(
            "claude-sonnet-5",
            True,
            {"type": "disabled"},
            False,
            None,
            False,
            1024,
            (2.0, 10.0, 0.20, 2.5),
        ),
        ClaudeModel(
            "claude-haiku-4-5", True, None, False, None, True, 4096, (1.0, 5.0, 0.10, 1.25)
        ),
    )
}
"""Known models. ``claude_model`` falls back to :data:`UNKNOWN_CLAUDE` for other ids."""

UNKNOWN_CLAUDE = ClaudeModel("(unknown)", False, None, True, None, False, 512)
"""The shape every current model accepts: JSON structured output, no ``thinking`` field,
no sampling parameters. Used for ids not in :data:`CLAUDE_MODELS` (a newer model, a
dated snapshot, a proxy's alias); register a :class:`ClaudeModel` to tune one."""


def claude_model(model: str) -> ClaudeModel:
    """The request shape of ``model`` (a dated snapshot id matches its base id)."""
    known = CLAUDE_MODELS.get(model)
    if known is not None:
        return known
    base = max((m for m in CLAUDE_MODELS if model.startswith(m + "-")), key=len, default=None)
    return CLAUDE_MODELS[base] if base is not None else UNKNOWN_CLAUDE


def register_claude_model(profile: ClaudeModel) -> None:
    """Add or replace the request shape (and price) of ``profile.model``."""
    CLAUDE_MODELS[profile.model] = profile


def claude_prices() -> dict[str, tuple[float, float, float, float]]:
    """The list price of every known Claude model (see :attr:`ClaudeModel.price`)."""
    return {m.model: m.price for m in CLAUDE_MODELS.values() if m.price is not None}
