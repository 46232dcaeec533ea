"""Turn a session and a slate into an LLM request, from a named, versioned template.

The request (:class:`~simrec.llm.request.LLMRequest`, provider-neutral) has three parts,
ordered for prompt caching (APIs cache a prefix):

1. **System**, two blocks, each ending a cached prefix: the instructions every persona
   of a domain shares, then the persona card (who the user is, in words). Personas share
   the first prefix; each persona's turns share the second.
2. **Output**: ``react_to_slate``, the reaction as a JSON schema (ids clicked / purchased
   / dismissed, reply, leave, how the turn felt); backends deliver it as a forced strict
   tool, JSON structured output or a function call, whatever the model accepts.
3. **User message**: session memory (recent turns verbatim, older turns summarised), the
   active request in the persona's own words, the recommender's message, and the slate.

The hidden, machine-readable constraint of an intent is never rendered: the model only
knows what the persona would know, i.e. the words it said. Item text is third-party data:
each item is one JSON object per line between ``<slate>`` markers, with ``<`` and ``>``
escaped so no description can close the block and pose as instructions.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from simrec.catalog import Catalog
from simrec.errors import ConfigError
from simrec.llm.request import LLMRequest, OutputSchema, SystemBlock, TextBlock
from simrec.memo import PerObject
from simrec.persona import Persona
from simrec.replies import default_templates
from simrec.session import EMPTY, BoundPersona, Session

TEMPLATE_PACKAGE = "simrec.llm"
REACTION_FIELDS = ("clicked", "purchased", "dismissed", "reply", "leave", "satisfaction")
"""The keys of the tool input, in schema order."""

TRAIT_ORDER = (
    "price_sensitivity",
    "novelty_seeking",
    "boredom_rate",
    "patience",
    "purchase_propensity",
    "chattiness",
)
PHRASES = (
    "arrived",
    "first_slate",
    "history",
    "summary",
    "summary_bought",
    "summary_dismissed",
    "turn",
    "turn_bought",
    "turn_end",
    "turn_dismissed",
    "turn_said",
    "nothing",
    "request_new",
    "request_standing",
    "request_unsaid",
    "drift",
    "voice",
    "message",
)
"""The user-message pieces every template defines (``phrases:``)."""
CARD_LINES = (
    "name",
    "bio",
    "likes",
    "strong_like",
    "dislikes",
    "temperament",
    "traits",
    "before",
    "before_more",
    "profile",
)
"""The persona-card formats every template defines (``card:``)."""
STATE_LINES = ("mood", "energy", "line", "bored", "repeats")
"""The how-the-visit-feels formats every template defines (``state:``)."""
HISTORY_SHOWN = 12
"""Most recent pre-visit choices of a grounded persona named on its card."""
BORED_AT = 1.2
"""Category exposure (decayed share of recent slates) from which the persona is told it
has seen a lot of that category (about two full slates of it in a row)."""


@dataclass(frozen=True)
class PromptTemplate:
    """A named, versioned prompt (see ``simrec/llm/templates/*.yaml``).

    Attributes:
        name: the template's name (its file stem).
        version: bumped on every change; part of the response-cache key.
        tool_name, tool_description, tool_fields: the answer format and its field docs.
        system, persona, user, repair: ``str.format`` texts (``system``: the instructions
            shared by every persona; ``persona``: the block holding the card).
        card: the persona card's line formats, and ``traits``: three phrases per trait.
        phrases: the pieces of the user message (memory, requests, recommender message).
        state: how the visit feels now, in words (mood, energy, boredom, repeats).
    """

    name: str
    version: int
    tool_name: str
    tool_description: str
    tool_fields: Mapping[str, str]
    system: str
    persona: str
    user: str
    repair: str
    card: Mapping[str, Any]
    phrases: Mapping[str, str]
    state: Mapping[str, Any]

    @property
    def tag(self) -> str:
        """``name@version``, as written in cache entries and reports."""
        return f"{self.name}@{self.version}"


@lru_cache(maxsize=16)
def load_template(name: str = "persona-reaction") -> PromptTemplate:
    """Load the shipped template ``name`` (``simrec/llm/templates/<name>.yaml``).

    Raises:
        ConfigError: naming the template file and the missing field.
    """
    files = resources.files(TEMPLATE_PACKAGE) / "templates"
    path = files / f"{name}.yaml"
    if not path.is_file():
        known = sorted(
            p.name.removesuffix(".yaml") for p in files.iterdir() if p.name.endswith(".yaml")
        )
        raise ConfigError(f"unknown prompt template {name!r}; available: {', '.join(known)}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = f"simrec/llm/templates/{name}.yaml"
    try:
        tool, card, phrases, state = data["tool"], data["card"], data["phrases"], data["state"]
        sections = (
            ("tool.fields", tool["fields"], REACTION_FIELDS),
            ("card", card, CARD_LINES),
            ("card.traits", card["traits"], TRAIT_ORDER),
            ("phrases", phrases, PHRASES),
            ("state", state, STATE_LINES),
        )
        template = PromptTemplate(
            name=str(data["name"]),
            version=int(data["version"]),
            tool_name=str(tool["name"]),
            tool_description=str(tool["description"]),
            tool_fields=dict(tool["fields"]),
            system=str(data["system"]),
            persona=str(data["persona"]),
            user=str(data["user"]),
            repair=str(data["repair"]),
            card=dict(card),
            phrases={k: str(v) for k, v in phrases.items()},
            state=dict(state),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: missing or malformed field {exc}") from None
    for section, have, need in sections:
        missing = [k for k in need if k not in have]
        if missing:
            raise ConfigError(f"{where}: {section} lacks {', '.join(missing)}")
    short = [t for t in TRAIT_ORDER if len(card["traits"][t]) != 3]
    if short:
        raise ConfigError(f"{where}: card.traits needs 3 phrases (low, middle, high) for {short}")
    bands = [k for k in ("mood", "energy") if len(state[k]) != 4]
    if bands:
        raise ConfigError(f"{where}: state needs 4 phrases (lowest to highest) for {bands}")
    return template


def output_schema(template: PromptTemplate, verb: str) -> OutputSchema:
    """The ``react_to_slate`` answer: the schema strict tools and structured outputs enforce.

    The schema fixes the shape (types, required keys, no extras); what it cannot say (ids
    in the slate, purchase implies click, a number in [0, 1]) is checked by
    :mod:`simrec.llm.validation`.
    """
    return _output_schema(
        template.tool_name, template.tool_description, tuple(template.tool_fields.items()), verb
    )


@lru_cache(maxsize=64)
def _output_schema(
    name: str, description: str, fields: tuple[tuple[str, str], ...], verb: str
) -> OutputSchema:
    """:func:`output_schema` from exactly what it depends on: built once, not per call."""
    f = {k: v.format(verb=verb).strip() for k, v in fields}
    ids = {"type": "array", "items": {"type": "string"}}
    return OutputSchema(
        name=name,
        description=description.format(verb=verb),
        schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "clicked": {**ids, "description": f["clicked"]},
                "purchased": {**ids, "description": f["purchased"]},
                "dismissed": {**ids, "description": f["dismissed"]},
                "reply": {"type": "string", "description": f["reply"]},
                "leave": {"type": "boolean", "description": f["leave"]},
                "satisfaction": {"type": "number", "description": f["satisfaction"]},
            },
            "required": list(REACTION_FIELDS),
        },
    )


def purchase_verb(catalog: Catalog) -> str:
    """The domain's purchase verb (``book`` a tee time, ``buy`` a book, ``order`` a product)."""
    return default_templates().verb(catalog.domain)


# -- persona card ------------------------------------------------------------------------
def _band(value: float) -> int:
    return 0 if value < 0.34 else (1 if value < 0.67 else 2)


def _label(field: str, value: str) -> str:
    return value if field in ("tags", "category") else f"{value} ({field.replace('_', ' ')})"


def persona_card(
    persona: Persona, template: PromptTemplate | None = None, catalog: Catalog | None = None
) -> str:
    """The persona in words: identity, bio, tastes, dislikes, temperament and, for a
    grounded persona, its real history (the titles it chose before the visit, given
    ``catalog``) and what that history says about it.

    Traits become phrases (``patience`` 0.2 -> "you have very little patience") rather
    than numbers, because a character is easier to play than a parameter vector. Intents
    are not on the card: the persona voices them at their turn. A drift is not either:
    the turn it applies from says it replaces the likes on the card.
    """
    card = (template or load_template()).card
    who = ", ".join(
        str(x) for x in (persona.age, persona.occupation, persona.location) if x is not None
    )
    lines = [card["name"].format(name=persona.name, who=f" ({who})" if who else "")]
    lines.append(card["bio"].format(bio=" ".join(persona.bio.split())))
    weighted = [
        (w, f, v) for f, values in persona.tastes.items() for v, w in values.items() if w > 0
    ]
    liked = [
        card["strong_like"].format(value=_label(f, v)) if w >= 1.0 else _label(f, v)
        for w, f, v in sorted(weighted, key=lambda x: (-x[0], x[1], x[2]))
    ]
    if liked:
        lines.append(card["likes"].format(values=", ".join(liked)))
    disliked = [_label(f, v) for f, values in persona.dislikes.items() for v in values]
    if disliked:
        lines.append(card["dislikes"].format(values=", ".join(disliked)))
    traits = [card["traits"][t][_band(float(getattr(persona, t)))] for t in TRAIT_ORDER]
    lines.append(card["temperament"].format(traits="; ".join(traits)))
    history = tuple(getattr(persona, "history", ()) or ())
    if history and catalog is not None:
        recent = persona.history_indices(catalog)[-HISTORY_SHOWN:].tolist()
        titles = ", ".join(_text(catalog.titles[i]) for i in recent)
        more = len(history) - len(recent)
        lines.append(
            card["before"].format(titles=titles)
            + (card["before_more"].format(count=more) if more > 0 else "")
        )
    profile = getattr(persona, "profile", None)
    describe = profile.describe() if profile is not None else ""
    if describe:
        lines.append(card["profile"].format(describe=describe.rstrip(".")))
    return "\n".join(lines)


# -- slate and memory --------------------------------------------------------------------
def data_json(value: Any) -> str:
    """JSON with ``<``, ``>`` and ``&`` escaped, so item text can never close a data block."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_ITEM_LINES: PerObject[Catalog, list[str | None]] = PerObject(lambda catalog: [None] * len(catalog))
_TITLES: PerObject[Catalog, list[str | None]] = PerObject(lambda catalog: [None] * len(catalog))
"""Item lines and titles already rendered, per catalog, by item index: every call of
every turn shows items again, and a catalog does not change once loaded."""


def render_item(catalog: Catalog, index: int) -> str:
    """One slate line: the item as a JSON object (data, never instructions)."""
    return _item_lines(catalog, [index])[0]


def _item_lines(catalog: Catalog, items: Sequence[int]) -> list[str]:
    return _filled(_ITEM_LINES(catalog), items, lambda i: _item_json(catalog, i))


def _filled(
    memo: list[str | None], items: Sequence[int], render: Callable[[int], str]
) -> list[str]:
    """``memo``'s entry of each item, rendering (and keeping) the ones not rendered yet."""
    out = []
    for i in items:
        text = memo[i]
        if text is None:
            text = memo[i] = render(int(i))
        out.append(text)
    return out


def _item_json(catalog: Catalog, index: int) -> str:
    item = catalog.item(index)
    attributes = {
        k: (int(v) if isinstance(v, float) and v.is_integer() else v)
        for k, v in item.attributes.items()
    }
    return data_json(
        {
            "id": item.item_id,
            "title": item.title,
            "category": item.category,
            "price": round(item.price, 2),
            "tags": list(item.tags),
            "attributes": attributes,
            "description": item.description,
        }
    )


def render_slate(catalog: Catalog, slate: Sequence[int]) -> str:
    """The slate (or a policy's candidates), one JSON line per shown item (empty ``-1``
    slots are not shown)."""
    return "\n".join(_item_lines(catalog, [i for i in slate if i != EMPTY]))


def slate_ids(catalog: Catalog, slate: Sequence[int]) -> list[str | None]:
    """The catalog id shown in each slot (``None`` for an empty slot)."""
    return [None if i == EMPTY else str(catalog.item_ids[i]) for i in slate]


def _text(value: str) -> str:
    """A title, reply or request as a JSON string: quoted, with ``<`` and ``>`` escaped."""
    return data_json(" ".join(str(value).split()))


def _titles(catalog: Catalog, items: Sequence[int], phrases: Mapping[str, str]) -> str:
    if not items:
        return phrases["nothing"]
    return ", ".join(_filled(_TITLES(catalog), items, lambda i: _text(catalog.titles[i])))


def _turn_line(
    catalog: Catalog,
    number: int,
    slate: Sequence[int],
    reaction: Any,
    verb: str,
    phrases: Mapping[str, str],
) -> str:
    def picked(flags: Sequence[bool]) -> str:
        chosen = [i for i, f in zip(slate, flags, strict=True) if f and i != EMPTY]
        return _titles(catalog, chosen, phrases)

    shown = _titles(catalog, [i for i in slate if i != EMPTY], phrases)
    text = phrases["turn"].format(number=number, shown=shown, clicked=picked(reaction.clicked))
    if any(reaction.purchased):
        text += phrases["turn_bought"].format(verb=verb, bought=picked(reaction.purchased))
    text += phrases["turn_end"]
    if any(reaction.dismissed):
        text += phrases["turn_dismissed"].format(dismissed=picked(reaction.dismissed))
    return text + phrases["turn_said"].format(reply=_text(reaction.reply))


def _summary_line(
    catalog: Catalog,
    history: Sequence[tuple[list[int], Any]],
    verb: str,
    phrases: Mapping[str, str],
) -> str:
    shown = [i for slate, _ in history for i in slate if i != EMPTY]
    counts = Counter(str(catalog.categories[i]) for i in shown)
    top = ", ".join(
        f"{c} ({n})" for c, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))[:3]
    )
    clicked, bought, dropped = [], [], []
    for slate, r in history:
        for pos, item in enumerate(slate):
            if item == EMPTY:
                continue
            if r.clicked[pos]:
                clicked.append(item)
            if r.purchased[pos]:
                bought.append(item)
            if r.dismissed[pos]:
                dropped.append(item)
    text = phrases["summary"].format(
        last=len(history), shown=len(shown), top=top, clicked=_titles(catalog, clicked, phrases)
    )
    if bought:
        text += phrases["summary_bought"].format(
            verb=verb, bought=_titles(catalog, bought, phrases)
        )
    if dropped:
        text += phrases["summary_dismissed"].format(dismissed=_titles(catalog, dropped, phrases))
    return text


def render_memory(
    session: Session, recent_turns: int | None, verb: str, template: PromptTemplate | None = None
) -> str:
    """What the persona remembers (:func:`memory_lines` joined)."""
    return "\n".join(memory_lines(session, recent_turns, verb, template))


def memory_lines(
    session: Session, recent_turns: int | None, verb: str, template: PromptTemplate | None = None
) -> list[str]:
    """What the persona remembers, a line per slate: every slate verbatim
    (``recent_turns=None``), or older ones summarised in one line and the last
    ``recent_turns`` verbatim.

    Verbatim lines only grow, one per turn, so a visit's past turns are a prefix the API
    caches (a summary that slides every turn is not). Summaries are computed, not
    generated, so memory costs no extra LLM call and replays exactly. Titles and replies
    are inserted as escaped JSON strings (they are data too).
    """
    phrases = (template or load_template()).phrases
    lines: list[str] = []
    opening = session.replies[0] if session.replies else ""
    if opening:
        lines.append(phrases["arrived"].format(opening=_text(opening)))
    history = session.history
    if not history:
        lines.append(phrases["first_slate"])
        return ["\n".join(lines)]
    lines.append(phrases["history"])
    head = ["\n".join(lines)]
    old = 0 if recent_turns is None else max(len(history) - recent_turns, 0)
    if old > 0:
        head[0] += "\n" + _summary_line(session.catalog, history[:old], verb, phrases)
    return head + [
        _past_turn(session, number, verb, template or load_template())
        for number in range(old + 1, len(history) + 1)
    ]


_CARDS: PerObject[BoundPersona, dict[str, str]] = PerObject(lambda _: {})
"""Persona cards already rendered, per persona bound to a catalog (the same every turn)."""


def _card(session: Session, template: PromptTemplate) -> str:
    memo = _CARDS(session.bound)
    card = memo.get(template.tag)
    if card is None:
        card = memo[template.tag] = persona_card(session.persona, template, session.catalog)
    return card


_TURN_LINES: PerObject[Session, dict[tuple[str, int], str]] = PerObject(lambda _: {})
"""Memory lines already rendered, per session: a past turn never changes, and every later
turn of the visit shows it again."""


def _past_turn(session: Session, number: int, verb: str, template: PromptTemplate) -> str:
    memo = _TURN_LINES(session)
    key = (template.tag, number)
    line = memo.get(key)
    if line is None:
        slate, reaction = session.history[number - 1]
        line = memo[key] = _turn_line(
            session.catalog, number, slate, reaction, verb, template.phrases
        )
    return line


def render_state(
    session: Session, slate: Sequence[int], template: PromptTemplate | None = None
) -> str:
    """How the visit feels now, in words: mood (the session's satisfaction), energy (its
    fatigue), categories seen too often (its boredom) and items of ``slate`` shown before.

    The session's numbers are never shown: the model reports how each slate felt and the
    session integrates it (see :mod:`simrec.brains.llm`), so it cannot anchor on itself.
    """
    state = (template or load_template()).state
    phrases = (template or load_template()).phrases
    mood = state["mood"][_band4(session.satisfaction, (0.3, 0.5, 0.7))]
    energy = state["energy"][_band4(session.fatigue, (0.3, 0.6, 0.9))]
    text = state["line"].format(mood=mood, energy=energy)
    names = session.catalog.category_names
    tired = [names[c] for c, e in enumerate(session.category_exposure) if e >= BORED_AT]
    if tired:
        text += state["bored"].format(categories=", ".join(tired))
    seen = [i for i, e in zip(slate, session.exposures(list(slate)), strict=True) if e > 0]
    if seen:
        text += state["repeats"].format(titles=_titles(session.catalog, seen, phrases))
    return text


def _band4(value: float, cuts: tuple[float, float, float]) -> int:
    return sum(value >= c for c in cuts)


_WORD = re.compile(r"[a-z0-9']+")


@lru_cache(maxsize=4096)
def said(request: str, reply: str) -> bool:
    """Whether ``reply`` says ``request`` (at least half of its content words; models
    paraphrase, so an exact match would miss most).

    Remembered: every later turn of a visit asks again about every reply so far."""
    words = {w for w in _WORD.findall(request.lower()) if len(w) > 3}
    if not words:
        return request.strip().lower() in reply.lower()
    return len(words & set(_WORD.findall(reply.lower()))) * 2 >= len(words)


def build_request(
    template: PromptTemplate,
    session: Session,
    slate: Sequence[int],
    message: str | None,
    *,
    model: str,
    max_tokens: int,
    recent_turns: int | None,
) -> LLMRequest:
    """The request for ``session``'s persona reacting to ``slate``.

    Its ``sample`` is the step's place in the run, ``("session", id, "turn", n)``: the
    same step of the same session always maps to the same recorded answer, whatever the
    process layout (see :mod:`simrec.llm.request`).
    """
    persona = session.persona
    catalog = session.catalog
    phrases = template.phrases
    verb = purchase_verb(catalog)
    slate_turn = session.turn + 1
    request = ""
    if session.active_intent is not None:
        intent = persona.intents[session.active_intent]
        if intent.says:
            # Quote the request as the user's own words only if a reply really said it.
            replies = session.replies
            told = [t for t in range(intent.at_turn, len(replies)) if said(intent.says, replies[t])]
            key = (
                "request_new"
                if told and told[-1] == len(replies) - 1
                else ("request_standing" if told else "request_unsaid")
            )
            request = phrases[key].format(says=_text(intent.says))
    if session.tastes_from >= 0 and session.taste_words:
        request += phrases["drift"].format(words=", ".join(session.taste_words))
    voiced = [v for v in session.bound.voiced_at(slate_turn) if v]
    voice = phrases["voice"].format(says=" ".join(_text(v) for v in voiced)) if voiced else ""
    msg = phrases["message"].format(data=data_json({"text": message})) if message else ""
    memory = memory_lines(session, recent_turns, verb, template)
    user = template.user.format(
        state=render_state(session, slate, template),
        slate_turn=slate_turn,
        request=request,
        voice=voice,
        message=msg,
        slate=render_slate(catalog, slate),
        name=persona.name,
    )
    ids = ", ".join(i for i in slate_ids(catalog, slate) if i is not None)
    return LLMRequest(
        model=model,
        system=(
            SystemBlock(
                template.system.format(domain=catalog.domain or "shopping", verb=verb), True
            ),
            SystemBlock(template.persona.format(card=_card(session, template)), True),
        ),
        messages=({"role": "user", "content": user_content(memory, user, bool(session.history))},),
        output=output_schema(template, verb),
        max_tokens=max_tokens,
        sample=("session", session.session_id, "turn", slate_turn),
        role="user",
        prompt=template.tag,
        label=where(session),
        repair=template.repair.replace("{ids}", ids),
    )


def user_content(memory: Sequence[str], current: str, past: bool) -> tuple[TextBlock, ...]:
    """A user message whose ``memory`` lines only grow, one block each, then ``current``.

    With ``past`` (there are past turns) the last memory block ends a cached prefix, so
    the next call reads every turn already seen from the prompt cache.
    """
    last = len(memory) - 1
    return (*(TextBlock(m, cache=past and k == last) for k, m in enumerate(memory)),
            TextBlock(current))  # fmt: skip


def where(session: Session) -> str:
    """Names a step in errors and logs: persona, session and turn (slate number)."""
    return (
        f"persona {session.persona.persona_id!r} (session {session.session_id}), "
        f"turn {session.turn + 1}"
    )
