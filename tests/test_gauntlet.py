"""The gauntlet's degenerate policies: each shows exactly what its name says, deterministically."""

from __future__ import annotations

import numpy as np
import pytest

from simrec.env import RecSessionEnv
from simrec.errors import ConfigError
from simrec.policies import POLICIES, make_policy
from simrec.policies.gauntlet import GAUNTLET
from simrec.runner import run_sessions
from tests.conftest import make_persona, small_catalog

PARAMS = {"always_tag": {"tag": "quiet"}}


def env_for(**kwargs) -> RecSessionEnv:
    personas = [
        make_persona(id="sunny", tastes={"tags": {"sunny": 2.0}}, patience=0.95),
        make_persona(id="loud", tastes={"tags": {"loud": 2.0}}, patience=0.95,
                     purchase_propensity=0.95),
    ]  # fmt: skip
    return RecSessionEnv(small_catalog(), personas, max_turns=8, **kwargs)


def slates_of(name: str, env: RecSessionEnv, episodes: int = 6, seed: int = 0, **params):
    policy = make_policy(name, env, seed=seed, **{**PARAMS.get(name, {}), **params})
    interactions, turns = run_sessions(env, policy, episodes, seed=seed).frames()
    return interactions, turns


def shown_by_slate(interactions):
    shown = interactions[interactions["item_index"] >= 0]
    return shown.groupby(["session_id", "turn"])["item_index"].apply(list)


def test_every_gauntlet_policy_is_registered_by_name():
    assert set(GAUNTLET) == {
        "constant_slate", "one_item", "one_fresh_item", "cheapest", "cheapest_rotation",
        "priciest", "always_tag", "reshow_clicked", "reshow_purchased",
    }  # fmt: skip
    assert set(GAUNTLET) <= set(POLICIES)


@pytest.mark.parametrize("name", sorted(GAUNTLET))
def test_gauntlet_policies_ignore_their_seed(name):
    env = env_for()
    first, _ = slates_of(name, env, seed=0)
    policy = make_policy(name, env, seed=99, **PARAMS.get(name, {}))
    again, _ = run_sessions(env, policy, 6, seed=0).frames()
    assert first.equals(again)


def test_a_constant_slate_is_the_same_every_turn_and_looks_diverse():
    env = env_for()
    slates = shown_by_slate(slates_of("constant_slate", env)[0])
    assert slates.map(tuple).nunique() == 1
    categories = env.catalog.category_codes[slates.iloc[0]]
    assert len(set(categories.tolist())) == 3  # one per category, then popular fill


def test_a_constant_slate_of_chosen_items_may_leave_slots_empty():
    env = env_for()
    interactions, turns = slates_of("constant_slate", env, items=["it-007", 3])
    assert shown_by_slate(interactions).map(sorted).map(tuple).unique().tolist() == [(3, 7)]
    assert (turns["duplicates"] == 3).all()
    with pytest.raises(ConfigError, match="constant_slate: items"):
        make_policy("constant_slate", env, items=["nope"])
    with pytest.raises(ConfigError, match="1 to 5 items"):
        make_policy("constant_slate", env, items=list(range(6)))


def test_one_item_shows_one_item_and_empty_slots():
    env = env_for()
    interactions, turns = slates_of("one_item", env)
    assert shown_by_slate(interactions).map(tuple).unique().tolist() == [(0,)]  # most popular
    assert (turns["duplicates"] == env.slate_size - 1).all()
    interactions, _ = slates_of("one_item", env, item="it-010")
    assert set(interactions["item_index"]) == {10, -1}


def test_one_fresh_item_never_shows_an_item_twice_in_a_visit():
    env = env_for()
    interactions, turns = slates_of("one_fresh_item", env)
    slates = shown_by_slate(interactions)
    assert (slates.map(len) == 1).all()
    for _, items in slates.groupby(level=0):
        flat = [x[0] for x in items]
        assert len(flat) == len(set(flat))
    assert (turns["duplicates"] == env.slate_size - 1).all()


def test_cheapest_and_priciest_show_the_price_extremes_every_turn():
    env = env_for()
    prices = env.catalog.prices
    for name, expected in (
        ("cheapest", np.sort(prices)[:5]),
        ("priciest", np.sort(prices)[-5:]),
    ):
        slates = shown_by_slate(slates_of(name, env)[0])
        assert slates.map(tuple).nunique() == 1
        assert np.array_equal(np.sort(prices[slates.iloc[0]]), expected)


def test_cheapest_rotation_walks_the_cheapest_fifth_without_repeating_back_to_back():
    env = env_for()
    pool = set(np.argsort(env.catalog.prices, kind="stable")[:12].tolist())  # 20% of 60
    slates = shown_by_slate(slates_of("cheapest_rotation", env)[0])
    seen = set()
    for items in slates:
        assert set(items) <= pool
        seen |= set(items)
    assert seen == pool
    for _, visit in slates.groupby(level=0):
        items = visit.tolist()
        for a, b in zip(items, items[1:], strict=False):
            assert not set(a) & set(b)


def test_always_tag_shows_the_tag_from_the_first_turn():
    env = env_for()
    quiet = np.array(["quiet" in t for t in env.catalog.tags])
    interactions, _ = slates_of("always_tag", env)
    shown = interactions[interactions["item_index"] >= 0]
    assert quiet[shown["item_index"]].all()
    assert shown["turn"].min() == 1
    by_constraint, _ = slates_of(
        "always_tag", env, tag=None, constraint={"field": "category", "op": "==", "value": "beta"}
    )
    shown = by_constraint[by_constraint["item_index"] >= 0]
    assert (env.catalog.categories[shown["item_index"]] == "beta").all()
    by_token, _ = slates_of("always_tag", env, tag="color=red")
    assert by_token.equals(slates_of("always_tag", env, tag="color=red")[0])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tag": "shiny"}, "'shiny' is not a tag"),
        ({}, "exactly one of tag"),
        ({"tag": None, "constraint": {"field": "tags", "op": "has", "value": "x"}}, "constraint"),
    ],
)
def test_always_tag_rejects_what_the_catalog_lacks(params, message):
    env = env_for()
    with pytest.raises(ConfigError, match=message):
        make_policy("always_tag", env, **params)


@pytest.mark.parametrize("what", ["clicked", "purchased"])
def test_reshow_policies_replay_the_users_own_actions(what):
    env = env_for()
    interactions, _ = slates_of(f"reshow_{what}", env, episodes=10)
    replayed = 0
    for _, visit in interactions.groupby("session_id"):
        last_hit = None
        for _, slate in visit.sort_values(["turn", "position"]).groupby("turn"):
            if last_hit is not None:
                assert slate["item_index"].iloc[0] == last_hit  # slot 0: the latest one
                replayed += 1
            hits = slate[slate[what]]
            if len(hits):
                last_hit = int(hits["item_index"].iloc[-1])
    assert replayed > 5


def test_scripted_policies_work_without_info_and_restart_on_turn_zero():
    env = env_for()
    policy = make_policy("cheapest_rotation", env)
    first = [policy.act(None, None).tolist() for _ in range(3)]
    assert first[0] != first[1]
    assert policy.act(None, {"turn": 0}).tolist() == first[0]
