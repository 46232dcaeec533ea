"""The state of one user's visit: turn, memory, satisfaction, fatigue and boredom.

A :class:`Session` evolves in :meth:`Session.record` after every reaction: items and
categories shown recently wear (boredom), the visit gets long (fatigue), and scripted
events (steering intents, taste drift) switch on at their turn.

The single env steps one session per call, where numpy's per-call overhead would
dominate arrays of five slots; the per-slot state therefore lives in plain Python lists
and item exposure decays lazily (a table of ``decay ** turns`` looked up on access), so
a step touches only the items shown. Arrays over the whole catalog are built once per
persona (:class:`BoundPersona`).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from simrec.catalog import Catalog
from simrec.constraints import Constraint
from simrec.persona import TRAITS, Persona
from simrec.reaction import Reaction
from simrec.validation import check_fields

EMPTY = -1
"""Slate slot that shows nothing (a de-duplicated repeat)."""

FEEDBACK = ("clicked", "purchased", "dismissed")
_DECAY_HORIZON = 512
DRAW_BLOCK = 8
"""Steps of uniform draws taken from a session's generator at once.

Draws left in a block when its visit ends are never used but still generated (the
vector env generates them ahead for every session); visits last about seven turns with
untrained policies, so blocks of 8 waste half as much as blocks of 16 did."""


@dataclass(frozen=True)
class SessionDynamics:
    """How fast the session state moves. Defaults are calibrated in ``tests/test_brain.py``.

    Attributes:
        item_decay: share of an item's exposure kept per turn (1 = never forgotten).
        category_decay: share of a category's exposure kept per turn.
        click_exposure: extra exposure of an item the user clicked (already explored).
        fatigue_base: fatigue added every turn to every user.
        fatigue_impatience: extra fatigue per turn for a user of patience 0.
        initial_satisfaction: satisfaction at the start of a visit.
    """

    item_decay: float = 0.8
    category_decay: float = 0.6
    click_exposure: float = 1.0
    fatigue_base: float = 0.04
    fatigue_impatience: float = 0.10
    initial_satisfaction: float = 0.6

    def __post_init__(self) -> None:
        check_fields(
            self,
            {
                "item_decay": (0.0, 1.0),
                "category_decay": (0.0, 1.0),
                "click_exposure": (0.0, 100.0),
                "fatigue_base": (0.0, 1.0),
                "fatigue_impatience": (0.0, 1.0),
                "initial_satisfaction": (0.0, 1.0),
            },
        )

    def fatigue_step(self, patience: float) -> float:
        """Fatigue a user of ``patience`` gains per turn."""
        return self.fatigue_base + self.fatigue_impatience * (1.0 - patience)

    @cached_property
    def item_decay_table(self) -> list[float]:
        """``item_decay ** d`` for ``d`` turns, computed once (0 beyond the horizon)."""
        table = [1.0]
        for _ in range(_DECAY_HORIZON):
            table.append(table[-1] * self.item_decay)
        return table


MAX_NEED = 30
"""The most items a visit's need can ask for (the need distribution is cut there)."""


def willingness_to_pay(persona: Persona, prices: np.ndarray) -> float:
    """The highest price ``persona`` pays without hesitation, in the catalog's currency.

    The persona's own ``willingness_to_pay`` when it states one; otherwise the catalog
    price at quantile ``1 - 0.75 * price_sensitivity`` (a price-blind user accepts nearly
    every price in the catalog, a very sensitive one only the cheapest quarter). A catalog
    without prices gives 0, and every price term is then zero.
    """
    if persona.willingness_to_pay is not None:
        return float(persona.willingness_to_pay)
    return float(np.quantile(prices, 1.0 - 0.75 * persona.price_sensitivity))


def mean_need(persona: Persona) -> float:
    """Items ``persona`` comes to buy per visit on average: its ``need``, else from traits.

    Without a stated ``need``: ``0.5 + 2 * purchase_propensity`` (a reluctant buyer often
    comes just to look, an eager one for two or three items).
    """
    if persona.need is not None:
        return float(persona.need)
    return 0.5 + 2.0 * persona.purchase_propensity


