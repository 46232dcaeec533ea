"""The latent taste model: EASE and RP3beta item-item weights over a recency-weighted history.

Two item-to-item models read each user's history, and their per-user standardised
scores are added:

* **EASE** (Steck, 2019): weights in closed form, ``B = I - P / diag(P)`` with
  ``P = (X'X + ridge I)^-1`` (one matrix inverse, numpy);
* **RP3beta** (Paudel et al., 2017): the probability of walking item -> user -> item
  on the user-item graph, divided by the target item's popularity to the power
  :data:`GRAPH_BETA`. It ranks long-tail items better than EASE, which the AUC over a
  user's whole unseen catalog rewards; the two disagree enough that their sum ranks
  held-out items better than either (on ML-100K's validation split: AUC 0.911 for EASE,
  0.913 for RP3beta, 0.917 for the sum).

Why not matrix factorisation: on MovieLens 100K with the per-user temporal split,
``implicit``'s ALS reaches AUC 0.79-0.85 over the settings tried, well below either.
Recent events weigh more (``exp(-age / tau)``, age in events: the next items resemble
the last ones) and a popularity term is added.

The summed users x items scores are then projected onto their leading ``rank``
singular vectors (truncated SVD). Item-item scores of one user carry that user's
sampling noise (which few items happen to be in the history); the shared low-rank part
is what users' tastes have in common, and keeping only it ranks held-out items better:
on ML-100K's validation split, AUC 0.917 -> 0.919 and the best accuracy at 1:1 0.812 ->
0.818 at rank 16. The ridge, recency, popularity weight, RP3beta weight and then the rank
are chosen on the validation split (:func:`choose`). Scores are standardised per user,
so one threshold means the same for every user.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, replace

import numpy as np

from simrec.fidelity.metrics import auc_per_user

GRAPH_BETA = 0.7
"""RP3beta's popularity penalty: the walk's probability of reaching item ``j`` is divided
by ``popularity_j ** GRAPH_BETA`` (0: plain random walk; 1: popularity fully removed)."""


@dataclass(frozen=True)
class TasteSettings:
    """Hyperparameters of :class:`TasteModel` (chosen on validation, see :func:`choose`).

    Attributes:
        ridge: EASE's L2 penalty.
        recency: events' half-life-like age ``tau`` in events (``None``: all weigh 1).
        popularity: weight of the standardised log popularity.
        graph: weight of the RP3beta scores beside EASE's (0: EASE alone).
        rank: how many singular vectors of the summed scores are kept (``None``: all).
    """

    ridge: float = 1000.0
    recency: float | None = 15.0
    popularity: float = 0.3
    graph: float = 1.0
    rank: int | None = None


def _standardised(raw: np.ndarray) -> np.ndarray:
    mean = raw.mean(axis=1, keepdims=True)
    std = raw.std(axis=1, keepdims=True)
    return (raw - mean) / np.where(std > 0, std, 1.0)


class TasteModel:
    """Per-user item scores from the events of one part of a log.

    Args:
        n_users, n_items: sizes.
        user, item: event indices (oldest first within each user).
        settings: hyperparameters.
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        user: np.ndarray,
        item: np.ndarray,
        settings: TasteSettings,
    ) -> None:
        self.n_users, self.n_items, self.settings = n_users, n_items, settings
        self.seen = np.zeros((n_users, n_items), dtype=bool)
        self.seen[user, item] = True
        binary = self.seen.astype(np.float64)
        gram = binary.T @ binary
        gram[np.diag_indices(n_items)] += settings.ridge
        inverse = np.linalg.inv(gram)
        self.weights = -inverse / np.diag(inverse)
        self.weights[np.diag_indices(n_items)] = 0.0
        self.popularity = binary.sum(axis=0)
        self.graph_weights = _rp3beta(binary, self.popularity)
        log_pop = np.log1p(self.popularity)
        self.popularity_z = (log_pop - log_pop.mean()) / (log_pop.std() or 1.0)
        self._set_history(user, item)

    def _set_history(self, user: np.ndarray, item: np.ndarray) -> None:
        """Users x items history, each event weighted by its recency, and both models'
        standardised scores of it."""
        counts = np.bincount(user, minlength=self.n_users)
        ends = np.cumsum(counts)
        age = ends[user] - 1 - np.arange(len(user))  # 0 = the user's newest event
        tau = self.settings.recency
        weight = np.ones(len(user)) if tau is None else np.exp(-age / tau)
        self.history = np.zeros((self.n_users, self.n_items))
        np.add.at(self.history, (user, item), weight)
        self.ease_z = _standardised(self.history @ self.weights)
        self.graph_z = _standardised(self.history @ self.graph_weights)

    def scores(self) -> np.ndarray:
        """Users x items standardised scores (higher: more likely chosen next)."""
        return low_rank(self.full_rank_scores(), (self.settings.rank,))[self.settings.rank]

    def full_rank_scores(self) -> np.ndarray:
        """The summed standardised scores before the rank is cut."""
        s = self.settings
        return self.ease_z + s.graph * self.graph_z + s.popularity * self.popularity_z

    def with_settings(
        self, settings: TasteSettings, user: np.ndarray, item: np.ndarray
    ) -> TasteModel:
        """This model (same ridge, same events ``user``/``item``) with other recency,
        popularity and graph settings, without refitting the item-item weights."""
        if settings.ridge != self.settings.ridge:
            raise ValueError("with_settings keeps the ridge; fit a new model for another")
        model = copy.copy(self)
        model.settings = settings
        if settings.recency != self.settings.recency:
            model._set_history(user, item)
        return model


