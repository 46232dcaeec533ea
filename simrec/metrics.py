"""Behaviour metrics: pure functions over the event log tables.

Every function takes the ``interactions`` and ``turns`` tables of
:class:`~simrec.events.EventLog` (one batch of sessions, e.g. one seed of one policy)
and returns plain numbers, so any brain and any policy are measured the same way and a
saved log can be re-scored later. Scenarios call them once per (policy, seed) and report
the mean and 95% interval over seeds (:mod:`simrec.stats`).

Conventions:

* **CTR** is per slate: the share of slates that got at least one click. (The utility
  brain clicks at most one item per slate, so per-impression CTR would be capped at
  ``1 / slate_size``.)
* Turn ``t`` is the ``t``-th slate of a session (1-based). Rates over turns pool the
  slates that were actually shown: a user who left shows no more slates.
* "Turns to X" counts slates until the first X; a session without one counts as
  ``horizon + 1`` (censored), so leaving early is not rewarded.
* A metric that has nothing to measure (no steering request in the log) is NaN; the
  interval over seeds leaves NaNs out.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from simrec.catalog import Catalog

COMPLY_SHARE = 0.5
"""A slate complies with a request when at least this share of its items satisfies it
(the utility brain calls a request ignored below the same share)."""


# -- shared views -------------------------------------------------------------------------
def slates_frame(interactions: pd.DataFrame) -> pd.DataFrame:
    """One row per shown slate: session, turn, shown items, clicks, purchases, dismissals."""
    shown = interactions["item_index"] >= 0
    frame = pd.DataFrame(
        {
            "session_id": interactions["session_id"],
            "turn": interactions["turn"],
            "shown": shown.astype("int64"),
            "clicks": interactions["clicked"].astype("int64"),
            "purchases": interactions["purchased"].astype("int64"),
            "dismissals": interactions["dismissed"].astype("int64"),
        }
    )
    out = frame.groupby(["session_id", "turn"], sort=True).sum().reset_index()
    out["clicked"] = out["clicks"] > 0
    out["purchased"] = out["purchases"] > 0
    return out


def turn_curves(interactions: pd.DataFrame, turns: pd.DataFrame) -> pd.DataFrame:
    """Per-turn curves: sessions still active, CTR, purchase rate, dismissal rate, satisfaction.

    Returns:
        One row per turn (index ``turn``) with ``sessions`` (slates shown at that turn),
        ``ctr`` and ``purchase_rate`` (share of those slates with a click / purchase),
        ``dismissal_rate`` (dismissals per shown item), ``satisfaction`` (mean after the
        turn) and ``left`` (share of the turn's users who left after it).
    """
    slates = slates_frame(interactions)
    by_turn = slates.groupby("turn")
    curves = pd.DataFrame(
        {
            "sessions": by_turn.size(),
            "ctr": by_turn["clicked"].mean(),
            "purchase_rate": by_turn["purchased"].mean(),
            "dismissal_rate": by_turn["dismissals"].sum() / by_turn["shown"].sum().clip(lower=1),
        }
    )
    turn_stats = turns.groupby("turn")
    curves["satisfaction"] = turn_stats["satisfaction"].mean()
    curves["left"] = turn_stats["left"].mean()
    return curves


def _first_turn(slates: pd.DataFrame, column: str, sessions: pd.Index, horizon: int) -> pd.Series:
    hits = slates[slates[column]].groupby("session_id")["turn"].min()
    return hits.reindex(sessions).fillna(horizon + 1).astype(float)


def _ctr(slates: pd.DataFrame, low: int, high: int) -> float:
    """CTR over slates with ``low <= turn <= high`` (NaN when none were shown)."""
    window = slates[(slates["turn"] >= low) & (slates["turn"] <= high)]
    return float(window["clicked"].mean()) if len(window) else math.nan


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of ``y`` on ``x`` (NaN if ``x`` does not vary)."""
    if len(x) < 2 or np.ptp(x) == 0:
        return math.nan
    xc = x - x.mean()
    return float((xc * (y - y.mean())).sum() / (xc * xc).sum())


def _sessions(turns: pd.DataFrame) -> pd.DataFrame:
    grouped = turns.groupby("session_id", sort=True)
    return pd.DataFrame(
        {
            "turns": grouped["turn"].max(),
            "return": grouped["reward"].sum(),
            "left": grouped["left"].any(),
            "final_satisfaction": grouped["satisfaction"].last(),
        }
    )


# -- cold start ---------------------------------------------------------------------------
def cold_start_metrics(
    interactions: pd.DataFrame, turns: pd.DataFrame, first_turns: int = 5, horizon: int = 20
) -> dict[str, float]:
    """How fast a policy finds what a new user likes.

    Returns:
        ``ctr_at_T`` (CTR over the first ``T = first_turns`` slates), ``purchase_rate_at_T``,
        ``turns_to_click`` and ``turns_to_purchase`` (censored at ``horizon + 1``) and
        ``return`` (mean session return). The return normalised by the oracle's is
        computed by the scenario runner, which has both policies' logs.
    """
    slates = slates_frame(interactions)
    sessions = _sessions(turns)
    early = slates[slates["turn"] <= first_turns]
    return {
        f"ctr_at_{first_turns}": float(early["clicked"].mean()) if len(early) else math.nan,
        f"purchase_rate_at_{first_turns}": float(early["purchased"].mean())
        if len(early)
        else math.nan,
        "turns_to_click": float(_first_turn(slates, "clicked", sessions.index, horizon).mean()),
        "turns_to_purchase": float(
            _first_turn(slates, "purchased", sessions.index, horizon).mean()
        ),
        "return": float(sessions["return"].mean()),
    }


# -- novelty trap -------------------------------------------------------------------------
def intra_list_diversity(interactions: pd.DataFrame, features: np.ndarray) -> float:
    """Mean over slates of the mean pairwise cosine distance between shown items' features."""
    shown = interactions[interactions["item_index"] >= 0]
    if shown.empty:
        return math.nan
    keys = shown["session_id"].to_numpy() * 100_000 + shown["turn"].to_numpy()
    _, slate_of = np.unique(keys, return_inverse=True)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit = features / np.where(norms > 0, norms, 1.0)
    vectors = unit[shown["item_index"].to_numpy()]
    n_slates = int(slate_of.max()) + 1
    sums = np.zeros((n_slates, features.shape[1]))
    np.add.at(sums, slate_of, vectors)
    counts = np.bincount(slate_of, minlength=n_slates).astype(float)
    # sum over ordered pairs i != j of u_i . u_j = |sum u|^2 - sum |u|^2
    self_dot = np.bincount(slate_of, weights=(vectors * vectors).sum(axis=1), minlength=n_slates)
    pair_sim = (sums * sums).sum(axis=1) - self_dot
    pairs = counts * (counts - 1)
    valid = pairs > 0
    if not valid.any():
        return math.nan
    return float((1.0 - pair_sim[valid] / pairs[valid]).mean())


def novelty_metrics(
    interactions: pd.DataFrame,
    turns: pd.DataFrame,
    catalog: Catalog,
    first_turns: int = 3,
) -> dict[str, float]:
    """What a policy shows (diversity, novelty, repetition) and what that causes.

    Returns:
        ``ild`` (intra-list diversity over ``catalog.features``), ``coverage`` (share of
        the catalog shown at least once in the batch), ``novelty`` (mean self-information
        of shown items, bits), ``repetition`` (share of impressions of an item already
        shown earlier in the session), ``concentration`` (mean Herfindahl index of the
        categories a session was shown: 1 = one category only), ``ctr_at_T`` (early CTR,
        ``T = first_turns``), ``ctr_decay`` (least-squares slope of slate CTR per turn),
        ``satisfaction_slope`` (per turn), ``final_satisfaction``, ``churn`` (share of
        sessions the user left), ``session_length`` (slates per session) and ``return``.
    """
    shown = interactions[interactions["item_index"] >= 0]
    items = shown["item_index"].to_numpy()
    slates = slates_frame(interactions)
    sessions = _sessions(turns)
    ordered = shown.sort_values(["session_id", "turn", "position"])
    repeats = ordered.duplicated(subset=["session_id", "item_index"])
    cats = pd.DataFrame(
        {"session_id": shown["session_id"].to_numpy(), "cat": catalog.category_codes[items]}
    )
    shares = cats.groupby("session_id")["cat"].value_counts(normalize=True)
    hhi = (shares**2).groupby(level=0).sum()
    return {
        "ild": intra_list_diversity(interactions, catalog.features),
        "coverage": len(np.unique(items)) / len(catalog),
        "novelty": float(catalog.self_information[items].mean()) if len(items) else math.nan,
        "repetition": float(repeats.mean()) if len(repeats) else math.nan,
        "concentration": float(hhi.mean()) if len(hhi) else math.nan,
        f"ctr_at_{first_turns}": _ctr(slates, 1, first_turns),
        "ctr_decay": _slope(slates["turn"].to_numpy(float), slates["clicked"].to_numpy(float)),
        "satisfaction_slope": _slope(
            turns["turn"].to_numpy(float), turns["satisfaction"].to_numpy(float)
        ),
        "final_satisfaction": float(sessions["final_satisfaction"].mean()),
        "churn": float(sessions["left"].mean()),
        "session_length": float(sessions["turns"].mean()),
        "return": float(sessions["return"].mean()),
    }


# -- steerability -------------------------------------------------------------------------
def steering_events(
    interactions: pd.DataFrame, turns: pd.DataFrame, window: int = 5
) -> pd.DataFrame:
    """One row per steering request a session received, scored over the next ``window`` slates.

    A request starts at the first slate its hidden constraint applies to (the ``turns``
    table's ``constraint`` column changes to it).

    Returns:
        Columns ``session_id``, ``onset`` (first constrained slate), ``constraint``,
        ``compliance`` (share of shown items in the window satisfying it),
        ``turns_to_comply`` (slates until the first complying one, ``window + 1`` if
        none), ``followed`` (``compliance >= COMPLY_SHARE``), ``satisfaction`` (after the
        window's last slate, or when the user left) and ``left`` (within the window).
    """
    columns = [
        "session_id", "onset", "constraint", "compliance", "turns_to_comply",
        "followed", "satisfaction", "left",
    ]  # fmt: skip
    t = turns.sort_values(["session_id", "turn"])
    constraint = t["constraint"].fillna("")
    previous = constraint.groupby(t["session_id"]).shift(1, fill_value="")
    onsets = t.loc[(constraint != "") & (constraint != previous), ["session_id", "turn"]]
    if onsets.empty:
        return pd.DataFrame({c: [] for c in columns})
    onsets = onsets.rename(columns={"turn": "onset"}).astype("int64")
    keys = ["session_id", "onset"]

    slots = interactions.loc[
        interactions["satisfies_constraint"].notna(), ["session_id", "turn"]
    ].assign(ok=interactions["satisfies_constraint"].dropna().astype(float))
    per_slate = slots.groupby(["session_id", "turn"], as_index=False)["ok"].agg(["sum", "count"])
    per_slate = _in_window(per_slate, onsets, window)
    per_slate["complies"] = per_slate["sum"] >= COMPLY_SHARE * per_slate["count"]
    per_slate["offset"] = (per_slate["turn"] - per_slate["onset"] + 1).astype(float)
    grouped = per_slate.groupby(keys)
    scored = pd.DataFrame(
        {
            "compliance": grouped["sum"].sum() / grouped["count"].sum(),
            "turns_to_comply": per_slate[per_slate["complies"]].groupby(keys)["offset"].min(),
        }
    )
    after = _in_window(t[["session_id", "turn", "satisfaction", "left"]], onsets, window)
    reaction = after.groupby(keys).agg(satisfaction=("satisfaction", "last"), left=("left", "any"))
    out = onsets.set_index(keys).join(scored).join(reaction).reset_index()
    out["turns_to_comply"] = out["turns_to_comply"].fillna(float(window + 1))
    out["followed"] = out["compliance"].fillna(0.0) >= COMPLY_SHARE
    text = t.set_index(["session_id", "turn"])["constraint"]
    out["constraint"] = [
        json.loads(text[(s, o)]) for s, o in zip(out["session_id"], out["onset"], strict=True)
    ]
    out["left"] = out["left"].astype(bool)
    return out[columns]


def _in_window(frame: pd.DataFrame, onsets: pd.DataFrame, window: int) -> pd.DataFrame:
    """Rows of ``frame`` tagged with the latest onset at or before their turn, within ``window``."""
    tagged = pd.merge_asof(
        frame.sort_values("turn").astype({"turn": "int64", "session_id": "int64"}),
        onsets.sort_values("onset"),
        left_on="turn",
        right_on="onset",
        by="session_id",
        direction="backward",
    ).dropna(subset=["onset"])
    tagged["onset"] = tagged["onset"].astype("int64")
    inside = tagged[tagged["turn"] < tagged["onset"] + window]
    return inside.sort_values(["session_id", "turn"]).reset_index(drop=True)


def steerability_metrics(
    interactions: pd.DataFrame, turns: pd.DataFrame, window: int = 5
) -> dict[str, float]:
    """How well a policy follows what users ask for, and what following does for users.

    Returns:
        ``compliance`` (mean over requests of the share of items satisfying the request
        in the ``window`` slates after it), ``turns_to_comply``, ``followed`` (share of
        requests followed), ``satisfaction_followed`` / ``satisfaction_ignored`` (user
        satisfaction at the end of the window, by whether the request was followed),
        ``churn_followed`` / ``churn_ignored`` (share who left within the window) and
        ``requests`` (number of requests scored). NaN where a group is empty.
    """
    events = steering_events(interactions, turns, window)
    followed = events[events["followed"].astype(bool)] if len(events) else events
    ignored = events[~events["followed"].astype(bool)] if len(events) else events

    def mean(frame: pd.DataFrame, column: str) -> float:
        return float(frame[column].astype(float).mean()) if len(frame) else math.nan

    return {
        "compliance": mean(events, "compliance"),
        "turns_to_comply": mean(events, "turns_to_comply"),
        "followed": mean(events, "followed"),
        "satisfaction_followed": mean(followed, "satisfaction"),
        "satisfaction_ignored": mean(ignored, "satisfaction"),
        "churn_followed": mean(followed, "left"),
        "churn_ignored": mean(ignored, "left"),
        "requests": float(len(events)),
    }


# -- preference drift ---------------------------------------------------------------------
def drift_metrics(
    interactions: pd.DataFrame, turns: pd.DataFrame, at_turn: int, window: int = 4, lag: int = 2
) -> dict[str, float]:
    """Whether a policy adapts when tastes shift after slate ``at_turn``.

    Returns:
        ``ctr_before`` (CTR over the ``window`` slates up to ``at_turn``), ``ctr_dip``
        (over the ``lag`` slates right after the drift), ``ctr_after`` (over the
        ``window`` slates after that) and ``recovery`` (``ctr_after - ctr_before``: about
        0 when the policy found the new tastes, negative when it kept serving the old).
    """
    slates = slates_frame(interactions)
    before = _ctr(slates, at_turn - window + 1, at_turn)
    dip = _ctr(slates, at_turn + 1, at_turn + lag)
    after = _ctr(slates, at_turn + lag + 1, at_turn + lag + window)
    return {
        "ctr_before": before,
        "ctr_dip": dip,
        "ctr_after": after,
        "recovery": after - before,
    }


__all__ = [
    "COMPLY_SHARE",
    "cold_start_metrics",
    "drift_metrics",
    "intra_list_diversity",
    "novelty_metrics",
    "slates_frame",
    "steerability_metrics",
    "steering_events",
    "turn_curves",
]
