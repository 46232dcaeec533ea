"""Retrievers: the cheap first stage of the LLM policies, one per visit."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import grounded_catalog, make_grounded_persona, make_persona, small_catalog

from simrec.env import RecSessionEnv
from simrec.errors import ConfigError
from simrec.policies.linucb import LinUCBPolicy
from simrec.policies.retrieval import Retriever, retriever_names
from simrec.reaction import Reaction


def env(catalog=None, personas=None) -> RecSessionEnv:
    return RecSessionEnv(catalog or small_catalog(), personas or [make_persona()], slate_size=4)


def step_info(slate, clicked, reply="", dismissed=None) -> dict:
    k = len(slate)
    flags = [i in clicked for i in slate]
    gone = [i in (dismissed or ()) for i in slate]
    return {
        "turn": 1,
        "slate": list(slate),
        "reply": reply,
        "reaction": Reaction(flags, [False] * k, gone, False, 0.5, reply, "test"),
    }


def test_names_cover_the_scoring_policies_but_never_the_oracle():
    names = retriever_names()
    assert {"popularity", "embedding", "linucb", "mmr", "steer_aware", "mf"} <= set(names)
    assert "oracle" not in names
    with pytest.raises(ConfigError, match="expected one of"):
        Retriever(env(), "oracle", 0)
    with pytest.raises(ConfigError, match="retriever 'linucb': .*'alpah'"):
        Retriever(env(), "linucb", 0, {"alpah": 1.0})


def test_popularity_gives_the_most_popular_items_whatever_happens():
    e = env()
    r = Retriever(e, "popularity", 0)
    first = r.candidates(None, {"turn": 0}, 6)
    assert first.tolist() == np.argsort(-e.catalog.popularity, kind="stable")[:6].tolist()
    r.observe(None, 0.0, step_info(first[:4], clicked={int(first[0])}))
    assert r.candidates(None, {"turn": 1}, 6).tolist() == first.tolist()


def test_an_in_session_bandit_moves_its_candidates_toward_what_was_clicked():
    e = env()
    r = Retriever(e, "linucb", 5)
    before = r.candidates(None, {"turn": 0}, 10)
    gamma = [i for i in range(60) if e.catalog.categories[i] == "gamma"]
    other = [i for i in range(60) if e.catalog.categories[i] != "gamma"]
    for turn in range(4):
        liked = gamma[2 * turn : 2 * turn + 2]
        r.observe(None, 0.0, step_info(liked + other[2 * turn : 2 * turn + 2], clicked=set(liked)))
    after = r.candidates(None, {"turn": 4}, 10)
    share = lambda items: np.mean([e.catalog.categories[i] == "gamma" for i in items])  # noqa: E731
    assert share(after) >= share(before) + 0.3


def test_the_same_seed_gives_the_same_candidates_and_visits_do_not_share_learning():
    e = env()
    a, b = Retriever(e, "linucb", 3), Retriever(e, "linucb", 3)
    assert (
        a.candidates(None, {"turn": 0}, 8).tolist() == b.candidates(None, {"turn": 0}, 8).tolist()
    )
    a.observe(None, 0.0, step_info([0, 3, 6, 9], clicked={0, 3}))
    assert (
        a.candidates(None, {"turn": 1}, 8).tolist() != b.candidates(None, {"turn": 1}, 8).tolist()
    )


def test_a_steer_aware_filter_puts_ruled_out_items_last():
    e = env()
    r = Retriever(e, "steer_aware", 0)
    r.observe(None, 0.0, step_info([0, 1, 2, 3], clicked=set(), reply="Only loud ones, please."))
    candidates = r.candidates(None, {"turn": 1}, 40)
    loud = ["loud" in e.catalog.tags[i] for i in candidates]
    n = sum("loud" in tags for tags in e.catalog.tags)
    assert n == 28 and all(loud[:n]) and not any(loud[n:])  # every loud item, then the rest


def test_embedding_similarity_follows_history_and_clicks():
    catalog = grounded_catalog()
    persona = make_grounded_persona(history=("it-001", "it-002"))
    e = env(catalog, [persona])
    r = Retriever(e, "embedding", 0)
    unit = catalog.embeddings / np.linalg.norm(catalog.embeddings, axis=1, keepdims=True)
    first = r.candidates(
        None, {"turn": 0, "user_history": np.array([1, 2, -1]), "user_history_length": 2}, 5
    )
    query = unit[[1, 2]].mean(axis=0)
    assert first.tolist() == np.argsort(-(unit @ query))[:5].tolist()
    stranger = Retriever(e, "embedding", 0).candidates(None, {"turn": 0}, 5)
    assert stranger.tolist() == np.argsort(-catalog.popularity, kind="stable")[:5].tolist()


def test_embedding_needs_catalog_embeddings():
    with pytest.raises(ConfigError, match="no 'embedding' column"):
        Retriever(env(), "embedding", 0)


def test_a_policy_object_is_copied_for_each_visit_and_left_untouched():
    e = env()
    model = LinUCBPolicy(e, seed=0, alpha=0.2)
    a = Retriever(e, model, 1)
    a.observe(None, 0.0, step_info([0, 3, 6, 9], clicked={0}))
    assert np.array_equal(model.b, np.zeros_like(model.b))  # the original learned nothing
    assert a.model is not model and a.model.catalog is e.catalog and a.model.alpha == 0.2


def test_hybrid_interleaves_the_bandit_and_the_users_words():
    e = env()
    r = Retriever(e, "hybrid", 0)
    bandit = Retriever(e, "linucb", 0)
    first = r.candidates(None, {"turn": 0}, 10).tolist()
    assert first == bandit.candidates(None, {"turn": 0}, 10).tolist()  # nothing asked yet
    said = step_info([0, 1, 2, 3], clicked=set(), reply="Only loud ones, please.")
    r.observe(None, 0.0, said)
    bandit.observe(None, 0.0, said)
    candidates = r.candidates(None, {"turn": 1}, 12).tolist()
    loud = ["loud" in e.catalog.tags[i] for i in candidates]
    # at least every other candidate is one the user asked for (a loud item the bandit
    # ranks high is in both lists, and is listed once)
    assert all(sum(loud[: 2 * m]) >= m for m in range(1, 7))
    assert candidates[0] == bandit.candidates(None, {"turn": 1}, 1)[0]  # the bandit's first


REPLIES = (
    "",
    "only red ones, please",  # a hard filter on an attribute
    "I like the gamma ones",  # a stated taste: a boost
    "something under $5 please",  # too strict: fewer than k items pass, so a boost
    "not alpha",  # an exclusion
)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("hybrid", {}),
        ("hybrid", {"alpha": 0.3, "freeze_after": 2}),
        ("linucb", {}),
        ("linucb", {"discount": 0.7}),
        ("steer_aware", {}),
        ("mmr", {}),
        ("greedy", {}),
        ("popularity", {}),
        ("embedding", {}),
    ],
)
def test_visits_scored_together_get_the_candidates_each_gets_alone(name, params):
    # The LLM policies score a round's visits together (one product for every bandit);
    # a visit's candidates must not depend on what else runs, or replays would miss.
    from simrec.policies.retrieval import candidates_many, observe_many

    e = env(grounded_catalog())
    alone = [Retriever(e, name, sid, params) for sid in range(7)]
    together = [Retriever(e, name, sid, params) for sid in range(7)]
    rng = np.random.default_rng(3)
    for turn in range(6):
        infos = [
            {"turn": turn, "reply": REPLIES[(sid + turn) % len(REPLIES)], "session_id": sid}
            for sid in range(7)
        ]
        one_by_one = [r.candidates(None, dict(i), 12) for r, i in zip(alone, infos, strict=True)]
        batched = candidates_many(together, [None] * 7, [dict(i) for i in infos], 12)
        for a, b in zip(one_by_one, batched, strict=True):
            assert a.dtype == b.dtype == np.int64
            assert a.tolist() == b.tolist()
        steps = []
        for sid, shown in enumerate(one_by_one):
            slate = shown[:4].tolist()
            clicked = {i for i in slate if rng.random() < 0.4}
            gone = {i for i in slate if i not in clicked and rng.random() < 0.3}
            info = step_info(slate, clicked, REPLIES[(sid + turn + 1) % len(REPLIES)], gone)
            steps.append(dict(info, turn=turn + 1, session_id=sid))
        for r, info in zip(alone, steps, strict=True):
            r.observe(None, 0.0, dict(info))
        observe_many(together, [None] * 7, [dict(i) for i in steps])


def test_linucb_scores_are_the_ucb_formula_bit_for_bit_however_many_visits_share_a_product():
    e = env()
    policies = [LinUCBPolicy(e, seed=s, alpha=0.2 + 0.1 * s) for s in range(5)]
    for s, policy in enumerate(policies[1:], start=1):
        for turn in range(s):
            slate = [(3 * turn + s + j) % 60 for j in range(4)]
            policy.update({}, 0.0, dict(step_info(slate, {slate[0]}), turn=turn + 1))
    from simrec.policies.linucb import upper_bounds

    together = upper_bounds(policies)
    for row, p in zip(together, policies, strict=True):
        width = np.sqrt(np.maximum(((p.x @ p.a_inv) * p.x).sum(axis=1), 0.0))
        assert np.array_equal(row, p.x @ p.theta + p.alpha * width)
        assert np.array_equal(row, p.scores({}, {"turn": 1}))
