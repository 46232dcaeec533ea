"""Baseline policies and adapters: valid slates, learning, steering from words, plug-ins."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from simrec.catalog_gen import cached_catalog
from simrec.env import RecSessionEnv
from simrec.errors import ConfigError
from simrec.policies import POLICIES, ReplyParser, make_policy
from simrec.policies.adapters import SB3Policy, load_policy
from simrec.policies.gauntlet import GAUNTLET
from simrec.runner import run_sessions
from tests.conftest import make_persona, small_catalog

BASELINES = ("greedy", "epsilon_greedy", "linucb", "mmr", "steer_aware", "oracle")
LLM_POLICIES = {"llm_reranker", "llm_conversational"}  # need a (fake) API: tests/test_llm_*.py


def small_env(**kwargs) -> RecSessionEnv:
    persona = make_persona(
        tastes={"tags": {"sunny": 2.0}},
        intents=[
            {
                "at_turn": 2,
                "says": "Only beta things from now on, please.",
                "constraint": {"field": "category", "op": "==", "value": "beta"},
            }
        ],
        patience=0.9,
    )
    return RecSessionEnv(small_catalog(), [persona], max_turns=8, **kwargs)


@pytest.mark.parametrize("name", sorted(set(POLICIES) - set(GAUNTLET) - LLM_POLICIES))
def test_every_builtin_policy_shows_valid_distinct_slates_reproducibly(name):
    env = small_env()
    runs = []
    for _ in range(2):
        interactions, _ = run_sessions(env, make_policy(name, env, seed=3), 3, seed=0).frames()
        runs.append(interactions)
        # only a decoder without the catalog's id tree may name items that do not exist
        assert interactions["hallucinated"].any() == (name == "generative_unconstrained")
        named = interactions[~interactions["hallucinated"]]
        slates = named.groupby(["session_id", "turn"])["item_index"].apply(list)
        for slate in slates:
            assert len(set(slate)) == len(slate) and min(slate) >= 0
        assert (interactions.groupby(["session_id", "turn"]).size() == 5).all()
    assert runs[0].equals(runs[1])


def test_only_the_oracle_is_marked_as_cheating():
    env = small_env()
    marked = {n for n in BASELINES if getattr(make_policy(n, env), "cheats", False)}
    assert marked == {"oracle"}


def test_bad_policy_parameters_are_config_errors_naming_the_policy():
    env = small_env()
    with pytest.raises(ConfigError, match="policy 'linucb': bad parameters"):
        make_policy("linucb", env, alpha=-1.0)
    with pytest.raises(ConfigError, match="policy 'random': bad parameters"):
        make_policy("random", env, epsilon=0.1)


@pytest.mark.parametrize("name", ["linucb", "mmr", "greedy"])
def test_in_session_learners_find_a_loved_tag_that_random_slates_do_not(name):
    catalog = small_catalog()
    env = RecSessionEnv(
        catalog, [make_persona(tastes={"tags": {"loud": 2.5}}, patience=0.9)], max_turns=8
    )
    loud = np.array(["loud" in t for t in catalog.tags])

    def late_share(policy) -> float:
        interactions, _ = run_sessions(env, policy, 20, seed=0).frames()
        late = interactions[(interactions["turn"] >= 4) & (interactions["item_index"] >= 0)]
        return float(loud[late["item_index"]].mean())

    learned, blind = (
        late_share(make_policy(name, env, seed=0)),
        late_share(make_policy("random", env)),
    )
    assert learned > blind + 0.2, (learned, blind)


def test_steer_aware_follows_the_request_without_reading_ground_truth():
    class NoPeeking(dict):
        def __getitem__(self, key):
            assert key != "ground_truth", "the steer-aware policy read the hidden constraint"
            return super().__getitem__(key)

        def get(self, key, default=None):
            assert key != "ground_truth", "the steer-aware policy read the hidden constraint"
            return super().get(key, default)

    env = small_env()
    policy = make_policy("steer_aware", env, seed=0)
    obs, info = env.reset(seed=1)
    beta = env.catalog.categories == "beta"
    for turn in range(1, 7):
        slate = policy.act(obs, NoPeeking(info))
        if turn >= 3:  # said in the reply to slate 2
            assert beta[slate].all(), (turn, env.catalog.categories[slate])
        obs, reward, terminated, truncated, info = env.step(slate)
        policy.update(obs, reward, NoPeeking(info))
        if terminated:
            break


GOLF = cached_catalog("golf", 200, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Can I bring Biscuit? Only courses that actually let dogs on, please.",
         np.array(["dog-friendly" in t for t in GOLF.tags])),
        ("honestly I'm broke rn, anything under 45 bucks?", GOLF.prices <= 45),
        ("Nine holes only, I'm short on time.", GOLF.numeric["holes"] == 9),
        ("Not links, please.", GOLF.categories != "links"),
        ("I'm flying to Ireland - only show me courses there.", GOLF.categorical["region"] == "ireland"),
    ],
)  # fmt: skip
def test_reply_parser_turns_requests_into_the_matching_items(text, expected):
    requests = [r for r in ReplyParser(GOLF).parse(text) if r.hard]
    assert len(requests) == 1, requests
    assert np.array_equal(requests[0].mask, expected)


def test_reply_parser_ignores_titles_and_keeps_stated_tastes_soft():
    parser = ReplyParser(GOLF)
    title = next(t for t in GOLF.titles if "Links" in t)
    assert parser.parse(f"Tell me more about {title}.", ignore=(title,)) == []
    (taste,) = parser.parse("I'm into anything desert.")
    assert not taste.hard and taste.mask.sum() == (GOLF.categories == "desert").sum()


def test_adapters_accept_objects_callables_sb3_models_and_dotted_paths(tmp_path: Path, monkeypatch):
    env = small_env()
    fixed = np.arange(5)

    class Model:  # the stable-baselines3 surface
        def predict(self, observation, deterministic=True):
            return fixed, None

    assert isinstance(load_policy("random", env, seed=0), type(make_policy("random", env)))
    module = tmp_path / "team_policies.py"
    module.write_text(
        textwrap.dedent(
            """
            import numpy as np

            class Cheapest:
                def __init__(self, env, seed=None, k=5):
                    self.order = np.argsort(env.unwrapped.catalog.prices)[:k]
                    self.seed = seed

                def act(self, observation, info):
                    return self.order

            class Saved:
                @classmethod
                def load(cls, path):
                    return Model(path)

            class Model:
                def __init__(self, path):
                    self.path = path

                def predict(self, observation, deterministic=True):
                    return np.arange(5), None

            def first_five(observation, info):
                return np.arange(5)

            def make_callable(env):
                return first_five
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    cheapest = load_policy("team_policies:Cheapest", env, seed=7, params={"k": 5})
    assert cheapest.seed == 7
    assert np.array_equal(cheapest.act({}, {}), np.argsort(env.catalog.prices)[:5])
    saved = load_policy("team_policies:Saved", env, load=tmp_path / "model.zip")
    assert isinstance(saved, SB3Policy) and saved.model.path.endswith("model.zip")
    wrapped = load_policy("team_policies:make_callable", env)
    for policy in (cheapest, saved, wrapped, SB3Policy(Model())):
        interactions, _ = run_sessions(env, policy, 1, seed=0).frames()
        assert len(interactions) > 0
    with pytest.raises(ConfigError, match="cannot import 'nope'"):
        load_policy("nope:Policy", env)
    with pytest.raises(ConfigError, match="has no 'Missing'"):
        load_policy("team_policies:Missing", env)
    sys.modules.pop("team_policies", None)


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [
        ("simrec.baselines", "LinUCBPolicy", "simrec.policies"),
        ("simrec.baselines.bandits", "GreedyPolicy", "simrec.policies.greedy"),
        ("simrec.baselines.steer", "SteerAwarePolicy", "simrec.policies.steer_aware"),
        ("simrec.adapters", "load_policy", "simrec.policies.adapters"),
    ],
)
def test_old_import_paths_still_work_with_a_deprecation_warning(old, name, new):
    import importlib
    import sys

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"import from {new} instead"):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)


def test_a_new_linucb_session_starts_from_the_prior_whatever_other_sessions_learned():
    # Sessions share one read-only prior: learning must replace it, never write into it.
    env = small_env()
    learner, fresh = make_policy("linucb", env, seed=0), make_policy("linucb", env, seed=0)
    before = fresh.scores({}, {"turn": 0}).copy()
    obs, info = env.reset(seed=1)
    for _ in range(3):
        obs, reward, _, _, info = env.step(learner.act(obs, info))
        learner.update(obs, reward, info)
    assert not np.array_equal(learner.scores({}, info), before)
    learner.reset()
    assert np.array_equal(learner.scores({}, {"turn": 0}), before)
    assert np.array_equal(fresh.scores({}, {"turn": 0}), before)
    assert not fresh.a_inv.flags.writeable