def need_cdf(mean: float) -> list[float]:
    """``P(need <= j)`` for ``j = 0, 1, ...``: the need of one visit, given its ``mean``.

    A mean of at least 1 gives ``1 + Poisson(mean - 1)`` (every visit comes for something,
    a few for several things); a smaller mean gives 1 with probability ``mean``, else 0
    (the user came to look). A visit's need is the number of entries at most its uniform
    draw (``bisect_right``), so the vector env can tabulate the same rule.
    """
    if mean < 1.0:
        return [1.0 - mean]
    rate = mean - 1.0
    cdf, term, total = [0.0], math.exp(-rate), 0.0
    for j in range(MAX_NEED - 1):
        total += term
        cdf.append(total)
        term *= rate / (j + 1)
    return cdf


class BoundPersona:
    """A persona's tastes and events turned into arrays over one catalog (built once).

    Attributes:
        affinity: taste score of every item: ``token_matrix @ taste_vector``, plus
            ``catalog.embeddings @ taste_embedding`` for a persona with a latent taste.
        history: catalog indices of the persona's pre-visit history (int64, read-only).
        willingness_to_pay: the reference price (see :func:`willingness_to_pay`).
        price_excess: per item, ``log1p(price) - log1p(willingness_to_pay)`` where the
            price exceeds it, else 0: how far over budget the item is.
        over_budget: per item, whether its price exceeds the willingness to pay (its
            excess is positive).
        need_cdf: the distribution of a visit's need (see :func:`need_cdf`).
        owned_at_start: items owned when a visit starts (pre-visit history, except
            consumables): not bought again, and less appealing.
    """

    def __init__(self, persona: Persona, catalog: Catalog) -> None:
        persona.check_against(catalog)
        tokens = catalog.token_matrix
        self.persona = persona
        self.catalog = catalog
        # A grounded persona's latent taste adds to its token tastes (one product per item).
        latent = persona.latent_affinity(catalog)
        self.affinity = _with_latent(tokens @ persona.taste_vector(catalog), latent)
        self.dislike = tokens @ persona.dislike_vector(catalog)
        self.history = persona.history_indices(catalog)
        self.traits = {t: float(getattr(persona, t)) for t in TRAITS}
        self.willingness_to_pay = willingness_to_pay(persona, catalog.prices)
        excess = catalog.log1p_prices - math.log1p(self.willingness_to_pay)
        self.price_excess = np.maximum(excess, 0.0)
        self.over_budget = self.price_excess > 0.0
        self.need_cdf = need_cdf(mean_need(persona))
        owned = self.history[~catalog.consumable[self.history]]
        self.owned_at_start: frozenset[int] = frozenset(owned.tolist())
        self.category_codes: list[int] = catalog.category_codes.tolist()
        self.drift_affinity = {
            d.at_turn: _with_latent(tokens @ persona.taste_vector(catalog, d.tastes), latent)
            for d in persona.drifts
        }
        self.constraint_masks = [
            i.constraint.mask(catalog) if i.constraint is not None else None
            for i in persona.intents
        ]
        self._voiced: dict[int, list[str]] = {}
        for event in (*persona.intents, *persona.drifts):
            if event.says:
                self._voiced.setdefault(event.at_turn, []).append(event.says)
        self._intent_at: dict[int, int | None] = {}
        self._taste_words = [(0, _top_values(persona.tastes))]
        self._taste_words += [(d.at_turn, _top_values(d.tastes)) for d in persona.drifts]

    def need(self, u: float) -> int:
        """The need of a visit whose need draw is ``u`` (uniform in [0, 1))."""
        return bisect.bisect_right(self.need_cdf, u)

    def taste_words(self, turn: int) -> list[tuple[str, str]]:
        """The persona's strongest liked ``(field, value)`` pairs as of ``turn`` (after any drift)."""
        words: list[tuple[str, str]] = []
        for at_turn, values in self._taste_words:
            if at_turn < turn or at_turn == 0:
                words = values
        return words

    def voiced_at(self, turn: int) -> Sequence[str]:
        """What the persona says on its own at ``turn`` (intents, voiced drifts)."""
        return self._voiced.get(turn, ())

    def active_intent(self, slate_turn: int) -> int | None:
        """Index of the newest intent that applies to the slate shown at ``slate_turn``."""
        if slate_turn not in self._intent_at:
            active = None
            for k, intent in enumerate(self.persona.intents):
                if intent.active_for_slate(slate_turn):
                    active = k
            self._intent_at[slate_turn] = active
        return self._intent_at[slate_turn]


