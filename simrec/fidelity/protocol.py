"""The protocol: who is evaluated, which negatives they are shown, and the settings.

Per user (the preset's split: each user's last 20% of events held out as ``test``, or a
random 20% for a preset grounded with ``--split random``):

* **uniform negatives**: for every held-out item, ``r`` items the user never chose,
  drawn uniformly (ratios 1:1, 1:3, 1:9; the 1:3 set extends the 1:1 set, and so on);
* **popularity-matched negatives**: for every held-out item, one never-chosen item from
  the same popularity decile (pre-test popularity), so popularity alone cannot tell them
  apart;
* **the whole unseen catalog** (every item the user had not chosen before the held-out
  part) for AUC and NDCG@10.

Thresholds and weights (the grounding's calibration, the baselines' thresholds) come
from the validation part only; nothing is tuned on ``test``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

RATIOS = (1, 3, 9)


@dataclass(frozen=True)
class Protocol:
    """Settings of one fidelity run (written into ``fidelity.json``)."""

    ratios: tuple[int, ...] = RATIOS
    ndcg_k: int = 10
    popularity_bins: int = 10
    seed: int = 0
    users: int | None = None
    env_sessions: int = 500
    policies: tuple[str, ...] = ("random", "popular_unseen", "mf", "ease", "genre_match")
    liked_rule: str = "a one-item slate at the first turn is clicked with probability above 1/2"
    notes: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready settings."""
        return asdict(self)


@dataclass
class Candidates:
    """Per held-out event: its user and item, its uniform negatives and its matched negative."""

    user: np.ndarray
    item: np.ndarray
    uniform: np.ndarray  # events x max ratio
    matched: np.ndarray  # events


def draw_candidates(
    positives: np.ndarray,
    chosen: np.ndarray,
    popularity: np.ndarray,
    protocol: Protocol,
    users: np.ndarray,
) -> Candidates:
    """Negatives for each positive (users x items ``positives``) of ``users``.

    ``chosen`` marks items a user chose at any time (never a negative).
    """
    rng = np.random.default_rng(protocol.seed)
    ratio = max(protocol.ratios)
    edges = np.quantile(popularity, np.linspace(0, 1, protocol.popularity_bins + 1)[1:-1])
    bins = np.searchsorted(edges, popularity, side="right")
    user_list, item_list, uniform, matched = [], [], [], []
    for u in users.tolist():
        pos = np.flatnonzero(positives[u])
        if not len(pos):
            continue
        pool = np.flatnonzero(~chosen[u])
        if not len(pool):
            continue
        for i in pos.tolist():
            user_list.append(u)
            item_list.append(i)
            uniform.append(rng.choice(pool, size=ratio, replace=len(pool) < ratio))
            same = pool[bins[pool] == bins[i]]
            if not len(same):  # no unchosen item in that decile: the nearest in popularity
                same = pool[[int(np.argmin(np.abs(popularity[pool] - popularity[i])))]]
            matched.append(int(rng.choice(same)))
    return Candidates(
        np.array(user_list, dtype=np.int64),
        np.array(item_list, dtype=np.int64),
        np.array(uniform, dtype=np.int64).reshape(-1, ratio),
        np.array(matched, dtype=np.int64),
    )
