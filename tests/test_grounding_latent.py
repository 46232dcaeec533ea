"""The latent taste model: RP3beta's walk, settings changed without refitting, the rank cut."""

from __future__ import annotations

import numpy as np

from simrec.grounding.latent import (
    GRAPH_BETA,
    TasteModel,
    TasteSettings,
    _rp3beta,
    choose,
    low_rank,
    truncated_svd,
)


def test_rp3beta_walks_item_user_item_and_divides_by_popularity():
    # users: 0 chose items 0, 1; user 1 chose 0, 2; user 2 chose 2
    binary = np.array([[1, 1, 0], [1, 0, 1], [0, 0, 1]], dtype=np.float64)
    popularity = binary.sum(axis=0)
    weights = _rp3beta(binary, popularity)
    # from item 0: to user 0 or 1 (1/2 each); user 0 -> item 1 (1/2), user 1 -> item 2 (1/2)
    assert weights[0, 1] == 0.25 / 1.0**GRAPH_BETA
    assert weights[0, 2] == 0.25 / 2.0**GRAPH_BETA
    # from item 2: users 1 and 2; user 1 -> item 0 (1/2), user 2 -> item 2 (itself: zeroed)
    assert weights[2, 0] == 0.25 / 2.0**GRAPH_BETA
    assert np.all(np.diag(weights) == 0.0)


def _log(seed: int = 0):
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(30):
        group = u % 2  # two tastes: items 0-19 and 20-39
        chosen = rng.choice(20, size=8, replace=False) + 20 * group
        users += [u] * 8
        items += chosen.tolist()
    return np.array(users), np.array(items)


def test_changed_settings_score_as_a_fresh_fit():
    user, item = _log()
    base = TasteModel(30, 40, user, item, TasteSettings(10.0, 5.0, 0.0, 0.0))
    for settings in (TasteSettings(10.0, None, 0.3, 1.0), TasteSettings(10.0, 5.0, 0.1, 2.0)):
        fresh = TasteModel(30, 40, user, item, settings)
        np.testing.assert_allclose(
            base.with_settings(settings, user, item).scores(), fresh.scores(), atol=1e-12
        )


def test_scores_put_the_users_own_taste_first_and_choose_reports_every_setting():
    user, item = _log()
    model = TasteModel(30, 40, user, item, TasteSettings(10.0, None, 0.0, 1.0))
    scores = np.where(model.seen, -np.inf, model.scores())
    top = np.argsort(-scores, axis=1)[:, :5]
    assert ((top // 20) == (np.arange(30) % 2)[:, None]).mean() > 0.95
    validation = np.zeros((30, 40), dtype=bool)
    for u in range(30):  # one more item of the user's own taste
        start = 20 * (u % 2)
        validation[u, start + np.flatnonzero(~model.seen[u, start : start + 20])[0]] = True
    grid = {"ridge": (10.0,), "recency": (None,), "popularity": (0.0,), "graph": (0.0, 1.0)}
    settings, tried = choose(30, 40, user, item, validation, grid)
    assert len(tried) == 2 and max(tried.values()) > 0.75  # the own taste half first
    assert tried[max(tried, key=tried.get)] == max(tried.values())
    assert settings.graph in (0.0, 1.0)


def test_truncated_svd_matches_numpy_on_wide_tall_and_rank_deficient_matrices():
    rng = np.random.default_rng(3)
    for matrix in (
        rng.normal(size=(12, 20)),
        rng.normal(size=(20, 12)),
        rng.normal(size=(15, 2)) @ rng.normal(size=(2, 25)),  # rank 2: the rest is zero
    ):
        u, s, vt = truncated_svd(matrix, 5)
        _, full_s, _ = np.linalg.svd(matrix, full_matrices=False)
        np.testing.assert_allclose(s, full_s[:5], atol=1e-6)
        assert u.shape == (matrix.shape[0], 5) and vt.shape == (5, matrix.shape[1])
        best = np.linalg.svd(matrix, full_matrices=False)
        expected = (best[0][:, :5] * best[1][:5]) @ best[2][:5]
        np.testing.assert_allclose((u * s) @ vt, expected, atol=1e-8)
    u, s, vt = truncated_svd(np.zeros((3, 4)), 2)  # nothing to keep: zeros, no division
    assert np.all(s == 0) and np.all(vt == 0)


def test_low_rank_keeps_the_shared_taste_and_drops_one_users_noise():
    # two groups of users share a taste (rank 2); one user's scores carry extra noise
    rng = np.random.default_rng(1)
    groups = np.repeat([[1.0, 0.0], [0.0, 1.0]], 20, axis=0)
    items = rng.normal(size=(2, 60))
    clean = groups @ items
    noisy = clean + 0.8 * rng.normal(size=clean.shape)
    projected = low_rank(noisy, (2, None, 500))
    assert projected[None] is noisy and projected[500] is noisy  # nothing cut
    kept = projected[2]
    np.testing.assert_allclose(kept.mean(axis=1), 0.0, atol=1e-12)  # standardised per user
    np.testing.assert_allclose(kept.std(axis=1), 1.0)

    def error(scores):
        return np.abs(
            scores - (clean - clean.mean(1, keepdims=True)) / clean.std(1, keepdims=True)
        ).mean()

    z_noisy = (noisy - noisy.mean(1, keepdims=True)) / noisy.std(1, keepdims=True)
    assert error(kept) < 0.5 * error(z_noisy)


def test_choose_picks_the_rank_on_validation_and_scores_follow_it():
    user, item = _log()
    model = TasteModel(30, 40, user, item, TasteSettings(10.0, None, 0.0, 1.0))
    validation = np.zeros((30, 40), dtype=bool)
    for u in range(30):
        start = 20 * (u % 2)
        validation[u, start + np.flatnonzero(~model.seen[u, start : start + 20])[:2]] = True
    grid = {"ridge": (10.0,), "recency": (None,), "popularity": (0.0,), "graph": (1.0,)}
    settings, tried = choose(30, 40, user, item, validation, {**grid, "rank": (1, 2, None)})
    ranked = {k: v for k, v in tried.items() if "rank=" in k}
    assert len(tried) == 3 and len(ranked) == 2  # rank None is the unranked entry
    best = max(tried.values())
    if settings.rank is None:
        assert tried[next(k for k in tried if "rank=" not in k)] == best
    else:
        assert tried[next(k for k in ranked if k.endswith(f"rank={settings.rank}"))] == best
        scores = TasteModel(30, 40, user, item, settings).scores()
        np.testing.assert_allclose(
            scores, low_rank(model.scores(), (settings.rank,))[settings.rank]
        )
    assert choose(30, 40, user, item, validation, grid)[0].rank is None  # no ranks: no cut
