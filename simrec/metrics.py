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
from simrec.constraints import Constraint

COMPLY_SHARE = 0.5
"""A slate complies with a request when at least this share of its items satisfies it
(the utility brain calls a request ignored below the same share)."""


# -- shared views -------------------------------------------------------------------------
def slates_frame(interactions: pd.DataFrame) -> pd.DataFrame:
    """One row per shown slate: session, turn, shown items, clicks, purchases, dismissals.

    Sorted by session and turn. Computed with numpy (``reduceat`` over the slate
    boundaries), since every metric starts from it.
    """
    session = interactions["session_id"].to_numpy(np.int64)
    turn = interactions["turn"].to_numpy(np.int64)
    order = np.lexsort((turn, session))
    session, turn = session[order], turn[order]
    columns = {
        "shown": (interactions["item_index"].to_numpy() >= 0)[order],
        "clicks": interactions["clicked"].to_numpy(bool)[order],
        "purchases": interactions["purchased"].to_numpy(bool)[order],
        "dismissals": interactions["dismissed"].to_numpy(bool)[order],
    }
    if len(order) == 0:
        starts = np.zeros(0, dtype=np.int64)
    else:
        change = (np.diff(session) != 0) | (np.diff(turn) != 0)
        starts = np.concatenate([[0], np.flatnonzero(change) + 1])
    out = pd.DataFrame({"session_id": session[starts], "turn": turn[starts]})
    for name, values in columns.items():
        out[name] = (
            np.add.reduceat(values.astype(np.int64), starts)
            if len(starts)
            else np.zeros(0, np.int64)
        )
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
    turn = slates["turn"].to_numpy()
    width = int(turn.max()) + 1 if len(turn) else 1

    def per_turn(values: np.ndarray, t: np.ndarray = turn) -> np.ndarray:
        return np.bincount(t, weights=values.astype(float), minlength=width)

    n = per_turn(np.ones(len(turn)))
    present = np.flatnonzero(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        curves = pd.DataFrame(
            {
                "sessions": n.astype(np.int64),
                "ctr": per_turn(slates["clicked"].to_numpy()) / n,
                "purchase_rate": per_turn(slates["purchased"].to_numpy()) / n,
                "dismissal_rate": per_turn(slates["dismissals"].to_numpy())
                / np.maximum(per_turn(slates["shown"].to_numpy()), 1),
            }
        ).iloc[present]
        t_turn = turns["turn"].to_numpy(np.int64)
        users = per_turn(np.ones(len(t_turn)), t_turn)
        curves["satisfaction"] = (per_turn(turns["satisfaction"].to_numpy(float), t_turn) / users)[
            present
        ]
        curves["left"] = (per_turn(turns["left"].to_numpy(bool), t_turn) / users)[present]
    curves.index = pd.Index(present, name="turn")
    return curves


def _first_turn(slates: pd.DataFrame, column: str, sessions: pd.Index, horizon: int) -> np.ndarray:
    """Per session (in ``sessions`` order), the first turn with ``column``, else ``horizon + 1``."""
    hit = slates[column].to_numpy(bool)
    where = np.searchsorted(sessions.to_numpy(), slates["session_id"].to_numpy()[hit])
    first = np.full(len(sessions), float(horizon + 1))
    np.minimum.at(first, where, slates["turn"].to_numpy(float)[hit])
    return first


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


def _herfindahl(sessions: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Per session, the sum of squared shares of each category among its impressions."""
    if len(sessions) == 0:
        return np.zeros(0)
    _, session_of = np.unique(sessions, return_inverse=True)
    width = int(codes.max()) + 1
    counts = np.bincount(session_of * width + codes, minlength=(session_of.max() + 1) * width)
    counts = counts.reshape(-1, width).astype(float)
    shares = counts / counts.sum(axis=1, keepdims=True)
    return (shares**2).sum(axis=1)


def _sessions(turns: pd.DataFrame) -> pd.DataFrame:
    """Per session (sorted by id): slates seen, return, whether the user left, final satisfaction."""
    sid = turns["session_id"].to_numpy(np.int64)
    turn = turns["turn"].to_numpy(np.int64)
    order = np.lexsort((turn, sid))
    sid = sid[order]
    if len(sid) == 0:
        empty = pd.DataFrame({"turns": [], "return": [], "left": [], "final_satisfaction": []})
        return empty.set_index(pd.Index([], name="session_id", dtype="int64"))
    starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]])
    ends = np.r_[starts[1:], len(sid)] - 1
    return pd.DataFrame(
        {
            "turns": turn[order][ends],
            "return": np.add.reduceat(turns["reward"].to_numpy(float)[order], starts),
            "left": np.add.reduceat(turns["left"].to_numpy(bool)[order].astype(int), starts) > 0,
            "final_satisfaction": turns["satisfaction"].to_numpy(float)[order][ends],
        },
        index=pd.Index(sid[starts], name="session_id"),
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
    order = np.argsort(slate_of, kind="stable")
    slate_of, vectors = slate_of[order], vectors[order]
    starts = np.flatnonzero(np.r_[True, slate_of[1:] != slate_of[:-1]])
    n_slates = len(starts)
    sums = np.add.reduceat(vectors, starts, axis=0)
    slate_of = np.repeat(np.arange(n_slates), np.diff(np.r_[starts, len(slate_of)]))
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
    # An impression repeats when its (session, item) pair was seen before: all but the first.
    pairs = shown["session_id"].to_numpy(np.int64) * (len(catalog) + 1) + items
    repetition = 1.0 - len(np.unique(pairs)) / len(pairs) if len(pairs) else math.nan
    hhi = _herfindahl(shown["session_id"].to_numpy(), catalog.category_codes[items])
    return {
        "ild": intra_list_diversity(interactions, catalog.features),
        "coverage": len(np.unique(items)) / len(catalog),
        "novelty": float(catalog.self_information[items].mean()) if len(items) else math.nan,
        "repetition": repetition,
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
    t = turns.sort_values(["session_id", "turn"], kind="stable")
    sid = t["session_id"].to_numpy(np.int64)
    turn = t["turn"].to_numpy(np.int64)
    text = t["constraint"].fillna("").to_numpy(object)
    new_session = np.r_[True, sid[1:] != sid[:-1]] if len(sid) else np.zeros(0, bool)
    changed = np.r_[True, text[1:] != text[:-1]] if len(sid) else np.zeros(0, bool)
    is_onset = (text != "") & (new_session | changed)
    onset_rows = np.flatnonzero(is_onset)
    if len(onset_rows) == 0:
        return pd.DataFrame({c: [] for c in columns})
    # Each turn belongs to the latest onset at or before it in the same session, if any.
    latest = np.maximum.accumulate(np.where(is_onset, np.arange(len(sid)), -1))
    owner = np.where(latest >= 0, latest, 0)
    inside = (latest >= 0) & (sid[owner] == sid) & (turn - turn[owner] < window)
    event = np.searchsorted(onset_rows, owner)  # index of the owning onset
    rows = np.flatnonzero(inside)
    ev = event[rows]
    n_events = len(onset_rows)

    ok, count = _per_turn_compliance(interactions, sid, turn)
    ok_sum = np.bincount(ev, weights=ok[rows], minlength=n_events)
    shown = np.bincount(ev, weights=count[rows], minlength=n_events)
    complies = (count[rows] > 0) & (ok[rows] >= COMPLY_SHARE * count[rows])
    first = np.full(n_events, float(window + 1))
    offset = (turn[rows] - turn[onset_rows][ev] + 1).astype(float)
    np.minimum.at(first, ev[complies], offset[complies])
    last_row = np.zeros(n_events, dtype=np.int64)
    np.maximum.at(last_row, ev, rows)
    left = np.bincount(ev, weights=t["left"].to_numpy(bool)[rows], minlength=n_events) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        compliance = np.where(shown > 0, ok_sum / shown, np.nan)
    return pd.DataFrame(
        {
            "session_id": sid[onset_rows],
            "onset": turn[onset_rows],
            "constraint": [json.loads(c) for c in text[onset_rows]],
            "compliance": compliance,
            "turns_to_comply": first,
            "followed": np.nan_to_num(compliance, nan=0.0) >= COMPLY_SHARE,
            "satisfaction": t["satisfaction"].to_numpy(float)[last_row],
            "left": left,
        },
        columns=columns,
    )


def _per_turn_compliance(
    interactions: pd.DataFrame, sid: np.ndarray, turn: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each (sid, turn): items satisfying the active constraint, and items scored."""
    flags = interactions["satisfies_constraint"]
    scored = flags.notna().to_numpy()
    width = int(turn.max()) + 2 if len(turn) else 1
    row_key = sid * width + turn
    key = (
        interactions["session_id"].to_numpy(np.int64)[scored] * width
        + interactions["turn"].to_numpy(np.int64)[scored]
    )
    where = np.searchsorted(row_key, key)
    where = np.clip(where, 0, max(len(row_key) - 1, 0))
    valid = row_key[where] == key if len(row_key) else np.zeros(0, bool)
    ok = np.bincount(
        where[valid],
        weights=flags[scored].to_numpy(bool)[valid].astype(float),
        minlength=len(row_key),
    )
    count = np.bincount(where[valid], minlength=len(row_key)).astype(float)
    return ok, count


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


def request_curves(
    interactions: pd.DataFrame,
    turns: pd.DataFrame,
    catalog: Catalog,
    before: int = 5,
    after: int = 5,
) -> pd.DataFrame:
    """Per-turn outcomes aligned on each steering request: did the slates change when asked?

    Offset ``k`` is the slate ``k`` turns after the request turn (the turn whose reply
    made the request; its hidden constraint applies from offset 1). Offsets ``<= 0``
    score the slates shown *before* the user asked against the same constraint, so a
    policy that already showed such items all along is visible as a flat line. A
    session's later request ends an earlier one's window.

    Args:
        interactions: the event log's ``interactions`` table.
        turns: the event log's ``turns`` table.
        catalog: the catalog the log's ``item_index`` points into.
        before: slates up to and including the request turn (offsets ``1 - before .. 0``).
        after: slates after it (offsets ``1 .. after``).

    Returns:
        One row per offset (index ``offset``, every offset of the range) with
        ``requests`` (requests whose user was still shown a slate at that offset),
        ``compliance`` (mean over those requests of the share of shown items satisfying
        the constraint), ``ctr`` (share of their slates with a click) and
        ``satisfaction`` (mean after that turn). NaN where no request reached the offset.
    """
    offsets = pd.RangeIndex(1 - before, after + 1, name="offset")
    columns = ["requests", "compliance", "ctr", "satisfaction"]
    events = steering_events(interactions, turns, window=1)
    if len(events) == 0:
        return pd.DataFrame(np.nan, index=offsets, columns=columns).assign(requests=0)
    texts = [json.dumps(c, sort_keys=True) for c in events["constraint"]]
    distinct = sorted(set(texts))
    masks = np.stack([Constraint.from_dict(json.loads(t)).mask(catalog) for t in distinct])
    requests = _RequestWindows(events, np.searchsorted(distinct, texts), before, after)
    width = before + after

    s_event, s_slot, s_rows = requests.align(
        interactions["session_id"].to_numpy(np.int64), interactions["turn"].to_numpy(np.int64)
    )
    item = interactions["item_index"].to_numpy(np.int64)[s_rows]
    shown = item >= 0
    ok = masks[requests.code[s_event], np.maximum(item, 0)] & shown
    key = s_event * width + s_slot
    cells = len(events) * width
    shown_n = np.bincount(key, weights=shown, minlength=cells)
    ok_n = np.bincount(key, weights=ok, minlength=cells)
    clicks = np.bincount(
        key, weights=interactions["clicked"].to_numpy(bool)[s_rows], minlength=cells
    )

    t_event, t_slot, t_rows = requests.align(
        turns["session_id"].to_numpy(np.int64), turns["turn"].to_numpy(np.int64)
    )
    t_key = t_event * width + t_slot
    seen = np.zeros(cells, bool)
    seen[t_key] = True
    satisfaction = np.full(cells, np.nan)
    satisfaction[t_key] = turns["satisfaction"].to_numpy(float)[t_rows]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(shown_n > 0, ok_n / shown_n, np.nan)
    grid = {
        "requests": seen.reshape(-1, width).sum(axis=0),
        "compliance": _column_mean(share, seen, width),
        "ctr": _column_mean((clicks > 0).astype(float), seen, width),
        "satisfaction": _column_mean(satisfaction, seen, width),
    }
    return pd.DataFrame(grid, index=offsets, columns=columns)


class _RequestWindows:
    """Steering requests and the slates around each: which rows fall in whose window."""

    def __init__(self, events: pd.DataFrame, code: np.ndarray, before: int, after: int) -> None:
        self.session = events["session_id"].to_numpy(np.int64)
        onset = events["onset"].to_numpy(np.int64)
        self.request = onset - 1
        # events are sorted by session, then onset: a later request ends the window
        later = np.r_[self.session[1:] == self.session[:-1], False]
        self.end = np.where(later, np.r_[onset[1:], 0], np.iinfo(np.int64).max)
        first = np.r_[True, self.session[1:] != self.session[:-1]]
        self.rank = np.arange(len(onset)) - np.maximum.accumulate(
            np.where(first, np.arange(len(onset)), 0)
        )
        self.code = code
        self.before, self.after = before, after

    def align(self, session: np.ndarray, turn: np.ndarray) -> tuple[np.ndarray, ...]:
        """For rows ``(session, turn)``: the request, the offset slot and the row of each match.

        A row can fall in two windows (after one request and before the next), so it is
        matched once per request rank.
        """
        events, slots, rows = [], [], []
        for rank in range(int(self.rank.max()) + 1):
            which = np.flatnonzero(self.rank == rank)
            at = np.searchsorted(self.session[which], session)
            at = np.minimum(at, len(which) - 1)
            event = which[at]
            offset = turn - self.request[event]
            keep = (
                (self.session[event] == session)
                & (offset > -self.before)
                & (offset <= self.after)
                & (turn < self.end[event])
            )
            events.append(event[keep])
            slots.append(offset[keep] + self.before - 1)
            rows.append(np.flatnonzero(keep))
        return tuple(np.concatenate(parts) for parts in (events, slots, rows))


def _column_mean(values: np.ndarray, seen: np.ndarray, width: int) -> np.ndarray:
    """Mean per offset (column of the ``(request, offset)`` grid) over seen, non-NaN cells."""
    valid = (seen & ~np.isnan(values)).reshape(-1, width)
    total = np.where(valid, values.reshape(-1, width), 0.0).sum(axis=0)
    count = valid.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


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


# -- semantic-id actions ------------------------------------------------------------------
def hallucination_rate(interactions: pd.DataFrame) -> float:
    """Share of slate slots whose semantic id named no catalog item (shown empty).

    Every slot of every logged slate counts once (``k`` per slate), so a rate of 0.2 on
    slates of five is one hallucinated slot per slate on average. Item-index policies
    cannot hallucinate (0.0); a log from before the ``hallucinated`` column existed is
    read the same way. NaN for an empty log.
    """
    if interactions.empty:
        return math.nan
    if "hallucinated" not in interactions.columns:
        return 0.0
    return float(interactions["hallucinated"].to_numpy(bool).mean())


__all__ = [
    "COMPLY_SHARE",
    "cold_start_metrics",
    "drift_metrics",
    "hallucination_rate",
    "intra_list_diversity",
    "novelty_metrics",
    "request_curves",
    "slates_frame",
    "steerability_metrics",
    "steering_events",
    "turn_curves",
]
