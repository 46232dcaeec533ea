"""Policies that use the user's history: EASE, matrix factorisation, genre match, popular-unseen."""

from __future__ import annotations

import numpy as np
import pytest

from simrec.env import RecSessionEnv
from simrec.policies import make_policy
from simrec.runner import run_sessions
from tests.conftest import grounded_catalog, make_grounded_persona, make_persona, small_catalog

HISTORY_POLICIES = ("ease", "mf", "genre_match", "popular_unseen")


def _histories(n_users: int = 60, n_items: int = 60, seed: int = 0) -> list[np.ndarray]:
    """Users who each chose items of one residue class mod 3 (the small catalog's category)."""
    rng = np.random.default_rng(seed)
    return [rng.choice(np.arange(u % 3, n_items, 3), size=8, replace=False) for u in range(n_users)]


@pytest.mark.parametrize("name", HISTORY_POLICIES)
def test_history_policies_never_show_what_the_user_has_or_saw_this_visit(name):
    catalog = grounded_catalog()
    history = tuple(f"it-{i:03d}" for i in range(0, 30, 3))
    env = RecSessionEnv(catalog, [make_grounded_persona(history=history)], max_turns=6)
    policy = make_policy(name, env, seed=0).fit(_histories())
    shown = []
    run_sessions(env, policy, 1, on_step=lambda e, info: shown.extend(info["slate"]))
    assert not set(shown) & set(range(0, 30, 3))
    assert len(shown) == len(set(shown))


@pytest.mark.parametrize("name", ("ease", "mf", "genre_match"))
def test_a_users_history_steers_the_recommendations(name):
    catalog = small_catalog()  # category of item i: i % 3
    env = RecSessionEnv(catalog, [make_persona()], max_turns=2)
    policy = make_policy(name, env, seed=0).fit(_histories())
    for cls in range(3):
        history = np.arange(cls, 24, 3)
        top = np.argsort(-policy.score_items(history, np.zeros(0, dtype=np.int64)))
        top = [i for i in top.tolist() if i not in set(history.tolist())][:5]
        assert sum(i % 3 == cls for i in top) >= 4, (name, cls, top)


@pytest.mark.parametrize("name", HISTORY_POLICIES)
def test_a_stranger_gets_popular_items_and_clicks_move_the_next_slate(name):
    catalog = small_catalog()  # popularity falls with the index
    env = RecSessionEnv(catalog, [make_persona()], max_turns=2)
    policy = make_policy(name, env, seed=0)
    _, info = env.reset(seed=0)
    assert set(policy.act({}, info).tolist()) == set(range(5))  # cold start: the most popular
    policy.fit(_histories())
    cold = policy.score_items(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    warm = policy.score_items(np.zeros(0, dtype=np.int64), np.array([4, 7, 10]))
    if name != "popular_unseen":
        assert not np.allclose(cold, warm)


def test_history_policies_learn_from_the_users_they_meet():
    catalog = grounded_catalog()
    pool = [
        make_grounded_persona(
            f"u{i}", seed=i, history=tuple(f"it-{j:03d}" for j in range(i % 3, 30, 3))
        )
        for i in range(6)
    ]
    env = RecSessionEnv(catalog, pool, max_turns=3)
    policy = make_policy("ease", env, seed=0)
    assert not policy.fitted
    run_sessions(env, policy, 4, seed=0)
    assert policy.fitted and len(policy.rows) >= 3
