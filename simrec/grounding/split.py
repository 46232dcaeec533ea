"""Cleaning a log into indexed events, and the per-user split (temporal or random).

Events whose item is not in the items table, repeats of an earlier (user, item) event
and users with too few events are dropped and reported. Each remaining user's events,
oldest first, are split: the last ``test_share`` are held out (``test``); the last
``test_share`` of the rest are the validation part (``validation``); the others are
``train``. Hyperparameters and thresholds are chosen on validation; the personas' latent
tastes and histories use train + validation (everything before the held-out part).

That is the ``temporal`` split, the protocol fidelity targets are judged on. The
``random`` split holds out the same number of each user's events, drawn at random
(seeded), as published simulators (Agent4Rec, SimUSER) and most recommender papers do:
it is easier (a held-out item sits among the user's other events, not after them), so
its figures compare with the literature, not with the temporal targets. Either way the
events stay oldest first inside each part, so a persona's history is in time order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simrec.errors import GroundingError
from simrec.grounding.table import InteractionLog
from simrec.validation import check_seed

TRAIN, VALIDATION, TEST = 0, 1, 2
SPLIT_NAMES = ("train", "validation", "test")
SPLITS = ("temporal", "random")
"""How each user's events are split: by time (the last events held out) or at random."""


@dataclass
class SplitLog:
    """A cleaned log as indices, sorted by user then time, with the split of each event.

    Attributes:
        user_ids: original user id per user index.
        user, item: per event, the user index and the item index (into the items table).
        timestamp, value: per event.
        part: per event, :data:`TRAIN`, :data:`VALIDATION` or :data:`TEST`.
        method: ``temporal`` or ``random`` (:data:`SPLITS`).
        seed: the random split's seed (``None`` for the temporal split).
        test_share: the share held out (and of the rest, the validation share).
    """

    user_ids: np.ndarray
    user: np.ndarray
    item: np.ndarray
    timestamp: np.ndarray
    value: np.ndarray
    part: np.ndarray
    rated: bool
    method: str = "temporal"
    seed: int | None = None
    test_share: float = 0.2

    @property
    def settings(self) -> dict:
        """How the events were split, as recorded in ``grounding.json`` and ``fidelity.json``."""
        return {"method": self.method, "seed": self.seed, "test_share": self.test_share}

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    def mask(self, *parts: int) -> np.ndarray:
        """Events in any of ``parts``."""
        return np.isin(self.part, parts)


def check_split(method: str, seed: int | None) -> int | None:
    """The random split's seed (0 when ``None``), or ``None`` for the temporal split.

    Raises:
        GroundingError: an unknown ``method`` or a seed for the temporal split, naming the
            ``simrec ground`` option.
    """
    if method not in SPLITS:
        raise GroundingError(f"--split: expected one of {', '.join(SPLITS)}, got {method!r}")
    if method == "temporal":
        if seed is not None:
            raise GroundingError(
                f"--split-seed: only the random split is seeded (--split random); got seed "
                f"{seed!r} with the temporal split"
            )
        return None
    return check_seed(0 if seed is None else seed, "--split-seed", GroundingError)


def split_log(
    log: InteractionLog,
    min_events: int = 5,
    test_share: float = 0.2,
    method: str = "temporal",
    seed: int | None = None,
) -> SplitLog:
    """Clean ``log`` (reporting every drop) and split each user's events.

    Args:
        log: what a reader produced.
        min_events: users with fewer usable events are dropped (and reported).
        test_share: the share of each user's events held out, and of the rest validated on.
        method: ``temporal`` (each user's last events held out) or ``random`` (the same
            numbers of events, drawn at random).
        seed: seeds the random split (default 0); the temporal split takes none.

    Raises:
        GroundingError: an unknown ``method``, a seed for the temporal split, or no user
            left with ``min_events`` events.
    """
    seed = check_split(method, seed)
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
    if method == "random":  # each user's time ranks, shuffled: which events fall in each part
        shuffled = np.lexsort((np.random.default_rng(seed).random(len(user)), user))
        rank = np.argsort(shuffled) - start[user]
    n_test = np.maximum(1, np.round(n * test_share)).astype(np.int64)
    n_before = n - n_test
    n_val = np.maximum(1, np.round(n_before * test_share)).astype(np.int64)
    part = np.full(len(user), TRAIN, dtype=np.int8)
    part[rank >= (n_before - n_val)[user]] = VALIDATION
    part[rank >= n_before[user]] = TEST
    return SplitLog(
        users[kept_users], user, item, stamp, value, part, log.interactions.rated, method, seed,
        test_share,
    )  # fmt: skip


def describe_split(settings: dict) -> str:
    """``settings`` (:attr:`SplitLog.settings`) in words, for the tables people read."""
    method = settings["method"]
    if method == "temporal":
        return f"temporal split (each user's last {settings['test_share']:.0%} held out)"
    if method == "random":
        return (
            f"random split, seed {settings['seed']} (a random {settings['test_share']:.0%} of "
            "each user's events held out)"
        )
    return f"{method} split"


def _report(report, reason: str, where: np.ndarray, bad: np.ndarray, details: list[str]) -> None:
    if bad.any():
        report.drop_many(reason, [str(w) for w in where[bad][:5]], details)
        report.counts[reason] += int(bad.sum()) - min(5, int(bad.sum()))
