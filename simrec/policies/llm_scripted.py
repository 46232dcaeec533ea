"""A scripted model that answers the LLM policies' prompts, for the loopback fake APIs.

Tests, benchmarks and the recording of ``scenarios/llm_recommenders.yaml`` need answers
without a network or a key; answers that click the first id would make every figure
meaningless. This "model" reads the request the way an LLM would, only simply:

* it parses the ``<visit>`` and ``<candidates>`` JSON lines of the prompt;
* it scores each candidate from the user's own words (a category, tag or attribute value
  the user named: a request with "only", "please", "want" ... weighs most, a stated taste
  less, a negated one counts against), from the visit's feedback (categories clicked and
  bought rise, dismissed items and their categories fall, items already shown fall with
  every showing, bought ones a lot), from "too pricey" / "keep the price down" (cheaper
  first) and from "same old stuff" (unseen categories first); the retriever's order
  breaks ties;
* the conversational prompt gets one question on a stranger's first slate when it may
  ask ("Are you after coastal or mountain?" with a slate alternating the two most common
  categories among the candidates), otherwise a recommendation whose message says what
  it followed.

It is deterministic: the same prompt always gets the same answer. The answer comes in
the form the request asks for (a tool call, JSON output, fenced JSON in text), through
each fake server's own rendering. Requests that are not policy prompts (the LLM users')
go to a fallback responder (the servers' default)::

    with FakeMessagesAPI(default=scripted_messages()) as api: ...
    with FakeChatCompletionsAPI("vllm", default=scripted_chat()) as api: ...

Figures produced with it come from this script, not from a language model; they say
whether the machinery works and whether a policy that listens beats one that does not.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from functools import lru_cache
from itertools import pairwise
from typing import Any

from simrec.llm.fake_openai_server import is_probe
from simrec.llm.fake_server import request_text
from simrec.policies.steer_aware import NEGATIONS, NUMBER_WORDS, REQUEST_CUES, stem

Responder = Callable[[Mapping[str, Any], int], dict[str, Any]]

_WORD = re.compile(r"[a-z0-9]+")
_BLOCK = re.compile(r"<(visit|candidates)>\n(.*?)\n</\1>", re.S)
CHEAPER = ("pricey", "budget", "price down", "cheaper", "expensive", "too much", "afford")
BORED = ("same", "seen", "different", "again", "before")
STOP = {"the", "and", "for", "with", "any", "anything", "course", "courses", "book", "books"}


def _lines(block: str) -> list[dict[str, Any]]:
    out = []
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    """The stemmed words of ``text`` (remembered: item values recur in every prompt)."""
    return tuple(stem(w) for w in _WORD.findall(text.lower().replace("'", "")))


@lru_cache(maxsize=8192)
def _phrase(value: str) -> tuple[str, ...]:
    return tuple(w for w in _words(value) if w not in STOP)


def _phrases(item: Mapping[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    """``(label, words)`` of an item's category, tags and categorical attribute values."""
    values = [str(item.get("category", ""))] + [str(t) for t in item.get("tags") or []]
    values += [str(v) for v in (item.get("attributes") or {}).values() if isinstance(v, str)]
    return [(value, words) for value in values if (words := _phrase(value))]


