"""The five tables of a generated dataset, their dtypes, and the columnar shard recorder.

``interactions`` and ``turns`` are the event-log tables of :mod:`simrec.events` (same
columns, same dtypes, same values as :class:`~simrec.events.EventLog`); the dataset's
``turns`` adds one column, ``cost_usd`` (float64: the estimated dollar cost of the
turn's LLM call, 0 for offline brains). ``sessions`` is :func:`~simrec.events.sessions_frame`
plus the user's token and cost totals and the policy's (``policy_*``); ``personas`` and
``items`` describe the pool and catalog.

:class:`ShardRecorder` is the fast logging path of data generation: per step it keeps
references (the reaction, the slate), and turns them into typed columns once per shard
with numpy, instead of appending eleven Python values per slot.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from simrec.catalog import TAG_SEPARATOR, Catalog
from simrec.events import INTERACTION_DTYPES, POLICY_USAGE_FIELDS, TURN_DTYPES
from simrec.persona import TRAITS, Persona
from simrec.policies.base import PolicyUsage
from simrec.reaction import Reaction
from simrec.semantic_ids.slate import ResolvedSlate
from simrec.session import EMPTY, Session

DATASET_TURN_DTYPES: dict[str, str] = {**TURN_DTYPES, "cost_usd": "float64"}
"""The event log's ``turns`` columns plus ``cost_usd``."""

SESSION_DTYPES: dict[str, str] = {
    "session_id": "int64",
    "persona_id": "string",
    "turns": "int64",
    "return": "float64",
    "left": "bool",
    "final_satisfaction": "float64",
    "invalid_responses": "int64",
    "input_tokens": "int64",
    "output_tokens": "int64",
    "cost_usd": "float64",
    "policy_input_tokens": "int64",
    "policy_output_tokens": "int64",
    "policy_cost_usd": "float64",
}
PERSONA_DTYPES: dict[str, str] = {
    "persona_id": "string",
    "domain": "string",
    "name": "string",
    "age": "Int64",
    "location": "string",
    "occupation": "string",
    "bio": "string",
    **{t: "float64" for t in TRAITS},
    "tastes": "string",
    "dislikes": "string",
    "intents": "string",
    "drifts": "string",
}
SHARD_TABLES = ("interactions", "turns", "sessions")
"""Tables written once per shard (one file each)."""
STATIC_TABLES = ("personas", "items")
"""Tables written once per run."""
TABLES = SHARD_TABLES + STATIC_TABLES

CostModel = Callable[[Reaction, Session], float]
"""Estimated USD cost of one reaction (``cost(reaction, session) -> dollars``)."""

USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


