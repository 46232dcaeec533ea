"""The utility brain behaves like a user: tastes, dislikes, boredom, price, steering."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import numpy as np
import pytest

from simrec.brains import UtilityBrain, make_brain
from simrec.env import RecSessionEnv
from simrec.errors import ConfigError
from simrec.replies import default_templates
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


def click_rate(steps: list[dict], turns: range | tuple[int, ...]) -> float:
    """Share of the steps at ``turns`` with a click."""
    return float(np.mean([any(s["reaction"].clicked) for s in steps if s["turn"] in turns]))


def test_the_first_slot_is_clicked_clearly_more_than_the_last_for_the_same_items():
    catalog = small_catalog()
    persona = make_persona(boredom_rate=0.0, patience=1.0)
    env = RecSessionEnv(catalog, [persona], max_turns=10)
    items = np.array([0, 1, 3, 4, 6])  # each item visits every slot equally often
    steps = rollout(env, lambda e, r, t: r.permutation(items), episodes=300, max_turns=10)
    per_slot = np.mean([s["reaction"].clicked for s in steps], axis=0)
    assert per_slot[0] == per_slot.max() and per_slot[0] > 1.35 * per_slot[4], per_slot


def test_boredom_wears_off_after_turns_of_other_categories():
    catalog = small_catalog()
    persona = make_persona(tastes={"tags": {"sunny": 1.5}}, boredom_rate=0.8, patience=1.0)
    env = RecSessionEnv(catalog, [persona], max_turns=12)
    alpha = [i for i in range(len(catalog)) if catalog.categories[i] == "alpha"]
    repeated = np.array([i for i in alpha if "sunny" in catalog.tags[i]][:5])
    others = [i for i in range(len(catalog)) if catalog.categories[i] != "alpha"]

    def rate_after(rest: int) -> float:
        """Click rate on ``repeated`` shown for turns 1-3, then ``rest`` turns of others."""

        def slates(e: RecSessionEnv, r: np.random.Generator, turn: int) -> np.ndarray:
            return repeated if turn <= 3 or turn > 3 + rest else r.choice(others, 5, replace=False)

        steps = rollout(env, slates, episodes=400, max_turns=4 + rest)
        return click_rate(steps, (1,)), click_rate(steps, (4 + rest,))

    (first, right_after), (_, two_later), (_, five_later) = map(rate_after, (0, 2, 5))
    rates = (first, right_after, two_later, five_later)
    # SessionDynamics: item exposure keeps 0.8 per turn, category exposure 0.6 per turn.
    assert five_later > two_later + 0.1 > right_after + 0.2, rates
    assert five_later > 4 * right_after and five_later > 0.6 * first, rates


def test_fatigue_grows_every_turn_faster_for_impatient_users_and_costs_clicks_and_turns():
    catalog = small_catalog()
    runs = {}
    for patience in (0.0, 1.0):
        persona = make_persona(boredom_rate=0.0, patience=patience)
        env = RecSessionEnv(catalog, [persona], max_turns=30)
        runs[patience] = rollout(env, random_slate, episodes=200, max_turns=30)
    for patience, steps in runs.items():
        for previous, step in zip(steps, steps[1:], strict=False):
            if step["turn"] > 1:
                grew = step["info"]["ground_truth"]["fatigue"]
                assert grew > previous["info"]["ground_truth"]["fatigue"], patience
    impatient, patient = runs[0.0], runs[1.0]
    at_five = {p: steps[4]["info"]["ground_truth"]["fatigue"] for p, steps in runs.items()}
    assert at_five[0.0] > 3 * at_five[1.0], at_five
    # Boredom is off and slates are random, so the falling click rate is fatigue's doing.
    early, late = range(1, 4), range(10, 16)
    assert click_rate(impatient, late) < 0.7 * click_rate(impatient, early)
    assert len(patient) / 200 > len(impatient) / 200 + 4.0, (len(patient), len(impatient))


def test_purchase_propensity_turns_many_more_clicks_into_purchases():
    catalog = small_catalog()
    per_click = {}
    for propensity in (0.1, 0.9):
        persona = make_persona(purchase_propensity=propensity, boredom_rate=0.1, patience=0.9)
        steps = rollout(RecSessionEnv(catalog, [persona]), random_slate, episodes=100)
        clicks = sum(sum(s["reaction"].clicked) for s in steps)
        per_click[propensity] = sum(sum(s["reaction"].purchased) for s in steps) / clicks
    assert per_click[0.9] > 4 * per_click[0.1], per_click


def says(reply: str, kind: str) -> bool:
    """Whether ``reply`` contains one of the shipped ``kind`` templates, placeholders filled."""
    patterns = (
        re.sub(r"\\\{\w+\\\}", ".+", re.escape(line)) for line in default_templates().lines[kind]
    )
    return any(re.search(pattern, reply) for pattern in patterns)


def silent_turns(steps: list[dict]) -> list[dict]:
    return [s for s in steps if not any(s["reaction"].clicked)]


def test_a_bored_user_says_so_when_the_same_slate_comes_back():
    catalog = small_catalog()
    fixed = np.array([1, 3, 5, 7, 9])
    bored_share = {}
    for boredom_rate in (0.1, 0.8):
        persona = make_persona(boredom_rate=boredom_rate, patience=0.9)
        env = RecSessionEnv(catalog, [persona], max_turns=12)
        steps = rollout(env, lambda e, r, t: fixed, episodes=100, max_turns=12)
        first = [says(s["info"]["reply"], "bored") for s in silent_turns(steps) if s["turn"] == 1]
        assert first and not any(first)  # nothing has been shown before
        repeats = [says(s["info"]["reply"], "bored") for s in silent_turns(steps) if s["turn"] > 1]
        bored_share[boredom_rate] = float(np.mean(repeats))
    assert bored_share[0.8] > 0.95 and bored_share[0.1] < 0.5, bored_share


def test_a_price_sensitive_user_calls_expensive_slates_too_pricey():
    catalog = small_catalog()
    expensive = np.array([i for i in range(len(catalog)) if catalog.prices[i] >= 200])
    cheap = np.array([i for i in range(len(catalog)) if catalog.prices[i] < 200])
    pricey = {}
    for sensitivity in (0.05, 0.95):
        persona = make_persona(price_sensitivity=sensitivity, boredom_rate=0.0, patience=0.9)
        env = RecSessionEnv(catalog, [persona])
        for name, pool in (("expensive", expensive), ("cheap", cheap)):
            steps = rollout(env, lambda e, r, t, p=pool: r.choice(p, 5, replace=False), episodes=40)
            replies = [says(s["info"]["reply"], "pricey") for s in silent_turns(steps)]
            pricey[sensitivity, name] = float(np.mean(replies))
    assert pricey[0.95, "expensive"] > 0.9, pricey
    assert pricey[0.95, "cheap"] == pricey[0.05, "expensive"] == 0.0, pricey


def test_a_user_names_the_disliked_thing_they_dismissed_and_says_bye_when_leaving():
    catalog = small_catalog()
    persona = make_persona(dislikes={"tags": ["loud"]}, boredom_rate=0.1, patience=0.9)
    steps = rollout(RecSessionEnv(catalog, [persona]), random_slate, episodes=60)

    def dismissed_loud(step: dict) -> bool:
        flags = step["reaction"].dismissed
        return any(
            d and "loud" in catalog.tags[i] for i, d in zip(step["slate"], flags, strict=True)
        )

    complaints = [s["info"]["reply"] for s in silent_turns(steps) if dismissed_loud(s)]
    assert len(complaints) > 50
    assert all(says(reply, "dislike") and "loud" in reply for reply in complaints)
    no_loud = [s for s in steps if not any("loud" in catalog.tags[i] for i in s["slate"])]
    assert no_loud and not any(says(s["info"]["reply"], "dislike") for s in no_loud)
    left = [s for s in steps if s["left"]]
    assert len(left) > 30
    assert all(says(s["info"]["reply"], "leaving") == s["left"] for s in steps)


def test_an_ignored_request_is_quoted_back_to_the_recommender():
    catalog = small_catalog()
    request = "Only alpha things from now on, please."
    constraint = {"field": "category", "op": "==", "value": "alpha"}
    persona = make_persona(intents=[{"at_turn": 1, "says": request, "constraint": constraint}])
    other = [i for i in range(len(catalog)) if catalog.categories[i] != "alpha"]
    env = RecSessionEnv(catalog, [persona], max_turns=8)
    steps = rollout(env, lambda e, r, t: r.choice(other, 5, replace=False), episodes=40)
    # Said at turn 1, the request applies from the second slate on.
    replies = [s["info"]["reply"] for s in silent_turns(steps) if s["turn"] > 1]
    assert len(replies) > 50
    assert all(says(reply, "ignored") and request in reply for reply in replies)