class Utterances:
    """What the user said, split into sentences, each with whether it asks for something.

    A prompt asks about the same phrases and attributes for many candidates, so each
    phrase's weight and each attribute's stated number are worked out once.
    """

    def __init__(self, said: list[str]) -> None:
        self.sentences: list[tuple[tuple[str, ...], bool, str]] = []
        for text in said:
            for sentence in re.split(r"[.!?;]+", text.lower()):
                words = _words(sentence)
                if words:
                    hard = any(cue in sentence for cue in REQUEST_CUES)
                    self.sentences.append((words, hard, sentence))
        self.all = " ".join(s for _, _, s in self.sentences)
        self.vocabulary = {w for words, _, _ in self.sentences for w in words}
        self._weights: dict[tuple[str, ...], float] = {}
        # The number said right before each word ("nine holes"), the first time it is.
        self._numbers: dict[str, int] = {}
        for words, _, _ in self.sentences:
            for before, w in pairwise(words):
                number = NUMBER_WORDS.get(before)
                if number is None and before.isdigit():
                    number = int(before)
                if number is not None:
                    self._numbers.setdefault(w, number)

    def weight(self, phrase: tuple[str, ...]) -> float:
        """+3 per request naming ``phrase``, +2 per stated taste, -3 per negation."""
        known = self._weights.get(phrase)
        if known is not None:
            return known
        total = 0.0
        if self.vocabulary.issuperset(phrase):
            n = len(phrase)
            for words, hard, _ in self.sentences:
                for i in range(len(words) - n + 1):
                    if words[i : i + n] == phrase:
                        negated = any(w in NEGATIONS for w in words[max(0, i - 4) : i])
                        total += -3.0 if negated else (3.0 if hard else 2.0)
                        break
        self._weights[phrase] = total
        return total

    def numeric(self, name: str, value: float) -> float:
        """+3 when the user named ``value`` right before the attribute ``name`` ("nine holes")."""
        number = self._numbers.get(stem(name.split("_")[0].lower()))
        if number is None:
            return 0.0
        return 3.0 if float(number) == float(value) else -1.0

    def says(self, cues: tuple[str, ...]) -> bool:
        """Whether any sentence contains one of ``cues``."""
        return any(cue in self.all for cue in cues)


