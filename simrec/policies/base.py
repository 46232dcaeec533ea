"""What a policy is, and the shared shape of the scoring baselines.

A policy is any object with ``act(observation, info) -> slate`` (``slate``: item
indices), optionally ``reset(seed)`` at the start of each session and
``update(observation, reward, info)`` after each step (:class:`Policy`). A plain
callable ``f(observation, info) -> slate`` works too (:func:`as_policy` wraps it). A
policy whose ``act`` ignores both arguments may say so with ``observes = False``: data
generation then skips building observations for it (a large share of a step's cost).

Optional declarations the runners (:func:`simrec.runner.run_sessions`, scenarios, data
generation) honour:

* ``action_form`` — what ``act`` returns: ``"item_index"`` (default), ``"semantic_id"``
  (semantic id strings) or ``"semantic_tokens"`` (per-level token codes); the runners
  apply :class:`~simrec.semantic_ids.SemanticIdSlate` for the last two.
* In conversational mode ``act`` returns ``{"slate": ..., "message": "..."}``.
* ``take_usage() -> PolicyUsage`` — what the policy spent (an LLM policy's tokens, cost
  and latency) since the last call; called once after each ``act`` and written to that
  turn's ``policy_*`` event-log columns, apart from the simulated user's.
* ``act_many(observations, infos) -> actions`` — the policy serves many visits at once
  (keyed by ``info["session_id"]``): runners that keep several episodes in flight give
  every lane this one object and ask it once per round
  (:func:`~simrec.policies.batching.act_together`); its ``take_usage(session_id)``
  reports one visit.

:class:`ScoringPolicy` is the base of the built-in baselines: score every item, show
the best ``k``. Every baseline in :mod:`simrec.policies` learns (if at all) within one session, from
what a real recommender could see: the slates it showed and the per-slot feedback in
``info["reaction"]``. A new session starts when ``reset`` is called or when ``act``
sees turn 0, so the policies also work outside :func:`simrec.runner.run_sessions`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol, TypeVar, runtime_checkable

import gymnasium as gym
import numpy as np

from simrec.catalog import Catalog
from simrec.errors import ConfigError
from simrec.policies.batching import serves_many
from simrec.reaction import Reaction

EMPTY = -1


@dataclass(frozen=True)
class PolicyUsage:
    """What a policy spent choosing slates (its own LLM calls), apart from the user's.

    Each field lands in the turn's ``policy_<field>`` event-log column.

    Attributes:
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens: tokens of
            the policy's calls.
        latency_ms: wall time the policy's calls took.
        cost_usd: estimated dollars of those calls.
        fallbacks: turns whose slate came from the policy's declared fallback (its LLM's
            answer was unusable).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0
    fallbacks: int = 0

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], where: str) -> PolicyUsage:
        """A usage from ``{field: number}`` (missing fields are 0).

        Raises:
            ConfigError: naming ``where``, for an unknown field or a value that is not a
                finite non-negative number.
        """
        known = {f.name: f.type for f in fields(cls)}
        out: dict[str, Any] = {}
        for name, value in values.items():
            if name not in known:
                raise ConfigError(
                    f"{where}: unknown usage field {name!r}; expected some of {', '.join(known)}"
                )
            number = value.item() if isinstance(value, np.generic) else value
            if (
                isinstance(number, bool)
                or not isinstance(number, (int, float))
                or not (math.isfinite(number) and number >= 0)
            ):
                raise ConfigError(f"{where}: {name}: expected a non-negative number, got {value!r}")
            out[name] = float(number) if known[name] == "float" else int(number)
        return cls(**out)


def with_message(action: Any, conversational: bool) -> Any:
    """A policy's action as a conversational env takes it: a bare slate says nothing.

    Lets policies without language (bandits, baselines) run beside conversational ones in
    a conversational scenario or dataset.
    """
    if conversational and not isinstance(action, Mapping):
        return {"slate": action, "message": ""}
    return action


Method = TypeVar("Method", bound=Callable[..., Any])


