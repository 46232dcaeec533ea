"""A conversational LLM recommender: it talks with every slate, and may ask before committing.

In conversational mode (``RecSessionEnv(conversational=True)``, a scenario's
``conversational: true``) an action is ``{"slate": [...], "message": "..."}``. Each turn
this policy's LLM sees the visit so far (including what it said before and the user's
answers) and the retriever's candidates, and answers::

    {"kind": "ask" | "recommend", "message": "...", "ranking": [candidate ids, best first]}

**A question turn** (``kind: ask``) is an ordinary step of the env: the message is one
clarifying question ending with ``?`` ("Nine holes or eighteen?") and the slate is a
small exploratory slate: ``k`` candidates the model picks to span the options it asks
about, so the user can answer by clicking as well as in words (every slot is a real
item; nothing is left empty). The env logs it like any turn (the question in the turn's
``message``); the policy remembers it (``you_asked`` in the visit it shows the model
next turn, :attr:`~simrec.policies.visit.Step.asked`). An LLM-played user reads the
question beside the slate and answers in its reply, which reaches the policy with the
next turn's info: the answer closes the loop. The offline utility brain has no language:
it ignores the question and reacts to the exploratory slate only.

At most ``max_questions`` questions per visit (default 1), never on the visit's last
turn (no answer could follow); the validator refuses a question beyond that, and the
repair asks the model to recommend. A ``recommend`` message says what the slate is and
why, in a sentence or three. The answer is validated like the reranker's (ids among the
candidates, no duplicates, at least ``k``) plus a non-empty message of at most
:data:`~simrec.env.MESSAGE_MAX_LENGTH` characters; the fallback shows the retriever's
order and says nothing.

Steerability, cold start and novelty are measured on it like on any policy (scenarios,
:mod:`simrec.metrics`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from simrec.env import MESSAGE_MAX_LENGTH
from simrec.errors import ArgumentError, ConfigError
from simrec.llm.request import InvalidAnswer, OutputSchema
from simrec.policies.llm_policy import Choice, LLMPolicy, LLMPolicyConfig
from simrec.policies.llm_prompts import ids_schema, output_schema
from simrec.policies.visit import Visit

KINDS = ("ask", "recommend")


@dataclass(frozen=True)
class ConversationalConfig(LLMPolicyConfig):
    """:class:`~simrec.policies.llm_policy.LLMPolicyConfig` plus the conversation's rules.

    Attributes:
        max_questions: clarifying questions allowed per visit (0: never ask).
    """

    max_tokens: int = 600
    max_questions: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        q = self.max_questions
        if isinstance(q, bool) or not isinstance(q, int) or q < 0:
            raise ArgumentError(
                f"argument 'max_questions': expected an integer >= 0, got {q!r}", "max_questions"
            )


class LLMConversationalPolicy(LLMPolicy):
    """A conversational LLM recommender (see the module docstring).

    Arguments are :class:`~simrec.policies.llm_policy.LLMPolicy`'s; options are the
    fields of :class:`ConversationalConfig`.

    Raises:
        ConfigError: the env is not conversational (the message would have nowhere to go).
    """

    name = "llm_conversational"
    template_name = "llm-conversational"
    config_class = ConversationalConfig

    def __init__(self, env: gym.Env, seed: int | None = None, **options: Any) -> None:
        super().__init__(env, seed, **options)
        if not self.conversational:
            raise ConfigError(
                "llm_conversational writes a message with every slate: make the env with "
                "conversational=True (in a scenario: `conversational: true`)"
            )

    def questions_left(self, visit: Visit) -> int:
        """Questions the policy may still ask in ``visit`` this turn."""
        if visit.turn + 1 >= self.max_turns:  # the last slate: no answer could follow
            return 0
        return max(self.config.max_questions - visit.questions, 0)  # type: ignore[attr-defined]

    def schema(self) -> OutputSchema:
        """``{"kind": "ask" | "recommend", "message": "...", "ranking": [...]}``."""
        t = self.template
        return output_schema(
            t,
            {
                "kind": {
                    "type": "string",
                    "enum": list(KINDS),
                    "description": t.field_text("kind"),
                },
                "message": {"type": "string", "description": t.field_text("message")},
                "ranking": ids_schema(t.field_text("ranking", k=self.k)),
            },
        )

    def instruction(self, visit: Visit) -> dict[str, Any]:
        """How many questions are left, in words."""
        left = self.questions_left(visit)
        extra = self.template.extra
        text = extra["questions_left"].format(left=left) if left else extra["no_questions"]
        return {"questions": text}

    def parse(self, data: Mapping[str, Any], visit: Visit, candidates: np.ndarray) -> Choice:
        """The turn the answer describes.

        Raises:
            InvalidAnswer: an unknown kind, a question not allowed now or without a
                question mark, an empty or overlong message, or a bad ranking.
        """
        problems = []
        kind = data.get("kind")
        message = data.get("message")
        if kind not in KINDS:
            problems.append(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if not isinstance(message, str) or not message.strip():
            problems.append("message must be a non-empty string")
        elif len(message) > MESSAGE_MAX_LENGTH:
            problems.append(f"message has {len(message)} characters; at most {MESSAGE_MAX_LENGTH}")
        elif kind == "ask" and "?" not in message:
            problems.append('a question turn ("ask") needs the question in the message')
        if kind == "ask" and not self.questions_left(visit):
            problems.append('no questions are allowed now: recommend (kind "recommend")')
        try:
            slate = self.ranked(data.get("ranking"), candidates)
        except InvalidAnswer as exc:
            problems.extend(exc.problems)
        if problems:
            raise InvalidAnswer(problems)
        return Choice(slate, " ".join(str(message).split()), kind == "ask")


__all__ = ["KINDS", "ConversationalConfig", "LLMConversationalPolicy"]
