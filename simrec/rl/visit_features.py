"""What a recommender knows of every item for the user in front of it, as numbers.

An RL policy that sees only the env's default observation (recent slates as item ids, their
feedback, a hashed reply) must learn from scratch which items resemble which: in practice
it learns one good slate per turn and shows it to everyone. :class:`VisitFeatures` gives it
the user instead: for every catalog item, how that item relates to what this user did and
said in this visit — the same evidence LinUCB, MMR and the steer-aware policy act on — so
one small network shared across items can rank the catalog for each user.

Everything comes from what a real recommender sees (``info["slate"]``,
``info["reaction"]``, ``info["reply"]``, ``info["user_history"]``), never from
``info["ground_truth"]``.

Per-item features (columns of ``item_features``, :data:`ITEM_FEATURES`):

=====================  =======================================================================
``bandit_mean``        the in-visit ridge model of clicks over item features (LinUCB's estimate)
``bandit_width``       its uncertainty (LinUCB's exploration width)
``like_clicked``       highest cosine similarity to an item the user clicked this visit
``like_dismissed``     highest cosine similarity to an item the user dismissed this visit
``like_history``       highest cosine similarity to an item of the user's past (grounded users)
``category_clicks``    clicks this visit on items of the item's category (capped at 3, / 3)
``category_shown``     times the item's category was shown this visit (/ slate size)
``times_shown``        times the item itself was shown this visit (capped at 3, / 3)
``shown_last``         shown in the last slate
``clicked``            clicked this visit
``owned``              bought this visit or before it (history)
``price_vs_accepted``  log price minus the mean log price of what the user clicked (in
                       catalog standard deviations; 0 before any click)
``above_accepted``     dearer than everything the user clicked (0 before any click)
``log_price``          log price, z-scored over the catalog
``popularity``         log popularity, z-scored over the catalog
``requested``          satisfies every request the user made in words (1 when none)
``stated_taste``       how many tastes the user stated in words it matches (capped at 2, / 2)
=====================  =======================================================================

Then the item's own catalog features (``catalog.features``: category and tag tokens,
z-scored numeric attributes, log price, popularity; named ``item:<feature>``), so the
scorer can also learn which kinds of item appeal to most users — what a fixed schedule
knows — and how that depends on the turn and on this user.

Visit features (``visit_features``, :data:`VISIT_FEATURES`): the turn (/ ``max_turns``),
clicks, purchases and dismissals so far, whether the last slate got a click or a purchase,
whether the user has made a request, stated a taste, or arrived with a history.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from simrec.env import user_history
from simrec.policies.linucb import LinUCBPolicy
from simrec.policies.steer_aware import ReplyParser, Request

ITEM_FEATURES = (
    "bandit_mean", "bandit_width", "like_clicked", "like_dismissed", "like_history",
    "category_clicks", "category_shown", "times_shown", "shown_last", "clicked", "owned",
    "price_vs_accepted", "above_accepted", "log_price", "popularity", "requested",
    "stated_taste",
)  # fmt: skip
"""The visit's columns of ``item_features`` (the catalog's own features follow them)."""

VISIT_FEATURES = (
    "turn", "clicks", "purchases", "dismissals", "last_clicked", "last_purchased",
    "requested", "stated_taste", "has_history",
)  # fmt: skip
"""Entries of ``visit_features``."""


def _zscore(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    return (values - values.mean()) / (std if std > 0 else 1.0)


class VisitFeatures:
    """Per-item and per-visit features of one user's visit, updated from the env's infos.

    Call :meth:`start` with the info of ``reset`` and :meth:`record` with the info of every
    ``step`` (or :meth:`follow` with either); :meth:`observation` gives the current
    features. One object follows one visit at a time.

    Args:
        env: the env (wrapped or not) whose catalog, slate size and ``max_turns`` apply.

    Example::

        features = VisitFeatures(env)
        obs, info = env.reset(seed=0)
        features.start(info)
        x = features.observation()["item_features"]   # (n_items, len(features.feature_names))
    """

    def __init__(self, env: gym.Env) -> None:
        base = env.unwrapped
        self.catalog = base.catalog
        self.k = int(base.slate_size)
        self.max_turns = int(base.max_turns)
        self.n_items = len(self.catalog)
        features = np.asarray(self.catalog.features, dtype=np.float64)
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        self._unit = features / np.where(norms > 0, norms, 1.0)
        self._codes = np.asarray(self.catalog.category_codes, dtype=np.int64)
        self._n_categories = int(self._codes.max()) + 1 if self.n_items else 0
        log_price = np.log1p(np.asarray(self.catalog.prices, dtype=np.float64))
        self._log_price = log_price
        self._price_scale = float(log_price.std()) or 1.0
        self._static_price = _zscore(log_price)
        self._static_popularity = _zscore(
            np.log1p(np.asarray(self.catalog.popularity, dtype=np.float64))
        )
        self._catalog_features = np.asarray(self.catalog.features, dtype=np.float32)
        self.feature_names = ITEM_FEATURES + tuple(
            f"item:{name}" for name in self.catalog.feature_names
        )
        """Names of the columns of ``item_features``."""
        self._bandit = LinUCBPolicy(env)
        self._parser = ReplyParser(self.catalog)
        self.observation_space = spaces.Dict(
            {
                "item_features": spaces.Box(
                    -np.inf, np.inf, (self.n_items, len(self.feature_names)), np.float32
                ),
                "visit_features": spaces.Box(-np.inf, np.inf, (len(VISIT_FEATURES),), np.float32),
            }
        )
        self.start({})

    # -- following the visit ------------------------------------------------------------
    def start(self, info: dict[str, Any]) -> None:
        """Begin a visit from the info ``reset`` returned (opening reply, user history)."""
        n = self.n_items
        self.turn = 0
        self.clicks = self.purchases = self.dismissals = 0
        self.last_clicked = self.last_purchased = False
        self.times_shown = np.zeros(n)
        self.shown_last = np.zeros(n, dtype=bool)
        self.clicked = np.zeros(n, dtype=bool)
        self.owned = np.zeros(n, dtype=bool)
        self.like_clicked = np.zeros(n)
        self.like_dismissed = np.zeros(n)
        self.like_history = np.zeros(n)
        self.category_clicks = np.zeros(self._n_categories)
        self.category_shown = np.zeros(self._n_categories)
        self.accepted_log_prices: list[float] = []
        self.requests: dict[str, Request] = {}
        self._bandit.begin_session()
        history = user_history(info)
        self.has_history = bool(len(history))
        if len(history):
            self.owned[history] = True
            self.like_history = np.clip(self._unit @ self._unit[history].T, 0, None).max(axis=1)
        self._listen(info, ())

    def record(self, info: dict[str, Any]) -> None:
        """Add the step ``info`` reports: its ``slate``, ``reaction`` and ``reply``."""
        reaction = info["reaction"]
        shown = [(pos, int(i)) for pos, i in enumerate(info["slate"]) if int(i) >= 0]
        items = np.array([i for _, i in shown], dtype=np.int64)
        self.turn = int(info.get("turn", self.turn + 1))
        self.shown_last[:] = False
        self.shown_last[items] = True
        np.add.at(self.times_shown, items, 1.0)
        np.add.at(self.category_shown, self._codes[items], 1.0)
        self.last_clicked = self.last_purchased = False
        for pos, item in shown:
            if reaction.clicked[pos]:
                self._on_click(item, bool(reaction.purchased[pos]))
            if reaction.dismissed[pos]:
                self.dismissals += 1
                self.like_dismissed = np.maximum(self.like_dismissed, self._unit @ self._unit[item])
        self._bandit.turn = self.turn
        self._bandit.learn(shown, reaction, info)
        self._listen(info, items)

    def follow(self, info: dict[str, Any]) -> None:
        """:meth:`record` a step's info, or :meth:`start` on a reset's (it has no reaction)."""
        if info.get("reaction") is None:
            self.start(info)
        else:
            self.record(info)

    def _on_click(self, item: int, purchased: bool) -> None:
        self.clicks += 1
        self.last_clicked = True
        self.clicked[item] = True
        self.category_clicks[self._codes[item]] += 1.0
        self.like_clicked = np.maximum(self.like_clicked, self._unit @ self._unit[item])
        self.accepted_log_prices.append(float(self._log_price[item]))
        if purchased:
            self.purchases += 1
            self.last_purchased = True
            self.owned[item] = True

    def _listen(self, info: dict[str, Any], shown: Any) -> None:
        """Requests and tastes in the latest reply (titles of the items shown are skipped)."""
        titles = tuple(str(self.catalog.titles[i]) for i in shown)
        for request in self._parser.parse(str(info.get("reply", "") or ""), ignore=titles):
            self.requests[request.key] = request

    # -- features ---------------------------------------------------------------------
    def observation(self) -> dict[str, np.ndarray]:
        """``item_features`` ``(n_items, len(feature_names))`` and ``visit_features``."""
        bandit = self._bandit
        x = bandit.x
        width = np.sqrt(np.maximum(((x @ bandit.a_inv) * x).sum(axis=1), 0.0))
        requested = np.ones(self.n_items, dtype=bool)
        stated = np.zeros(self.n_items)
        hard = soft = 0
        for request in self.requests.values():
            if request.hard:
                requested &= request.mask
                hard += 1
            else:
                stated += request.mask
                soft += 1
        if self.accepted_log_prices:
            mean = float(np.mean(self.accepted_log_prices))
            price_vs = (self._log_price - mean) / self._price_scale
            above = self._log_price > max(self.accepted_log_prices)
        else:
            price_vs = np.zeros(self.n_items)
            above = np.zeros(self.n_items, dtype=bool)
        columns = (
            bandit.expected(),
            width,
            self.like_clicked,
            self.like_dismissed,
            self.like_history,
            np.minimum(self.category_clicks[self._codes], 3.0) / 3.0,
            self.category_shown[self._codes] / self.k,
            np.minimum(self.times_shown, 3.0) / 3.0,
            self.shown_last,
            self.clicked,
            self.owned,
            price_vs,
            above,
            self._static_price,
            self._static_popularity,
            requested,
            np.minimum(stated, 2.0) / 2.0,
        )
        visit = (
            self.turn / self.max_turns,
            min(self.clicks, 10) / 5.0,
            min(self.purchases, 6) / 3.0,
            min(self.dismissals, 10) / 5.0,
            self.last_clicked,
            self.last_purchased,
            hard > 0,
            min(soft, 3) / 3.0,
            self.has_history,
        )
        return {
            "item_features": np.column_stack([*columns, self._catalog_features]).astype(np.float32),
            "visit_features": np.asarray(visit, dtype=np.float32),
        }


__all__ = ["ITEM_FEATURES", "VISIT_FEATURES", "VisitFeatures"]
