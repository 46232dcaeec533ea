"""The utility brain's step probabilities (``step_logits``, ``satisfaction_after``,
``leave_logit``) are the ones ``react_one`` draws against: with every uniform known, each
decision of ``react_one`` is the one the logits give, through boredom, fatigue, ownership,
a visit's need, steering requests, drifts and empty slots. Maximum-likelihood fits rely on it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import make_persona, small_catalog

from simrec.brains.utility import UtilityBrain, UtilityParams
from simrec.session import DRAW_BLOCK, EMPTY, BoundPersona, Session, SessionDynamics


class KnownDraws:
    """A generator stand-in that keeps every block of uniforms it hands a session."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.blocks: list[np.ndarray] = []

    def random(self, shape):
        block = self.rng.random(shape)
        self.blocks.append(block)
        return block

    def step(self, t: int) -> np.ndarray:
        """The uniforms of the session's step ``t`` (0-based)."""
        return self.blocks[t // DRAW_BLOCK][t % DRAW_BLOCK]


def logit(u: float) -> float:
    return math.log(u / (1.0 - u))


PERSONAS = [
    make_persona(),
    make_persona(
        id="picky",
        tastes={"category": {"alpha": 1.5}, "tags": {"quiet": 0.8}},
        dislikes={"color": ["red"]},
        boredom_rate=0.9,
        patience=0.2,
        purchase_propensity=0.9,
        intents=[
            {
                "at_turn": 2,
                "says": "Only small ones.",
                "constraint": {"field": "size", "op": "<=", "value": 2},
            }
        ],
        drifts=[{"at_turn": 4, "tastes": {"category": {"gamma": 2.0}}}],
    ),  # fmt: skip
]


@pytest.mark.parametrize("params", [UtilityParams(), UtilityParams(outside_utility=0.5, purchase_base=0.5, dismiss_base=-1.0, leave_base=-1.0)])  # fmt: skip
def test_react_one_decides_by_the_step_logits(params):
    catalog = small_catalog()
    brain = UtilityBrain(params)
    checked = {"clicks": 0, "purchases": 0, "dismissals": 0, "leaves": 0, "owned": 0, "need met": 0}
    slate_rng = np.random.default_rng(7)
    for case in range(40):
        persona = PERSONAS[case % len(PERSONAS)]
        session = Session(BoundPersona(persona, catalog), 5, 2, SessionDynamics(), case)
        draws = KnownDraws(case)
        favourites = slate_rng.choice(len(catalog), size=8, replace=False).tolist()
        for t in range(12):
            slate = slate_rng.choice(favourites, size=5, replace=False).tolist()
            if t % 5 == 3:
                slate[4] = EMPTY
            owned_before = any(i in session.owned for i in slate)
            logits = brain.step_logits(session, slate)
            reaction = brain.react_one(session, slate, draws)
            u = draws.step(t)
            k = len(slate)
            # the click: where the first uniform falls in the slots' cumulative shares
            p = np.exp(logits.click_log_probabilities())
            cumulative = np.cumsum(p[1:])
            expected = int(np.searchsorted(cumulative, u[0], side="right"))
            choice = reaction.clicked.index(True) if any(reaction.clicked) else k
            assert choice == (expected if expected < k else k)
            if choice < k:
                assert reaction.purchased[choice] == (logit(u[1]) < logits.purchase[choice])
                checked["clicks"] += 1
                checked["purchases"] += reaction.purchased[choice]
            for pos in range(k):
                if pos != choice and slate[pos] != EMPTY:
                    assert reaction.dismissed[pos] == (logit(u[2 + pos]) < logits.dismiss[pos])
                    checked["dismissals"] += reaction.dismissed[pos]
            s = brain.satisfaction_after(
                session, logits, choice < k, any(reaction.purchased), sum(reaction.dismissed)
            )
            assert s == pytest.approx(reaction.satisfaction, abs=1e-12)
            leave = brain.leave_logit(session, s, any(reaction.purchased))
            assert reaction.left == (logit(u[2 + k]) < leave)
            checked["leaves"] += reaction.left
            checked["need met"] += session.need_met
            checked["owned"] += owned_before
            session.record(slate, reaction)
            if reaction.left:
                break
    assert all(n > 0 for n in checked.values()), checked  # every branch was exercised


def test_empty_slots_cannot_be_clicked_or_dismissed():
    catalog = small_catalog()
    session = Session(BoundPersona(PERSONAS[0], catalog), 4, 2, SessionDynamics())
    logits = UtilityBrain().step_logits(session, [3, EMPTY, 5, EMPTY])
    assert np.isneginf(logits.click[[1, 3]]).all() and np.isneginf(logits.dismiss[[1, 3]]).all()
    p = np.exp(logits.click_log_probabilities())
    assert p.sum() == pytest.approx(1.0) and p[2] == 0.0 and p[4] == 0.0


def test_click_probabilities_of_one_item_slates_are_the_first_slot_of_the_step_logits():
    catalog = small_catalog()
    session = Session(BoundPersona(PERSONAS[1], catalog), 5, 2, SessionDynamics())
    brain = UtilityBrain()
    items = np.arange(len(catalog))
    alone = brain.click_probabilities(session, items)
    for item in (0, 7, 31):
        p = np.exp(brain.step_logits(session, [item]).click_log_probabilities())
        assert alone[item] == pytest.approx(p[1], rel=1e-12)
