"""A steer-aware policy: it reads what the user says and filters or boosts items.

It never looks at the hidden constraint (``info["ground_truth"]``); it only parses
``info["reply"]`` against the catalog's own vocabulary, the way a keyword-based
conversational recommender would:

* a categorical value named in a reply (``dogs`` -> ``tags=dog-friendly``,
  ``Ireland`` -> ``region=ireland``) becomes a filter when the sentence asks for
  something (``only``, ``please``, ``under`` …), a boost when it just states a taste,
  and an exclusion when it is negated (``not``, ``no`` …);
* a number next to a numeric attribute (``nine holes``) or a price (``under $45``,
  ``45 bucks``) becomes a bound; "cheaper", "budget" without a number boost cheap items.

Requests persist for the rest of the session; a new request on the same field
replaces the old one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from simrec.catalog import Catalog
from simrec.memo import PerObject
from simrec.policies.base import ScoringPolicy, batched, learn_together, scores_of
from simrec.reaction import Reaction
from simrec.validation import checked_arguments

_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"[.!?;:]+")
_NUMBERS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
NUMBER_WORDS = {w: i for i, w in enumerate(_NUMBERS.split())}
REQUEST_CUES = (
    "only", "please", "under", "need", "want", "somewhere", "something", "show me",
    "nothing", "can we", "can i", "keep it", "just", "instead",
)  # fmt: skip
_CUE = re.compile("|".join(re.escape(cue) for cue in REQUEST_CUES))
NEGATIONS = {"not", "no", "nothing", "without", "never", "don't", "dont", "hate", "isn't"}
UPPER = {"under", "below", "less", "max", "maximum", "most", "cheaper", "within", "up"}
LOWER = {"over", "above", "more", "least", "minimum", "min"}
CHEAP = {"cheap", "cheaper", "budget", "pricey", "expensive", "affordable", "broke", "price"}
PRICE = {"price", "bucks", "dollars", "usd", "budget", "cost", "costs", "spend", "pay"}
STOP = {"the", "and", "for", "with", "any", "anything", "all", "more", "less", "good", "very"}


def stem(word: str) -> str:
    """``word`` without a plural ``s`` (``dogs`` -> ``dog``; ``grass`` stays)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


@dataclass(frozen=True)
class Request:
    """One parsed request: a boolean item mask and how to use it."""

    key: str
    mask: np.ndarray
    hard: bool
    description: str


@dataclass(frozen=True)
class _Vocabulary:
    """The words of a catalog a :class:`ReplyParser` understands, read once per catalog
    (every visit of an LLM policy's retriever builds a parser; a catalog does not change
    once loaded). Shared between parsers: never mutated."""

    word_token: dict[str, str]
    numeric_words: dict[str, str]
    token_mask: dict[str, np.ndarray]

    @classmethod
    def of(cls, catalog: Catalog) -> _Vocabulary:
        owners: dict[str, set[str]] = {}
        for token in catalog.tokens:
            field, value = token.split("=", 1)
            for word in _WORD.findall(value.lower()):
                if len(word) >= 3 and word not in STOP:
                    owners.setdefault(stem(word), set()).add(token)
        numeric_words: dict[str, str] = {}
        for name in catalog.numeric:
            for word in _WORD.findall(name.lower().replace("_", " ")):
                if len(word) >= 3:
                    numeric_words.setdefault(stem(word), name)
        tm = catalog.token_matrix
        masks = {t: tm[:, k] > 0 for t, k in catalog.token_index.items()}
        for mask in masks.values():
            mask.flags.writeable = False
        # Words naming exactly one value ("dog" -> tags=dog-friendly) are unambiguous;
        # shared ones ("friendly") say nothing on their own.
        word_token = {w: next(iter(t)) for w, t in owners.items() if len(t) == 1}
        return cls(word_token, numeric_words, masks)


_vocabulary: PerObject[Catalog, _Vocabulary] = PerObject(_Vocabulary.of)


