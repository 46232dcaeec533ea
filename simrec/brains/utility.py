"""The offline user model: a conditional-logit choice over the slate, inside a visit's economy.

Each shown item gets a utility::

    u = taste·item + popularity − price over budget + novelty_seeking·novelty
        − dislikes ± steering compliance − owned
        − boredom_rate·(repeat exposure + same-category exposure)

The first line is fixed for a session between events and is computed once over the
whole catalog with numpy; the rest changes every turn. Price acts only through the
persona's willingness to pay: an item costs utility by how far (log ratio) its price is
over it, and a cheaper item within budget gains nothing, so cheapness alone never beats
a match. The user clicks at most one slot, chosen by a logit over the slate plus a
no-click outside option whose utility grows with fatigue; a position bias lowers later
slots. A click becomes a purchase with a probability driven by purchase propensity,
taste and price over budget — never for an item the user owns (unless the catalog marks
it consumable), dislikes, or that breaks the active request (a curious click can).

A visit has a need: how many items the user came to buy (drawn at reset, see
:meth:`~simrec.session.BoundPersona.need`). Once it is met, buying again is rare and
leaving likely, and a goodbye then says the user got what they came for. Disliked,
over-repeated or request-violating items are dismissed. Satisfaction moves toward the
slate's click probability (up with clicks and purchases, down with dismissals and with
ignored requests); low satisfaction and fatigue make users leave. Replies are templated
from what drove the reaction and only say what is true of the turn: "too pricey" when
every shown item is over budget, "seen these" when every shown item was shown before in
the visit, no taste remark about a value the user dismissed in the same turn.

Draw budget: a visit draws its persona and one uniform for its need at reset, then
exactly ``k + 5`` uniforms per step from its own generator whatever happens (see
:meth:`~simrec.session.Session.uniforms`), so sessions stepped together or apart stay in
lock-step. Yes/no decisions compare logits (``logit(u) < z`` is ``u < sigmoid(z)``), and
the one exponential per step goes through ``numpy.exp`` (not ``math.exp``, whose last bit
can differ) so a vectorised implementation can reproduce this one bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from simrec.catalog import Catalog
from simrec.reaction import Reaction
from simrec.replies import ReplyTemplates, default_templates
from simrec.session import EMPTY, Session
from simrec.validation import check_fields

_exp = np.exp
_SLOTS = [list(range(k)) for k in range(1025)]
"""``list(range(k))``: the shown slots of a slate without empty ones (never mutated)."""


_COEFFICIENT_RANGE = (-100.0, 100.0)
_PARAM_RANGES = {
    "leave_threshold": (0.0, 1.0),
    "chat_rate": (0.0, 1.0),
    "liking_quantile": (0.0, 1.0),
}


@dataclass(frozen=True)
class UtilityParams:
    """Coefficients of the utility model (see the module docstring for the formula).

    The defaults are calibrated so that the behaviours checked in ``tests/test_brain.py``
    hold: tastes drive clicks, repetition bores users away, price deters the
    price-sensitive, and followed requests please while ignored ones frustrate.
    """

    taste_weight: float = 1.6
    popularity_weight: float = 0.25
    price_weight: float = 1.6
    """Utility lost per unit of log price over the willingness to pay."""
    novelty_weight: float = 0.3
    dislike_weight: float = 2.5
    owned_penalty: float = 3.0
    intent_bonus: float = 1.0
    intent_penalty: float = 1.5
    repeat_weight: float = 0.5
    category_weight: float = 1.6
    position_weight: float = 0.35
    outside_utility: float = 3.0
    fatigue_weight: float = 0.8
    purchase_base: float = -1.0
    purchase_propensity_weight: float = 3.0
    purchase_taste_weight: float = 1.6
    """Purchase logit gained per unit of taste above the user's liking bar."""
    liking_quantile: float = 0.8
    """The liking bar: the user's taste score at this quantile of the catalog (what a
    good match means for this user, whatever the scale of their tastes)."""
    purchase_price_weight: float = 2.5
    """Purchase logit lost per unit of log price over the willingness to pay."""
    need_met_purchase_penalty: float = 6.0
    """Purchase logit lost once the visit's need is met (buying more becomes rare)."""
    need_met_leave_logit: float = -1.0
    """Leave logit at least this once the visit's need is met by at least one purchase (the
    user goes home, happy)."""
    dismiss_base: float = -4.0
    dismiss_dislike_weight: float = 3.5
    dismiss_repeat_weight: float = 0.6
    dismiss_violation_weight: float = 1.5
    satisfaction_rate: float = 0.3
    click_lift: float = 0.04
    purchase_lift: float = 0.08
    dismiss_drop: float = 0.10
    compliance_weight: float = 0.12
    leave_base: float = -3.5
    leave_threshold: float = 0.4
    leave_slope: float = 14.0
    fatigue_leave_weight: float = 1.0
    chat_rate: float = 0.6

    def __post_init__(self) -> None:
        # Coefficients are logit units: beyond +-100 the exponentials saturate (or overflow
        # to nan); a string or nan would only fail deep inside numpy.
        check_fields(self, {**dict.fromkeys(_PARAM_NAMES, _COEFFICIENT_RANGE), **_PARAM_RANGES})