def _with_latent(affinity: np.ndarray, latent: np.ndarray | None) -> np.ndarray:
    """Token affinity plus the latent term ``embeddings @ taste_embedding`` when there is one."""
    return affinity if latent is None else affinity + latent


_FEEDBACK_BLOCKS: dict[tuple[bool, ...], np.ndarray] = {}


def _feedback_rows(reaction: Reaction) -> np.ndarray:
    """``(k, 3)`` clicked/purchased/dismissed of a reaction (few patterns, so cached)."""
    key = (*reaction.clicked, *reaction.purchased, *reaction.dismissed)
    block = _FEEDBACK_BLOCKS.get(key)
    if block is None:
        block = np.array(
            [reaction.clicked, reaction.purchased, reaction.dismissed], dtype=np.float32
        ).T
        if len(_FEEDBACK_BLOCKS) < 4096:
            _FEEDBACK_BLOCKS[key] = block
    return block


def _top_values(tastes) -> list[tuple[str, str]]:
    weighted = [(w, v, f) for f, values in tastes.items() for v, w in values.items() if w > 0]
    return [(f, v) for _, v, f in sorted(weighted, key=lambda x: (-x[0], x[1]))[:3]]


class Session:
    """One visit of one persona: everything the user model remembers between turns.

    Attributes:
        session_id: the id the visit is logged under (set by the env or runner).
        turn: slates seen so far (the next slate is ``turn + 1``).
        satisfaction: in [0, 1]; low satisfaction makes users leave.
        fatigue: grows every turn, faster for impatient users.
        affinity: taste score of every catalog item (changes on drift).
        constraint_mask: items satisfying the active steering constraint (all when none).
        constraint_on: whether a steering constraint applies to the next slate.
        history: every slate shown (item index lists) with its reaction, oldest first.
        history_items, history_feedback: the last ``history_window`` slates and their
            per-slot feedback as arrays, newest first (the env's observation).
        owned: items the user owns and will not buy again: bought in this visit or before
            it (the persona's history), except items the catalog marks consumable.
        need: how many items the user came to buy in this visit.
        purchases: items bought in this visit so far.
        tastes_from: the turn of the drift whose tastes apply (-1: the persona's own).
        replies: everything the user said, opening message first.

    Args:
        need: the visit's need; ``None`` takes the median of the persona's need
            distribution (the env draws it at reset: :meth:`BoundPersona.need`).
    """

    def __init__(
        self,
        bound: BoundPersona,
        slate_size: int,
        history_window: int,
        dynamics: SessionDynamics,
        session_id: int = 0,
        need: int | None = None,
    ) -> None:
        catalog = bound.catalog
        self.bound = bound
        self.session_id = session_id
        self.persona = bound.persona
        self.catalog = catalog
        self.dynamics = dynamics
        self.slate_size = slate_size
        self.turn = 0
        self.satisfaction = dynamics.initial_satisfaction
        self.fatigue = 0.0
        self._fatigue_step = dynamics.fatigue_step(bound.traits["patience"])
        self.tastes_from = -1
        self._set_taste_words(1)
        self.need = bound.need(0.5) if need is None else need
        self.purchases = 0
        self._draws: list[list[float]] = []
        self._logits: list[list[float]] = []
        self._draw_row = 0
        n = len(catalog)
        self._exposure = [0.0] * n
        self._exposures_memo: tuple[int, list[int], list[float]] | None = None
        self._exposed_at = [0] * n
        self.category_exposure = [0.0] * len(catalog.category_names)
        self.owned: set[int] = set(bound.owned_at_start)
        self._consumable = catalog.consumable
        self.affinity = bound.affinity
        self.active_intent: int | None = None
        self.constraint_on = False
        self.constraint_mask = np.ones(n, dtype=bool)
        self.history_window = history_window
        # Item index + 1 of the last slates (0 = nothing), newest first: the observation's form.
        self._recent_list = [0] * (history_window * slate_size)
        self._click_exposure = 1.0 + dynamics.click_exposure
        self._recent_feedback = np.zeros((history_window, slate_size, 3), dtype=np.float32)
        self.history: list[tuple[list[int], Reaction]] = []
        self._apply_events()
        self.replies = [" ".join(bound.voiced_at(0))]

    @property
    def last_reply(self) -> str:
        """What the user said last (the opening message before the first slate)."""
        return self.replies[-1]

    def trait(self, name: str) -> float:
        """The persona's trait ``name`` (``patience``, ``boredom_rate`` …)."""
        return self.bound.traits[name]

    @property
    def need_met(self) -> bool:
        """Whether the user has bought as much as they came for: buying more is then rare
        (from the start for a visitor who came just to look)."""
        return self.purchases >= self.need

    @property
    def need_to_leave(self) -> int:
        """Purchases after which the user is done and likely to go home, happy (at least
        one: a visitor who came just to look leaves as anyone does, bored or tired)."""
        return max(self.need, 1)

    @property
    def state_key(self) -> tuple[int, int, int | None]:
        """Identifies what the user model derives from tastes and the active request.

        Two sessions with equal keys score every item the same way before boredom, so
        brains can share those scores (``(persona, drift, intent)``).
        """
        return (id(self.bound), self.tastes_from, self.active_intent)

    @property
    def history_items_flat(self) -> np.ndarray:
        """:attr:`history_items` flattened, newest slate first (a fresh array)."""
        return np.array(self._recent_list, dtype=np.int64) - 1

    def history_items_flat_plus_one(self) -> np.ndarray:
        """:attr:`history_items_flat` + 1 (0 = nothing), the env's observation (a fresh array)."""
        return np.array(self._recent_list, dtype=np.int64)

    @property
    def history_items(self) -> np.ndarray:
        """``(history_window, slate_size)`` item indices of the last slates, newest first."""
        return self.history_items_flat.reshape(self.history_window, self.slate_size)

    @property
    def history_feedback(self) -> np.ndarray:
        """``(history_window, slate_size, 3)`` clicked/purchased/dismissed of the last slates."""
        return self._recent_feedback.copy()

    def exposure(self, item: int) -> float:
        """How much ``item`` has been seen recently (decayed count of showings and clicks)."""
        age = self.turn - self._exposed_at[item]
        table = self.dynamics.item_decay_table
        return self._exposure[item] * table[age] if age < len(table) else 0.0

    def uniforms(self, rng: np.random.Generator, width: int) -> tuple[list[float], list[float]]:
        """The next ``width`` uniform draws of this session and their logits.

        Draws come from ``rng`` in blocks of :data:`DRAW_BLOCK` steps (one numpy call
        per block instead of per step); ``logit(u) = log(u / (1 - u))`` lets a brain test
        ``u < sigmoid(z)`` as ``logit(u) < z`` without an exponential per decision.
        """
        if self._draw_row >= len(self._draws) or len(self._draws[0]) != width:
            block = rng.random((DRAW_BLOCK, width))
            with np.errstate(divide="ignore"):
                logits = np.log(block / (1.0 - block))
            self._draws, self._logits, self._draw_row = block.tolist(), logits.tolist(), 0
        row = self._draw_row
        self._draw_row = row + 1
        return self._draws[row], self._logits[row]

    def exposures(self, slate: Sequence[int]) -> list[float]:
        """:meth:`exposure` of every slot of ``slate`` (0 for empty slots).

        The last answer is remembered until the turn moves on: a brain asks for the slate
        it reacts to and :meth:`record` asks again for the same slate.
        """
        memo = self._exposures_memo
        if memo is not None and memo[0] == self.turn and type(slate) is list and memo[1] == slate:
            return memo[2]
        table, at, value, turn = (
            self.dynamics.item_decay_table,
            self._exposed_at,
            self._exposure,
            self.turn,
        )
        horizon = len(table)
        out = []
        for item in slate:
            age = turn - at[item]
            out.append(value[item] * table[age] if item != EMPTY and age < horizon else 0.0)
        self._exposures_memo = (turn, list(slate), out)
        return out

    def active_constraint(self) -> Constraint | None:
        """The hidden constraint that applies to the next slate, if any."""
        k = self.active_intent
        return None if k is None else self.persona.intents[k].constraint

    def record(self, slate: Sequence[int], reaction: Reaction) -> None:
        """Move past the turn whose ``slate`` got ``reaction``."""
        codes = self.bound.category_codes
        decay = self.dynamics.category_decay
        categories = [c * decay for c in self.category_exposure]
        share = 1.0 / self.slate_size
        seen = self.exposures(slate)
        exposure, exposed_at = self._exposure, self._exposed_at
        clicked, purchased, click_exposure = (
            reaction.clicked,
            reaction.purchased,
            self._click_exposure,
        )
        turn = self.turn + 1
        for pos, item in enumerate(slate):
            if item == EMPTY:
                continue
            exposure[item] = seen[pos] + (click_exposure if clicked[pos] else 1.0)
            exposed_at[item] = turn
            categories[codes[item]] += share
            if purchased[pos]:
                self.purchases += 1
                if not self._consumable[item]:
                    self.owned.add(item)
        self.category_exposure = categories
        self.fatigue += self._fatigue_step
        self.satisfaction = reaction.satisfaction
        self.turn = turn
        recent = [item + 1 for item in slate]
        recent += self._recent_list[: -self.slate_size]
        self._recent_list = recent
        feedback = self._recent_feedback
        feedback[1:] = feedback[:-1]
        feedback[0] = _feedback_rows(reaction)
        self.history.append((list(slate), reaction))
        self.replies.append(reaction.reply)
        self._apply_events()

    def skip_to(self, turn: int) -> None:
        """Jump to ``turn`` without showing slates, switching on the events on the way.

        Used to tabulate a persona's event timeline (tastes, requests) turn by turn; the
        session's boredom, fatigue and history are left as they are.
        """
        while self.turn < turn:
            self.turn += 1
            self._apply_events()

    def _set_taste_words(self, turn: int) -> None:
        """The liked values the user may voice from ``turn`` on, and their token columns."""
        pairs = self.bound.taste_words(turn)
        index = self.catalog.token_index
        self.taste_words = [value for _, value in pairs]
        self.taste_tokens = [index[f"{fld}={value}"] for fld, value in pairs]

    def _apply_events(self) -> None:
        """Switch on the drifts and intents that apply to the next slate."""
        bound = self.bound
        if self.turn in bound.drift_affinity:
            self.affinity = bound.drift_affinity[self.turn]
            self.tastes_from = self.turn
            self._set_taste_words(self.turn + 1)
        k = bound.active_intent(self.turn + 1)
        if k != self.active_intent:
            self.active_intent = k
            mask = bound.constraint_masks[k] if k is not None else None
            self.constraint_on = mask is not None
            self.constraint_mask = (
                mask if mask is not None else np.ones(len(self.catalog), dtype=bool)
            )
