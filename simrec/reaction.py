"""What a user did with a slate: per-slot clicks, purchases and dismissals, a reply, a leave.

Every brain returns :class:`Reaction` objects, so the env, metrics and data writers never
care which brain played the user. LLM accounting (latency, tokens, invalid responses)
travels with the reaction so it lands in the event log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(slots=True)
class Reaction:
    """One user's reaction to one slate of ``k`` slots.

    Attributes:
        clicked, purchased, dismissed: one bool per slot; a purchase implies a click and
            no slot is both clicked and dismissed (brains guarantee this).
        left: the user ends the session after this reply.
        satisfaction: in [0, 1], after this turn.
        reply: what the user said.
        brain: name of the brain that produced the reaction.
        latency_ms, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens:
            cost of producing the reaction (zero for offline brains).
        cost_usd: estimated dollars paid for the reaction: live and batch calls at their
            prices, replayed ones free (zero for offline brains).
        invalid_response: the brain's raw output failed validation and a declared
            fallback produced this reaction.
    """

    clicked: list[bool]
    purchased: list[bool]
    dismissed: list[bool]
    left: bool
    satisfaction: float
    reply: str
    brain: str
    latency_ms: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    invalid_response: bool = False

    def to_dict(self) -> dict:
        """Plain Python values (for ``info`` and logs)."""
        return asdict(self)