_PARAM_NAMES = tuple(f.name for f in fields(UtilityParams))


@dataclass(frozen=True)
class _Static:
    """Per-session item scores that only change on events (drift, steering, purchase)."""

    utility: list[float]
    purchase_logit: list[float]
    """``-inf`` for items never bought: disliked, or against the active request."""
    dismiss_logit: list[float]
    price_excess: list[float]
    over_budget: list[bool]
    complies: list[bool]
    disliked: list[bool]


@dataclass(frozen=True)
class StepLogits:
    """The logits a step's decisions are drawn against (:meth:`UtilityBrain.step_logits`).

    Attributes:
        click: per slot, its utility less the outside option's (``-inf`` for an empty
            slot): slot ``j`` is clicked with probability ``exp(click[j]) / (1 + sum(
            exp(click)))``, nothing with ``1 / (1 + sum(exp(click)))``.
        purchase: per slot, the logit of a purchase given a click on it.
        purchase_if_met: per slot, that logit once the visit's need is met (what
            ``purchase`` is when :attr:`~simrec.session.Session.need_met`): a recording
            does not say how much a visit came for, so a fit weighs both cases.
        dismiss: per slot, the logit of a dismissal when it is not clicked (``-inf`` for
            an empty slot).
        compliance: share of the shown items satisfying the active request (1 without one).
    """

    click: np.ndarray
    purchase: np.ndarray
    dismiss: np.ndarray
    compliance: float
    purchase_if_met: np.ndarray

    def click_log_probabilities(self) -> np.ndarray:
        """``log P(no click)``, then ``log P(click on slot j)`` for each slot (``k + 1``)."""
        z = [0.0, *self.click.tolist()]  # a handful of slots: plain floats beat numpy calls
        top = max(z)
        log_total = top + math.log(sum(math.exp(v - top) for v in z))
        return np.array([v - log_total for v in z])

    @property
    def click_share(self) -> float:
        """The probability of a click on some slot: ``1 - P(no click)``."""
        total = 1.0
        for z in self.click.tolist():
            total += math.exp(z)
        return (total - 1.0) / total


