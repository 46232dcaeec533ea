"""Semantic-id action wrappers on the single and vector env: hallucinations shown empty,
counted and logged; valid ids behave exactly like the item indices they name."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import simrec  # noqa: F401  (registers the envs)
from simrec.errors import ActionError, ConfigError
from simrec.events import EventLog
from simrec.semantic_ids import (
    ResolvedSlate,
    SemanticIdSlate,
    SemanticIdSlateVector,
    for_action_form,
)

GOLF = "simrec/Golf-v0"


def golf_ids() -> np.ndarray:
    return gym.make(GOLF).unwrapped.catalog.semantic_ids


@pytest.mark.parametrize("form", ["semantic_id", "semantic_tokens"])
def test_wrapped_env_passes_check_env(form):
    env = SemanticIdSlate(gym.make(GOLF, render_mode="ansi").unwrapped, form=form)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=".*different from the unwrapped version")
        check_env(env, skip_render_check=True)


def test_a_hallucinated_slot_is_shown_empty_counted_and_logged():
    env = SemanticIdSlate(gym.make(GOLF, render_mode="ansi"))
    ids = golf_ids()
    log = EventLog()
    env.unwrapped.event_log = log
    env.reset(seed=3)
    action = [ids[10], "desert/atlantis/heroic/hard/premium/0", ids[11], ids[10], ""]
    _, _, _, _, info = env.step(action)
    assert info["hallucinated"] == 2 and info["duplicates"] == 1
    assert info["slate"] == [10, -1, 11, -1, -1]
    reaction = info["reaction"]
    for pos in (1, 3, 4):  # empty slots get no feedback
        assert not (reaction.clicked[pos] or reaction.purchased[pos] or reaction.dismissed[pos])
    rows, turns = log.frames()
    assert rows["hallucinated"].tolist() == [False, True, False, False, True]
    assert rows["emitted_id"].tolist() == [str(a) for a in action]
    assert rows["item_id"].isna().tolist() == [False, True, False, True, True]
    assert turns["duplicates"].tolist() == [1]
    text = env.render()
    assert "hallucinated id 'desert/atlantis/heroic/hard/premium/0'" in text
    assert "(duplicate, not shown)" in text


def test_item_index_actions_log_no_hallucinations_and_info_always_has_the_count():
    env = gym.make(GOLF)
    env.unwrapped.event_log = log = EventLog()
    _, info = env.reset(seed=0)
    assert info["hallucinated"] == 0
    _, _, _, _, info = env.step(np.arange(5))
    assert info["hallucinated"] == 0
    rows, _ = log.frames()
    assert not rows["hallucinated"].any() and rows["emitted_id"].isna().all()


@pytest.mark.parametrize("form", ["semantic_id", "semantic_tokens"])
def test_valid_ids_give_the_trajectory_of_the_item_indices_they_name(form):
    plain = gym.make(GOLF)
    named = SemanticIdSlate(gym.make(GOLF), form=form)
    tree = named.hierarchy
    rng = np.random.default_rng(0)
    for seed in range(3):
        a, _ = plain.reset(seed=seed)
        b, _ = named.reset(seed=seed)
        done = False
        while not done:
            slate = rng.choice(200, 5, replace=False)
            action = tree.ids[slate].tolist() if form == "semantic_id" else tree.codes[slate]
            a, ra, ta, tra, ia = plain.step(slate)
            b, rb, tb, trb, ib = named.step(action)
            assert ra == rb and ta == tb and tra == trb and ia["reply"] == ib["reply"]
            for key in a:
                np.testing.assert_array_equal(a[key], b[key])
            done = ta or tra


def test_fuzzed_strings_never_crash_the_env():
    env = SemanticIdSlate(gym.make(GOLF))
    ids = set(golf_ids())
    rng = np.random.default_rng(7)
    alphabet = list("abcdefghijklmnopqrstuvwxyz0123456789/-_ \t\n\u00e9\u2603") + ["//", "\x00"]
    env.reset(seed=0)
    hallucinated = 0
    for _ in range(200):
        action = ["".join(rng.choice(alphabet, rng.integers(0, 40))) for _ in range(5)]
        *_, terminated, truncated, info = env.step(action)
        hallucinated += info["hallucinated"]
        assert info["hallucinated"] == sum(a not in ids for a in action)
        if terminated or truncated:
            env.reset()
    assert hallucinated > 900


def test_a_user_built_resolved_slate_must_be_consistent():
    env = gym.make(GOLF)
    env.reset(seed=0)
    flags = np.array([False, True, False, False, False])
    with pytest.raises(ActionError, match="exactly where it is hallucinated"):
        env.step(ResolvedSlate(np.array([0, 1, 2, 3, 4]), flags))
    with pytest.raises(ActionError, match="exactly where it is hallucinated"):
        env.step(ResolvedSlate(np.array([0, -1, -1, 3, 4]), flags))
    with pytest.raises(ActionError, match="integer items and bool flags"):
        env.step(ResolvedSlate(np.array([0, -1, 2, 3, 4]), flags.astype(int)))
    _, _, _, _, info = env.step(ResolvedSlate(np.array([0, -1, 2, 3, 4]), flags))
    assert info["hallucinated"] == 1 and info["slate"] == [0, -1, 2, 3, 4]


def test_conversational_semantic_id_actions_carry_the_message():
    env = SemanticIdSlate(gym.make(GOLF, conversational=True))
    env.unwrapped.event_log = log = EventLog()
    env.reset(seed=0)
    ids = golf_ids()
    _, _, _, _, info = env.step({"slate": [*ids[:4], "nowhere"], "message": "Try these."})
    assert info["message"] == "Try these." and info["hallucinated"] == 1
    assert set(env.action_space.sample()) == {"slate", "message"}
    _, turns = log.frames()
    assert turns["message"].tolist() == ["Try these."]


@pytest.mark.parametrize("form", ["semantic_id", "semantic_tokens"])
def test_vector_wrapper_matches_wrapped_single_envs(form):
    n = 4
    vec = SemanticIdSlateVector(gym.make_vec(GOLF, num_envs=n), form=form)
    singles = [SemanticIdSlate(gym.make(GOLF), form=form) for _ in range(n)]
    tree = vec.hierarchy
    vec.reset(seed=10)
    for i, env in enumerate(singles):
        env.reset(seed=10 + i)
    rng = np.random.default_rng(1)
    ended = np.zeros(n, dtype=bool)
    for _ in range(30):
        picks = rng.integers(0, 200, (n, 5))
        if form == "semantic_id":
            actions = tree.ids[picks].astype(object)
            actions[rng.random((n, 5)) < 0.3] = "made/up/id"
        else:
            actions = tree.codes[picks]
            actions[..., -1] = rng.integers(0, len(tree.vocabularies[-1]), (n, 5))
        _, rewards, term, trunc, info = vec.step(actions)
        for i, env in enumerate(singles):
            if ended[i]:  # the vector env resets this sub-env now (next-step autoreset)
                env.reset()
                assert info["hallucinated"][i] == 0 and rewards[i] == 0
                continue
            _, r, t, tr, single = env.step(actions[i])
            assert (r, t, tr) == (rewards[i], term[i], trunc[i])
            assert single["hallucinated"] == info["hallucinated"][i]
            assert single["duplicates"] == info["duplicates"][i]
        ended = term | trunc
    assert info["_hallucinated"].all()


def test_vector_wrapper_rejects_malformed_batches():
    vec = SemanticIdSlateVector(gym.make_vec(GOLF, num_envs=2))
    vec.reset(seed=0)
    with pytest.raises(ActionError, match=r"expected shape \(2, 5\)"):
        vec.step([["a"] * 5])
    with pytest.raises(ActionError, match=r"slot \(1, 4\) holds None"):
        vec.step([["a"] * 5, ["a"] * 4 + [None]])
    sample = vec.action_space.sample()
    _, _, _, _, info = vec.step(sample)
    assert info["hallucinated"].shape == (2,)


def test_for_action_form_wraps_once_and_refuses_a_conflicting_form():
    env = gym.make(GOLF)
    assert for_action_form(env, "item_index") is env
    wrapped = for_action_form(env, "semantic_id")
    assert isinstance(wrapped, SemanticIdSlate)
    assert for_action_form(wrapped, "semantic_id") is wrapped
    with pytest.raises(ConfigError, match="takes semantic_id actions"):
        for_action_form(wrapped, "semantic_tokens")
    with pytest.raises(ConfigError, match="form: expected one of"):
        SemanticIdSlate(env, form="strings")
