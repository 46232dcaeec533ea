"""Readable tastes of a grounded user, for people and LLM persona cards.

The latent taste vector says nothing to a reader; these words come from the same events:
the categories (genres) the user chose most, the decades of those items, and the titles
they rated highest (most recent first among equals; the most recent for click logs).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from simrec.grounding.table import Items
from simrec.persona import Profile


def readable_profile(
    items: Items,
    chosen: np.ndarray,
    values: np.ndarray,
    fitted: dict[str, float | None],
    n_top: int = 3,
) -> Profile:
    """The profile of one user from the item indices ``chosen`` (oldest first) and values."""
    genres: Counter = Counter()
    eras: Counter = Counter()
    for i in chosen.tolist():
        names = items.genres[i]
        for g in names:
            genres[g] += 1.0 / len(names)
        year = items.years[i]
        if np.isfinite(year):
            eras[f"{int(year) // 10 * 10}s"] += 1
    order = np.lexsort((-np.arange(len(chosen)), -values))  # best rated, then most recent
    favourites = []
    for k in order.tolist():
        title = str(items.titles[chosen[k]])
        if title not in favourites:
            favourites.append(title)
        if len(favourites) == n_top:
            break
    return Profile(
        top_categories=tuple(
            g for g, _ in sorted(genres.items(), key=lambda x: (-x[1], x[0]))[:n_top]
        ),
        eras=tuple(e for e, _ in sorted(eras.items(), key=lambda x: (-x[1], x[0]))[:2]),
        favourite_titles=tuple(favourites),
        **{k: (None if v is None else round(float(v), 4)) for k, v in fitted.items()},
    )
