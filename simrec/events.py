"""The event log: what happened in every session, as two tables.

Metrics, datasets and reports are computed from these tables only, so any brain and any
policy produce comparable results. Schema (column: dtype):

``interactions`` — one row per (session, turn, slot):
    session_id: int64, persona_id: string, turn: int64 (1 = first slate),
    position: int64 (0-based slot), item_id: string (missing for an empty slot),
    item_index: int64 (-1 for an empty slot), clicked / purchased / dismissed: bool,
    reward: float64 (the slot's share of the reward), satisfies_constraint: boolean
    (missing when no steering constraint applies to this slate), hallucinated: bool
    (the policy named this slot by a semantic id that is no catalog item; the slot was
    shown empty), emitted_id: string (the semantic id the policy emitted for the slot;
    missing for item-index actions).

``turns`` — one row per (session, turn):
    session_id, persona_id, turn, reply: string, left: bool, satisfaction: float64,
    reward: float64, duplicates: int64, constraint: string (JSON of the active hidden
    constraint, missing if none), brain: string, latency_ms: float64,
    input_tokens / output_tokens / cache_read_tokens / cache_write_tokens: int64,
    invalid_response: bool — all about the simulated user — then the policy's side:
    message: string (what the recommender said with the slate in conversational mode,
    missing if nothing), policy_input_tokens / policy_output_tokens /
    policy_cache_read_tokens / policy_cache_write_tokens: int64, policy_latency_ms /
    policy_cost_usd: float64, policy_fallbacks: int64 (what choosing the slate cost: an
    LLM policy's calls, as it reports them through ``take_usage()``; zero for other
    policies).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from simrec.reaction import Reaction
from simrec.semantic_ids.slate import ResolvedSlate
from simrec.session import EMPTY, Session

INTERACTION_DTYPES: dict[str, str] = {
    "session_id": "int64",
    "persona_id": "string",
    "turn": "int64",
    "position": "int64",
    "item_id": "string",
    "item_index": "int64",
    "clicked": "bool",
    "purchased": "bool",
    "dismissed": "bool",
    "reward": "float64",
    "satisfies_constraint": "boolean",
    "hallucinated": "bool",
    "emitted_id": "string",
}
TURN_DTYPES: dict[str, str] = {
    "session_id": "int64",
    "persona_id": "string",
    "turn": "int64",
    "reply": "string",
    "left": "bool",
    "satisfaction": "float64",
    "reward": "float64",
    "duplicates": "int64",
    "constraint": "string",
    "brain": "string",
    "latency_ms": "float64",
    "input_tokens": "int64",
    "output_tokens": "int64",
    "cache_read_tokens": "int64",
    "cache_write_tokens": "int64",
    "invalid_response": "bool",
    "message": "string",
    "policy_input_tokens": "int64",
    "policy_output_tokens": "int64",
    "policy_cache_read_tokens": "int64",
    "policy_cache_write_tokens": "int64",
    "policy_latency_ms": "float64",
    "policy_cost_usd": "float64",
    "policy_fallbacks": "int64",
}
POLICY_USAGE_FIELDS = tuple(c for c in TURN_DTYPES if c.startswith("policy_"))
"""The turn columns that account for the policy's own calls (zero for non-LLM policies):
``policy_<field>`` for each field of :class:`simrec.policies.PolicyUsage`."""


class EventLog:
    """Accumulates event rows column by column; :meth:`frames` returns typed DataFrames."""

    def __init__(self) -> None:
        self.interactions: dict[str, list[Any]] = {c: [] for c in INTERACTION_DTYPES}
        self.turns: dict[str, list[Any]] = {c: [] for c in TURN_DTYPES}

    def __len__(self) -> int:
        return len(self.turns["turn"])

    def record(
        self,
        session_id: int,
        session: Session,
        slate: Sequence[int],
        reaction: Reaction,
        slot_rewards: Sequence[float],
        reward: float,
        duplicates: int = 0,
        named: ResolvedSlate | None = None,
        message: str | None = None,
    ) -> None:
        """Log one step of ``session`` — call before ``session.record`` moves it on.

        The active constraint is the one that applied to ``slate`` (the session still
        holds it until it records the reaction). ``named`` is the semantic-id slate the
        policy emitted (``None`` for item indices); ``message`` what it said with it.
        The policy's usage columns start at zero (:meth:`charge_policy` fills them).
        """
        persona_id = session.persona.persona_id
        turn = session.turn + 1
        constraint = session.active_constraint()
        mask = session.constraint_mask if session.constraint_on else None
        catalog = session.catalog
        rows = self.interactions
        for pos, item in enumerate(slate):
            shown = item != EMPTY
            rows["session_id"].append(session_id)
            rows["persona_id"].append(persona_id)
            rows["turn"].append(turn)
            rows["position"].append(pos)
            rows["item_id"].append(str(catalog.item_ids[item]) if shown else None)
            rows["item_index"].append(int(item))
            rows["clicked"].append(bool(reaction.clicked[pos]))
            rows["purchased"].append(bool(reaction.purchased[pos]))
            rows["dismissed"].append(bool(reaction.dismissed[pos]))
            rows["reward"].append(float(slot_rewards[pos]))
            rows["satisfies_constraint"].append(
                bool(mask[item]) if mask is not None and shown else None
            )
        if named is None:
            rows["hallucinated"].extend([False] * len(slate))
            rows["emitted_id"].extend([None] * len(slate))
        else:
            rows["hallucinated"].extend(bool(h) for h in named.hallucinated)
            emitted = named.emitted if named.emitted is not None else [None] * len(slate)
            rows["emitted_id"].extend(None if e is None else str(e) for e in emitted)
        t = self.turns
        t["session_id"].append(session_id)
        t["persona_id"].append(persona_id)
        t["turn"].append(turn)
        t["reply"].append(reaction.reply)
        t["left"].append(bool(reaction.left))
        t["satisfaction"].append(float(reaction.satisfaction))
        t["reward"].append(float(reward))
        t["duplicates"].append(int(duplicates))
        t["constraint"].append(constraint.to_json() if constraint else None)
        t["brain"].append(reaction.brain)
        t["latency_ms"].append(float(reaction.latency_ms))
        t["input_tokens"].append(int(reaction.input_tokens))
        t["output_tokens"].append(int(reaction.output_tokens))
        t["cache_read_tokens"].append(int(reaction.cache_read_tokens))
        t["cache_write_tokens"].append(int(reaction.cache_write_tokens))
        t["invalid_response"].append(bool(reaction.invalid_response))
        t["message"].append(message)
        for name in POLICY_USAGE_FIELDS:
            t[name].append(0.0 if TURN_DTYPES[name] == "float64" else 0)

    def charge_policy(self, **usage: float) -> None:
        """Add what the policy spent choosing the last logged slate to that turn's row.

        Keywords are usage fields (``input_tokens=...``), logged as ``policy_<field>``.
        """
        t = self.turns
        if not t["turn"]:
            raise ValueError("charge_policy: no turn logged yet")
        for name, value in usage.items():
            column = f"policy_{name}"
            if column not in POLICY_USAGE_FIELDS:
                raise ValueError(f"charge_policy: unknown usage field {name!r}")
            t[column][-1] += value

    def extend(self, other: EventLog) -> None:
        """Append every row of ``other`` (episodes run apart, logged in episode order)."""
        for mine, theirs in ((self.interactions, other.interactions), (self.turns, other.turns)):
            for column, values in theirs.items():
                mine[column].extend(values)

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(interactions, turns)`` as DataFrames with the documented dtypes."""
        return (_frame(self.interactions, INTERACTION_DTYPES), _frame(self.turns, TURN_DTYPES))


def _frame(columns: dict[str, list[Any]], dtypes: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.array(columns[c], dtype=d) for c, d in dtypes.items()})
    return frame


def empty_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Empty ``(interactions, turns)`` tables with the documented columns and dtypes."""
    return EventLog().frames()


def sessions_frame(turns: pd.DataFrame) -> pd.DataFrame:
    """One row per session: persona, turns, return, whether the user left, final satisfaction."""
    if turns.empty:
        return pd.DataFrame({"session_id": pd.array([], "int64")})
    grouped = turns.sort_values(["session_id", "turn"]).groupby("session_id", sort=True)
    return pd.DataFrame(
        {
            "persona_id": grouped["persona_id"].first(),
            "turns": grouped["turn"].max().astype("int64"),
            "return": grouped["reward"].sum(),
            "left": grouped["left"].last().astype(bool),
            "final_satisfaction": grouped["satisfaction"].last(),
            "invalid_responses": grouped["invalid_response"].sum().astype("int64"),
        }
    ).reset_index()


__all__ = [
    "EventLog",
    "INTERACTION_DTYPES",
    "POLICY_USAGE_FIELDS",
    "TURN_DTYPES",
    "empty_frames",
    "sessions_frame",
]