def truncated_svd(matrix: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The leading ``rank`` singular triplets ``(u, s, vt)`` of ``matrix``, largest first.

    From the eigendecomposition of the Gram matrix of the smaller side: a fraction of a
    full SVD's time on a users x items matrix (the grounding's budget), and exact enough
    for the leading vectors (singular values below 1e-7 of the largest, the Gram route's
    rounding noise, become 0).
    """
    rank = max(1, min(rank, *matrix.shape))
    wide = matrix.shape[0] <= matrix.shape[1]
    side = matrix if wide else matrix.T
    values, vectors = np.linalg.eigh(side @ side.T)
    order = np.argsort(values)[::-1][:rank]
    s = np.sqrt(np.clip(values[order], 0.0, None))
    left = vectors[:, order]
    keep = s > 1e-7 * float(s[0])
    s = np.where(keep, s, 0.0)
    right = np.zeros((rank, side.shape[1]))
    right[keep] = (left[:, keep].T @ side) / s[keep, None]
    return (left, s, right) if wide else (right.T, s, left.T)


def low_rank(scores: np.ndarray, ranks) -> dict[int | None, np.ndarray]:
    """``scores`` projected onto its leading singular vectors, standardised per user, for
    each of ``ranks`` (``None``: ``scores`` itself; a rank at or above the matrix's keeps
    every vector). One decomposition serves every rank."""
    out: dict[int | None, np.ndarray] = {}
    cut = [r for r in ranks if r is not None and r < min(scores.shape)]
    if cut:
        u, s, vt = truncated_svd(scores, max(cut))
        out.update({r: _standardised((u[:, :r] * s[:r]) @ vt[:r]) for r in cut})
    out.update({r: scores for r in ranks if r not in out})
    return out


def _rp3beta(binary: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """Items x items RP3beta weights: item -> user -> item walk over the 0/1 ``binary``
    users x items matrix, each target divided by its popularity ** :data:`GRAPH_BETA`."""
    user_step = binary / np.maximum(binary.sum(axis=1, keepdims=True), 1.0)  # user -> item
    item_step = binary.T / np.maximum(popularity[:, None], 1.0)  # item -> user
    weights = item_step @ user_step
    weights /= np.maximum(popularity, 1.0)[None, :] ** GRAPH_BETA
    weights[np.diag_indices(len(popularity))] = 0.0
    return weights


DEFAULT_GRID: dict[str, tuple] = {
    "ridge": (500.0, 1000.0),
    "recency": (15.0, 40.0),
    "popularity": (0.15, 0.3),
    "graph": (0.0, 1.0),
    "rank": (8, 16, 32, 64, None),
}
"""The settings :func:`choose` tries: every combination of the first four, then each rank
for the best of those (one SVD)."""


def choose(
    n_users: int,
    n_items: int,
    user: np.ndarray,
    item: np.ndarray,
    validation: np.ndarray,
    grid: dict[str, tuple] | None = None,
) -> tuple[TasteSettings, dict[str, float]]:
    """The settings with the best mean validation AUC, and the AUC of each tried.

    ``user``/``item`` are the train events (oldest first per user); ``validation`` is the
    users x items mask of validation events. The rank is chosen last, for the best of the
    other settings (a grid without ``rank`` keeps every singular vector).
    """
    grid = grid or DEFAULT_GRID
    tried: dict[str, float] = {}
    best: tuple[float, TasteSettings, TasteModel] | None = None
    for ridge in grid["ridge"]:
        first = TasteSettings(ridge, grid["recency"][0], 0.0, 0.0)
        base = TasteModel(n_users, n_items, user, item, first)
        for recency in grid["recency"]:
            at_recency = base.with_settings(TasteSettings(ridge, recency, 0.0, 0.0), user, item)
            for popularity, graph in itertools.product(grid["popularity"], grid["graph"]):
                settings = TasteSettings(ridge, recency, popularity, graph)
                model = at_recency.with_settings(settings, user, item)
                auc = float(np.nanmean(auc_per_user(model.scores(), model.seen, validation)))
                tried[_name(settings)] = round(auc, 5)
                if best is None or auc > best[0]:
                    best = (auc, settings, model)
    assert best is not None
    auc, settings, model = best
    ranks = [r for r in grid.get("rank", (None,)) if r is not None]
    for rank, scores in low_rank(model.full_rank_scores(), ranks).items():
        rank_auc = float(np.nanmean(auc_per_user(scores, model.seen, validation)))
        tried[f"{_name(settings)} rank={rank}"] = round(rank_auc, 5)
        if rank_auc > auc:
            auc, settings = rank_auc, replace(settings, rank=rank)
    return settings, tried


def _name(settings: TasteSettings) -> str:
    s = settings
    return f"ridge={s.ridge:g} recency={s.recency} popularity={s.popularity:g} graph={s.graph:g}"
