"""The oracle: an upper bound that CHEATS by reading the hidden user.

It reads the env's live session (the persona's current tastes after any drift, its
dislikes and traits, the active request's hidden constraint, what it already owns and
how bored it is) and ranks items by the utility the offline user model would give
them. No real recommender can do this; scenarios use it to normalise returns ("what
share of the attainable return did a policy earn?") and as the ceiling in comparisons.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from simrec.brains.utility import UtilityBrain
from simrec.policies.base import ScoringPolicy
from simrec.validation import checked_arguments


class OraclePolicy(ScoringPolicy):
    """Shows what the hidden user model likes most right now (CHEATING upper bound).

    Items are ranked by the user model's utility (with the session's boredom and what the
    user owns), plus the value of a likely purchase; within a slate each further item of an already chosen
    category is discounted by ``spread`` times the boredom it will cause, so the oracle
    does not bore the user it can see.

    Args:
        spread: how much the oracle avoids stacking one category (0 = pure myopic).
    """

    name = "oracle"
    cheats = True

    @checked_arguments
    def __init__(self, env: gym.Env, seed: int | None = None, spread: float = 1.0) -> None:
        super().__init__(env, seed)
        base = env.unwrapped
        # The env's own user model (with its parameters), or the default one for other brains.
        self.model = base.brain if isinstance(base.brain, UtilityBrain) else UtilityBrain()
        self.params = self.model.params
        self.spread = float(spread)
        self.codes = self.catalog.category_codes
        self.all_items = list(range(len(self.catalog)))

    def scores(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """The hidden utility of every item for the user in the env right now."""
        session = self.env.unwrapped.session
        p, t = self.params, session.bound.traits
        utility, buy_logit, _ = self.model.item_scores(session)
        exposure = np.asarray(session.exposures(self.all_items))
        category = np.asarray(session.category_exposure)[self.codes]
        utility = utility - t["boredom_rate"] * (
            p.repeat_weight * exposure + p.category_weight * category
        )
        if session.owned:
            owned = list(session.owned)
            utility[owned] -= p.owned_penalty
            buy_logit[owned] = -np.inf
        if session.need_met:
            buy_logit = buy_logit - p.need_met_purchase_penalty
        buy = 1.0 / (1.0 + np.exp(-buy_logit))
        return utility + np.log1p(2.0 * buy)

    def select(self, scores: np.ndarray) -> np.ndarray:
        """Best items first, spreading categories to keep the user from boredom."""
        scores = scores + self.rng.random(self.n_items) * 1e-9
        session = self.env.unwrapped.session
        step = (
            self.spread
            * session.bound.traits["boredom_rate"]
            * self.params.category_weight
            / self.k
        )
        chosen: list[int] = []
        for _ in range(self.k):
            pick = int(np.argmax(scores))
            chosen.append(pick)
            scores[pick] = -np.inf
            scores[self.codes == self.codes[pick]] -= step
        return np.array(chosen, dtype=np.int64)
