"""Behavioural traits fitted from a user's own events (before the held-out part).

==================  ===========================================  ===========================
fitted number       how it is measured                           persona trait it sets
==================  ===========================================  ===========================
mainstreamness      mean popularity percentile of the user's     ``novelty_seeking`` =
                    items (0: only obscure, 1: only hits)        1 - mainstreamness
activity            the user's event count as a percentile of    ``patience`` = activity
                    all users' (active users stay longer)
strictness          share of the user's ratings below the        ``purchase_propensity`` =
                    liking bar (4 of 5: 80% of the top rating)   1 - strictness
                    (``None`` for click logs)
price level         mean price percentile of the user's items    ``price_sensitivity`` =
                    (logs with prices only)                      1 - price level
need                items chosen per active day, capped at 20    ``need`` (items a visit
                    (click or purchase logs with epoch-second    comes for), else derived
                    timestamps; ratings are written in bursts    from purchase propensity
                    after the fact, not on visits)
paid                the 90th percentile of the prices of the     ``willingness_to_pay``,
                    user's items (logs with prices only)         else from price sensitivity
==================  ===========================================  ===========================

Traits the log says nothing about (boredom, chattiness) stay at 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simrec.persona import NEED_LIMIT

DAY = 86_400
"""Seconds in a day: a user's events on one calendar day count as one visit."""
EPOCH_SECONDS = 10**8
"""Timestamps this large are taken as epoch seconds (1973 on); smaller ones (a file's
row order, ordinal days) say nothing about visits, and no need is fitted."""
PAID_QUANTILE = 0.9
"""The share of a user's chosen items priced at most their willingness to pay."""
LIKING_BAR = 0.8
"""A rating at or above this share of the log's top rating counts as liking."""


@dataclass(frozen=True)
class FittedTraits:
    """Per-user fitted numbers (arrays over users) and the persona traits they set."""

    mainstreamness: np.ndarray
    activity: np.ndarray
    strictness: np.ndarray | None
    price_level: np.ndarray | None
    need: np.ndarray | None = None
    paid: np.ndarray | None = None

    def persona_traits(self, u: int) -> dict[str, float]:
        """The six persona traits of user ``u``."""
        out = {
            "novelty_seeking": 1.0 - float(self.mainstreamness[u]),
            "patience": float(self.activity[u]),
            "boredom_rate": 0.5,
            "chattiness": 0.5,
            "purchase_propensity": 0.5
            if self.strictness is None
            else 1.0 - float(self.strictness[u]),
            "price_sensitivity": 0.5
            if self.price_level is None
            else 1.0 - float(self.price_level[u]),
        }
        return {k: min(1.0, max(0.0, round(v, 4))) for k, v in out.items()}

    def persona_economy(self, u: int) -> dict[str, float]:
        """User ``u``'s fitted ``need`` and ``willingness_to_pay`` (those the log gives)."""
        out = {}
        if self.need is not None:
            out["need"] = round(float(self.need[u]), 4)
        if self.paid is not None:
            out["willingness_to_pay"] = round(float(self.paid[u]), 4)
        return out


def _percentile(values: np.ndarray) -> np.ndarray:
    """Rank of each value in [0, 1] (ties share their mean rank)."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    # ties: mean rank
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = sums[inverse] / counts[inverse]
    return ranks / max(1, len(values) - 1)


def fit_traits(
    n_users: int,
    user: np.ndarray,
    item: np.ndarray,
    value: np.ndarray,
    rated: bool,
    popularity: np.ndarray,
    prices: np.ndarray,
    timestamps: np.ndarray | None = None,
) -> FittedTraits:
    """Fit every user's numbers from their events (pass the pre-test events only).

    ``user`` must be sorted (each user's events together), as a split log's are.
    """
    counts = np.bincount(user, minlength=n_users).astype(np.float64)
    item_pop_pct = _percentile(popularity)
    mainstream = np.bincount(user, weights=item_pop_pct[item], minlength=n_users) / np.maximum(
        counts, 1
    )
    activity = _percentile(counts)
    strictness = None
    if rated:
        bar = LIKING_BAR * float(value.max())
        below = np.bincount(user, weights=(value < bar).astype(float), minlength=n_users)
        strictness = below / np.maximum(counts, 1)
    price_level = paid = None
    if np.isfinite(prices).all() and prices.max() > 0:
        pct = _percentile(prices)
        price_level = np.bincount(user, weights=pct[item], minlength=n_users) / np.maximum(
            counts, 1
        )
        paid = _per_user_quantile(n_users, user, prices[item], PAID_QUANTILE)
    need = None
    visits = timestamps is not None and len(timestamps) and timestamps.min() >= EPOCH_SECONDS
    if visits and not rated:
        days = np.unique(np.stack([user, timestamps // DAY]), axis=1)[0]
        active = np.bincount(days, minlength=n_users)
        need = np.minimum(counts / np.maximum(active, 1), NEED_LIMIT)
    return FittedTraits(mainstream, activity, strictness, price_level, need, paid)


def _per_user_quantile(n_users: int, user: np.ndarray, values: np.ndarray, q: float) -> np.ndarray:
    """Each user's ``q`` quantile of their ``values`` (0 for a user without events)."""
    order = np.lexsort((values, user))
    sorted_values, sorted_users = values[order], user[order]
    starts = np.searchsorted(sorted_users, np.arange(n_users))
    counts = np.bincount(user, minlength=n_users)
    at = starts + np.floor(q * np.maximum(counts - 1, 0)).astype(np.int64)
    out = np.where(counts > 0, sorted_values[np.minimum(at, len(values) - 1)], 0.0)
    return out
