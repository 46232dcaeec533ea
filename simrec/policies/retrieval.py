"""The cheap first stage of a two-stage recommender: a short list of candidates per turn.

An LLM policy cannot read a catalog of thousands of items every turn, so a cheap model
retrieves ``n`` candidates and the LLM orders them (see
:mod:`simrec.policies.llm_reranker`). A retriever is any scoring model that learns
within the visit, one per visit:

=====================  ===================================================================
``retriever``          candidates
=====================  ===================================================================
``popularity``         the most popular items (the same list every turn)
``embedding``          nearest items, by cosine, to what the user chose this visit and
                       before it (``Catalog.embeddings``; popularity until there is any)
``hybrid``             two lists interleaved: an in-session bandit's (``base``, default
                       ``linucb``) and a keyword match of the user's own words (the same
                       bandit's order among the items they asked for, as ``steer_aware``
                       reads replies), as two-stage systems mix collaborative and lexical
                       retrieval
any scoring policy     its best-scoring items: ``linucb`` (in-session bandit, the
                       default), ``greedy``, ``mmr``, ``steer_aware``, and whatever else
                       :data:`~simrec.policies.registry.SCORING_POLICIES` holds
a policy object        a :class:`~simrec.policies.base.ScoringPolicy` you built (and
                       fitted): each visit gets its own copy, e.g. ``MFPolicy(env)
                       .fit(histories)`` for matrix-factorisation candidates
=====================  ===================================================================

A retriever named by string is built fresh for every visit, so a model that learns
across users (``mf``, ``ease``, ``popular_unseen``) starts unfitted each visit: it gives
popularity until the visit's own clicks (and ``info["user_history"]``) fold in. Give a
fitted object to retrieve from what it learned. Retrievers are seeded with the visit's
session id, and no visit's copy learns from another's, so the candidates of a turn
depend only on the visit, never on how many visits run at once (LLM replays need that).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from simrec.env import user_history
from simrec.errors import ConfigError
from simrec.policies.base import (
    ScoringPolicy,
    batched,
    learn_together,
    scores_of,
    update_together,
)
from simrec.policies.popularity import popularity_rank
from simrec.reaction import Reaction


class PopularityScores(ScoringPolicy):
    """Popularity as a score: the same candidates every turn, whatever the user does."""

    name = "popularity"

    def scores(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """Every item's popularity rank in [0, 1)."""
        return popularity_rank(self.catalog.popularity)


