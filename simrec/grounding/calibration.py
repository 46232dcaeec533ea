"""How scores become the brain's clicks: slope and threshold chosen on the validation split.

The brain "likes" an item when a one-item slate of it would be clicked with probability
above 1/2, i.e. when its click logit is positive. Grounding sets each persona's click
logit to ``slope * (score - activity * (log n_u - mean log n)) + intercept``: the score
of :class:`~.latent.TasteModel` (standardised per user), with a bar that moves with the
user's number of events ``n_u`` (a user with a long history has sharper scores, so one
bar for everyone misjudges either the newcomers or the regulars). All three numbers are
chosen on validation events only, with the model fitted on the train part: the slope by
logistic regression of validation items against as many uniformly drawn unseen items;
the activity weight and the intercept as the pair that maximises the mean of accuracy
at 1:1 and F1 at 1:9 on validation (the two balances the fidelity report measures). The
test part is never read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Calibration:
    """``logit = slope * (score - activity * centred log events) + intercept``."""

    slope: float
    intercept: float
    activity: float
    mean_log_events: float
    validation_accuracy_1_1: float
    validation_f1_1_9: float


def sample_negatives(
    exclude: np.ndarray, user: np.ndarray, per_positive: int, rng: np.random.Generator
) -> np.ndarray:
    """For each positive event of ``user``, ``per_positive`` item indices the user never chose.

    Drawn uniformly (without repeats within an event) from items not in ``exclude`` (a
    users x items mask).
    """
    n_items = exclude.shape[1]
    out = np.empty((len(user), per_positive), dtype=np.int64)
    for k, u in enumerate(user.tolist()):
        pool = np.flatnonzero(~exclude[u])
        out[k] = rng.choice(
            pool, size=min(per_positive, len(pool)), replace=len(pool) < per_positive
        )
    return out if n_items else out


def calibrate(
    scores: np.ndarray, seen: np.ndarray, val_user: np.ndarray, val_item: np.ndarray, seed: int = 0
) -> Calibration:
    """Slope, activity weight and intercept from validation events (``val_user``, ``val_item``)."""
    rng = np.random.default_rng(seed)
    exclude = seen.copy()
    exclude[val_user, val_item] = True
    negatives = sample_negatives(exclude, val_user, 9, rng)
    pos = scores[val_user, val_item]
    neg = scores[val_user[:, None], negatives]
    slope, _ = _logistic(
        np.concatenate([pos, neg[:, 0]]), np.r_[np.ones(len(pos)), np.zeros(len(pos))]
    )
    log_events = np.log(np.maximum(seen.sum(axis=1), 1))
    centred = log_events - log_events.mean()
    best = None
    for activity in ACTIVITY_GRID:
        shift = activity * centred[val_user]
        threshold, acc, f1 = choose_threshold(pos - shift, neg - shift[:, None])
        if best is None or acc + f1 > best[0]:
            best = (acc + f1, activity, threshold, acc, f1)
    _, activity, threshold, acc, f1 = best
    return Calibration(
        float(slope), float(-slope * threshold), float(activity), float(log_events.mean()), acc, f1
    )


ACTIVITY_GRID = tuple(np.round(np.linspace(-0.6, 0.6, 13), 2))
"""Activity weights tried (0: one bar for every user)."""


def calibrated_logits(
    calibration: Calibration, scores: np.ndarray, events: np.ndarray
) -> np.ndarray:
    """Users x items click logits from scores and each user's number of events."""
    centred = np.log(np.maximum(events, 1)) - calibration.mean_log_events
    shifted = scores - calibration.activity * centred[:, None]
    return calibration.slope * shifted + calibration.intercept


def choose_threshold(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float, float]:
    """The score threshold maximising the mean of accuracy at 1:1 and F1 at 1:9.

    ``pos``: scores of validation positives; ``neg``: positives x 9 scores of their
    uniform negatives (column 0 is the 1:1 negative). Returns the threshold and the
    accuracy and F1 it reaches.
    """
    best = (-1.0, 0.0, 0.0, 0.0)
    grid = np.unique(np.quantile(np.concatenate([pos, neg.ravel()]), np.linspace(0.01, 0.99, 197)))
    for threshold in grid:
        acc = 0.5 * ((pos > threshold).mean() + (neg[:, 0] <= threshold).mean())
        f1 = _f1(pos > threshold, neg > threshold)
        if (acc + f1) / 2 > best[0]:
            best = ((acc + f1) / 2, float(threshold), float(acc), float(f1))
    return best[1], best[2], best[3]


def _f1(pos_liked: np.ndarray, neg_liked: np.ndarray) -> float:
    tp = pos_liked.sum()
    fp = neg_liked.sum()
    fn = (~pos_liked).sum()
    return float(2 * tp / (2 * tp + fp + fn)) if tp else 0.0


def _logistic(x: np.ndarray, y: np.ndarray, iterations: int = 50) -> tuple[float, float]:
    """Slope and intercept of a one-feature logistic regression (Newton's method)."""
    w = np.zeros(2)
    design = np.column_stack([x, np.ones_like(x)])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        gradient = design.T @ (y - p)
        hessian = (design * (p * (1 - p))[:, None]).T @ design + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        w += step
        if np.abs(step).max() < 1e-10:
            break
    return float(w[0]), float(w[1])