class ShardRecorder:
    """Collects the steps of a shard's sessions and builds its three typed tables.

    Args:
        catalog: the env's catalog (item ids are looked up once per shard).
        slate_size: slots per slate.
        reward_weights: the env's reward weights (slot rewards are recomputed with numpy,
            in the same order of operations as :meth:`RecSessionEnv.slot_rewards`).
        cost: per-reaction dollar estimate, or ``None`` for the reaction's own
            ``cost_usd`` (what an LLM brain paid; zero for offline brains).
    """

    def __init__(
        self,
        catalog: Catalog,
        slate_size: int,
        reward_weights: Mapping[str, float],
        cost: CostModel | None = None,
    ) -> None:
        self.catalog = catalog
        self.k = slate_size
        self.weights = dict(reward_weights)
        self.cost = cost
        self._sids: list[int] = []
        self._turns: list[int] = []
        self._personas: list[str] = []
        self._reactions: list[Reaction] = []
        self._duplicates: list[int] = []
        self._constraints: list[Any] = []
        self._masks: list[np.ndarray | None] = []
        self._slots: list[int] = []
        self._costs: list[float] = []
        self._named: dict[int, ResolvedSlate] = {}
        self._messages: list[str | None] = []
        self._usage: dict[int, PolicyUsage] = {}

    def __len__(self) -> int:
        return len(self._turns)

    def add(
        self,
        session_id: int,
        session: Session,
        slate: Sequence[int],
        reaction: Reaction,
        duplicates: int,
        named: ResolvedSlate | None = None,
        message: str | None = None,
        usage: PolicyUsage | None = None,
    ) -> float:
        """Log one step — call before ``session.record`` moves the session on.

        ``named`` is the semantic-id slate the policy emitted (``None`` for item indices),
        ``message`` what it said, ``usage`` what choosing the slate cost the policy.
        Returns the step's estimated dollar cost (the user's side).
        """
        step = len(self._turns)
        if named is not None:
            self._named[step] = named
        if usage is not None:
            self._usage[step] = usage
        self._messages.append(message)
        self._sids.append(session_id)
        self._turns.append(session.turn + 1)
        self._personas.append(session.persona.persona_id)
        self._reactions.append(reaction)
        self._duplicates.append(duplicates)
        on = session.constraint_on
        self._constraints.append(session.active_constraint() if on else None)
        self._masks.append(session.constraint_mask if on else None)
        self._slots.extend(slate)
        dollars = self.cost(reaction, session) if self.cost is not None else reaction.cost_usd
        self._costs.append(dollars)
        return dollars

    def tables(self) -> dict[str, pd.DataFrame]:
        """``interactions``, ``turns`` and ``sessions`` sorted by session, turn and slot."""
        n, k = len(self._turns), self.k
        sids = np.asarray(self._sids, dtype=np.int64)
        turns = np.asarray(self._turns, dtype=np.int64)
        order = np.lexsort((turns, sids))
        reactions = [self._reactions[i] for i in order]
        sids, turns = sids[order], turns[order]
        personas = np.asarray(self._personas, dtype=object)[order]
        items = np.asarray(self._slots, dtype=np.int64).reshape(n, k)[order]
        flags = {
            name: _flags(reactions, name, n, k) for name in ("clicked", "purchased", "dismissed")
        }
        w = self.weights
        slot_reward = (
            w["click"] * flags["clicked"]
            + w["purchase"] * flags["purchased"]
            + w["dismiss"] * flags["dismissed"]
        )
        left = np.fromiter((r.left for r in reactions), dtype=bool, count=n)
        turn_reward = _turn_rewards(
            w, flags["clicked"], flags["purchased"], flags["dismissed"], left
        )
        shown = items != EMPTY
        hallucinated, emitted = self._named_slots(order)
        interactions = _interaction_frame(
            self.catalog, sids, personas, turns, items, flags["clicked"], flags["purchased"],
            flags["dismissed"], slot_reward, self._satisfies(order, items, shown),
            hallucinated, emitted,
        )  # fmt: skip
        turns_frame = self._turns_frame(order, reactions, sids, personas, turns, left, turn_reward)
        return {
            "interactions": interactions,
            "turns": turns_frame,
            "sessions": session_table(turns_frame),
        }

    def _named_slots(self, order: np.ndarray) -> tuple[np.ndarray, Any]:
        """Per slot (in ``order``): hallucinated, and the emitted id (string array)."""
        n, k = len(order), self.k
        hallucinated = np.zeros((n, k), dtype=bool)
        if not self._named:
            return hallucinated, missing_strings(n * k)
        emitted = np.full((n, k), None, dtype=object)
        for row, step in enumerate(order.tolist()):
            named = self._named.get(step)
            if named is not None:
                hallucinated[row] = named.hallucinated
                if named.emitted is not None:
                    emitted[row] = named.emitted
        return hallucinated, pd.array(emitted.ravel(), dtype="string")

    def _policy_columns(self, order: np.ndarray) -> dict[str, Any]:
        """The turns' message and ``policy_*`` usage columns, in ``order``."""
        n = len(order)
        usage = np.zeros((n, len(POLICY_USAGE_FIELDS)), dtype=np.float64)
        for row, step in enumerate(order.tolist()):
            spent = self._usage.get(step)
            if spent is not None:
                usage[row] = [
                    getattr(spent, c.removeprefix("policy_")) for c in POLICY_USAGE_FIELDS
                ]
        messages = [self._messages[i] for i in order.tolist()]
        columns: dict[str, Any] = {
            "message": pd.array(messages, dtype="string")
            if any(m is not None for m in messages)
            else missing_strings(n)
        }
        for j, name in enumerate(POLICY_USAGE_FIELDS):
            columns[name] = usage[:, j].astype(TURN_DTYPES[name])
        return columns

    def _satisfies(self, order: np.ndarray, items: np.ndarray, shown: np.ndarray) -> pd.Series:
        n, k = items.shape
        values = np.zeros((n, k), dtype=bool)
        missing = np.ones((n, k), dtype=bool)
        masks = [self._masks[i] for i in order]
        by_mask: dict[int, tuple[np.ndarray, list[int]]] = {}
        for row, mask in enumerate(masks):
            if mask is not None:
                by_mask.setdefault(id(mask), (mask, []))[1].append(row)
        for mask, rows in by_mask.values():
            picked = items[rows]
            values[rows] = mask[np.where(picked == EMPTY, 0, picked)]
            missing[rows] = picked == EMPTY
        values[missing] = False
        return pd.arrays.BooleanArray(values.ravel(), missing.ravel())

    def _turns_frame(
        self,
        order: np.ndarray,
        reactions: list[Reaction],
        sids: np.ndarray,
        personas: np.ndarray,
        turns: np.ndarray,
        left: np.ndarray,
        reward: np.ndarray,
    ) -> pd.DataFrame:
        n = len(reactions)
        json_of: dict[int, str | None] = {id(None): None}
        constraints = []
        for i in order:
            c = self._constraints[i]
            if id(c) not in json_of:
                json_of[id(c)] = json.dumps(c.to_dict(), sort_keys=True)
            constraints.append(json_of[id(c)])

        def ints(name: str) -> np.ndarray:
            return np.fromiter((getattr(r, name) for r in reactions), dtype=np.int64, count=n)

        def floats(name: str) -> np.ndarray:
            return np.fromiter((getattr(r, name) for r in reactions), dtype=np.float64, count=n)

        return pd.DataFrame(
            {
                "session_id": pd.array(sids, dtype="int64"),
                "persona_id": pd.array(personas, dtype="string"),
                "turn": pd.array(turns, dtype="int64"),
                "reply": pd.array([r.reply for r in reactions], dtype="string"),
                "left": left,
                "satisfaction": floats("satisfaction"),
                "reward": reward,
                "duplicates": np.asarray(self._duplicates, dtype=np.int64)[order],
                "constraint": pd.array(constraints, dtype="string"),
                "brain": pd.array([r.brain for r in reactions], dtype="string"),
                "latency_ms": floats("latency_ms"),
                **{name: ints(name) for name in USAGE_FIELDS},
                "invalid_response": np.fromiter(
                    (r.invalid_response for r in reactions), dtype=bool, count=n
                ),
                **self._policy_columns(order),
                "cost_usd": np.asarray(self._costs, dtype=np.float64)[order],
            }
        )