def batched(many: Callable[..., Any]) -> Callable[[Method], Method]:
    """Mark a :class:`ScoringPolicy`'s ``scores`` or ``learn`` as computable for several
    policies at once: ``many(policies, *columns)`` takes one list per argument (one entry
    per policy) and does what calling the method on each would, with the same bits (for
    ``scores``, one row per policy). The LLM policies' retrievers use it for a round's
    visits (:func:`scores_of`, :func:`learn_together`); a subclass that overrides the
    method is called one by one unless it is marked too."""

    def mark(method: Method) -> Method:
        method.many = many  # type: ignore[attr-defined]
        return method

    return mark


def _together(method_name: str, policies: Sequence[ScoringPolicy], *columns: Sequence[Any]) -> list:
    """Call ``method_name`` of every policy, grouping those whose method is marked
    :func:`batched` into one call of its batched form; results in policy order."""
    groups: dict[Any, list[int]] = {}
    for row, policy in enumerate(policies):
        groups.setdefault(getattr(type(policy), method_name), []).append(row)
    out: list[Any] = [None] * len(policies)
    for method, rows in groups.items():
        picked = [[column[r] for r in rows] for column in columns]
        many = getattr(method, "many", None)
        if many is None:
            results = [method(policies[r], *args) for r, *args in zip(rows, *picked, strict=True)]
        else:
            result = many([policies[r] for r in rows], *picked)
            results = [None] * len(rows) if result is None else list(result)
        for r, result in zip(rows, results, strict=True):
            out[r] = result
    return out


def scores_of(
    policies: Sequence[ScoringPolicy],
    observations: Sequence[dict[str, np.ndarray]],
    infos: Sequence[dict[str, Any]],
) -> np.ndarray:
    """Every policy's scores, one row each (policies of one catalog), those marked
    :func:`batched` computed together."""
    if not policies:
        return np.empty((0, 0))
    rows = _together("scores", policies, observations, infos)
    return np.stack([np.asarray(r, dtype=np.float64) for r in rows])


def update_together(
    policies: Sequence[ScoringPolicy],
    observations: Sequence[dict[str, np.ndarray]],
    rewards: Sequence[float],
    infos: Sequence[dict[str, Any]],
) -> None:
    """Each policy's :meth:`~ScoringPolicy.update` after one round of visits, those whose
    ``learn`` is :func:`batched` learning together (:func:`learn_together`); a policy with
    its own ``update`` is told alone."""
    learning = []
    for policy, observation, reward, info in zip(
        policies, observations, rewards, infos, strict=True
    ):
        if type(policy).update is not ScoringPolicy.update:
            policy.update(observation, reward, info)
            continue
        shown = policy.advance(info)
        if shown is not None:
            learning.append((policy, shown, info["reaction"], info))
    if learning:
        learn_together(*(list(column) for column in zip(*learning, strict=True)))


def learn_together(
    policies: Sequence[ScoringPolicy],
    shown: Sequence[list[tuple[int, int]]],
    reactions: Sequence[Reaction],
    infos: Sequence[dict[str, Any]],
) -> None:
    """Each policy's :meth:`~ScoringPolicy.learn`, those marked :func:`batched` together."""
    _together("learn", policies, shown, reactions, infos)


def take_usage(policy: Any, info: Mapping[str, Any] | None = None) -> PolicyUsage | None:
    """``policy.take_usage()`` if the policy reports usage, else ``None``.

    ``take_usage`` may return a :class:`PolicyUsage`, a mapping of its fields (what
    :meth:`simrec.policies.llm_policy.LLMPolicy.take_usage` gives) or ``None``. A policy
    that serves many visits at once (``act_many``) is asked for the visit of
    ``info["session_id"]`` only: ``take_usage(session_id)``.

    Raises:
        ConfigError: anything else, or a mapping with unknown fields or bad numbers.
    """
    take = getattr(policy, "take_usage", None)
    if take is None:
        return None
    session = info.get("session_id") if isinstance(info, Mapping) else None
    usage = take(session) if session is not None and serves_many(policy) else take()
    where = f"policy {type(policy).__name__}: take_usage()"
    if isinstance(usage, Mapping):
        return PolicyUsage.from_mapping(usage, where)
    if usage is not None and not isinstance(usage, PolicyUsage):
        raise ConfigError(
            f"{where} returned {usage!r}; expected a simrec.policies.PolicyUsage, a mapping "
            "of its fields, or None"
        )
    return usage


