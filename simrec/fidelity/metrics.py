"""The fidelity measures, as pure functions of predictions and held-out truth.

Every function takes plain arrays so each can be checked by hand on a tiny example
(``tests/test_fidelity_metrics.py``).
"""

from __future__ import annotations

import numpy as np


def accuracy_f1(liked_positives: np.ndarray, liked_negatives: np.ndarray) -> tuple[float, float]:
    """Accuracy and F1 of "liked" calls over positives (held-out items) and negatives.

    Args:
        liked_positives: whether each held-out item was called liked.
        liked_negatives: whether each sampled negative was called liked.
    """
    tp = int(np.count_nonzero(liked_positives))
    fn = liked_positives.size - tp
    fp = int(np.count_nonzero(liked_negatives))
    tn = liked_negatives.size - fp
    total = tp + fn + fp + tn
    accuracy = (tp + tn) / total if total else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return float(accuracy), float(f1)


def ranks_among_candidates(scores: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Per row, the rank (0 = lowest) of each candidate's score among the row's candidates.

    Ties get their mean rank; non-candidates get NaN.
    """
    out = np.full(scores.shape, np.nan)
    for r in range(scores.shape[0]):
        index = np.flatnonzero(candidates[r])
        values = scores[r, index]
        order = np.argsort(values, kind="stable")
        ranks = np.empty(len(values))
        ranks[order] = np.arange(len(values), dtype=np.float64)
        _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
        sums = np.bincount(inverse, weights=ranks)
        out[r, index] = sums[inverse] / counts[inverse]
    return out


def auc_per_user(scores: np.ndarray, seen: np.ndarray, positives: np.ndarray) -> np.ndarray:
    """Per user, the AUC of ``positives`` against every other item not in ``seen``.

    ``scores``, ``seen`` and ``positives`` are users x items. Ties count half. Users with no
    positive or no negative get NaN.
    """
    candidates = ~seen
    ranks = ranks_among_candidates(scores, candidates)
    pos = positives & candidates
    n_pos = pos.sum(axis=1)
    n_neg = candidates.sum(axis=1) - n_pos
    rank_sum = np.where(pos, ranks, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (rank_sum - n_pos * (n_pos - 1) / 2) / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def ndcg_per_user(
    scores: np.ndarray, seen: np.ndarray, positives: np.ndarray, k: int = 10
) -> np.ndarray:
    """Per user, NDCG@k of the top ``k`` unseen items by score (binary relevance).

    Ties are broken by item index (lowest first), so the figure is deterministic.
    """
    masked = np.where(seen, -np.inf, scores)
    top = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    gains = np.take_along_axis(positives & ~seen, top, axis=1)
    discount = 1.0 / np.log2(np.arange(2, top.shape[1] + 2))  # a catalog may have < k items
    dcg = (gains * discount).sum(axis=1)
    n_pos = np.minimum((positives & ~seen).sum(axis=1), top.shape[1])
    ideal = np.cumsum(discount)[np.maximum(n_pos - 1, 0)]
    return np.where(n_pos > 0, dcg / ideal, np.nan)


def genre_distribution(
    item_sets: list[np.ndarray], genres: list[tuple[str, ...]]
) -> dict[str, float]:
    """Share of each genre over users' item sets; every user weighs the same, and an item's
    weight is split evenly over its genres. Users with an empty set are left out."""
    total: dict[str, float] = {}
    users = [s for s in item_sets if len(s)]
    for items in users:
        for i in items.tolist():
            names = genres[i] or ("unknown",)
            for g in names:
                total[g] = total.get(g, 0.0) + 1.0 / (len(names) * len(items) * len(users))
    return total


def total_variation(p: dict[str, float], q: dict[str, float]) -> float:
    """Half the L1 distance between two distributions over names."""
    names = set(p) | set(q)
    return 0.5 * sum(abs(p.get(n, 0.0) - q.get(n, 0.0)) for n in names)


def mean_popularity_percentile(item_sets: list[np.ndarray], percentile: np.ndarray) -> float:
    """Mean popularity percentile of the items, each user weighing the same."""
    means = [float(percentile[s].mean()) for s in item_sets if len(s)]
    return float(np.mean(means)) if means else float("nan")


def popularity_histogram(
    item_sets: list[np.ndarray], percentile: np.ndarray, bins: int = 10
) -> list[float]:
    """Share of the items in each popularity-percentile bin (``bins`` equal bins of [0, 1]),
    each user weighing the same (users with an empty set are left out)."""
    users = [s for s in item_sets if len(s)]
    shares = np.zeros(bins)
    for items in users:
        which = np.minimum((percentile[items] * bins).astype(np.int64), bins - 1)
        shares += np.bincount(which, minlength=bins) / len(items)
    return (shares / max(len(users), 1)).tolist()


def kendall_tau(a: list[float], b: list[float]) -> float:
    """Kendall's tau-b between two scorings of the same things (ties handled)."""
    n = len(a)
    concordant = discordant = ties_a = ties_b = 0
    for i in range(n):
        for j in range(i + 1, n):
            da, db = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
            if da == 0 and db == 0:
                continue
            if da == 0:
                ties_a += 1
            elif db == 0:
                ties_b += 1
            elif da == db:
                concordant += 1
            else:
                discordant += 1
    denominator = np.sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b))
    return float((concordant - discordant) / denominator) if denominator else float("nan")