class UtilityBrain:
    """The default brain: fast, offline, deterministic given the generators.

    Args:
        params: model coefficients; ``None`` uses the calibrated defaults.
        templates: reply templates; ``None`` uses the shipped ones.
        **overrides: individual :class:`UtilityParams` fields to change.
    """

    name = "utility"
    deterministic = True

    def __init__(
        self,
        params: UtilityParams | None = None,
        templates: ReplyTemplates | None = None,
        **overrides: float,
    ) -> None:
        known = {f.name for f in fields(UtilityParams)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(f"unknown UtilityParams field(s): {', '.join(unknown)}")
        self.params = replace(params or UtilityParams(), **overrides)
        self.templates = templates or default_templates()
        self._catalog: Catalog | None = None
        self._static: dict[tuple, tuple[object, _Static]] = {}
        self._position = [self.params.position_weight * float(np.log1p(i)) for i in range(1024)]

    def react(
        self,
        sessions: Sequence[Session],
        slates: Sequence[Sequence[int]],
        messages: Sequence[str | None],
        rngs: Sequence[np.random.Generator],
    ) -> list[Reaction]:
        """React to ``slates[i]`` in ``sessions[i]`` (see :class:`~simrec.brains.base.Brain`)."""
        return [
            self.react_one(s, slate, rng)
            for s, slate, rng in zip(sessions, slates, rngs, strict=True)
        ]

    # -- static part ---------------------------------------------------------------
    def _catalog_terms(self, catalog: Catalog) -> None:
        if self._catalog is catalog:
            return
        self._catalog = catalog
        logpop = np.log(np.maximum(catalog.popularity_share, 1e-12))
        self._pop = (logpop - logpop.mean()) / (logpop.std() or 1.0)
        info = catalog.self_information
        self._novel = (info - info.mean()) / (info.std() or 1.0)
        self._codes = catalog.category_codes.tolist()
        tokens = catalog.token_matrix
        self._item_tokens = [frozenset(np.flatnonzero(row).tolist()) for row in tokens]

    def static_scores(self, session: Session) -> _Static:
        """The event-dependent item scores of ``session``, rebuilt when it changes."""
        key = session.state_key
        cached = self._static.get(key)
        if cached is not None and cached[0] is session.bound:
            return cached[1]
        self._catalog_terms(session.catalog)
        utility, buy_logit, dismiss = self.item_scores(session)
        bound = session.bound
        static = _Static(
            utility=np.asarray(utility, dtype=np.float64).tolist(),
            purchase_logit=np.asarray(buy_logit, dtype=np.float64).tolist(),
            dismiss_logit=np.broadcast_to(dismiss, utility.shape).astype(np.float64).tolist(),
            price_excess=bound.price_excess.tolist(),
            over_budget=bound.over_budget.tolist(),
            complies=np.asarray(session.constraint_mask, dtype=bool).tolist(),
            disliked=(bound.dislike > 0).tolist(),
        )
        self._static[key] = (session.bound, static)
        return static

    def item_scores(self, session: Session) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every item's utility before boredom and ownership, purchase logit and dismissal logit.

        What the user model derives from tastes, price and the active request (the
        ``(persona, drift, intent)`` state of ``session``): arrays over the catalog. The
        purchase logit is ``-inf`` where a purchase is impossible (a disliked item, or one
        against the active request); the dismissal logit may be a scalar.
        """
        self._catalog_terms(session.catalog)
        p, bound = self.params, session.bound
        t, dislike, excess = bound.traits, bound.dislike, bound.price_excess
        complies = session.constraint_mask
        steer = (
            np.where(complies, p.intent_bonus, -p.intent_penalty) if session.constraint_on else 0.0
        )
        utility = (
            p.taste_weight * session.affinity
            + p.popularity_weight * self._pop
            - p.price_weight * excess
            + p.novelty_weight * t["novelty_seeking"] * self._novel
            - p.dislike_weight * dislike
            + steer
        )
        bar = float(np.quantile(session.affinity, p.liking_quantile))
        buy_logit = (
            p.purchase_base
            + p.purchase_propensity_weight * (t["purchase_propensity"] - 0.5)
            + p.purchase_taste_weight * (session.affinity - bar)
            - p.purchase_price_weight * excess
        )
        never = dislike > 0
        if session.constraint_on:
            never = never | ~complies
        buy_logit = np.where(never, -np.inf, buy_logit)
        dismiss = (
            p.dismiss_base
            + p.dismiss_dislike_weight * dislike
            + (p.dismiss_violation_weight * ~complies if session.constraint_on else 0.0)
        )
        return utility, buy_logit, dismiss

    def click_probabilities(
        self, session: Session, items: Sequence[int] | np.ndarray
    ) -> np.ndarray:
        """Probability that each of ``items``, shown alone as the next slate, is clicked.

        The terms of :meth:`react_one` for a one-item slate (its utility against the
        outside option at the session's fatigue, boredom and ownership), vectorised over
        ``items``: what ``simrec fidelity`` calls the brain's own "liked" rule (above 1/2).
        """
        items = np.asarray(items, dtype=np.int64)
        seen = np.array([session.exposure(i) for i in items.tolist()], dtype=np.float64)
        utility = self._utility_now(session, self.static_scores(session), items, seen)
        z = utility - self._position[0] - self._outside(session)
        return 1.0 / (1.0 + np.exp(-z))

    def step_logits(self, session: Session, slate: Sequence[int]) -> StepLogits:
        """The logits :meth:`react_one` draws ``slate``'s decisions against, per slot.

        The same terms as :meth:`react_one` (utility less boredom, ownership, position and
        the outside option; purchase and dismissal logits), for computing how likely a
        recorded reaction is under these parameters (maximum likelihood in
        :mod:`simrec.calibration.fit`); :meth:`satisfaction_after` and :meth:`leave_logit`
        finish the step. A slate has a handful of slots, so they are computed one by one
        (numpy's per-call cost would exceed the arithmetic) and returned as arrays.
        """
        p = self.params
        static = self.static_scores(session)
        slots = list(slate)
        k = len(slots)
        seen = session.exposures(slots)
        boredom = session.bound.traits["boredom_rate"]
        categories, codes, owned = session.category_exposure, self._codes, session.owned
        outside, position = self._outside(session), self._position
        dismiss_w = p.dismiss_repeat_weight * boredom
        never = -math.inf
        click, purchase, dismiss = [never] * k, [never] * k, [never] * k
        purchase_if_met = [never] * k
        penalty, met = p.need_met_purchase_penalty, session.need_met
        shown = []
        for pos, item in enumerate(slots):
            if item == EMPTY:
                continue
            shown.append(pos)
            u = self._bored(static.utility[item], seen[pos], categories[codes[item]], boredom)
            if item in owned:
                u -= p.owned_penalty
            click[pos] = u - position[pos] - outside
            if item not in owned:
                buy = static.purchase_logit[item]
                purchase_if_met[pos] = buy - penalty
                purchase[pos] = purchase_if_met[pos] if met else buy
            dismiss[pos] = static.dismiss_logit[item] + dismiss_w * seen[pos]
        return StepLogits(
            click=np.array(click),
            purchase=np.array(purchase),
            dismiss=np.array(dismiss),
            compliance=self._compliance(session, static, slots, shown),
            purchase_if_met=np.array(purchase_if_met),
        )

    def satisfaction_after(
        self,
        session: Session,
        logits: StepLogits,
        clicked: bool,
        purchased: bool,
        dismissed: int,
    ) -> float:
        """The session's satisfaction after a step with these outcomes (as :meth:`react_one`
        sets it): ``logits`` of the slate shown, whether something was clicked and bought,
        and how many items were dismissed."""
        return self._satisfaction(
            session,
            logits.click_share,
            clicked,
            purchased,
            dismissed,
            len(logits.click),
            logits.compliance,
        )

    def leave_logit(self, session: Session, satisfaction: float, purchased: bool) -> float:
        """The logit of leaving after this step, at ``satisfaction`` (after the step).

        ``purchased``: whether the step bought something. Once the visit's need is met
        (counting that purchase), the logit is at least ``need_met_leave_logit``: the user
        got what they came for and is likely to go home.
        """
        done = session.purchases + purchased >= session.need_to_leave
        return self.leave_logit_if(session, satisfaction, done)

    def leave_logit_if(self, session: Session, satisfaction: float, done: bool) -> float:
        """:meth:`leave_logit` given whether the visit's need is met after the step (``done``)."""
        p = self.params
        z = (
            p.leave_base
            + p.leave_slope * (p.leave_threshold - satisfaction)
            + p.fatigue_leave_weight * session.fatigue
        )
        return p.need_met_leave_logit if done and z < p.need_met_leave_logit else z

    def _purchase_logit(self, session: Session, static: _Static, item: int) -> float:
        """The logit of buying ``item`` once clicked, at this point of the visit.

        ``-inf`` (never) for an item the user owns, dislikes or that breaks the active
        request; lowered by ``need_met_purchase_penalty`` once the visit's need is met.
        """
        if item in session.owned:
            return -math.inf
        z = static.purchase_logit[item]
        return z - self.params.need_met_purchase_penalty if session.need_met else z

    def _outside(self, session: Session) -> float:
        """The no-click option's utility, which grows with fatigue."""
        p = self.params
        return p.outside_utility + p.fatigue_weight * session.fatigue

    def _utility_now(
        self, session: Session, static: _Static, items: np.ndarray, seen: np.ndarray
    ) -> np.ndarray:
        """Utility of ``items`` at this point of the visit: their static score less boredom
        (their own exposure ``seen`` and their categories') and ownership, vectorised."""
        p = self.params
        boredom = session.bound.traits["boredom_rate"]
        categories = np.asarray(session.category_exposure, dtype=np.float64)
        codes = session.catalog.category_codes[items]
        base = np.array([static.utility[i] for i in items.tolist()], dtype=np.float64)
        utility = self._bored(base, seen, categories[codes], boredom)
        if session.owned:
            utility = np.where(
                np.isin(items, list(session.owned)), utility - p.owned_penalty, utility
            )
        return utility

    def _bored(self, utility: Any, seen: Any, category_seen: Any, boredom: float) -> Any:
        """``utility`` less boredom: the item's own exposure ``seen`` and its category's
        ``category_seen`` (numbers, or arrays of them)."""
        p = self.params
        return utility - boredom * (p.repeat_weight * seen + p.category_weight * category_seen)

    @staticmethod
    def _compliance(
        session: Session, static: _Static, slate: Sequence[int], shown: Sequence[int]
    ) -> float:
        """Share of the shown items that satisfy the active request (1 without one)."""
        if not (session.constraint_on and shown):
            return 1.0
        mask = static.complies
        n_complying = 0
        for pos in shown:
            if mask[slate[pos]]:
                n_complying += 1
        return n_complying / len(shown)

    def _satisfaction(
        self,
        session: Session,
        click_share: float,
        clicked: bool,
        bought: bool,
        n_dismissed: int,
        k: int,
        compliance: float,
    ) -> float:
        """Satisfaction moved toward the slate's click probability ``click_share``, up with
        a click and a purchase, down with dismissals and an ignored request, in [0, 1]."""
        p = self.params
        s = session.satisfaction
        s = (
            s
            + p.satisfaction_rate * (click_share - s)
            + (p.click_lift if clicked else 0.0)
            + (p.purchase_lift if bought else 0.0)
            - p.dismiss_drop * n_dismissed / k
            + (p.compliance_weight * (compliance - 0.5) if session.constraint_on else 0.0)
        )
        if s < 0.0:  # min(max(s, 0.0), 1.0) without two builtin calls
            return 0.0
        if s > 1.0:
            return 1.0
        return s

    # -- one step ----------------------------------------------------------------------
    def react_one(
        self, session: Session, slate: Sequence[int], rng: np.random.Generator
    ) -> Reaction:
        """The reaction of one session to one slate (``-1`` = empty slot)."""
        p = self.params
        static = self.static_scores(session)
        k = len(slate)
        draws, logits = session.uniforms(rng, k + 5)
        boredom = session.bound.traits["boredom_rate"]
        outside = self._outside(session)
        cat_exposure, codes, owned = session.category_exposure, self._codes, session.owned
        utility, dismiss_logit, position = static.utility, static.dismiss_logit, self._position
        repeat_w, category_w = p.repeat_weight, p.category_weight

        seen = session.exposures(slate)
        shown = [pos for pos in range(k) if slate[pos] != EMPTY] if EMPTY in slate else _SLOTS[k]
        args = [
            utility[slate[pos]]
            - boredom * (repeat_w * seen[pos] + category_w * cat_exposure[codes[slate[pos]]])
            - position[pos]
            - outside
            for pos in shown
        ]
        if owned:  # rare: owned items carry a penalty (same float operations, in order)
            for j, pos in enumerate(shown):
                item = slate[pos]
                if item in owned:
                    u = utility[item] - boredom * (
                        repeat_w * seen[pos] + category_w * cat_exposure[codes[item]]
                    )
                    u -= p.owned_penalty
                    args[j] = u - position[pos] - outside
        ex = _exp(args).tolist() if args else []

        # Logit choice: the draw falls in one slot's share of the total, or in the outside option's.
        total = 1.0
        for e in ex:
            total += e
        clicked, purchased, dismissed = [False] * k, [False] * k, [False] * k
        choice, running, bought = -1, 0.0, False
        u_choice = draws[0]
        for j, pos in enumerate(shown):
            running += ex[j]
            if u_choice < running / total:
                choice = pos
                clicked[pos] = True
                limit = self._purchase_logit(session, static, slate[pos])
                bought = purchased[pos] = logits[1] < limit
                break
        n_dismissed = 0
        dismiss_w = p.dismiss_repeat_weight * boredom
        for pos in shown:
            if (
                pos != choice
                and logits[2 + pos] < dismiss_logit[slate[pos]] + dismiss_w * seen[pos]
            ):
                dismissed[pos] = True
                n_dismissed += 1

        compliance = self._compliance(session, static, slate, shown)
        s = self._satisfaction(
            session, (total - 1.0) / total, choice >= 0, bought, n_dismissed, k, compliance
        )
        left = logits[2 + k] < self.leave_logit(session, s, bought)
        met = session.purchases + bought >= session.need_to_leave

        reply = self._reply(
            session,
            slate,
            shown,
            seen,
            choice,
            bought,
            dismissed,
            compliance,
            left,
            met,
            draws[3 + k],
            draws[4 + k],
            static,
        )
        return Reaction(clicked, purchased, dismissed, left, s, reply, self.name)

    # -- words ---------------------------------------------------------------------------
    def _reply(
        self,
        session: Session,
        slate: Sequence[int],
        shown: list[int],
        seen: list[float],
        choice: int,
        bought: bool,
        dismissed: list[bool],
        compliance: float,
        left: bool,
        met: bool,
        u_pick: float,
        u_chat: float,
        static: _Static,
    ) -> str:
        """Say what drove the reaction, in the persona's voice (templates, no LLM).

        A taste remark is left out when the user dismissed an item with that taste in the
        same turn; a goodbye once the need is met says the user got what they came for.
        """
        t = self.templates
        catalog = session.catalog
        bound = session.bound
        parts = []
        ignored = session.constraint_on and compliance < 0.5
        if bought:
            title = catalog.titles[slate[choice]]
            parts.append(t.pick("purchase", u_pick, title=title, verb=t.verb(catalog.domain)))
        elif choice >= 0:
            parts.append(t.pick("click", u_pick, title=catalog.titles[slate[choice]]))
        elif ignored:
            parts.append(t.pick("ignored", u_pick, says=self._request(session)))
            ignored = False
        else:
            parts.append(self._complaint(session, slate, shown, seen, dismissed, u_pick, static))
        if ignored:
            parts.append(t.pick("ignored", u_chat, says=self._request(session)))
        parts.extend(bound.voiced_at(session.turn + 1))
        words = session.taste_words
        if words and u_chat < self.params.chat_rate * bound.traits["chattiness"]:
            w = int(u_pick * len(words))
            token, tokens = session.taste_tokens[w], self._item_tokens
            if not any(dismissed[pos] and token in tokens[slate[pos]] for pos in shown):
                parts.append(t.pick("taste", u_chat / self.params.chat_rate, value=words[w]))
        if left:
            parts.append(t.pick("done" if met else "leaving", u_chat))
        return " ".join(parts)

    @staticmethod
    def _request(session: Session) -> str:
        assert session.active_intent is not None
        return session.persona.intents[session.active_intent].says

    def _complaint(
        self,
        session: Session,
        slate: Sequence[int],
        shown: list[int],
        seen: list[float],
        dismissed: list[bool],
        u_pick: float,
        static: _Static,
    ) -> str:
        """Why nothing was clicked: a disliked thing, boredom, price, or just nothing.

        Boredom is "seen these" only when every shown item was shown before in the visit
        (else the kind of items is what wore); price is the complaint only when every
        shown item is over the user's willingness to pay.
        """
        t = self.templates
        if not shown:
            return t.pick("nothing", u_pick)
        disliked = [slate[pos] for pos in shown if dismissed[pos] and static.disliked[slate[pos]]]
        if disliked:
            return t.pick("dislike", u_pick, value=self._disliked_value(session, disliked[0]))
        p = self.params
        boredom = session.bound.traits["boredom_rate"]
        codes = self._codes
        bored = sum(
            boredom
            * (
                p.repeat_weight * seen[pos]
                + p.category_weight * session.category_exposure[codes[slate[pos]]]
            )
            for pos in shown
        ) / len(shown)
        excess, over = static.price_excess, static.over_budget
        pricey = p.price_weight * sum(excess[slate[pos]] for pos in shown) / len(shown)
        if bored > 0.6 and bored >= pricey:
            repeated = all(seen[pos] > 0.0 for pos in shown)
            return t.pick("seen" if repeated else "samey", u_pick)
        if pricey > 0.5 and all(over[slate[pos]] for pos in shown):
            return t.pick("pricey", u_pick)
        return t.pick("nothing", u_pick)

    @staticmethod
    def _disliked_value(session: Session, item: int) -> str:
        catalog = session.catalog
        for fld, values in session.persona.dislikes.items():
            for value in values:
                column = catalog.token_index[f"{fld}={value}"]
                if catalog.token_matrix[item, column]:
                    return value
        return str(catalog.categories[item])
