"""Who says "liked": the brain (its own rule) and the baselines (a validation threshold).

A judge gives, for users and items, a score (higher: more likely chosen) and a liked call.

* The **brain**: the utility brain's probability that a one-item slate is clicked at
  the first turn of a visit (:meth:`~simrec.brains.utility.UtilityBrain.click_probabilities`),
  liked above 1/2. Any other brain (an LLM) is shown one-item slates through its own
  ``react`` and its click is the call (its score is the call itself).
* The **baselines** (random, popularity, matrix factorisation): per-user standardised
  scores, liked above a threshold chosen on the validation part (models fitted on train),
  then applied with the models refitted on everything before the held-out part.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simrec.brains.base import Brain
from simrec.brains.utility import UtilityBrain
from simrec.env import RecSessionEnv
from simrec.fidelity.data import GroundedData
from simrec.grounding.calibration import choose_threshold, sample_negatives
from simrec.session import BoundPersona, Session, SessionDynamics


def _first_turn_session(data: GroundedData, u: int, dynamics: SessionDynamics) -> Session:
    return Session(BoundPersona(data.personas[u], data.catalog), 1, 1, dynamics)


def brain_probabilities(data: GroundedData, brain: UtilityBrain, users: np.ndarray) -> np.ndarray:
    """Users x items click probabilities of one-item slates at the first turn."""
    dynamics = SessionDynamics()
    everything = np.arange(len(data.catalog))
    return np.stack(
        [
            brain.click_probabilities(_first_turn_session(data, u, dynamics), everything)
            for u in users.tolist()
        ]
    )


def brain_clicks(
    data: GroundedData,
    brain: Brain,
    pairs: list[tuple[int, int]],
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> dict[tuple[int, int], bool]:
    """Whether ``brain`` clicks each (user, item) shown alone at a visit's first turn.

    Every pair is its own visit, seeded from ``seed`` and the pair, so the calls (and an
    LLM's cache keys) do not depend on the order or the number of pairs.
    """
    dynamics = SessionDynamics()
    out: dict[tuple[int, int], bool] = {}
    for k, (u, i) in enumerate(pairs):
        session = _first_turn_session(data, u, dynamics)
        rng = np.random.default_rng([seed, u, i])
        reaction = brain.react([session], [[i]], [None], [rng])[0]
        out[(u, i)] = bool(reaction.clicked[0])
        if progress is not None:
            progress(k + 1)
    return out


def standardise(scores: np.ndarray) -> np.ndarray:
    """Per-row z-scores (a constant row becomes zeros)."""
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return (scores - mean) / np.where(std > 0, std, 1.0)


BASELINE_POLICIES = {"random": None, "popularity": "popular_unseen", "mf": "mf"}
"""The fidelity table's baselines and the registered policy each one scores with."""


class Baseline:
    """A baseline judge: a policy's scores, liked above a threshold chosen on validation."""

    def __init__(self, name: str, data: GroundedData, users: np.ndarray, seed: int) -> None:
        self.name, self.data, self.users, self.seed = name, data, users, seed
        self.env = RecSessionEnv(data.catalog, data.personas[:1])
        validation_scores = self._scores(data.train, data.train)
        rng = np.random.default_rng([seed, 1])
        v_user, v_item = np.nonzero(data.validation[users])
        exclude = (data.train | data.validation)[users]
        negatives = sample_negatives(exclude, v_user, 9, rng)
        pos = validation_scores[v_user, v_item]
        neg = validation_scores[v_user[:, None], negatives]
        self.threshold, self.validation_accuracy, self.validation_f1 = choose_threshold(pos, neg)
        self.scores = self._scores(data.before, data.before)

    def _scores(self, fit_mask: np.ndarray, history_mask: np.ndarray) -> np.ndarray:
        """Standardised users x items scores of a model fitted on ``fit_mask`` events."""
        data = self.data
        if BASELINE_POLICIES[self.name] is None:
            rng = np.random.default_rng([self.seed, 2, int(fit_mask.sum())])
            return standardise(rng.random((len(self.users), len(data.catalog))))
        from simrec.policies import make_policy

        policy = make_policy(BASELINE_POLICIES[self.name], self.env, seed=self.seed)
        policy.fit(data.histories(fit_mask))
        histories = data.histories(history_mask)
        empty = np.zeros(0, dtype=np.int64)
        return standardise(
            np.stack([policy.score_items(histories[u], empty) for u in self.users.tolist()])
        )

    def liked(self, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Liked calls for (row of :attr:`users`, item) pairs."""
        return self.scores[rows, items] > self.threshold
