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
* Empty slots (a policy's duplicates) count against a slate, never for it: they add
  no diversity, no coverage and no novelty, and after the first slate they count as
  repetition.
* Metrics credit what a policy caused: compliance with a request against the same
  policy's compliance before it, and (in the scenario runner, which has the oracle's
  log) adaptation to a drift against the oracle's CTR before and after it.

:data:`DIRECTION` says, for every metric, whether more is better; the gauntlet
(:mod:`simrec.scenario_gauntlet`) uses it to tell which policy an assertion endorses.
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
    out = {"session_id": session[starts], "turn": turn[starts]}
    for name, values in columns.items():
        out[name] = (
            np.add.reduceat(values.astype(np.int64), starts)
            if len(starts)
            else np.zeros(0, np.int64)
        )
    out["clicked"] = out["clicks"] > 0
    out["purchased"] = out["purchases"] > 0
    return pd.DataFrame(out, copy=False)


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
    """Mean over slates of the mean pairwise cosine distance between a slate's slots.

    Distances are those between shown items' ``features``; a pair with an empty slot
    (a duplicate the env did not show) has distance 0, so a slate of one item and four
    empty slots scores 0, not the diversity of its one item. Slates of one slot are
    left out (no pairs); NaN when there are none.
    """
    if interactions.empty:
        return math.nan
    session = interactions["session_id"].to_numpy(np.int64)
    turn = interactions["turn"].to_numpy(np.int64)
    _, slate_of = np.unique(session * (int(turn.max()) + 1) + turn, return_inverse=True)
    n_slates = int(slate_of.max()) + 1
    slots = np.bincount(slate_of, minlength=n_slates).astype(float)
    items = interactions["item_index"].to_numpy(np.int64)
    shown = items >= 0
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit = features / np.where(norms > 0, norms, 1.0)
    vectors = unit[items[shown]].astype(np.float64)
    where = slate_of[shown]
    sums = np.zeros((n_slates, features.shape[1]))
    np.add.at(sums, where, vectors)
    count = np.bincount(where, minlength=n_slates).astype(float)
    # sum over ordered pairs i != j of u_i . u_j = |sum u|^2 - sum |u|^2
    self_dot = np.bincount(where, weights=(vectors * vectors).sum(axis=1), minlength=n_slates)
    pair_sim = (sums * sums).sum(axis=1) - self_dot
    distance = count * (count - 1) - pair_sim  # over ordered pairs of shown items
    pairs = slots * (slots - 1)
    valid = pairs > 0
    if not valid.any():
        return math.nan
    return float((distance[valid] / pairs[valid]).mean())


