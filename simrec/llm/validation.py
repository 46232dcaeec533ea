"""Validate a persona's reaction (the structured answer) into per-slot decisions, or say
exactly what is wrong.

Strict tools and structured outputs make most APIs enforce the JSON shape, but a
simulator must not trust that alone (older models, local servers that answer in free
text, proxies, recorded cassettes, a fake server): every answer is checked here against
the schema *and* the slate, whichever backend produced it. Problems are collected, not raised one
at a time, so the repair prompt can show the model all of them at once. Nothing is ever
coerced: an id outside the slate, a purchase without a click or an empty reply makes the
answer invalid; it is never quietly turned into "no click".
"""

from __future__ import annotations

import math
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simrec.llm.prompts import REACTION_FIELDS
from simrec.llm.request import InvalidAnswer

MAX_REPLY_CHARS = 1000
"""A reply longer than this is invalid (repaired, then the fallback): a runaway answer would
otherwise be stored in the event log and re-sent in every later request of the visit."""


@dataclass(frozen=True)
class ParsedReaction:
    """A validated answer, as per-slot flags aligned with the slate."""

    clicked: list[bool]
    purchased: list[bool]
    dismissed: list[bool]
    left: bool
    satisfaction: float
    reply: str


def id_list_problems(key: str, value: Any, known: Container[str], where: str) -> list[str]:
    """What is wrong with ``value`` as the answer's list ``key`` of item ids from ``known``
    (``where`` names them: "this slate", "the current candidates"); empty when nothing is."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return [f"{key} must be a list of item id strings, got {value!r:.80}"]
    problems = []
    unknown = [v for v in value if v not in known]
    if unknown:
        problems.append(f"{key} names id(s) not in {where}: {', '.join(map(repr, unknown))}")
    repeated = sorted({v for v in value if value.count(v) > 1})
    if repeated:
        problems.append(f"{key} lists id(s) more than once: {', '.join(map(repr, repeated))}")
    return problems


def parse_reaction(data: Mapping[str, Any], ids: Sequence[str | None]) -> ParsedReaction:
    """Validate the structured answer ``data`` against the slate ``ids``.

    Args:
        data: the reaction as a JSON object (a tool's input, JSON output, JSON from text).
        ids: the catalog id of each slot, ``None`` for an empty slot.

    Raises:
        InvalidAnswer: listing every problem (missing or extra keys, wrong types, ids
            not in the slate, purchase without click, clicked and dismissed, empty
            or overlong reply, satisfaction outside [0, 1]).
    """
    problems: list[str] = []
    missing = [k for k in REACTION_FIELDS if k not in data]
    if missing:
        problems.append(f"missing field(s): {', '.join(missing)}")
    extra = sorted(str(k) for k in data if k not in REACTION_FIELDS)
    if extra:
        problems.append(f"unknown field(s): {', '.join(extra)}")
    slot_of = {item_id: pos for pos, item_id in enumerate(ids) if item_id is not None}
    flags: dict[str, list[bool]] = {}
    for key in ("clicked", "purchased", "dismissed"):
        flags[key] = [False] * len(ids)
        if key not in data:
            continue
        value = data[key]
        found = id_list_problems(key, value, slot_of, "this slate")
        problems += found
        if not isinstance(value, list) or (found and "must be a list" in found[0]):
            continue
        for v in value:
            if v in slot_of:
                flags[key][slot_of[v]] = True
    for pos, item_id in enumerate(ids):
        if flags["purchased"][pos] and not flags["clicked"][pos]:
            problems.append(
                f"purchased {item_id!r} without clicking it (a purchase implies a click)"
            )
        if flags["clicked"][pos] and flags["dismissed"][pos]:
            problems.append(f"{item_id!r} is both clicked and dismissed")
    reply = data.get("reply")
    if "reply" in data and (not isinstance(reply, str) or not reply.strip()):
        problems.append(f"reply must be a non-empty string, got {reply!r:.80}")
    elif isinstance(reply, str) and len(reply) > MAX_REPLY_CHARS:
        problems.append(
            f"reply must be at most {MAX_REPLY_CHARS} characters (what a user says in a chat), "
            f"got {len(reply):,}"
        )
    leave = data.get("leave")
    if "leave" in data and not isinstance(leave, bool):
        problems.append(f"leave must be true or false, got {leave!r:.40}")
    sat = data.get("satisfaction")
    if "satisfaction" in data and (
        isinstance(sat, bool)
        or not isinstance(sat, (int, float))
        or not math.isfinite(sat)
        or not 0.0 <= sat <= 1.0
    ):
        problems.append(f"satisfaction must be a number from 0 to 1, got {sat!r:.40}")
    if problems:
        raise InvalidAnswer(problems)
    return ParsedReaction(
        flags["clicked"],
        flags["purchased"],
        flags["dismissed"],
        bool(leave),
        float(sat),
        str(reply).strip(),
    )