@runtime_checkable
class Policy(Protocol):
    """Chooses a slate from what the recommender can see."""

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """The next slate: ``slate_size`` item indices."""
        ...


class _CallablePolicy:
    def __init__(self, fn: Callable[[dict, dict], Any]) -> None:
        self.fn = fn

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> Any:
        action = self.fn(observation, info)
        # a conversational action ({"slate", "message"}) stays a mapping
        return action if isinstance(action, Mapping) else np.asarray(action)


def as_policy(policy: Any) -> Policy:
    """``policy`` itself if it has ``act``, or a plain callable wrapped as a policy."""
    if hasattr(policy, "act"):
        return policy
    if callable(policy):
        return _CallablePolicy(policy)
    raise ConfigError(
        f"policy: expected an object with act(observation, info) or a callable, got {policy!r}"
    )


class ScoringPolicy:
    """Base class: subclasses implement :meth:`scores` and may override :meth:`learn`.

    Args:
        env: the env (wrapped or not) whose catalog and slate size the policy uses.
        seed: seeds the policy's own generator (tie-breaking, exploration).

    Example::

        class Cheapest(ScoringPolicy):
            def scores(self, observation, info):
                return -self.catalog.prices
    """

    name = "scoring"
    cheats = False
    """True only for policies that read hidden state (the oracle)."""

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        base = env.unwrapped
        self.env = env
        self.catalog: Catalog = base.catalog
        self.k: int = base.slate_size
        self.n_items = len(self.catalog)
        self.rng = np.random.default_rng(seed)
        self.turn = 0
        self.begin_session()

    # -- lifecycle -------------------------------------------------------------------
    def begin_session(self) -> None:
        """Forget everything learned about the previous user."""
        self.turn = 0

    def reset(self, seed: int | None = None) -> None:
        """Start a new session (reseeding when ``seed`` is given)."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.begin_session()

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """The ``k`` best-scoring items, best first (position bias favours slot 0)."""
        if info.get("turn", 0) == 0 and self.turn != 0:
            self.begin_session()
        return self.select(self.scores(observation, info))

    def update(
        self, observation: dict[str, np.ndarray], reward: float, info: dict[str, Any]
    ) -> None:
        """Learn from the feedback to the slate just shown."""
        shown = self.advance(info)
        if shown is not None:
            self.learn(shown, info["reaction"], info)

    def advance(self, info: dict[str, Any]) -> list[tuple[int, int]] | None:
        """Move to the turn ``info`` reports; the ``(position, item)`` pairs it showed, or
        ``None`` when it has no slate and reaction (nothing to learn)."""
        self.turn = int(info.get("turn", self.turn + 1))
        slate = info.get("slate")
        if slate is None or info.get("reaction") is None:
            return None
        return [(pos, item) for pos, item in enumerate(slate) if item != EMPTY]

    # -- to implement ----------------------------------------------------------------------
    def scores(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        """One score per catalog item; higher is shown first."""
        raise NotImplementedError

    def learn(self, shown: list[tuple[int, int]], reaction: Reaction, info: dict[str, Any]) -> None:
        """Update from the ``(position, item)`` pairs shown and the user's reaction."""

    def select(self, scores: np.ndarray) -> np.ndarray:
        """The slate for ``scores`` (``-inf`` = not allowed); by default the top ``k``."""
        return self.top_k(scores)

    # -- helpers -----------------------------------------------------------------------
    def top_k(self, scores: np.ndarray) -> np.ndarray:
        """Indices of the ``k`` highest scores, ties broken at random (seeded)."""
        noise = self.rng.random(self.n_items) * 1e-9
        return np.argsort(-(scores + noise), kind="stable")[: self.k].astype(np.int64)
