"""The latent taste model: RP3beta's walk, and settings changed without refitting."""

from __future__ import annotations

import numpy as np

from simrec.grounding.latent import GRAPH_BETA, TasteModel, TasteSettings, _rp3beta, choose


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