def _visit_newness(interactions: pd.DataFrame, width: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Slots sorted by session, turn, position, and which show an item new to the visit."""
    slots = interactions.sort_values(["session_id", "turn", "position"], kind="stable")
    items = slots["item_index"].to_numpy(np.int64)
    pairs = slots["session_id"].to_numpy(np.int64) * (width + 1) + items
    _, first = np.unique(pairs, return_index=True)
    new = np.zeros(len(slots), dtype=bool)
    new[first] = True
    return slots, new & (items >= 0)


def novelty_metrics(
    interactions: pd.DataFrame,
    turns: pd.DataFrame,
    catalog: Catalog,
    first_turns: int = 3,
) -> dict[str, float]:
    """What a policy shows across a visit (diversity, repetition, novelty) and what that causes.

    A slot is *new* when it shows an item not shown earlier in the same visit; empty
    slots (duplicates) are never new.

    Returns:
        ``ild`` (intra-list diversity over ``catalog.features``, empty slots adding
        nothing: :func:`intra_list_diversity`), ``coverage`` (share of the catalog shown
        at least once in the batch), ``visit_coverage`` (distinct items a visit showed
        per slot it had, mean over visits: 1 = never a repeat, ``1 / T`` for the same
        slate ``T`` times), ``novelty`` (mean over slots of the self-information, in
        bits, of the item a slot newly showed; 0 for repeats and empty slots),
        ``repetition`` (share of the slots from each visit's second slate on that show
        nothing new: 1 for a constant slate, the worst there is), ``concentration``
        (mean Herfindahl index of the categories a session was shown: 1 = one category
        only), ``ctr_at_T`` (early CTR, ``T = first_turns``), ``ctr_decay``
        (least-squares slope of slate CTR per turn), ``satisfaction_slope`` (per turn),
        ``final_satisfaction``, ``churn`` (share of sessions the user left),
        ``session_length`` (slates per session) and ``return``.
    """
    shown = interactions[interactions["item_index"] >= 0]
    items = shown["item_index"].to_numpy()
    slates = slates_frame(interactions)
    sessions = _sessions(turns)
    slots, new = _visit_newness(interactions, len(catalog))
    later = slots["turn"].to_numpy() >= 2
    repetition = 1.0 - new[later].mean() if later.any() else math.nan
    slot_session = slots["session_id"].to_numpy(np.int64)
    _, visit_of = np.unique(slot_session, return_inverse=True)
    per_visit = np.bincount(visit_of, weights=new) / np.bincount(visit_of)
    slot_items = np.maximum(slots["item_index"].to_numpy(np.int64), 0)
    info = np.where(new, catalog.self_information[slot_items], 0.0)
    hhi = _herfindahl(shown["session_id"].to_numpy(), catalog.category_codes[items])
    return {
        "ild": intra_list_diversity(interactions, catalog.features),
        "coverage": len(np.unique(items)) / len(catalog),
        "visit_coverage": float(per_visit.mean()) if len(per_visit) else math.nan,
        "novelty": float(info.mean()) if len(info) else math.nan,
        "repetition": float(repetition),
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
STEERING_COLUMNS = (
    "session_id", "onset", "constraint", "compliance", "compliance_before", "base_rate",
    "turns_to_comply", "anticipated", "followed", "satisfaction", "left",
)  # fmt: skip


def steering_events(
    interactions: pd.DataFrame, turns: pd.DataFrame, catalog: Catalog, window: int = 5
) -> pd.DataFrame:
    """One row per steering request a session received, scored around its onset.

    A request starts at the first slate its hidden constraint applies to (the ``turns``
    table's ``constraint`` column changes to it). Its *after* window is the ``window``
    slates from the onset on while the request holds; its *before* window the up to
    ``window`` slates before the onset (a slate before two requests counts for the
    nearer one). Compliance is the share of a window's shown items that satisfy the
    constraint, evaluated on ``catalog`` in both windows.

    Returns:
        Columns ``session_id``, ``onset`` (first constrained slate), ``constraint``,
        ``compliance`` (after), ``compliance_before`` (NaN when the request came with
        the first slate), ``base_rate`` (share of the catalog satisfying it),
        ``turns_to_comply`` (slates from the onset until the one from which every slate
        of the window has at least ``COMPLY_SHARE`` of its items complying; ``window +
        1`` if the window's last slate does not, or if the policy already complied
        before the request), ``anticipated`` (compliance before
        the request was already at least ``COMPLY_SHARE``: whatever happens after, it
        is not caused by the request), ``followed`` (compliance after at least
        ``COMPLY_SHARE`` and not anticipated), ``satisfaction`` (after the after
        window's last slate, or when the user left) and ``left`` (within the window).
    """
    t = turns.sort_values(["session_id", "turn"], kind="stable")
    sid = t["session_id"].to_numpy(np.int64)
    turn = t["turn"].to_numpy(np.int64)
    text = t["constraint"].fillna("").to_numpy(object)
    n = len(sid)
    new_session = np.r_[True, sid[1:] != sid[:-1]] if n else np.zeros(0, bool)
    changed = np.r_[True, text[1:] != text[:-1]] if n else np.zeros(0, bool)
    is_onset = (text != "") & (new_session | changed)
    onset_rows = np.flatnonzero(is_onset)
    if len(onset_rows) == 0:
        return pd.DataFrame({c: [] for c in STEERING_COLUMNS})
    n_events = len(onset_rows)
    rows = np.arange(n)
    # After: each turn belongs to the latest onset at or before it in the same session;
    # its compliance counts while that request still holds.
    latest = np.maximum.accumulate(np.where(is_onset, rows, -1))
    owner = np.maximum(latest, 0)
    after = (latest >= 0) & (sid[owner] == sid) & (turn - turn[owner] < window)
    holds = after & (text == text[owner])
    after_event = np.searchsorted(onset_rows, owner)
    # Before: each turn belongs to the next onset after it in the same session.
    upcoming = np.minimum.accumulate(np.where(is_onset, rows, n)[::-1])[::-1]
    following = np.r_[upcoming[1:], n]
    nxt = np.minimum(following, n - 1)
    before = (following < n) & (sid[nxt] == sid) & (turn[nxt] - turn <= window)
    before_event = np.searchsorted(onset_rows, nxt)

    texts = text[onset_rows].astype(str)
    distinct, code = np.unique(texts, return_inverse=True)
    masks = np.stack([Constraint.from_dict(json.loads(c)).mask(catalog) for c in distinct])
    row_of, items = _impression_rows(interactions, sid, turn)
    ok_turn, shown_turn = _turn_compliance(row_of, items, holds, after_event, code, masks)
    ok_prior, shown_prior = _turn_compliance(row_of, items, before, before_event, code, masks)

    def per_event(values: np.ndarray, inside: np.ndarray, event: np.ndarray) -> np.ndarray:
        return np.bincount(event[inside], weights=values[inside], minlength=n_events)

    with np.errstate(invalid="ignore", divide="ignore"):
        shown = per_event(shown_turn, holds, after_event)
        compliance = np.where(shown > 0, per_event(ok_turn, holds, after_event) / shown, np.nan)
        shown = per_event(shown_prior, before, before_event)
        compliance_before = np.where(
            shown > 0, per_event(ok_prior, before, before_event) / shown, np.nan
        )
    anticipated = np.nan_to_num(compliance_before, nan=0.0) >= COMPLY_SHARE
    followed = (np.nan_to_num(compliance, nan=0.0) >= COMPLY_SHARE) & ~anticipated
    # Compliance counts from the slate on which it starts and lasts to the end of the
    # window: one slate that happens to comply (a rotation's) is not following.
    complies = (shown_turn > 0) & (ok_turn >= COMPLY_SHARE * shown_turn)
    offset = (turn - turn[onset_rows[after_event]] + 1).astype(float)
    last_slate = np.zeros(n_events)
    np.maximum.at(last_slate, after_event[holds], offset[holds])
    last_miss = np.zeros(n_events)
    misses = holds & ~complies
    np.maximum.at(last_miss, after_event[misses], offset[misses])
    first = np.where(last_miss < last_slate, last_miss + 1, float(window + 1))
    first[anticipated] = float(window + 1)
    last_row = np.zeros(n_events, dtype=np.int64)
    np.maximum.at(last_row, after_event[after], rows[after])
    left = per_event(t["left"].to_numpy(bool).astype(float), after, after_event)
    return pd.DataFrame(
        {
            "session_id": sid[onset_rows],
            "onset": turn[onset_rows],
            "constraint": [json.loads(c) for c in texts],
            "compliance": compliance,
            "compliance_before": compliance_before,
            "base_rate": masks.mean(axis=1)[code],
            "turns_to_comply": first,
            "anticipated": anticipated,
            "followed": followed,
            "satisfaction": t["satisfaction"].to_numpy(float)[last_row],
            "left": left > 0,
        },
        columns=list(STEERING_COLUMNS),
    )


def _impression_rows(
    interactions: pd.DataFrame, sid: np.ndarray, turn: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each shown impression: its row in the sorted ``(sid, turn)`` table, and its item."""
    shown = interactions["item_index"].to_numpy(np.int64) >= 0
    width = int(turn.max()) + 2 if len(turn) else 1
    row_key = sid * width + turn
    key = (
        interactions["session_id"].to_numpy(np.int64)[shown] * width
        + interactions["turn"].to_numpy(np.int64)[shown]
    )
    where = np.clip(np.searchsorted(row_key, key), 0, max(len(row_key) - 1, 0))
    valid = row_key[where] == key if len(row_key) else np.zeros(0, bool)
    return where[valid], interactions["item_index"].to_numpy(np.int64)[shown][valid]


def _turn_compliance(
    row_of: np.ndarray,
    items: np.ndarray,
    inside: np.ndarray,
    event_of: np.ndarray,
    code: np.ndarray,
    masks: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per turn row inside a window: items satisfying its request's constraint, items shown."""
    n = len(inside)
    keep = inside[row_of]
    rows, shown = row_of[keep], items[keep]
    ok = masks[code[event_of[rows]], shown].astype(float)
    return np.bincount(rows, weights=ok, minlength=n), np.bincount(rows, minlength=n).astype(float)


def steerability_metrics(
    interactions: pd.DataFrame, turns: pd.DataFrame, window: int = 5, *, catalog: Catalog
) -> dict[str, float]:
    """How well a policy follows what users ask for, and what following does for users.

    Credit goes to what changed because the user asked: a policy that showed the
    requested kind of item all along scores no ``listening`` and no followed requests.

    Returns:
        ``compliance`` (mean over requests of the share of items satisfying the request
        in the ``window`` slates after it), ``compliance_before`` (the same over the
        slates before it), ``base_rate`` (share of the catalog satisfying it),
        ``listening`` (mean of compliance after minus the larger of compliance before
        and the base rate: what the request changed beyond chance), ``turns_to_comply``,
        ``anticipated`` (share of requests the policy already complied with before they
        were made), ``followed`` (share of requests followed because they were made),
        ``satisfaction_followed`` / ``satisfaction_ignored`` (user satisfaction at the
        end of the window, for requests followed / not complied with after),
        ``churn_followed`` / ``churn_ignored`` (share who left within the window) and
        ``requests`` (number of requests scored). NaN where a group is empty.
    """
    events = steering_events(interactions, turns, catalog, window)
    after = events["compliance"].to_numpy(float)
    reference = np.fmax(events["compliance_before"].to_numpy(float), events["base_rate"])
    followed = events[events["followed"].astype(bool)] if len(events) else events
    ignored = events[np.nan_to_num(after, nan=0.0) < COMPLY_SHARE] if len(events) else events

    def mean(frame: pd.DataFrame, column: str) -> float:
        return float(frame[column].astype(float).mean()) if len(frame) else math.nan

    return {
        "compliance": mean(events, "compliance"),
        "compliance_before": mean(events, "compliance_before"),
        "base_rate": mean(events, "base_rate"),
        "listening": float(np.nanmean(after - reference)) if np.isfinite(after).any() else math.nan,
        "turns_to_comply": mean(events, "turns_to_comply"),
        "anticipated": mean(events, "anticipated"),
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
    events = steering_events(interactions, turns, catalog, window=1)
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


# -- how users react (pooled rates and curves, for comparing brains) ----------------------
def reaction_rates(interactions: pd.DataFrame, turns: pd.DataFrame) -> dict[str, float]:
    """How users reacted, pooled over a batch of sessions.

    Returns:
        ``ctr`` (share of slates with a click), ``clicks_per_slate`` (an LLM-played user
        may click several items of a slate; the utility brain at most one),
        ``purchase_rate`` (share of slates with a purchase), ``conversion`` (purchases
        per click), ``dismissal_rate`` (dismissals per shown item), ``leave_rate`` (share
        of turns after which the user left: the leave hazard pooled over turns),
        ``session_length`` (slates per session) and ``final_satisfaction``. NaN when the
        log has nothing to divide by.
    """
    slates = slates_frame(interactions)
    sessions = _sessions(turns)

    def share(part: float, whole: float) -> float:
        return float(part) / float(whole) if whole else math.nan

    return {
        "ctr": share(slates["clicked"].sum(), len(slates)),
        "clicks_per_slate": share(slates["clicks"].sum(), len(slates)),
        "purchase_rate": share(slates["purchased"].sum(), len(slates)),
        "conversion": share(slates["purchases"].sum(), slates["clicks"].sum()),
        "dismissal_rate": share(slates["dismissals"].sum(), slates["shown"].sum()),
        "leave_rate": share(turns["left"].to_numpy(bool).sum(), len(turns)),
        "session_length": float(sessions["turns"].mean()) if len(sessions) else math.nan,
        "final_satisfaction": float(sessions["final_satisfaction"].mean())
        if len(sessions)
        else math.nan,
    }


def position_curves(interactions: pd.DataFrame) -> pd.DataFrame:
    """Per slot position (1 = the first slot): how its shown items fared.

    Returns:
        One row per position that showed an item (index ``position``) with
        ``impressions`` (items shown there), ``ctr``, ``purchase_rate`` and
        ``dismissal_rate`` (clicks, purchases and dismissals per shown item).
    """
    shown = interactions["item_index"].to_numpy(np.int64) >= 0
    position = interactions["position"].to_numpy(np.int64)[shown] + 1
    return _rates_by(position, interactions[shown], "position")


def repeat_curves(interactions: pd.DataFrame, most: int = 3) -> pd.DataFrame:
    """How shown items fared by how many times the visit had shown them before: the
    response to repeated slates.

    Args:
        interactions: the event log's ``interactions`` table.
        most: repeat counts of ``most`` and more share the last row.

    Returns:
        One row per repeat count ``0 .. most`` that occurs (index ``shown_before``) with
        ``impressions``, ``ctr``, ``purchase_rate`` and ``dismissal_rate`` per shown item.
    """
    shown = interactions[interactions["item_index"].to_numpy(np.int64) >= 0]
    session = shown["session_id"].to_numpy(np.int64)
    item = shown["item_index"].to_numpy(np.int64)
    turn = shown["turn"].to_numpy(np.int64)
    order = np.lexsort((turn, item, session))
    new_pair = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        s, i = session[order], item[order]
        new_pair[1:] = (s[1:] != s[:-1]) | (i[1:] != i[:-1])
    rank = np.arange(len(order)) - np.maximum.accumulate(
        np.where(new_pair, np.arange(len(order)), 0)
    )
    before = np.empty(len(order), dtype=np.int64)
    before[order] = np.minimum(rank, most)
    return _rates_by(before, shown, "shown_before")


def _rates_by(key: np.ndarray, rows: pd.DataFrame, name: str) -> pd.DataFrame:
    """``impressions`` and per-impression click, purchase and dismissal rates per ``key``."""
    width = int(key.max()) + 1 if len(key) else 1
    count = np.bincount(key, minlength=width).astype(float)
    present = np.flatnonzero(count)

    def rate(column: str) -> np.ndarray:
        hits = np.bincount(key, weights=rows[column].to_numpy(bool), minlength=width)
        return (hits / np.maximum(count, 1))[present]

    return pd.DataFrame(
        {
            "impressions": count[present].astype(np.int64),
            "ctr": rate("clicked"),
            "purchase_rate": rate("purchased"),
            "dismissal_rate": rate("dismissed"),
        },
        index=pd.Index(present, name=name),
    )


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


def drift_adaptation(own: dict[str, float], oracle: dict[str, float]) -> dict[str, float]:
    """A policy's drift CTRs against the oracle's on the same users (one seed each).

    ``recovery`` compares a policy with its own level before the drift, so a policy that
    was poor all along "recovers" perfectly, and one that shows the new tastes from the
    start gains; these compare with what was attainable instead.

    Args:
        own: the policy's :func:`drift_metrics`.
        oracle: the oracle's :func:`drift_metrics` on the same sessions.

    Returns:
        ``relative_before`` and ``relative_after`` (the policy's CTR over the oracle's,
        before and after the drift) and ``adaptation`` (the smaller of the two: only a
        policy that served the old tastes and then the new ones scores high).
    """
    before = _ratio(own["ctr_before"], oracle["ctr_before"])
    after = _ratio(own["ctr_after"], oracle["ctr_after"])
    return {
        "relative_before": before,
        "relative_after": after,
        "adaptation": min(before, after)
        if not (math.isnan(before) or math.isnan(after))
        else math.nan,
    }


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 and not math.isnan(a) else math.nan


DIRECTION: dict[str, int] = {
    **dict.fromkeys(
        ("return", "normalized_return", "ild", "coverage", "visit_coverage", "novelty",
         "ctr_decay", "satisfaction_slope", "final_satisfaction", "session_length",
         "compliance", "listening", "followed", "satisfaction_followed", "satisfaction_ignored",
         "ctr_before", "ctr_dip", "ctr_after", "recovery", "relative_before", "relative_after",
         "adaptation"),
        1,
    ),
    **dict.fromkeys(
        ("turns_to_click", "turns_to_purchase", "repetition", "concentration", "churn",
         "turns_to_comply", "churn_followed", "churn_ignored", "hallucination_rate"),
        -1,
    ),
    **dict.fromkeys(("compliance_before", "base_rate", "anticipated", "requests"), 0),
}  # fmt: skip
"""Per metric: 1 when more is better, -1 when less is better, 0 when it is a context figure.
``ctr_at_T`` and ``purchase_rate_at_T`` are 1 whatever ``T`` (see :func:`direction`)."""


ACTION_FORM_METRICS: dict[str, frozenset[str]] = {
    "hallucination_rate": frozenset({"semantic_id", "semantic_tokens"}),
}
"""Metrics of *how* a policy names items, by the action forms that can show them.

A policy that acts by item index cannot name an item that does not exist, so its
hallucination rate is 0 by construction: it says nothing about the policy. A claim such
as ``constrained.actions.hallucination_rate <= 0`` is about policies that emit semantic
ids, and only such a policy can stand in for the one it names (the gauntlet, whose
policies act by index, is not substituted there: :func:`measures`)."""


def measures(metric: str, action_form: str) -> bool:
    """Whether ``metric`` says something about a policy acting in ``action_form``."""
    forms = ACTION_FORM_METRICS.get(metric)
    return forms is None or action_form in forms


def direction(metric: str) -> int:
    """1 when more of ``metric`` is better, -1 when less is, 0 when neither."""
    if metric.startswith(("ctr_at_", "purchase_rate_at_")):
        return 1
    return DIRECTION.get(metric, 0)


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
    "ACTION_FORM_METRICS",
    "COMPLY_SHARE",
    "DIRECTION",
    "direction",
    "drift_adaptation",
    "cold_start_metrics",
    "drift_metrics",
    "hallucination_rate",
    "intra_list_diversity",
    "measures",
    "novelty_metrics",
    "position_curves",
    "reaction_rates",
    "repeat_curves",
    "request_curves",
    "slates_frame",
    "steerability_metrics",
    "steering_events",
    "turn_curves",
]
