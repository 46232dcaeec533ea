"""The offline user says only what is true of the turn, in the single env and the vector env.

One test per rule, each over at least 500 visits of several policies on every shipped
preset, checked against state taken from the persona and the catalog (what was shown
and bought earlier in the visit, the willingness to pay, the visit's need):

* "too pricey" only when every shown item is over the user's willingness to pay;
* "seen these" only when every shown item was shown before in the visit;
* no taste remark ("I'm into anything X") while an item with X is dismissed that turn;
* a goodbye after the need is met says so, one before it does not.
"""

from __future__ import annotations

import re
from functools import cache

import pytest

from simrec.env import RecSessionEnv
from simrec.presets import find_preset
from simrec.replies import default_templates
from simrec.vector import RecSessionVectorEnv
from tests.visit_records import Step, single_env_steps, vector_env_steps, visit_count

PRESETS = ("golf", "books", "retail")
SINGLE_POLICIES = ("random", "popularity", "greedy", "linucb", "oracle", "constant_slate")
VECTOR_POLICIES = ("random", "popularity", "cheapest_rotation", "constant_slate", "one_item")
VISITS = 500  # per env, policy and preset


def patterns(kind: str) -> list[re.Pattern]:
    """The shipped ``kind`` templates as patterns (placeholders capture their value)."""
    lines = default_templates().lines[kind]
    return [re.compile(re.sub(r"\\\{\w+\\\}", "(.+?)", re.escape(line))) for line in lines]


def says(step: Step, kind: str) -> re.Match | None:
    return next((m for p in patterns(kind) if (m := p.search(step.reply))), None)


@cache
def steps_of(where: str, preset: str) -> tuple[Step, ...]:
    """Every step of ``VISITS`` visits per policy (memoised: each rule reads the same runs)."""
    kwargs = find_preset(preset).kwargs
    out: list[Step] = []
    if where == "single":
        env = RecSessionEnv(**kwargs)
        for k, policy in enumerate(SINGLE_POLICIES):
            out += single_env_steps(env, policy, VISITS, seed=1000 * k)
    else:
        vec = RecSessionVectorEnv(32, **kwargs)
        for k, policy in enumerate(VECTOR_POLICIES):
            out += vector_env_steps(vec, policy, VISITS, seed=1000 * k)
    return tuple(out)


WHERE = [pytest.param(w, p, id=f"{w}-{p}") for w in ("single", "vector") for p in PRESETS]


def check(steps: tuple[Step, ...], kind: str, true_of: callable, at_least: int) -> None:
    """Every reply of ``kind`` is ``true_of`` its step; the rule was exercised ``at_least`` times."""
    said = [s for s in steps if says(s, kind)]
    false = [s for s in said if not true_of(s)]
    assert not false, f"{len(false)} of {len(said)} '{kind}' replies are false: {false[0]}"
    assert len(said) >= at_least, f"only {len(said)} '{kind}' replies in {len(steps)} steps"
    assert visit_count(steps) >= VISITS


@pytest.mark.parametrize(("where", "preset"), WHERE)
def test_too_pricey_only_when_every_shown_item_is_over_the_willingness_to_pay(where, preset):
    steps = steps_of(where, preset)

    def true_of(step: Step) -> bool:
        prices = step.bound.catalog.prices
        return all(prices[i] > step.bound.willingness_to_pay for i in step.shown)

    check(steps, "pricey", true_of, at_least=5)


@pytest.mark.parametrize(("where", "preset"), WHERE)
def test_seen_these_only_when_every_shown_item_was_shown_before(where, preset):
    check(steps_of(where, preset), "seen", lambda s: set(s.shown) <= s.shown_before, 20)


@pytest.mark.parametrize(("where", "preset"), WHERE)
def test_no_taste_is_stated_while_an_item_with_it_is_dismissed(where, preset):
    steps = steps_of(where, preset)

    def true_of(step: Step) -> bool:
        value = says(step, "taste").group(1)
        catalog = step.bound.catalog
        values = [
            {
                t.split("=", 1)[1]
                for t in catalog.tokens
                if catalog.token_matrix[i, catalog.token_index[t]]
            }
            for i in step.slate
            if i >= 0
        ]
        dismissed = [d for i, d in zip(step.slate, step.dismissed, strict=True) if i >= 0]
        return not any(d and value in v for d, v in zip(dismissed, values, strict=True))

    check(steps, "taste", true_of, at_least=100)


@pytest.mark.parametrize(("where", "preset"), WHERE)
def test_a_goodbye_says_whether_the_user_got_what_they_came_for(where, preset):
    steps = steps_of(where, preset)

    def met(step: Step) -> bool:  # bought what they came for (at least one item)
        return step.bought_before + sum(step.purchased) >= max(step.need, 1)

    check(steps, "done", lambda s: s.left and met(s), at_least=20)
    check(steps, "leaving", lambda s: s.left and not met(s), at_least=20)
    assert all(bool(says(s, "done") or says(s, "leaving")) == s.left for s in steps)
