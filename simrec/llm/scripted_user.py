"""A scripted "model" that plays personas through the persona-reaction prompt, for the
loopback fake APIs.

Tests, the LLM-vs-offline comparison's examples and the recording shipped with them need
LLM-played users without a network or a key; the fake servers' default answer (click the
first item) would make every figure meaningless. This script reads the request the way a
model would, only simply, and answers in the form the request asks for (a tool call, JSON
output, JSON in text, through each fake server's own rendering)::

    with FakeMessagesAPI(default=scripted_messages()) as api: ...
    with FakeChatCompletionsAPI("vllm", default=scripted_chat()) as api: ...

What it reads, all from the prompt's text: the persona card's likes (``(a lot)`` counts
double), dislikes and temperament phrases (price, patience, commitment, boredom bands);
the visit's state line (mood and energy bands, categories seen too often, items shown
before); the request the persona makes or stands by; and the slate's JSON lines. Each
item scores by the liked and disliked values it has, its price against the slate's, the
request's words, repetition and its slot (attention falls down the slate). The user clicks
by a softmax over the items and a no-click option that grows with tiredness and a sour
mood, sometimes clicks a second item, buys a clicked item it likes at a fair price,
dismisses disliked and stale items, and leaves when tired, fed up or bored.

It is deterministic: its random draws come from a generator seeded by the request's text,
so the same prompt always gets the same answer. It is not a language model: figures made
with it say whether the machinery works and how a differently-built user compares, never
how Claude behaves. A recording made with it says so in its documentation.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simrec.llm.fake_server import request_text
from simrec.llm.prompts import TRAIT_ORDER, load_template

Responder = Callable[[Mapping[str, Any], int], dict[str, Any]]

_SLATE = re.compile(r"<slate>\n(.*?)\n</slate>", re.S)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_WORD = re.compile(r"[a-z0-9][a-z0-9-]*")
_STOP = {"only", "please", "from", "with", "this", "that", "now", "time", "want", "some", "more"}


@dataclass
class Reading:
    """What the script understood of one request.

    Attributes:
        likes: liked values (``(a lot)`` = 2.0, else 1.0).
        dislikes: disliked values.
        traits: trait name -> band 0 (low), 1 or 2 (high), from the card's phrases.
        mood, energy: bands 0 (fed up / exhausted) to 3, from the state line.
        stale_categories: categories the state line says were seen too often.
        repeats: titles of this slate shown before in the visit.
        request: the words of the request the persona makes or stands by.
        items: the slate's items (JSON objects).
        turn: the slate's number in the visit.
    """

    likes: dict[str, float] = field(default_factory=dict)
    dislikes: set[str] = field(default_factory=set)
    traits: dict[str, int] = field(default_factory=dict)
    mood: int = 2
    energy: int = 3
    stale_categories: set[str] = field(default_factory=set)
    repeats: set[str] = field(default_factory=set)
    request: set[str] = field(default_factory=set)
    voice: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)
    turn: int = 1


def read_request(text: str) -> Reading:
    """Parse a persona-reaction prompt (system and messages joined) into a :class:`Reading`."""
    template = load_template()
    card, state = template.card, template.state
    r = Reading()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("You like: "):
            for part in line[len("You like: ") :].rstrip(".").split(", "):
                value = part.replace(" (a lot)", "").split(" (")[0]
                r.likes[value] = 2.0 if part.endswith("(a lot)") else 1.0
        elif line.startswith("You dislike: "):
            r.dislikes = {p.split(" (")[0] for p in line[13:].rstrip(".").split(", ")}
        elif line.startswith("Temperament: "):
            phrases = line[len("Temperament: ") :].rstrip(".").split("; ")
            for trait in TRAIT_ORDER:
                for band, phrase in enumerate(card["traits"][trait]):
                    if phrase in phrases:
                        r.traits[trait] = band
        elif line.startswith("How you feel now: "):
            r.mood = next((b for b, m in enumerate(state["mood"]) if m in line), r.mood)
            r.energy = 3 - next((b for b, e in enumerate(state["energy"]) if e in line), 0)
            if "You have seen a lot of " in line:
                seen = line.split("You have seen a lot of ", 1)[1].split(" lately", 1)[0]
                r.stale_categories = set(seen.split(", "))
            if "Shown to you before in this visit: " in line:
                shown = line.split("Shown to you before in this visit: ", 1)[1]
                r.repeats = {json.loads(f'"{t}"') for t in _QUOTED.findall(shown)}
        elif line.startswith("This is slate "):
            r.turn = int(re.findall(r"\d+", line)[0])
        elif line.startswith(("You just asked the service: ", "You asked the service for this")):
            r.request = _content_words(line.split(": ", 1)[1])
        elif line.startswith("You want the service to know this"):
            said = line.split("say it in this reply: ", 1)[1]
            r.request = _content_words(said)
            r.voice = json.loads(said) if said.startswith('"') else said
    match = _SLATE.search(text)
    if match:
        r.items = [json.loads(x) for x in match.group(1).splitlines() if x.startswith("{")]
    return r


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 3 and w not in _STOP}


def _item_words(item: Mapping[str, Any]) -> set[str]:
    values = [item.get("category", ""), *item.get("tags", [])]
    values += [str(v) for v in (item.get("attributes") or {}).values()]
    return {str(v) for v in values}


def react(reading: Reading, seed: bytes) -> dict[str, Any]:
    """The reaction (``react_to_slate`` fields) of the persona ``reading`` describes."""
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(seed).digest()[:8], "little"))
    items = reading.items
    if not items:
        return _answer([], [], [], "Nothing to look at.", True, 0.2)
    t = reading.traits
    prices = np.array([float(i.get("price", 0.0)) for i in items])
    median = float(np.median(prices)) or 1.0
    score = np.zeros(len(items))
    for j, item in enumerate(items):
        words = _item_words(item)
        score[j] += sum(w for v, w in reading.likes.items() if v in words)
        score[j] -= 2.5 * len(reading.dislikes & words)
        score[j] -= 0.6 * t.get("price_sensitivity", 1) * math.log((prices[j] + 1) / (median + 1))
        if reading.request:
            text = " ".join(sorted(words)).lower() + " " + str(item.get("description", "")).lower()
            score[j] += 1.5 if any(w in text for w in reading.request) else -1.0
        if item.get("title") in reading.repeats:
            score[j] -= 0.6 + 0.5 * t.get("boredom_rate", 1)
        if item.get("category") in reading.stale_categories:
            score[j] -= 0.8
        score[j] -= 0.25 * j  # attention falls down the slate
    outside = 2.0 + 0.4 * (2 - reading.mood) + 0.3 * (3 - reading.energy)
    weights = np.exp(np.append(score, outside) - max(score.max(), outside))
    first = int(rng.choice(len(weights), p=weights / weights.sum()))
    clicked = [] if first == len(items) else [first]
    if clicked:
        second = int(np.argsort(-score)[1]) if len(items) > 1 else first
        if second != first and score[second] > 1.5 and rng.random() < 0.3:
            clicked.append(second)
    commit = 0.05 + 0.07 * t.get("purchase_propensity", 1)
    bought = [j for j in clicked if score[j] > 1.0 and rng.random() < commit + 0.05 * score[j]]
    dismissed = [
        j
        for j in range(len(items))
        if j not in clicked
        and (
            (reading.dislikes & _item_words(items[j]) and rng.random() < 0.7)
            or (items[j].get("title") in reading.repeats and rng.random() < 0.25)
        )
    ]
    felt = float(1.0 / (1.0 + math.exp(-(score.max() - 0.5))))
    patience = t.get("patience", 1)
    hazard = 0.04 + 0.12 * (3 - reading.energy) + 0.15 * (reading.mood == 0) - 0.03 * patience
    hazard += 0.25 * (not clicked and felt < 0.4)
    leave = bool(rng.random() < min(max(hazard, 0.0), 0.95))
    ids = [str(i["id"]) for i in items]
    titles = [str(i.get("title")) for i in items]
    reply = _reply(reading, titles, clicked, bought, leave)
    return _answer(
        [ids[j] for j in clicked],
        [ids[j] for j in bought],
        [ids[j] for j in dismissed],
        reply,
        leave,
        round(felt, 2),
    )


def _reply(
    reading: Reading, titles: Sequence[str], clicked: list[int], bought: list[int], leave: bool
) -> str:
    if bought:
        text = f"{titles[bought[0]]} is the one, I'll take it."
    elif clicked:
        text = f"{titles[clicked[0]]} looks interesting."
    elif reading.repeats:
        text = "I have seen these already."
    else:
        text = "Nothing here for me."
    if reading.voice:
        text += " " + reading.voice
    if leave:
        text += " That's all for today."
    return text


def _answer(
    clicked: list[str],
    bought: list[str],
    dismissed: list[str],
    reply: str,
    leave: bool,
    felt: float,
) -> dict[str, Any]:
    return {
        "clicked": clicked,
        "purchased": bought,
        "dismissed": dismissed,
        "reply": reply,
        "leave": leave,
        "satisfaction": felt,
    }


def _responder(render: Callable[[Mapping[str, Any]], Responder]) -> Responder:
    from simrec.llm.fake_openai_server import is_probe

    def respond(body: Mapping[str, Any], n: int) -> dict[str, Any]:
        if is_probe(body):
            return render({"ok": True})(body, n)
        text = request_text(body)
        return render(react(read_request(text), text.encode("utf-8")))(body, n)

    return respond


def scripted_messages() -> Responder:
    """A responder for :class:`~simrec.llm.fake_server.FakeMessagesAPI`."""
    from simrec.llm.fake_server import answer

    return _responder(answer)


def scripted_chat() -> Responder:
    """A responder for :class:`~simrec.llm.fake_openai_server.FakeChatCompletionsAPI`."""
    from simrec.llm.fake_openai_server import answer

    return _responder(answer)


__all__ = ["Reading", "react", "read_request", "scripted_chat", "scripted_messages"]
