"""The utility brain behaves like a user: tastes, dislikes, boredom, price, steering."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest

from simrec.brains import UtilityBrain, make_brain
from simrec.env import RecSessionEnv
from simrec.errors import ConfigError
from tests.conftest import make_persona, small_catalog

Slate = Callable[[RecSessionEnv, np.random.Generator, int], np.ndarray]


def rollout(env: RecSessionEnv, choose: Slate, episodes: int, max_turns: int = 20) -> list[dict]:
    """Every step's slate and reaction over ``episodes`` seeded sessions."""
    rng = np.random.default_rng(99)
    steps = []
    for episode in range(episodes):
        env.reset(seed=episode)
        for turn in range(1, max_turns + 1):
            slate = choose(env, rng, turn)
            _, reward, terminated, truncated, info = env.step(slate)
            steps.append(
                {
                    "turn": turn,
                    "slate": list(slate),
                    "reaction": info["reaction"],
                    "reward": reward,
                    "left": terminated,
                    "info": info,
                }
            )
            if terminated or truncated:
                break
    return steps


def random_slate(env: RecSessionEnv, rng: np.random.Generator, turn: int) -> np.ndarray:
    return rng.choice(len(env.catalog), size=env.slate_size, replace=False)


def per_impression(
    steps: list[dict], field: str, has: Callable[[int], bool]
) -> tuple[float, float]:
    """Rate of ``field`` among impressions of items where ``has`` holds, and where it doesn't."""
    hits = {True: 0, False: 0}
    shown = {True: 0, False: 0}
    for step in steps:
        flags = getattr(step["reaction"], field)
        for item, flag in zip(step["slate"], flags, strict=True):
            shown[has(item)] += 1
            hits[has(item)] += flag
    return hits[True] / shown[True], hits[False] / shown[False]


def test_loved_tag_is_clicked_far_more_often_than_other_items():
    catalog = small_catalog()
    persona = make_persona(tastes={"tags": {"sunny": 2.0}}, boredom_rate=0.1, patience=0.9)
    env = RecSessionEnv(catalog, [persona])
    steps = rollout(env, random_slate, episodes=60)
    with_tag, without = per_impression(steps, "clicked", lambda i: "sunny" in catalog.tags[i])
    assert with_tag > 4 * without, (with_tag, without)


def test_disliked_items_are_dismissed_far_more_often_than_neutral_ones():
    catalog = small_catalog()
    persona = make_persona(dislikes={"tags": ["loud"]}, patience=0.9)
    env = RecSessionEnv(catalog, [persona])
    steps = rollout(env, random_slate, episodes=60)
    loud, neutral = per_impression(steps, "dismissed", lambda i: "loud" in catalog.tags[i])
    assert loud > 5 * neutral, (loud, neutral)
    assert loud > 0.2


def test_repeating_one_slate_bores_the_user_until_they_leave():
    catalog = small_catalog()
    persona = make_persona(tastes={"tags": {"sunny": 1.5}}, boredom_rate=0.8, patience=0.4)
    env = RecSessionEnv(catalog, [persona], max_turns=30)
    fixed = np.array([1, 3, 5, 7, 9])  # all sunny: the user likes them at first
    steps = rollout(env, lambda e, r, t: fixed, episodes=300, max_turns=30)
    click_rate = {
        t: np.mean([any(s["reaction"].clicked) for s in steps if s["turn"] == t]) for t in (1, 3, 6)
    }
    assert click_rate[1] > click_rate[3] + 0.15 > click_rate[6] + 0.2, click_rate
    sessions = [s for s in steps if s["left"] or s["turn"] == 30]
    assert len(sessions) == 300
    left_by_15 = np.mean([s["left"] and s["turn"] <= 15 for s in sessions])
    assert left_by_15 > 0.9, left_by_15


def test_varied_slates_keep_the_user_longer_than_a_repeated_one():
    catalog = small_catalog()
    persona = make_persona(tastes={"tags": {"sunny": 1.5}}, boredom_rate=0.8, patience=0.4)
    sunny = [i for i in range(len(catalog)) if "sunny" in catalog.tags[i]]
    env = RecSessionEnv(catalog, [persona], max_turns=30)
    fixed = rollout(env, lambda e, r, t: np.array(sunny[:5]), episodes=100, max_turns=30)
    rotating = rollout(
        env, lambda e, r, t: r.choice(sunny, 5, replace=False), episodes=100, max_turns=30
    )
    # 100 sessions each: total steps / 100 is the mean session length.
    assert len(rotating) / 100 > len(fixed) / 100 + 2.0, (len(rotating), len(fixed))