class ArrayRecorder:
    """Collects whole steps of many sessions as arrays (the vector backend's recorder).

    Builds the same three tables as :class:`ShardRecorder` (same columns, dtypes, values
    and order) for the utility brain: no tokens, latency or cost.

    Args:
        catalog: the env's catalog.
        slate_size: slots per slate.
        reward_weights: the env's reward weights.
        brain: the brain's name (the ``brain`` column).
        personas: the persona pool (persona codes index it).
        constraints: ``(n_personas, max_turns + 1)`` JSON of the constraint that applies
            before each turn (``None``: none).
    """

    def __init__(
        self,
        catalog: Catalog,
        slate_size: int,
        reward_weights: Mapping[str, float],
        brain: str,
        personas: Sequence[Persona],
        constraints: np.ndarray,
    ) -> None:
        self.catalog = catalog
        self.k = slate_size
        self.weights = dict(reward_weights)
        self.brain = brain
        self.persona_ids = np.array([p.persona_id for p in personas], dtype=object)
        self.constraints = constraints
        self._steps: list[tuple[np.ndarray, ...]] = []

    def __len__(self) -> int:
        return sum(len(step[0]) for step in self._steps)

    def add(
        self,
        session_ids: np.ndarray,
        persona: np.ndarray,
        turn: np.ndarray,
        state: np.ndarray,
        slates: np.ndarray,
        duplicates: np.ndarray,
        reaction: Any,
        replies: np.ndarray,
        batch: Any,
    ) -> None:
        """Log one step of ``len(session_ids)`` sessions (``turn``: 1 = first slate).

        ``state`` is each session's event state before the step (constraint compliance
        is read from ``batch.constrained`` / ``batch.complies``); ``reaction`` holds
        ``clicked``, ``purchased``, ``dismissed``, ``left`` and ``satisfaction`` arrays.
        """
        shown = slates != EMPTY
        constrained = batch.constrained[state]
        complies = batch.complies[state[:, None], np.where(shown, slates, 0)]
        unknown = ~(constrained[:, None] & shown)
        self._steps.append(
            (
                session_ids.copy(), persona.copy(), turn.copy(), slates,
                reaction.clicked.copy(), reaction.purchased.copy(), reaction.dismissed.copy(),
                reaction.left.copy(), reaction.satisfaction.copy(), replies, duplicates,
                complies & ~unknown, unknown,
            )
        )  # fmt: skip

    def tables(self) -> dict[str, pd.DataFrame]:
        """``interactions``, ``turns`` and ``sessions`` sorted by session, turn and slot."""
        if not self._steps:
            return {
                "interactions": empty_table(INTERACTION_DTYPES),
                "turns": empty_table(DATASET_TURN_DTYPES),
                "sessions": empty_table(SESSION_DTYPES),
            }
        cols = [np.concatenate(parts) for parts in zip(*self._steps, strict=True)]
        sids, persona, turns = cols[0], cols[1], cols[2]
        order = np.lexsort((turns, sids))
        (
            sids, persona, turns, items, clicked, purchased, dismissed, left, satisfaction,
            replies, duplicates, complies, unknown,
        ) = (c[order] for c in cols)  # fmt: skip
        n = len(sids)
        w = self.weights
        slot_reward = w["click"] * clicked + w["purchase"] * purchased + w["dismiss"] * dismissed
        turn_reward = _turn_rewards(w, clicked, purchased, dismissed, left)
        personas = self.persona_ids[persona]
        interactions = _interaction_frame(
            self.catalog, sids, personas, turns, items, clicked, purchased, dismissed,
            slot_reward, pd.arrays.BooleanArray(complies.ravel(), unknown.ravel()),
            np.zeros(items.shape, dtype=bool), missing_strings(items.size),
        )  # fmt: skip
        zeros = np.zeros(n, dtype=np.int64)
        turns_frame = pd.DataFrame(
            {
                "session_id": pd.array(sids, dtype="int64"),
                "persona_id": pd.array(personas, dtype="string"),
                "turn": pd.array(turns, dtype="int64"),
                "reply": pd.array(replies, dtype="string"),
                "left": left,
                "satisfaction": satisfaction.astype(np.float64),
                "reward": turn_reward,
                "duplicates": duplicates.astype(np.int64),
                "constraint": pd.array(self.constraints[persona, turns - 1], dtype="string"),
                "brain": pd.array(np.full(n, self.brain, dtype=object), dtype="string"),
                "latency_ms": np.zeros(n, dtype=np.float64),
                **{name: zeros.copy() for name in USAGE_FIELDS},
                "invalid_response": np.zeros(n, dtype=bool),
                "message": missing_strings(n),
                **{name: np.zeros(n, dtype=TURN_DTYPES[name]) for name in POLICY_USAGE_FIELDS},
                "cost_usd": np.zeros(n, dtype=np.float64),
            }
        )
        return {
            "interactions": interactions,
            "turns": turns_frame,
            "sessions": session_table(turns_frame),
        }


