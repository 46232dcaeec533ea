"""The generative recommender over semantic ids: constrained decoding never hallucinates,
unconstrained decoding does, and both learn the user's prefixes within a session."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import simrec  # noqa: F401  (registers the envs)
from simrec.catalog import Catalog
from simrec.env import RecSessionEnv
from simrec.errors import ConfigError
from simrec.metrics import hallucination_rate
from simrec.policies import GenerativePolicy, make_policy
from simrec.reaction import Reaction
from simrec.runner import run_sessions
from tests.conftest import make_persona, small_catalog


@pytest.mark.parametrize("preset", ["Golf-v0", "Books-v0", "Retail-v0"])
def test_constrained_never_hallucinates_and_unconstrained_does_on_every_shipped_catalog(preset):
    env = gym.make(f"simrec/{preset}")
    rates = {}
    for name in ("generative_constrained", "generative_unconstrained"):
        interactions, _ = run_sessions(env, make_policy(name, env, seed=1), 12, seed=0).frames()
        rates[name] = hallucination_rate(interactions)
        assert interactions["emitted_id"].notna().all()
    assert rates["generative_constrained"] == 0.0
    assert rates["generative_unconstrained"] > 0.5


def test_constrained_slates_are_distinct_catalog_ids_never_shown_twice_in_a_session():
    env = gym.make("simrec/Golf-v0")
    interactions, turns = run_sessions(
        env, make_policy("generative_constrained", env, seed=0), 6, seed=0
    ).frames()
    assert (interactions["item_index"] >= 0).all()
    assert set(interactions["emitted_id"]) <= set(env.unwrapped.catalog.semantic_ids)
    assert not interactions.duplicated(["session_id", "item_index"]).any()
    assert (turns["duplicates"] == 0).all()


def test_same_seed_same_ids_other_seed_other_ids():
    env = gym.make("simrec/Golf-v0")
    obs, info = env.reset(seed=0)
    first = make_policy("generative_unconstrained", env, seed=5).act(obs, info)
    again = make_policy("generative_unconstrained", env, seed=5).act(obs, info)
    other = make_policy("generative_unconstrained", env, seed=6).act(obs, info)
    assert first == again and first != other


def tree_env(ids: list[str], **kwargs) -> RecSessionEnv:
    base = small_catalog(len(ids))
    catalog = Catalog(
        base.item_ids, base.titles, base.categories, base.prices, base.tags,
        base.popularity, base.descriptions, ids, domain="test",
    )  # fmt: skip
    return RecSessionEnv(catalog, [make_persona()], **kwargs)


def feedback(policy: GenerativePolicy, env: RecSessionEnv, slate: list[str], liked: str) -> None:
    """Tell the policy the user clicked and bought everything under ``liked`` and
    dismissed the rest."""
    items = env.catalog.semantic_ids.tolist()
    shown = [items.index(i) for i in slate]
    hit = [i.startswith(liked) for i in slate]
    reaction = Reaction(hit, hit, [not h for h in hit], False, 0.5, "", "test")
    policy.update(None, 0.0, {"turn": policy.turn + 1, "slate": shown, "reaction": reaction})


@pytest.mark.parametrize("constrained", [True, False])
def test_feedback_on_a_prefix_steers_decoding_towards_it(constrained):
    ids = [f"{a}/{b}/{c}" for a in ("red", "blue", "green") for b in "xyz" for c in "0123"]
    env = tree_env(ids, slate_size=4)
    policy = GenerativePolicy(env, seed=0, constrained=constrained, fresh=False)
    for _ in range(6):
        slate = policy.act(None, {"turn": policy.turn})
        known = [i for i in slate if i in ids]
        feedback(policy, env, known, liked="blue/")
    tail = [policy.act(None, {"turn": policy.turn}) for _ in range(10)]
    share = np.mean([i.startswith("blue/") for slate in tail for i in slate])
    assert share > 0.7
    mean, _, _ = policy.posterior()
    assert mean[env_node(policy, "blue")] > mean[env_node(policy, "red")]


def env_node(policy: GenerativePolicy, token: str) -> int:
    tree = policy.tree
    return int(tree.children(0)[list(tree.vocabularies[0]).index(token)])


def test_a_new_session_forgets_the_previous_user():
    ids = [f"{a}/{b}" for a in ("red", "blue") for b in "0123"]
    env = tree_env(ids, slate_size=2)
    policy = GenerativePolicy(env, seed=0)
    feedback(policy, env, policy.act(None, {"turn": 0}), liked="")  # liked everything
    assert policy.successes.any() and policy.shown_ids
    policy.act(None, {"turn": 0})  # turn 0 again: another user arrived
    assert not policy.successes.any() and not policy.shown_ids


def test_mixed_depth_ids_decode_in_both_forms():
    ids = ["a/b", "a/b/c", "a/d/e", "x", "y/z/w/v", "y/z/w/u", "q/r"]
    env = tree_env(ids, slate_size=3, max_turns=6)
    for constrained, rate in ((True, 0.0), (False, None)):
        policy = GenerativePolicy(env, seed=2, constrained=constrained, fresh=False)
        interactions, _ = run_sessions(env, policy, 8, seed=0).frames()
        if rate is not None:
            assert hallucination_rate(interactions) == rate
            assert set(interactions["emitted_id"]) <= set(ids)
        else:
            assert hallucination_rate(interactions) > 0
    # the constrained decoder reaches every item, the one under an END token included
    seen = set()
    policy = GenerativePolicy(env, seed=0, fresh=False)
    for turn in range(40):
        seen.update(policy.act(None, {"turn": turn + 1}))
    assert seen == set(ids)


def test_bad_parameters_are_config_errors():
    env = gym.make("simrec/Golf-v0")
    with pytest.raises(ConfigError, match="prior_strength > 0"):
        make_policy("generative_constrained", env, prior_strength=0)
    with pytest.raises(ConfigError, match="bad parameters"):
        make_policy("generative_unconstrained", env, beam=3)