class EmbeddingSimilarity(ScoringPolicy):
    """Items near what the user chose, in the catalog's embedding space.

    The query is the mean embedding of the items the user clicked or bought in this
    visit (a purchase counts twice) and of their pre-visit history
    (``info["user_history"]``), minus half the mean of what they dismissed. Before any of
    that exists the score is popularity (a stranger's first slate).

    Raises:
        ConfigError: the catalog has no ``embedding`` column.
    """

    name = "embedding"

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        embeddings = env.unwrapped.catalog.embeddings
        if embeddings is None:
            raise ConfigError(
                "retriever 'embedding': the catalog has no 'embedding' column (see the "
                "catalog format; `simrec ground` writes one); use another retriever"
            )
        norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
        self.unit = embeddings / np.where(norms > 0, norms, 1.0)
        super().__init__(env, seed)

    def begin_session(self) -> None:
        super().begin_session()
        self.liked = np.zeros(self.unit.shape[1])
        self.disliked = np.zeros(self.unit.shape[1])
        self.evidence = 0.0
        self.history_seen = False

    def scores(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """Cosine similarity to the visit's query (popularity rank before any evidence)."""
        if not self.history_seen:
            self.history_seen = True
            history = user_history(info)
            if len(history):
                self.liked = self.liked + self.unit[history].sum(axis=0)
                self.evidence += len(history)
        if self.evidence == 0:
            return popularity_rank(self.catalog.popularity)
        query = self.liked / self.evidence - 0.5 * self.disliked / max(self.evidence, 1.0)
        return self.unit @ query

    def learn(self, shown: list[tuple[int, int]], reaction: Reaction, info: dict[str, Any]) -> None:
        for pos, item in shown:
            weight = float(reaction.clicked[pos]) + float(reaction.purchased[pos])
            if weight:
                self.liked = self.liked + weight * self.unit[item]
                self.evidence += weight
            if reaction.dismissed[pos]:
                self.disliked = self.disliked + self.unit[item]


class HybridScores(ScoringPolicy):
    """An in-session bandit's list and a keyword match of the user's words, interleaved.

    Before the user asks for anything both lists are the bandit's; after a request
    ("only dog-friendly courses"), every other candidate is one that satisfies it, so the
    stage that orders them (an LLM) can follow the request without the retriever
    deciding for it.

    Args:
        base: the bandit (a scoring policy's name, default ``linucb``).
        **base_kwargs: its parameters.
    """

    name = "hybrid"

    def __init__(
        self, env: gym.Env, seed: int | None = None, base: str = "linucb", **base_kwargs: Any
    ) -> None:
        from simrec.policies.steer_aware import SteerAwarePolicy

        self.steer = SteerAwarePolicy(env, seed=seed, base=base, **base_kwargs)
        super().__init__(env, seed)

    def reset(self, seed: int | None = None) -> None:
        self.steer.reset(seed)
        super().reset(seed)

    @batched(lambda *columns: _interleaved(*columns))
    def scores(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """Minus each item's place in the interleaved list (the bandit's first)."""
        return _interleaved([self], [observation], [info])[0]

    @batched(lambda *columns: _hybrid_learn(*columns))
    def learn(self, shown: list[tuple[int, int]], reaction: Reaction, info: dict[str, Any]) -> None:
        _hybrid_learn([self], [shown], [reaction], [info])


def _hybrid_learn(
    policies: Sequence[HybridScores],
    shown: Sequence[list[tuple[int, int]]],
    reactions: Sequence[Reaction],
    infos: Sequence[dict[str, Any]],
) -> None:
    steers = [p.steer for p in policies]
    for policy, steer in zip(policies, steers, strict=True):
        steer.turn = policy.turn
    learn_together(steers, shown, reactions, infos)


def _interleaved(
    policies: Sequence[HybridScores],
    observations: Sequence[dict[str, np.ndarray]],
    infos: Sequence[dict[str, Any]],
) -> np.ndarray:
    steers = [p.steer for p in policies]
    for steer, info in zip(steers, infos, strict=True):
        if info.get("turn", 0) == 0:
            steer.listen(info)  # the opening message
    bandit = scores_of([s.base for s in steers], observations, infos)
    from simrec.policies.steer_aware import steered_many

    asked = steered_many(steers, bandit)
    return -np.minimum(_places(bandit, 0), _places(asked, 1))


def _places(scores: np.ndarray, offset: int) -> np.ndarray:
    """Each item's place ``2 * rank + offset`` in its row's list, best first (ties in item
    order); ``inf`` for items the row rules out (non-finite scores)."""
    ok = np.isfinite(scores)
    order = np.argsort(np.where(ok, -scores, np.inf), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(scores.shape[1]), axis=1)
    return np.where(ok, 2.0 * rank + offset, np.inf)


BUILT_IN = {
    "popularity": PopularityScores,
    "embedding": EmbeddingSimilarity,
    "hybrid": HybridScores,
}
"""Retrievers that are not policies of their own."""


def retriever_names() -> list[str]:
    """Every name :class:`Retriever` accepts."""
    from simrec.policies.registry import SCORING_POLICIES

    return sorted({*BUILT_IN, *SCORING_POLICIES} - {"oracle"})


class Retriever:
    """One visit's candidate generator: a scoring model that learns from the visit.

    Args:
        env: a single env (its catalog and slate size).
        name: ``popularity``, ``embedding``, a scoring policy's name, or a
            :class:`~simrec.policies.base.ScoringPolicy` object to copy (module docstring).
        seed: the visit's seed (its session id): ties and exploration are drawn from it.
        params: the scoring policy's parameters (e.g. ``{"alpha": 0.3}`` for ``linucb``);
            none with an object.

    Raises:
        ConfigError: an unknown name (``oracle`` reads the hidden user: never a retriever),
            parameters the scoring policy refuses, or an object that is not a scoring policy.
    """

    def __init__(
        self,
        env: gym.Env,
        name: str | ScoringPolicy,
        seed: int,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(name, ScoringPolicy):
            self.model = private_copy(name)
            self.name = getattr(name, "name", type(name).__name__)
        else:
            self.model = _build(env, name, seed, params)
            self.name = name
        self.model.reset(seed)

    def candidates(
        self, observation: dict[str, np.ndarray] | None, info: dict[str, Any], n: int
    ) -> np.ndarray:
        """The ``n`` best items now, best first (items the model rules out come last)."""
        return candidates_many([self], [observation], [info], n)[0]

    def observe(
        self, observation: dict[str, np.ndarray] | None, reward: float, info: dict[str, Any]
    ) -> None:
        """Learn from the step just shown (``info`` has its ``slate`` and ``reaction``)."""
        observe_many([self], [observation], [info], [reward])


def observe_many(
    retrievers: Sequence[Retriever],
    observations: Sequence[dict[str, np.ndarray] | None],
    infos: Sequence[dict[str, Any]],
    rewards: Sequence[float] | None = None,
) -> None:
    """:meth:`Retriever.observe` of every visit of a round (``rewards`` default to 0),
    models of one kind learning together (:func:`~simrec.policies.base.update_together`):
    the same bits as one by one."""
    update_together(
        [r.model for r in retrievers],
        [o or {} for o in observations],
        [0.0] * len(retrievers) if rewards is None else list(rewards),
        list(infos),
    )


def candidates_many(
    retrievers: Sequence[Retriever],
    observations: Sequence[dict[str, np.ndarray] | None],
    infos: Sequence[dict[str, Any]],
    n: int,
) -> list[np.ndarray]:
    """:meth:`Retriever.candidates` of every visit of a round (retrievers of one catalog),
    computed together: models of one kind score in one product
    (:func:`~simrec.policies.base.batched`) and every visit's ranking
    is one sort. Each visit's candidates are the bits it would get alone: its ties are
    broken by its own generator, drawn in the same order.
    """
    if not retrievers:
        return []
    models = [r.model for r in retrievers]
    scores = scores_of(models, [o or {} for o in observations], list(infos))
    noise = np.stack([m.rng.random(scores.shape[1]) for m in models]) * 1e-9
    finite = np.isfinite(scores)
    # Ruled-out items (-inf: a steer-aware filter) rank after every allowed one.
    keyed = np.where(finite, scores + noise, -np.inf)
    order = np.lexsort((-keyed, ~finite), axis=-1)[:, :n].astype(np.int64)
    return list(order)


def _build(env: gym.Env, name: Any, seed: int, params: Mapping[str, Any] | None) -> ScoringPolicy:
    from simrec.policies.registry import SCORING_POLICIES

    factory = BUILT_IN.get(name) or SCORING_POLICIES.get(name) if isinstance(name, str) else None
    if factory is None or name == "oracle":
        raise ConfigError(
            f"retriever: expected one of {', '.join(retriever_names())} or a ScoringPolicy "
            f"object, got {name!r}"
        )
    try:
        return factory(env, seed=seed, **dict(params or {}))
    except ConfigError as exc:
        raise ConfigError(f"retriever {name!r}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"retriever {name!r}: bad parameters {params!r}: {exc}") from None


def private_copy(model: ScoringPolicy) -> ScoringPolicy:
    """A copy of ``model`` whose learning touches nothing of the original (its env and
    catalog are shared, not copied)."""
    if getattr(model, "cheats", False):
        raise ConfigError(
            f"retriever: {type(model).__name__} reads the hidden user; not a retriever"
        )
    shared = {id(model.env): model.env, id(model.catalog): model.catalog}
    shared[id(model.env.unwrapped)] = model.env.unwrapped
    return copy.deepcopy(model, memo=shared)


__all__ = [
    "BUILT_IN",
    "EmbeddingSimilarity",
    "HybridScores",
    "PopularityScores",
    "Retriever",
    "candidates_many",
    "observe_many",
    "private_copy",
    "retriever_names",
]