def _turn_rewards(
    w: Mapping[str, float],
    clicked: np.ndarray,
    purchased: np.ndarray,
    dismissed: np.ndarray,
    left: np.ndarray,
) -> np.ndarray:
    """Each turn's reward from its ``(n, k)`` flags, as the env computes it."""
    return (
        w["click"] * clicked.sum(axis=1)
        + w["purchase"] * purchased.sum(axis=1)
        + w["dismiss"] * dismissed.sum(axis=1)
        + np.where(left, w["leave"], 0.0)
    )


def _interaction_frame(
    catalog: Catalog,
    sids: np.ndarray,
    personas: np.ndarray,
    turns: np.ndarray,
    items: np.ndarray,
    clicked: np.ndarray,
    purchased: np.ndarray,
    dismissed: np.ndarray,
    slot_reward: np.ndarray,
    satisfies: Any,
    hallucinated: np.ndarray,
    emitted: Any,
) -> pd.DataFrame:
    """The ``interactions`` table of ``n`` turns of ``k`` slots, from ``(n, k)`` arrays."""
    n, k = items.shape
    shown = items != EMPTY
    ids = np.asarray(catalog.item_ids, dtype=object)[np.where(shown, items, 0)]
    ids[~shown] = None
    return pd.DataFrame(
        {
            "session_id": pd.array(np.repeat(sids, k), dtype="int64"),
            "persona_id": pd.array(np.repeat(personas, k), dtype="string"),
            "turn": pd.array(np.repeat(turns, k), dtype="int64"),
            "position": pd.array(np.tile(np.arange(k, dtype=np.int64), n), dtype="int64"),
            "item_id": pd.array(ids.ravel(), dtype="string"),
            "item_index": pd.array(items.ravel(), dtype="int64"),
            "clicked": clicked.ravel(),
            "purchased": purchased.ravel(),
            "dismissed": dismissed.ravel(),
            "reward": slot_reward.ravel(),
            "satisfies_constraint": satisfies,
            "hallucinated": hallucinated.ravel(),
            "emitted_id": emitted,
        }
    )


