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
==================  ===========================================  ===========================

Traits the log says nothing about (boredom, chattiness) stay at 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LIKING_BAR = 0.8
"""A rating at or above this share of the log's top rating counts as liking."""


@dataclass(frozen=True)
class FittedTraits:
    """Per-user fitted numbers (arrays over users) and the persona traits they set."""

    mainstreamness: np.ndarray
    activity: np.ndarray
    strictness: np.ndarray | None
    price_level: np.ndarray | None

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
) -> FittedTraits:
    """Fit every user's numbers from their events (pass the pre-test events only)."""
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
    price_level = None
    if np.isfinite(prices).all() and prices.max() > 0:
        pct = _percentile(prices)
        price_level = np.bincount(user, weights=pct[item], minlength=n_users) / np.maximum(
            counts, 1
        )
    return FittedTraits(mainstream, activity, strictness, price_level)
