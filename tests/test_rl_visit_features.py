"""simrec.rl.visit_features: per-item features follow what the user did and said this visit."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from simrec.reaction import Reaction
from simrec.rl.visit_features import ITEM_FEATURES, VISIT_FEATURES, VisitFeatures
from simrec.wrappers import ScoreSlateWrapper
from tests.conftest import make_persona, small_catalog

COLUMN = {name: i for i, name in enumerate(ITEM_FEATURES)}


def make_env(**kwargs) -> gym.Env:
    kwargs = {"catalog": small_catalog(), "personas": [make_persona()], "slate_size": 3, **kwargs}
    return gym.make("simrec/RecSession-v0", **kwargs)


def step_info(slate, clicked=(), purchased=(), dismissed=(), reply="", turn=1) -> dict:
    k = len(slate)
    return {
        "turn": turn,
        "slate": list(slate),
        "reply": reply,
        "reaction": Reaction(
            clicked=[p in clicked or p in purchased for p in range(k)],
            purchased=[p in purchased for p in range(k)],
            dismissed=[p in dismissed for p in range(k)],
            left=False,
            satisfaction=0.5,
            reply=reply,
            brain="test",
        ),
    }


def column(features: VisitFeatures, name: str) -> np.ndarray:
    return features.observation()["item_features"][:, COLUMN[name]]


def test_a_click_makes_similar_items_score_and_a_purchase_makes_the_item_owned():
    catalog = small_catalog()
    features = VisitFeatures(make_env())
    features.start({"turn": 0, "reply": ""})
    assert not column(features, "like_clicked").any()
    features.follow(step_info([4, 5, 6], clicked=[0], purchased=[1], dismissed=[2]))
    like = column(features, "like_clicked")
    assert like[4] == pytest.approx(1.0) and like[5] == pytest.approx(1.0)
    same = [i for i in range(len(catalog)) if catalog.categories[i] == catalog.categories[4]]
    other = [i for i in range(len(catalog)) if catalog.categories[i] != catalog.categories[4]]
    # items of the clicked item's category resemble it more than the rest do
    assert like[same].mean() > like[other].mean()
    assert column(features, "owned")[5] == 1 and column(features, "owned")[4] == 0
    assert column(features, "clicked")[[4, 5]].tolist() == [1, 1]
    assert column(features, "like_dismissed")[6] == pytest.approx(1.0)
    assert column(features, "shown_last")[[4, 5, 6, 7]].tolist() == [1, 1, 1, 0]
    visit = dict(zip(VISIT_FEATURES, features.observation()["visit_features"], strict=True))
    assert visit["last_clicked"] == 1 and visit["last_purchased"] == 1
    assert visit["purchases"] == pytest.approx(1 / 3)


def test_repetition_and_price_against_what_the_user_accepted():
    catalog = small_catalog()
    features = VisitFeatures(make_env())
    features.start({"turn": 0})
    cheap = 0  # every third item (2, 5, ...) is expensive in the small catalog
    features.follow(step_info([cheap, 1, 3], clicked=[0], turn=1))
    features.follow(step_info([cheap, 6, 9], turn=2))
    shown = column(features, "times_shown")
    assert shown[cheap] == pytest.approx(2 / 3) and shown[1] == pytest.approx(1 / 3)
    assert shown[2] == 0
    price = column(features, "price_vs_accepted")
    assert price[2] > 0 > price[1] - price[2]  # an expensive item is dearer than what was clicked
    assert column(features, "above_accepted")[2] == 1
    assert catalog.prices[2] > catalog.prices[cheap]


def test_what_the_user_says_marks_the_requested_and_liked_items():
    catalog = small_catalog()
    features = VisitFeatures(make_env())
    features.start({"turn": 0, "reply": "Only quiet ones, please."})
    requested = column(features, "requested").astype(bool)
    quiet = np.array(["quiet" in tags for tags in catalog.tags])
    assert np.array_equal(requested, quiet)
    features.follow(step_info([0, 1, 2], reply="I'm into anything loud."))
    loud = np.array(["loud" in tags for tags in catalog.tags])
    assert np.array_equal(column(features, "stated_taste") > 0, loud)
    visit = dict(zip(VISIT_FEATURES, features.observation()["visit_features"], strict=True))
    assert visit["requested"] == 1 and visit["stated_taste"] > 0


def test_history_counts_as_owned_and_a_new_visit_forgets_the_last():
    features = VisitFeatures(make_env())
    features.start({"turn": 0, "user_history": np.array([7, 8, -1]), "user_history_length": 2})
    assert column(features, "owned")[[7, 8]].tolist() == [1, 1]
    assert column(features, "like_history")[7] == pytest.approx(1.0)
    features.follow(step_info([1, 2, 3], clicked=[0]))
    features.follow({"turn": 0, "reply": ""})
    observation = features.observation()
    assert not observation["item_features"][:, COLUMN["owned"]].any()
    assert not observation["item_features"][:, COLUMN["like_clicked"]].any()
    assert not observation["visit_features"][1:].any()  # no clicks, purchases, requests


def test_the_score_wrapper_with_item_features_is_a_valid_deterministic_env():
    from gymnasium.utils.env_checker import check_env

    def rollout(seed: int) -> list[np.ndarray]:
        env = ScoreSlateWrapper(make_env(max_turns=6), item_features=True)
        obs, _ = env.reset(seed=seed)
        out = [obs["item_features"]]
        for t in range(6):
            obs, _, terminated, truncated, _ = env.step(np.linspace(-1, 1, 60)[::-1] * (t % 2))
            out.append(obs["item_features"])
            if terminated or truncated:
                break
        return out

    env = ScoreSlateWrapper(make_env(), item_features=True)
    assert env.observation_space["item_features"].shape == (60, len(env.visit.feature_names))
    with pytest.warns(UserWarning):  # gymnasium warns about wrappers and unbounded boxes
        check_env(env, skip_render_check=True)
    first, again = rollout(3), rollout(3)
    assert len(first) == len(again)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
