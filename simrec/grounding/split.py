"""Cleaning a log into indexed events, and the per-user temporal split.

Events whose item is not in the items table, repeats of an earlier (user, item) event
and users with too few events are dropped and reported. Each remaining user's events,
oldest first, are split: the last ``test_share`` are held out (``test``); the last
``test_share`` of the rest are the validation part (``validation``); the others are
``train``. Hyperparameters and thresholds are chosen on validation; the personas' latent
tastes and histories use train + validation (everything before the held-out part).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simrec.errors import GroundingError
from simrec.grounding.table import InteractionLog

TRAIN, VALIDATION, TEST = 0, 1, 2
SPLIT_NAMES = ("train", "validation", "test")


@dataclass
class SplitLog:
    """A cleaned log as indices, sorted by user then time, with the split of each event.

    Attributes:
        user_ids: original user id per user index.
        user, item: per event, the user index and the item index (into the items table).
        timestamp, value: per event.
        part: per event, :data:`TRAIN`, :data:`VALIDATION` or :data:`TEST`.
    """

    user_ids: np.ndarray
    user: np.ndarray
    item: np.ndarray
    timestamp: np.ndarray
    value: np.ndarray
    part: np.ndarray
    rated: bool

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    def mask(self, *parts: int) -> np.ndarray:
        """Events in any of ``parts``."""
        return np.isin(self.part, parts)


def split_log(log: InteractionLog, min_events: int = 5, test_share: float = 0.2) -> SplitLog:
    """Clean ``log`` (reporting every drop) and split each user's events in time.

    Raises:
        GroundingError: no user is left with ``min_events`` events.
    """
    if not 0.0 < test_share < 0.5:
        raise GroundingError(f"test share: expected a number in (0, 0.5), got {test_share}")
    if min_events < 3:
        raise GroundingError(
            f"min events: expected at least 3 (train, validation, test), got {min_events}"
        )
    events, report = log.interactions, log.report
    index = {item: k for k, item in enumerate(log.items.ids.tolist())}
    item = np.fromiter((index.get(i, -1) for i in events.items.tolist()), np.int64, len(events))
    unknown = item < 0
    _report(
        report,
        "interactions: item not in the items table",
        events.wheres,
        unknown,
        [f"item {i!r}" for i in events.items[unknown][:5]],
    )
    keep = ~unknown
    users, user = np.unique(events.users[keep].astype(str), return_inverse=True)
    item, stamp = item[keep], events.timestamps[keep]
    value, where = events.values[keep], events.wheres[keep]
    # oldest first within a user; ties keep file order (a stable sort)
    order = np.lexsort((np.arange(len(user)), stamp, user))
    user, item, stamp, value, where = (
        user[order],
        item[order],
        stamp[order],
        value[order],
        where[order],
    )
    pair = user.astype(np.int64) * len(log.items) + item
    _, first = np.unique(pair, return_index=True)
    repeat = np.ones(len(pair), dtype=bool)
    repeat[first] = False
    _report(
        report,
        "interactions: repeat of an earlier event of the same user and item",
        where,
        repeat,
        [f"item {log.items.ids[i]!r}" for i in item[repeat][:5]],
    )
    keep = ~repeat
    counts = np.bincount(user[keep], minlength=len(users))
    few = keep & (counts[user] < min_events)
    _report(
        report,
        f"interactions: user has fewer than {min_events} events",
        where,
        few,
        [f"user {users[u]!r} ({counts[u]} events)" for u in user[few][:5]],
    )
    keep &= ~few
    if not keep.any():
        raise GroundingError(
            f"no user has {min_events} or more usable events; lower --min-events or check "
            "the dropped rows above"
        )
    kept_users, user = np.unique(user[keep], return_inverse=True)
    item, stamp, value = item[keep], stamp[keep], value[keep]
    n = np.bincount(user)
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    rank = np.arange(len(user)) - start[user]
    n_test = np.maximum(1, np.round(n * test_share)).astype(np.int64)
    n_before = n - n_test
    n_val = np.maximum(1, np.round(n_before * test_share)).astype(np.int64)
    part = np.full(len(user), TRAIN, dtype=np.int8)
    part[rank >= (n_before - n_val)[user]] = VALIDATION
    part[rank >= n_before[user]] = TEST
    return SplitLog(users[kept_users], user, item, stamp, value, part, log.interactions.rated)


def _report(report, reason: str, where: np.ndarray, bad: np.ndarray, details: list[str]) -> None:
    if bad.any():
        report.drop_many(reason, [str(w) for w in where[bad][:5]], details)
        report.counts[reason] += int(bad.sum()) - min(5, int(bad.sum()))
