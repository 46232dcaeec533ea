"""Templated replies of the offline user model, and a fixed-size encoding of any reply.

The utility brain speaks through templates (``templates/replies.yaml``) chosen by what
drove its reaction: a purchase, a click, boredom, price, a disliked category, a request
the recommender ignored. Replies therefore carry real signal a conversational policy
can use, exactly like an LLM persona's free text would.

:func:`encode_reply` turns any text (templated or LLM-written) into a fixed-length
signed hashed bag of words, so the observation stays numeric and SB3-ready.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import yaml

REPLY_DIM = 32
"""Length of the numeric reply encoding in observations."""


@dataclass(frozen=True)
class ReplyTemplates:
    """The named template lists and the purchase verb of each domain."""

    version: int
    verbs: dict[str, str]
    lines: dict[str, tuple[str, ...]]

    def pick(self, kind: str, u: float, **values: str) -> str:
        """Template ``kind`` chosen by the uniform draw ``u``, filled with ``values``."""
        options = self.lines[kind]
        return options[min(int(u * len(options)), len(options) - 1)].format(**values)

    def verb(self, domain: str | None) -> str:
        """The purchase verb of ``domain`` (``book`` for golf, ``order`` for retail)."""
        return self.verbs.get(domain or "default", self.verbs["default"])


@lru_cache(maxsize=1)
def default_templates() -> ReplyTemplates:
    """The templates shipped with simrec."""
    text = resources.files("simrec").joinpath("templates/replies.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    lines = {k: tuple(v) for k, v in data.items() if k not in ("version", "verbs")}
    return ReplyTemplates(version=int(data["version"]), verbs=dict(data["verbs"]), lines=lines)


_WORD = re.compile(r"[a-z0-9$]+")


@lru_cache(maxsize=1 << 16)
def _word_hash(word: str) -> int:
    return zlib.crc32(word.encode())


@lru_cache(maxsize=1 << 16)
def _word_slot(word: str, dim: int) -> tuple[int, float]:
    """Where ``word`` lands in a ``dim``-long encoding and with which sign."""
    h = _word_hash(word)
    return h % dim, 1.0 if (h >> 16) & 1 else -1.0


def _count_list(text: str, dim: int) -> list[float]:
    counts = [0.0] * dim
    for word in _WORD.findall(text.lower()):
        slot, sign = _word_slot(word, dim)
        counts[slot] += sign
    return counts


def reply_counts(text: str, dim: int = REPLY_DIM) -> np.ndarray:
    """The signed word counts behind :func:`encode_reply` (whole numbers, not normalised).

    Counts of texts joined by spaces add up, so the vector env encodes a reply from the
    counts of its parts. Word hashes are memoised: replies are new more often than words.
    """
    return np.array(_count_list(text, dim))


@lru_cache(maxsize=65536)
def _encode(text: str, dim: int) -> np.ndarray:
    # Plain floats: the counts are whole numbers, so the sum of squares is exact and
    # math.sqrt and the divisions round exactly as numpy's would (one numpy call per text).
    counts = _count_list(text, dim)
    norm = math.sqrt(sum(c * c for c in counts))
    vec = np.array([c / norm for c in counts] if norm > 0 else counts, dtype=np.float32)
    vec.setflags(write=False)
    return vec


def encode_reply(text: str, dim: int = REPLY_DIM) -> np.ndarray:
    """Unit-norm signed hashed bag of words of ``text`` (zeros for empty text).

    Uses CRC32, not Python's salted ``hash``, so encodings are identical across runs.
    """
    return _encode(text, dim)
