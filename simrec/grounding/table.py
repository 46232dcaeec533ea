"""One typed table for every interaction log, and an account of every row left out.

Readers (one module per log format) turn their files into an :class:`InteractionLog`:
an :class:`Interactions` table (user, item, value, timestamp; one row per event) and an
:class:`Items` table (item id, title, genres, optional year, price and text), each row
remembering the file and line it came from. Rows that cannot be used are never dropped
silently: :class:`DropReport` counts them by reason and keeps the file, line and field
of the first few.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

EXAMPLES_PER_REASON = 5
"""How many dropped rows are kept as examples (file and line) per reason."""


@dataclass
class DropReport:
    """Rows left out of a log, counted by reason, with the first few located.

    Attributes:
        counts: reason -> rows dropped for it.
        examples: reason -> up to :data:`EXAMPLES_PER_REASON` ``file:line: detail`` strings.
        read: rows read per table (``interactions``, ``items``).
    """

    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    read: Counter = field(default_factory=Counter)

    def drop(self, reason: str, where: str, detail: str = "") -> None:
        """Count one row dropped for ``reason``; keep its location if it is among the first."""
        self.counts[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < EXAMPLES_PER_REASON:
            shown.append(f"{where}: {detail}" if detail else where)

    def drop_many(self, reason: str, wheres: list[str], details: list[str]) -> None:
        """Count ``len(wheres)`` rows dropped for ``reason`` (the first few are kept)."""
        if not wheres:
            return
        self.counts[reason] += len(wheres)
        shown = self.examples.setdefault(reason, [])
        for where, detail in zip(wheres, details, strict=True):
            if len(shown) >= EXAMPLES_PER_REASON:
                break
            shown.append(f"{where}: {detail}" if detail else where)

    @property
    def total(self) -> int:
        """Rows dropped for any reason."""
        return int(sum(self.counts.values()))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (written to the preset's ``grounding.json``)."""
        return {
            "rows_read": dict(self.read),
            "dropped": {
                reason: {"rows": int(n), "first": self.examples.get(reason, [])}
                for reason, n in sorted(self.counts.items())
            },
        }

    def lines(self) -> list[str]:
        """Human-readable lines: one per reason, then its first examples."""
        out = []
        for reason, n in sorted(self.counts.items()):
            out.append(f"{n:>8,} rows dropped: {reason}")
            out.extend(f"           e.g. {example}" for example in self.examples.get(reason, []))
        return out


@dataclass
class Interactions:
    """Events as columns: one row per (user, item, time) interaction.

    Attributes:
        users, items: string ids.
        values: the rating, or 1.0 for a click/interaction without a rating.
        timestamps: int64 seconds (or any increasing integer order).
        wheres: ``file:line`` of each row, for reports.
        rated: whether ``values`` are ratings (``False``: implicit clicks).
    """

    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    timestamps: np.ndarray
    wheres: np.ndarray
    rated: bool

    def __len__(self) -> int:
        return len(self.users)

    def take(self, keep: np.ndarray) -> Interactions:
        """The rows where ``keep`` is true (or the given indices)."""
        return Interactions(
            self.users[keep],
            self.items[keep],
            self.values[keep],
            self.timestamps[keep],
            self.wheres[keep],
            self.rated,
        )

    def frame(self) -> pd.DataFrame:
        """The events as a DataFrame (``user``, ``item``, ``value``, ``timestamp``)."""
        return pd.DataFrame(
            {
                "user": self.users,
                "item": self.items,
                "value": self.values,
                "timestamp": self.timestamps,
            }
        )


@dataclass
class Items:
    """The catalog side of a log: one row per item.

    Attributes:
        ids, titles: strings.
        genres: a tuple of genre/category names per item (may be empty).
        years: release year per item (NaN when unknown).
        prices: price per item (NaN when the log has none).
        texts: free text per item ("" when none).
    """

    ids: np.ndarray
    titles: np.ndarray
    genres: list[tuple[str, ...]]
    years: np.ndarray
    prices: np.ndarray
    texts: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, keep: np.ndarray) -> Items:
        """The rows at ``keep`` (a boolean mask or indices)."""
        index = np.flatnonzero(keep) if np.asarray(keep).dtype == bool else np.asarray(keep)
        return Items(
            self.ids[index],
            self.titles[index],
            [self.genres[i] for i in index.tolist()],
            self.years[index],
            self.prices[index],
            self.texts[index],
        )


@dataclass
class UserInfo:
    """What a log says about its users beyond their events (MovieLens has age, occupation)."""

    ages: dict[str, int] = field(default_factory=dict)
    occupations: dict[str, str] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)


@dataclass
class InteractionLog:
    """Everything a reader produced: events, items, user facts and the drops so far.

    Attributes:
        source: a short description of where the log came from (format and path).
        domain: the domain name personas and the catalog get (``movies``).
    """

    interactions: Interactions
    items: Items
    users: UserInfo
    report: DropReport
    source: str
    domain: str

    @property
    def name(self) -> str:
        """The log's kind without its path (``MovieLens ml-100k``), for persona bios."""
        return self.source.split(" (")[0]
