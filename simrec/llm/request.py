"""What callers of the LLM client layer say and what they get back, independent of provider.

A caller (an LLM-played user, an LLM policy) describes one call as an :class:`LLMRequest`:
the model, system blocks (each may end a prompt-cache prefix), the messages, the output it
wants as a JSON schema (:class:`OutputSchema`), and *where the call sits in the run*
(``sample``). A backend translates it into its provider's wire format. The client answers
with an :class:`LLMResult`: the value the caller's validator made of the answer (or why
there is none), what the calls cost and how long they took.

``sample`` is the request's position in the run, e.g. ``("session", 12, "turn", 3)``. It is
part of the response-cache key, so two identical requests made at different places of a
run (two users shown the same first slate) get their own answers, while the same place
always gets the same one, whatever the process layout. Never derive it from a counter or
from the order in which calls happen to be made: that is what made replays diverge.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simrec.errors import ConfigError

ROLES = ("user", "policy", "authoring")
"""Who makes a call: a simulated ``user`` (LLM brain), the recommender ``policy``, or
``authoring`` (writing personas: ``simrec personas create``).

Calls and costs are accounted apart per role (the usage report prints a block each)."""

DEFAULT_REPAIR = (
    "That answer could not be used: {problems}\nAnswer again, correcting it, in the {name} format."
)
"""The repair note shown with the model's invalid answer (``{problems}``, ``{name}``)."""


class InvalidAnswer(ValueError):
    """The model's answer cannot be used; ``str(exc)`` lists every problem found.

    Validators raise it; the client then asks the model once to repair its answer,
    showing it these problems.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class TextBlock:
    """One block of text: of the system prompt, or of a message's content.

    Attributes:
        text: the block's text.
        cache: end a prompt-cache prefix here (Anthropic ``cache_control``; at most 4 per
            request). Put what many calls share first (instructions common to every
            persona), then what one caller repeats (a persona card), then what grows
            append-only (a visit's past turns, one block each, the last one marked), so
            every prefix is reused.
    """

    text: str
    cache: bool = False


SystemBlock = TextBlock
"""The name system-prompt blocks go by."""


@dataclass(frozen=True)
class OutputSchema:
    """The structured answer wanted: a JSON object described by a JSON schema.

    Backends deliver it the best way the model allows: a forced strict tool, JSON
    structured output, a function tool, or JSON parsed from text (see docs/llm.md).

    Attributes:
        name: the answer's name (the tool or schema name), e.g. ``react_to_slate``.
        description: what the answer is, for the model.
        schema: a JSON schema of an object, with ``additionalProperties: false`` and
            every property required (what strict tools and structured outputs accept).
    """

    name: str
    description: str
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class LLMRequest:
    """One call, as the caller means it (providers translate it into their wire format).

    Attributes:
        model: the model id.
        system: the system prompt as blocks (see :class:`SystemBlock`).
        messages: ``{"role": "user" | "assistant", "content": str | tuple[TextBlock, ...]}``
            turns, ending with a user turn (blocks let a message end a cache prefix).
        output: the structured answer wanted, or ``None`` for free text.
        max_tokens: the answer's output budget (thinking models get an allowance on top).
        temperature: ``None`` leaves the model's default; models that removed sampling
            parameters refuse any other value (:class:`~simrec.errors.LLMConfigError`).
        sample: where the call sits in the run (see the module docstring); the client
            appends the attempt number (0, then 1 for the repair).
        role: ``user``, ``policy`` or ``authoring`` (accounting).
        prompt: the prompt template's ``name@version`` (part of the cache key).
        label: names the call in errors and logs (persona, session, turn ...).
        repair: the repair note's format (``{problems}``, ``{name}``).
    """

    model: str
    system: tuple[TextBlock, ...]
    messages: tuple[Mapping[str, Any], ...]
    output: OutputSchema | None = None
    max_tokens: int = 1024
    temperature: float | None = None
    sample: tuple[Any, ...] = ()
    role: str = "user"
    prompt: str = ""
    label: str = "an LLM call"
    repair: str = DEFAULT_REPAIR

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ConfigError(
                f"LLMRequest.role: expected one of {', '.join(ROLES)}, got {self.role!r}"
            )
        if not self.messages or self.messages[-1].get("role") != "user":
            raise ConfigError(f"{self.label}: messages must end with a user turn")
        if self.temperature is not None and not (
            isinstance(self.temperature, (int, float)) and math.isfinite(self.temperature)
        ):
            raise ConfigError(
                f"LLMRequest.temperature: expected a number, got {self.temperature!r}"
            )


@dataclass(frozen=True)
class Usage:
    """Token counts of one call. ``input_tokens`` excludes prompt-cache reads and writes."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def prompt_tokens(self) -> int:
        """Every input token, however billed (fresh, read from cache, written to cache)."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens


@dataclass(frozen=True)
class Answer:
    """What a backend read from a response: the structured output and the text.

    Attributes:
        data: the structured answer (a JSON object), or ``None`` when there is none.
        text: the answer's text (what the model wrote besides or instead).
        problem: why ``data`` is ``None`` (no tool call, text that is not JSON, cut off).
    """

    data: Mapping[str, Any] | None
    text: str = ""
    problem: str | None = None


Validator = Callable[[Mapping[str, Any]], Any]
"""``validate(data) -> value``: the caller's check of the structured answer.

Return what the caller wants to keep (a parsed reaction, a ranking); raise
:class:`InvalidAnswer` listing every problem to have the model repair its answer once."""


@dataclass
class LLMResult:
    """The outcome of one request: its validated value, or why there is none.

    Attributes:
        value: what the validator returned for the final answer; ``None`` when the answer
            stayed invalid after the repair or the API kept failing (see ``problem``).
        problem: why ``value`` is ``None``.
        answer: the last answer read (``None`` when no call succeeded).
        calls: the call records (first call, then the repair), live or replayed.
        repaired: the first answer was invalid and the repair fixed it.
    """

    value: Any
    problem: str | None
    answer: Answer | None
    calls: list[Any] = field(default_factory=list)
    repaired: bool = False

    @property
    def ok(self) -> bool:
        """Whether there is a validated value."""
        return self.problem is None

    def total(self, name: str) -> int | float:
        """The sum of one :class:`~simrec.llm.accounting.CallRecord` field over the calls."""
        return sum(getattr(call, name) for call in self.calls)