def read_prompt(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``(visit lines, candidate lines)`` of a policy prompt (empty when absent)."""
    blocks: dict[str, list[dict[str, Any]]] = {}
    for name, body in _BLOCK.findall(text):
        blocks.setdefault(name, _lines(body))
    return blocks.get("visit", []), blocks.get("candidates", [])


def score_candidates(
    visit: list[dict[str, Any]], candidates: list[dict[str, Any]]
) -> tuple[list[float], list[str]]:
    """A score per candidate and the user's words it followed (see the module docstring)."""
    said = Utterances([str(line["user_said"]) for line in visit if line.get("user_said")])
    shown: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    bought: set[str] = set()
    dismissed: set[str] = set()
    for line in visit:
        entries = {e["id"]: e for e in line.get("shown", [])}
        shown.update(entries.keys())
        for key, weight in (("clicked", 1.0), ("bought", 1.5)):
            for item_id in line.get(key, []):
                categories[entries.get(item_id, {}).get("category", "")] += weight
        for item_id in line.get("dismissed", []):
            dismissed.add(item_id)
            categories[entries.get(item_id, {}).get("category", "")] -= 0.5
        bought.update(line.get("bought", []))
    seen_categories = {e.get("category") for line in visit for e in line.get("shown", [])}
    cheaper, bored = said.says(CHEAPER), said.says(BORED)
    prices = sorted(float(c.get("price", 0.0)) for c in candidates)
    phrases = [_phrases(item) for item in candidates]
    owners: dict[str, set[str]] = {}
    for label, phrase in (p for item in phrases for p in item):
        for word in phrase:
            owners.setdefault(word, set()).add(label)
    followed: list[str] = []
    scores = []
    for position, item in enumerate(candidates):
        score = -0.01 * position
        for label, phrase in phrases[position]:
            # "dogs" names "dog-friendly" when no other value has the word "dog".
            keys = [phrase] + [(w,) for w in phrase if len(phrase) > 1 and len(owners[w]) == 1]
            w = next((x for x in map(said.weight, keys) if x), 0.0)
            score += w
            if w > 0 and label not in followed:
                followed.append(label)
        for name, value in (item.get("attributes") or {}).items():
            if isinstance(value, (int, float)):
                score += said.numeric(name, float(value))
        score += 0.8 * categories[str(item.get("category", ""))]
        score -= 0.7 * shown[item["id"]] + (5.0 if item["id"] in bought else 0.0)
        score -= 3.0 if item["id"] in dismissed else 0.0
        if cheaper and prices:
            score -= 2.0 * prices.index(float(item.get("price", 0.0))) / len(prices)
        if bored and item.get("category") not in seen_categories:
            score += 1.0
        scores.append(score)
    return scores, followed


def rank(visit: list[dict[str, Any]], candidates: list[dict[str, Any]]) -> list[str]:
    """Every candidate id, best first."""
    scores, _ = score_candidates(visit, candidates)
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
    return [candidates[i]["id"] for i in order]


def rerank_answer(text: str) -> dict[str, Any]:
    """The scripted ``rank_candidates`` answer to a reranker prompt: the slate's worth of
    ids, best first (what the prompt asks for)."""
    visit, candidates = read_prompt(text)
    return {"ranking": rank(visit, candidates)[: _slate_size(text)]}


def conversational_answer(text: str) -> dict[str, Any]:
    """The scripted ``next_turn`` answer to a conversational prompt."""
    visit, candidates = read_prompt(text)
    may_ask = "You may ask" in text
    stranger = not any(line.get("user_said") for line in visit) and all(
        "shown" not in line for line in visit
    )
    k = _slate_size(text)
    if may_ask and stranger and candidates:
        counts = Counter(str(c.get("category")) for c in candidates)
        options = [c for c, _ in sorted(counts.items(), key=lambda x: (-x[1], x[0]))][:2]
        if len(options) == 2:
            groups = [[c["id"] for c in candidates if c.get("category") == o] for o in options]
            slate = [g[n] for n in range(k) for g in groups if n < len(g)]
            rest = [c["id"] for c in candidates if c["id"] not in slate]
            return {
                "kind": "ask",
                "message": f"To start: are you after {options[0]} or {options[1]}? "
                "Here are a few of each.",
                "ranking": (slate + rest)[:k],
            }
    scores, followed = score_candidates(visit, candidates)
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
    ranking = [candidates[i]["id"] for i in order[:k]]
    titles = [str(candidates[i].get("title", "")) for i in order[:2]]
    because = f" for {', '.join(followed[:2])}" if followed else ""
    return {
        "kind": "recommend",
        "message": f"My picks{because}: {' and '.join(titles)} lead the list.",
        "ranking": ranking,
    }


def _slate_size(text: str) -> int:
    """The slate size the prompt asks for ("Choose the 5 candidates", "5 candidate ids")."""
    match = re.search(r"\b(\d+) candidate(?:s\b| ids)", text)
    return int(match.group(1)) if match else 5


def policy_answer(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The scripted answer to a policy prompt, or ``None`` for any other request."""
    text = request_text(body)
    if "<candidates>" not in text:
        return None
    if "next_turn format" in text:
        return conversational_answer(text)
    return rerank_answer(text)


def scripted_messages(fallback: Responder | None = None) -> Responder:
    """A :class:`~simrec.llm.fake_server.FakeMessagesAPI` responder: policy prompts get the
    scripted answers, other requests ``fallback`` (default: the server's ``react_first``)."""
    from simrec.llm import fake_server

    other = fallback or fake_server.react_first

    def respond(body: Mapping[str, Any], n: int) -> dict[str, Any]:
        value = policy_answer(body)
        return other(body, n) if value is None else fake_server.answer(value)(body, n)

    return respond


def scripted_chat(fallback: Responder | None = None) -> Responder:
    """The same for :class:`~simrec.llm.fake_openai_server.FakeChatCompletionsAPI` (which
    also answers the backend's structured-output probes, ``{"ok": true}``)."""
    from simrec.llm import fake_openai_server

    other = fallback or fake_openai_server.react_first

    def respond(body: Mapping[str, Any], n: int) -> dict[str, Any]:
        value = {"ok": True} if is_probe(body) else policy_answer(body)
        return other(body, n) if value is None else fake_openai_server.answer(value)(body, n)

    return respond


__all__ = [
    "conversational_answer",
    "policy_answer",
    "rank",
    "read_prompt",
    "request_text",
    "rerank_answer",
    "score_candidates",
    "scripted_chat",
    "scripted_messages",
]
