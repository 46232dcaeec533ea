"""The utility brain behaves like a user: tastes, dislikes, boredom, price, steering."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable

import numpy as np
import pytest

from simrec.brains import UtilityBrain, make_brain
from simrec.catalog import Catalog
from simrec.env import RecSessionEnv
from simrec.errors import ConfigError
from simrec.replies import default_templates
from simrec.session import BoundPersona
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
    # Come to browse (need 0): no purchase sends them home, so boredom decides.
    persona = make_persona(
        tastes={"tags": {"sunny": 1.5}}, boredom_rate=0.8, patience=0.4, need=0.0
    )
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
    for patience in (0.0, 1.0):  # come to browse (need 0): no purchase sends them home
        persona = make_persona(boredom_rate=0.0, patience=patience, need=0.0)
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
    # Random slates also disappoint (satisfaction churn), so fatigue is not all that ends
    # these visits: patience still buys a third more turns.
    assert len(patient) > 1.25 * len(impatient), (len(patient), len(impatient))


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
        first = [says(s["info"]["reply"], "seen") for s in silent_turns(steps) if s["turn"] == 1]
        assert first and not any(first)  # nothing has been shown before
        repeats = [says(s["info"]["reply"], "seen") for s in silent_turns(steps) if s["turn"] > 1]
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
    goodbye = ("leaving", "done")
    assert all(any(says(s["info"]["reply"], g) for g in goodbye) == s["left"] for s in steps)


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


# -- the visit economy ------------------------------------------------------------------
def visits(steps: list[dict]) -> list[list[dict]]:
    """``steps`` of :func:`rollout` split into visits."""
    out: list[list[dict]] = []
    for step in steps:
        if step["turn"] == 1:
            out.append([])
        out[-1].append(step)
    return out


def test_a_user_buys_what_they_came_for_then_goes_home_happy():
    catalog = small_catalog()
    sunny = [
        i for i in range(len(catalog)) if "sunny" in catalog.tags[i] and catalog.prices[i] < 100
    ]
    persona = make_persona(
        tastes={"tags": {"sunny": 2.0}}, need=1.0, purchase_propensity=0.8, patience=0.9
    )
    env = RecSessionEnv(catalog, [persona])
    steps = rollout(env, lambda e, r, t: r.choice(sunny, 5, replace=False), episodes=300)
    bought = [sum(sum(s["reaction"].purchased) for s in v) for v in visits(steps)]
    assert np.mean([b >= 1 for b in bought]) > 0.9, bought
    assert np.mean([b >= 2 for b in bought]) < 0.1, bought  # buying more is rare
    # (clicked, bought, left) of turns before the first purchase and of those after it.
    before, after = [], []
    for visit in visits(steps):
        done = False
        for s in visit:
            r = s["reaction"]
            (after if done else before).append((any(r.clicked), any(r.purchased), r.left))
            done = done or any(r.purchased)
    buy_rate = [sum(b for _, b, _ in x) / sum(c for c, _, _ in x) for x in (before, after)]
    assert buy_rate[1] < 0.2 * buy_rate[0], buy_rate
    # Leaving: rare while still looking, likely from the turn of the purchase on.
    looking = [lft for _, b, lft in before if not b]
    done_turns = [lft for _, b, lft in before if b] + [lft for _, _, lft in after]
    leave_rate = [np.mean(looking), np.mean(done_turns)]
    assert leave_rate[1] > 5 * leave_rate[0] and leave_rate[1] > 0.15, leave_rate
    goodbyes = [s for s in steps if s["left"]]
    happy = [s for s in goodbyes if says(s["info"]["reply"], "done")]
    assert len(happy) > 0.8 * len(goodbyes)


@pytest.mark.parametrize("mean", [0.4, 1.0, 1.8, 3.5])
def test_each_visit_draws_its_need_around_the_persona_s_mean(mean):
    env = RecSessionEnv(small_catalog(), [make_persona(need=mean)])
    needs = []
    for seed in range(3000):
        env.reset(seed=seed)
        needs.append(env.session.need)
    assert abs(np.mean(needs) - mean) < 0.08, np.mean(needs)
    # Below 1, a visit comes for one item or just to look; from 1 on, for at least one.
    assert set(needs) == {0, 1} if mean < 1 else min(needs) == 1
    assert len(set(needs)) > 1 or mean == 1.0


def test_the_default_need_grows_with_purchase_propensity():
    catalog = small_catalog()
    means = []
    for propensity in (0.1, 0.5, 0.9):
        env = RecSessionEnv(catalog, [make_persona(purchase_propensity=propensity)])
        needs = [env.reset(seed=s) and env.session.need for s in range(1000)]
        means.append(np.mean(needs))
    assert means[0] < 1.0 < means[1] < means[2], means


def priced_catalog(prices: list[float], tags: list[tuple[str, ...]]) -> Catalog:
    n = len(prices)
    return Catalog(
        [f"it-{i}" for i in range(n)], [f"Item {i}" for i in range(n)], ["alpha"] * n,
        prices, tags, [1.0] * n, domain="test",
    )  # fmt: skip


def test_a_cheap_mismatch_never_beats_a_good_match_at_an_acceptable_price():
    # Matches cost 40-60 (within the user's budget of 80); mismatches cost 1-3.
    match, cheap = list(range(0, 20)), list(range(20, 40))
    prices = [40.0 + i for i in match] + [1.0 + (i % 3) for i in cheap]
    catalog = priced_catalog(prices, [("sunny",)] * 20 + [("loud",)] * 20)
    persona = make_persona(
        tastes={"tags": {"sunny": 1.5}}, price_sensitivity=1.0, willingness_to_pay=80.0, need=3.0
    )
    env = RecSessionEnv(catalog, [persona])

    def mixed(e, r, t):
        return r.permutation(np.r_[r.choice(match, 2, False), r.choice(cheap, 3, False)])

    steps = rollout(env, mixed, episodes=200)
    for field in ("clicked", "purchased"):
        matched, mismatched = per_impression(steps, field, lambda i: i < 20)
        assert matched > 3 * mismatched, (field, matched, mismatched)


def test_price_counts_only_over_the_willingness_to_pay():
    prices = [10.0, 45.0, 150.0, 400.0]
    catalog = priced_catalog(prices, [("sunny",)] * 4)
    brain = UtilityBrain()
    persona = make_persona(willingness_to_pay=50.0)
    env = RecSessionEnv(catalog, [persona], slate_size=2, brain=brain)
    env.reset(seed=0)
    utility, buy, _ = brain.item_scores(env.session)
    assert utility[0] == utility[1] and buy[0] == buy[1]  # cheaper within budget: no gain
    assert utility[1] > utility[2] > utility[3] and buy[1] > buy[2] > buy[3]
    assert env.session.bound.over_budget.tolist() == [False, False, True, True]
    # Without a stated budget, price sensitivity sets it from the catalog's prices.
    budgets = [
        BoundPersona(make_persona(price_sensitivity=ps), catalog).willingness_to_pay
        for ps in (0.0, 0.5, 1.0)
    ]
    assert budgets[0] > budgets[1] > budgets[2] >= min(prices), budgets


def test_a_catalog_without_prices_makes_price_inert():
    catalog = priced_catalog([0.0] * 30, [("sunny",)] * 10 + [("loud",)] * 20)
    for persona in (make_persona(), make_persona(willingness_to_pay=20.0, price_sensitivity=1.0)):
        env = RecSessionEnv(catalog, [persona])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            steps = rollout(env, random_slate, episodes=100)
            utility, buy, _ = env.brain.item_scores(env.session)
        bound = env.session.bound
        assert not bound.over_budget.any() and not bound.price_excess.any()
        assert np.isfinite(utility).all() and not np.isnan(buy).any()
        assert not any(says(s["info"]["reply"], "pricey") for s in steps)
        assert sum(sum(s["reaction"].purchased) for s in steps) > 10


def test_an_owned_item_is_never_bought_again_but_a_consumable_can_be():
    n = 12
    catalog = Catalog(
        [f"it-{i}" for i in range(n)], [f"Item {i}" for i in range(n)], ["alpha"] * n,
        [10.0] * n, [("sunny",)] * n, [1.0] * n, domain="test",
        consumable=[i < 6 for i in range(n)],
    )  # fmt: skip
    persona = make_persona(tastes={"tags": {"sunny": 2.0}}, need=8.0, purchase_propensity=1.0,
                           boredom_rate=0.0, patience=1.0)  # fmt: skip
    env = RecSessionEnv(catalog, [persona], slate_size=4, max_turns=15)
    fixed = np.array([0, 1, 6, 7])  # two consumables, two durables, every turn
    repeats = {True: 0, False: 0}
    for visit in visits(rollout(env, lambda e, r, t: fixed, episodes=100, max_turns=15)):
        counts = np.zeros(n, dtype=int)
        for s in visit:
            for item, bought in zip(s["slate"], s["reaction"].purchased, strict=True):
                counts[item] += bought
        assert counts[6:].max() <= 1  # durables: once per visit at most
        repeats[True] += int((counts[:6] > 1).sum())
    assert repeats[True] > 20  # consumables are bought again


def test_a_purchase_never_breaks_a_dislike_or_the_request_but_a_curious_click_can():
    catalog = small_catalog()
    constraint = {"field": "category", "op": "==", "value": "alpha"}
    persona = make_persona(
        tastes={"tags": {"sunny": 1.5, "loud": 1.0}, "category": {"beta": 1.0}},
        dislikes={"color": ["blue"]},
        intents=[{"at_turn": 1, "says": "Only alpha, please.", "constraint": constraint}],
        purchase_propensity=0.9, need=5.0, patience=0.9,
    )  # fmt: skip
    steps = rollout(RecSessionEnv(catalog, [persona]), random_slate, episodes=200)
    blue = lambda i: catalog.categorical["color"][i] == "blue"  # noqa: E731
    later = [s for s in steps if s["turn"] > 1]
    not_alpha = lambda i: catalog.categories[i] != "alpha"  # noqa: E731
    for rule, chosen in ((blue, steps), (not_alpha, later)):
        flags = [
            (c, p)
            for s in chosen
            for i, c, p in zip(
                s["slate"], s["reaction"].clicked, s["reaction"].purchased, strict=True
            )
            if rule(i)
        ]
        clicks, buys = sum(c for c, _ in flags), sum(p for _, p in flags)
        assert clicks >= 5 and buys == 0, (clicks, buys)
