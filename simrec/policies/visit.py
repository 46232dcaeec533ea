"""What a recommender knows of one user's visit: what it showed and said, what the user did
and said back. The memory of the LLM policies (:mod:`simrec.policies.llm_policy`).

A :class:`Visit` is built only from what a real recommender sees (``info["reply"]``,
``info["slate"]``, ``info["reaction"]``, ``info["user_history"]``), never from
``info["ground_truth"]``, and it is keyed by the session id, so one policy object can keep
many visits at once (episodes run concurrently, vector sub-envs) and a visit's prompts
depend on nothing but the visit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simrec.policies.retrieval import Retriever
from simrec.session import EMPTY


@dataclass(frozen=True)
class Step:
    """One slate of the visit and what came of it.

    Attributes:
        slate: the item indices shown (``-1``: an empty slot).
        clicked, purchased, dismissed: per slot.
        reply: what the user said after seeing it.
        message: what the recommender said with it (``None``: nothing).
        asked: the message was a clarifying question (see
            :mod:`simrec.policies.llm_conversational`).
    """

    slate: tuple[int, ...]
    clicked: tuple[bool, ...]
    purchased: tuple[bool, ...]
    dismissed: tuple[bool, ...]
    reply: str
    message: str | None = None
    asked: bool = False

    def items(self, flags: tuple[bool, ...] | None = None) -> list[int]:
        """The shown items (where ``flags`` is true, when given)."""
        return [
            i for pos, i in enumerate(self.slate) if i != EMPTY and (flags is None or flags[pos])
        ]


@dataclass
class Said:
    """What the policy said with the slate it just chose (joined to the step once seen)."""

    message: str | None
    asked: bool


@dataclass
class Visit:
    """One user's visit as the recommender saw it.

    Attributes:
        session_id: the id the visit is logged under (part of every cache key).
        opening: what the user said on arrival (``""``: nothing).
        history: catalog indices of the user's pre-visit choices (grounded personas).
        retriever: the visit's candidate generator.
        steps: every slate shown so far, oldest first.
        said: what the policy said with the slate being stepped (until its step is seen).
        calls: call records not yet reported (see ``LLMPolicy.take_usage``).
        fallbacks: turns whose slate came from the declared fallback.
        lines: the arrival and the past steps as rendered for prompts (each rendered
            once).
    """

    session_id: int
    opening: str
    history: np.ndarray
    retriever: Retriever
    steps: list[Step] = field(default_factory=list)
    said: Said | None = None
    calls: list[Any] = field(default_factory=list)
    fallbacks: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def turn(self) -> int:
        """Slates shown so far."""
        return len(self.steps)

    @property
    def questions(self) -> int:
        """Clarifying questions asked so far."""
        return sum(s.asked for s in self.steps) + int(self.said is not None and self.said.asked)

    def replies(self) -> list[str]:
        """Everything the user said, in order (the opening first, when there was one)."""
        return [r for r in [self.opening, *(s.reply for s in self.steps)] if r]

    def shown(self) -> set[int]:
        """Every item shown in this visit."""
        return {i for s in self.steps for i in s.items()}

    def record(self, observation: Any, info: dict[str, Any]) -> None:
        """Add the step ``info`` reports (its ``slate`` and ``reaction``); the retriever
        learns from it."""
        self.add_step(info)
        self.retriever.observe(observation, 0.0, info)

    def add_step(self, info: dict[str, Any]) -> None:
        """Add the step ``info`` reports, without the retriever learning from it (the
        vector env's rounds let every visit's retriever learn together:
        :func:`~simrec.policies.retrieval.observe_many`)."""
        reaction = info["reaction"]
        said = self.said or Said(None, False)
        self.steps.append(
            Step(
                tuple(int(i) for i in info["slate"]),
                tuple(bool(x) for x in reaction.clicked),
                tuple(bool(x) for x in reaction.purchased),
                tuple(bool(x) for x in reaction.dismissed),
                str(reaction.reply),
                said.message,
                said.asked,
            )
        )
        self.said = None


__all__ = ["Said", "Step", "Visit"]