class ReplyParser:
    """Turns reply text into :class:`Request` objects using a catalog's vocabulary.

    Args:
        catalog: the items; its categorical values and numeric attribute names are the
            words the parser understands.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        vocabulary = _vocabulary(catalog)
        self.word_token = vocabulary.word_token
        self.numeric_words = vocabulary.numeric_words
        self._token_mask = vocabulary.token_mask

    def parse(self, text: str, ignore: tuple[str, ...] = ()) -> list[Request]:
        """Requests in ``text``; substrings in ``ignore`` (shown item titles) are skipped."""
        lowered = text.lower()
        for phrase in ignore:
            lowered = lowered.replace(phrase.lower(), " ")
        requests: list[Request] = []
        for sentence in _SENTENCE.split(lowered):
            words = _WORD.findall(sentence.replace("'", ""))
            if not words:
                continue
            hard = _CUE.search(sentence) is not None  # any cue, anywhere in the sentence
            requests += self._categorical(words, hard)
            requests += self._numeric(words, sentence)
        return requests

    def _categorical(self, words: list[str], hard: bool) -> list[Request]:
        out = []
        for i, word in enumerate(words):
            token = self.word_token.get(stem(word))
            if token is None:
                continue
            negated = not NEGATIONS.isdisjoint(words[max(0, i - 4) : i])
            mask = ~self._token_mask[token] if negated else self._token_mask[token]
            field = token.split("=", 1)[0]
            key = f"not:{token}" if negated else (field if hard else f"like:{token}")
            text = f"not {token}" if negated else token
            out.append(Request(key, mask, hard or negated, text))
        return out

    def _numeric(self, words: list[str], sentence: str) -> list[Request]:
        out = []
        for i, word in enumerate(words):
            number = _number(word)
            if number is None:
                continue
            before, after = words[max(0, i - 3) : i], words[i + 1 : i + 3]
            attribute = next(
                (self.numeric_words[stem(w)] for w in after if stem(w) in self.numeric_words),
                None,
            )
            is_price = attribute is None and (
                f"${word}" in sentence or not PRICE.isdisjoint(after) or "under" in before
            )
            if attribute is None and not is_price:
                continue
            column = self.catalog.prices if is_price else self.catalog.numeric[attribute]
            if is_price or not UPPER.isdisjoint(before):
                mask, op = column <= number, "<="
            elif not LOWER.isdisjoint(before):
                mask, op = column >= number, ">="
            else:
                mask, op = np.isclose(column, number), "=="
            field = "price" if is_price else attribute
            out.append(Request(field, mask, True, f"{field} {op} {number:g}"))
        if not out and not CHEAP.isdisjoint(words):
            cheap = self.catalog.prices <= np.median(self.catalog.prices)
            out.append(Request("like:cheap", cheap, False, "cheaper"))
        return out


def _number(word: str) -> float | None:
    if word in NUMBER_WORDS:
        return float(NUMBER_WORDS[word])
    return float(word) if word.isdigit() else None


class SteerAwarePolicy(ScoringPolicy):
    """A base scoring policy plus what the user asked for in words.

    Hard requests restrict the slate to items satisfying all of them (as long as at
    least ``k`` items do; otherwise they become strong boosts); soft ones (stated
    tastes) add ``boost`` to matching items.

    Args:
        base: the built-in scoring policy underneath (``linucb``, ``mmr``, ``greedy`` …).
        boost: score added to items matching a stated taste.
        **base_kwargs: passed to the base policy.
    """

    name = "steer_aware"

    @checked_arguments
    def __init__(
        self, env: gym.Env, seed: int | None = None, base: str = "linucb", boost: float = 0.5,
        **base_kwargs: Any,
    ) -> None:  # fmt: skip
        from simrec.policies.registry import SCORING_POLICIES

        if base not in SCORING_POLICIES or base == self.name:
            raise ValueError(
                f"steer_aware: base must be one of {', '.join(sorted(SCORING_POLICIES))}, got {base!r}"
            )
        self.base = SCORING_POLICIES[base](env, seed=seed, **base_kwargs)
        self.parser = ReplyParser(env.unwrapped.catalog)
        self.boost = float(boost)
        super().__init__(env, seed)

    def begin_session(self) -> None:
        super().begin_session()
        self.requests: dict[str, Request] = {}
        self.base.begin_session()

    def reset(self, seed: int | None = None) -> None:
        self.base.reset(seed)
        super().reset(seed)

    def listen(self, info: dict[str, Any]) -> None:
        """Parse the latest reply (skipping titles of the slate it talks about)."""
        slate = info.get("slate") or []
        titles = tuple(str(self.catalog.titles[i]) for i in slate if i >= 0)
        for request in self.parser.parse(str(info.get("reply", "")), ignore=titles):
            self.requests[request.key] = request

    @batched(lambda *columns: _steered_scores(*columns))
    def scores(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """The base policy's scores, filtered and boosted by the user's requests."""
        return _steered_scores([self], [observation], [info])[0]

    def steered(self, base_scores: np.ndarray) -> np.ndarray:
        """``base_scores`` filtered and boosted by the requests heard so far."""
        return steered_many([self], np.asarray(base_scores, dtype=np.float64)[None])[0]

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """The base policy's choice among the items the user asked for."""
        if info.get("turn", 0) == 0 and self.turn != 0:
            self.begin_session()
        return self.base.select(self.scores(observation, info))

    @batched(lambda *columns: _steered_learn(*columns))
    def learn(self, shown: list[tuple[int, int]], reaction: Reaction, info: dict[str, Any]) -> None:
        _steered_learn([self], [shown], [reaction], [info])


def steered_many(policies: Sequence[SteerAwarePolicy], base_scores: np.ndarray) -> np.ndarray:
    """Each row of ``base_scores`` filtered and boosted by its policy's requests.

    Hard requests keep only the items satisfying all of them (as long as at least ``k``
    do; otherwise they add twice the row's score span); soft ones add ``boost`` times
    the span to the items they name.
    """
    scores = np.array(base_scores, dtype=np.float64)
    span = np.ptp(scores, axis=1)
    span[span == 0] = 1.0
    allowed = np.ones(scores.shape, dtype=bool)
    for row, policy in enumerate(policies):
        for request in policy.requests.values():
            if request.hard:
                allowed[row] &= request.mask
            else:
                scores[row] = scores[row] + policy.boost * span[row] * request.mask
    enough = allowed.sum(axis=1) >= np.array([p.k for p in policies])
    if not enough.all():
        short = ~enough
        scores[short] = scores[short] + 2.0 * span[short, None] * allowed[short]
    return np.where(enough[:, None] & ~allowed, -np.inf, scores)


def _steered_scores(
    policies: Sequence[SteerAwarePolicy],
    observations: Sequence[dict[str, np.ndarray]],
    infos: Sequence[dict[str, Any]],
) -> np.ndarray:
    for policy, info in zip(policies, infos, strict=True):
        if info.get("turn", 0) == 0:
            policy.listen(info)  # the opening message
    base_scores = scores_of([p.base for p in policies], observations, infos)
    return steered_many(policies, base_scores)


def _steered_learn(
    policies: Sequence[SteerAwarePolicy],
    shown: Sequence[list[tuple[int, int]]],
    reactions: Sequence[Reaction],
    infos: Sequence[dict[str, Any]],
) -> None:
    for policy in policies:
        policy.base.turn = policy.turn
    learn_together([p.base for p in policies], shown, reactions, infos)
    for policy, info in zip(policies, infos, strict=True):
        policy.listen(info)