def missing_strings(n: int) -> Any:
    """A ``string`` array of ``n`` missing values (one take: fast for millions of rows)."""
    return pd.array([None], dtype="string").take(np.zeros(n, dtype=np.intp))


def _flags(reactions: list[Reaction], name: str, n: int, k: int) -> np.ndarray:
    flat = chain.from_iterable(getattr(r, name) for r in reactions)
    return np.fromiter(flat, dtype=bool, count=n * k).reshape(n, k)


def session_table(turns: pd.DataFrame) -> pd.DataFrame:
    """One row per session: :func:`~simrec.events.sessions_frame` plus tokens and cost.

    ``turns`` must be sorted by session and turn (shards are); the totals are numpy
    segment sums, equal to the pandas group-bys of ``sessions_frame`` (tested).
    """
    if turns.empty:
        return empty_table(SESSION_DTYPES)
    sids = turns["session_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, sids[1:] != sids[:-1]])
    ends = np.r_[starts[1:], len(sids)] - 1

    def total(column: str) -> np.ndarray:
        return np.add.reduceat(turns[column].to_numpy(), starts)

    return pd.DataFrame(
        {
            "session_id": sids[starts],
            "persona_id": turns["persona_id"].array[starts],
            "turns": turns["turn"].to_numpy()[ends],
            "return": total("reward"),
            "left": turns["left"].to_numpy()[ends],
            "final_satisfaction": turns["satisfaction"].to_numpy()[ends],
            "invalid_responses": total("invalid_response").astype(np.int64),
            "input_tokens": total("input_tokens"),
            "output_tokens": total("output_tokens"),
            "cost_usd": total("cost_usd"),
            "policy_input_tokens": total("policy_input_tokens"),
            "policy_output_tokens": total("policy_output_tokens"),
            "policy_cost_usd": total("policy_cost_usd"),
        }
    ).astype(SESSION_DTYPES)


def empty_table(dtypes: Mapping[str, str]) -> pd.DataFrame:
    """A table with no rows and the given columns and dtypes."""
    return pd.DataFrame({c: pd.array([], dtype=d) for c, d in dtypes.items()})


def persona_table(personas: Sequence[Persona]) -> pd.DataFrame:
    """One row per persona of the pool (tastes, dislikes, intents and drifts as JSON)."""
    rows = []
    for p in personas:
        d = p.to_dict()
        rows.append(
            {
                "persona_id": p.persona_id,
                "domain": p.domain,
                "name": p.name,
                "age": p.age,
                "location": p.location,
                "occupation": p.occupation,
                "bio": p.bio,
                **{t: float(getattr(p, t)) for t in TRAITS},
                "tastes": json.dumps(d["tastes"], sort_keys=True),
                "dislikes": json.dumps(d["dislikes"], sort_keys=True),
                "intents": json.dumps(d.get("intents", []), sort_keys=True),
                "drifts": json.dumps(d.get("drifts", []), sort_keys=True),
            }
        )
    frame = pd.DataFrame(rows, columns=list(PERSONA_DTYPES))
    return frame.astype(PERSONA_DTYPES)


def item_table(catalog: Catalog) -> tuple[pd.DataFrame, dict[str, str]]:
    """The catalog with its ``item_index`` (tags joined by ``|``) and the table's dtypes.

    The columns after the documented catalog ones are the catalog's own attributes, so
    the dtypes are returned with the table (and written into the manifest).
    """
    frame = catalog.to_frame()
    frame["tags"] = [TAG_SEPARATOR.join(t) for t in catalog.tags]
    frame.insert(0, "item_index", np.arange(len(catalog), dtype=np.int64))
    dtypes = {
        c: "int64"
        if c == "item_index"
        else "float64"
        if pd.api.types.is_numeric_dtype(frame[c])
        else "string"
        for c in frame.columns
    }
    return frame.astype(dtypes), dtypes


def table_dtypes(name: str) -> dict[str, str]:
    """The fixed dtypes of table ``name`` (``items`` depends on the catalog: see the manifest)."""
    return {
        "interactions": INTERACTION_DTYPES,
        "turns": DATASET_TURN_DTYPES,
        "sessions": SESSION_DTYPES,
        "personas": PERSONA_DTYPES,
    }[name]
