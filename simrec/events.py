"""The event log: what happened in every session, as two tables.

Metrics, datasets and reports are computed from these tables only, so any brain and any
policy produce comparable results. Schema (column: dtype):

``interactions`` — one row per (session, turn, slot):
    session_id: int64, persona_id: string, turn: int64 (1 = first slate),
    position: int64 (0-based slot), item_id: string (missing for an empty slot),
    item_index: int64 (-1 for an empty slot), clicked / purchased / dismissed: bool,
    reward: float64 (the slot's share of the reward), satisfies_constraint: boolean
    (missing when no steering constraint applies to this slate).

``turns`` — one row per (session, turn):
    session_id, persona_id, turn, reply: string, left: bool, satisfaction: float64,
    reward: float64, duplicates: int64, constraint: string (JSON of the active hidden
    constraint, missing if none), brain: string, latency_ms: float64,
    input_tokens / output_tokens / cache_read_tokens / cache_write_tokens: int64,
    invalid_response: bool.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from simrec.reaction import Reaction
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
}


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
    ) -> None:
        """Log one step of ``session`` — call before ``session.record`` moves it on.

        The active constraint is the one that applied to ``slate`` (the session still
        holds it until it records the reaction).
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


__all__ = ["EventLog", "INTERACTION_DTYPES", "TURN_DTYPES", "empty_frames", "sessions_frame"]