def test_price_sensitive_users_buy_expensive_items_less():
    catalog = small_catalog()
    expensive = np.array([i for i in range(len(catalog)) if catalog.prices[i] >= 200])
    purchases = {}
    for sensitivity in (0.05, 0.95):
        persona = make_persona(price_sensitivity=sensitivity, purchase_propensity=0.9, patience=0.9)
        env = RecSessionEnv(catalog, [persona])
        steps = rollout(env, lambda e, r, t: r.choice(expensive, 5, replace=False), episodes=80)
        purchases[sensitivity] = sum(sum(s["reaction"].purchased) for s in steps) / len(steps)
    assert purchases[0.95] < 0.5 * purchases[0.05], purchases


def test_a_purchase_is_always_a_click_and_never_a_dismissal():
    catalog = small_catalog()
    env = RecSessionEnv(catalog, [make_persona(dislikes={"tags": ["loud"]})])
    for step in rollout(env, random_slate, episodes=40):
        r = step["reaction"]
        assert sum(r.clicked) <= 1
        for c, p, d in zip(r.clicked, r.purchased, r.dismissed, strict=True):
            assert not (p and not c)
            assert not (c and d)


def test_followed_requests_please_and_ignored_ones_frustrate():
    catalog = small_catalog()
    says = "Only alpha things from now on, please."
    persona = make_persona(
        intents=[
            {
                "at_turn": 2,
                "says": says,
                "constraint": {"field": "category", "op": "==", "value": "alpha"},
            }
        ],
        patience=0.9,
    )
    alpha = [i for i in range(len(catalog)) if catalog.categories[i] == "alpha"]
    other = [i for i in range(len(catalog)) if catalog.categories[i] != "alpha"]
    env = RecSessionEnv(catalog, [persona], max_turns=8)

    def slates(pool_after: list[int]) -> Slate:
        return lambda e, r, t: r.choice(other if t <= 2 else pool_after, 5, replace=False)

    followed = rollout(env, slates(alpha), episodes=80, max_turns=8)
    ignored = rollout(env, slates(other), episodes=80, max_turns=8)
    said = [s["info"]["reply"] for s in followed if s["turn"] == 2]
    assert said and all(says in reply for reply in said)

    def satisfaction_at(steps: list[dict], turn: int) -> float:
        return float(np.mean([s["reaction"].satisfaction for s in steps if s["turn"] == turn]))

    assert satisfaction_at(followed, 6) > satisfaction_at(ignored, 6) + 0.15
    assert any(
        "As I said" in s["info"]["reply"] or "not listening" in s["info"]["reply"]
        for s in ignored
        if s["turn"] > 2
    )
    constraint = followed[-1]["info"]["ground_truth"]["active_constraint"]
    assert json.loads(constraint) == {"field": "category", "op": "==", "value": "alpha"}


def test_drift_changes_what_the_user_clicks():
    catalog = small_catalog()
    persona = make_persona(
        tastes={"category": {"alpha": 2.0}},
        drifts=[{"at_turn": 5, "tastes": {"category": {"beta": 2.0}}}],
        boredom_rate=0.0,
        patience=1.0,
    )
    env = RecSessionEnv(catalog, [persona], max_turns=12)
    mixed = [0, 1, 3, 4, 6]  # alpha, beta, alpha, beta, alpha
    steps = rollout(env, lambda e, r, t: np.array(mixed), episodes=100, max_turns=12)

    def beta_share(turns: range) -> float:
        picks = [
            catalog.categories[s["slate"][s["reaction"].clicked.index(True)]]
            for s in steps
            if s["turn"] in turns and any(s["reaction"].clicked)
        ]
        return picks.count("beta") / len(picks)

    assert beta_share(range(1, 6)) < 0.2 < 0.8 < beta_share(range(6, 13))


def test_unknown_brain_and_bad_brain_kwargs_are_clear_errors():
    with pytest.raises(ConfigError, match="unknown brain 'telepathy'"):
        make_brain("telepathy")
    with pytest.raises(ConfigError, match="bad brain_kwargs"):
        make_brain("utility", not_a_param=1.0)
    assert make_brain("utility", outside_utility=3.0).params.outside_utility == 3.0
    assert isinstance(make_brain(UtilityBrain()), UtilityBrain)
