"""Running the protocol for one brain and writing ``fidelity.json``.

Fields of ``fidelity.json`` (stable; figures in [0, 1] unless said otherwise):

=================================  ===============================================================
field                              meaning
=================================  ===============================================================
``accuracy_1_1``                   accuracy of "liked" calls over held-out items and as many
                                   uniform negatives
``accuracy_1_3``, ``accuracy_1_9``  the same with 3 and 9 negatives per held-out item
``f1_1_1``, ``f1_1_3``, ``f1_1_9``  F1 of the "liked" calls (held-out items are the positives)
``accuracy_1_1_popular_negatives`` accuracy at 1:1 with popularity-matched negatives
``auc``                            mean over users of the AUC of held-out items against the
                                   user's whole unseen catalog (scores: click probabilities)
``ndcg_10``                        mean over users of NDCG@10 over the unseen catalog
``genre_tv``                       total variation between the genre distributions of the
                                   simulated liked set (unseen items called liked) and of the
                                   held-out items, every user weighing the same
``liked_popularity_percentile``    mean popularity percentile of the simulated liked set, and
``held_out_popularity_percentile`` of the held-out items
``liked_per_user``                 mean size of the simulated liked set over the unseen catalog
``kendall_tau``                    Kendall's tau between the policies' order by held-out NDCG@10
                                   and by CTR in the grounded env (see ``policy_ranking``)
``kendall_tau_low``, ``_high``     the central 95% of tau's bootstrap distribution (users and
                                   sessions resampled)
``baselines``                      the same figures (but ``genre_tv``, ``kendall_tau``) for
                                   ``random``, ``popularity`` and ``mf``, thresholds from
                                   validation
``policy_ranking``                 ``policies``: per policy ``ndcg_10`` (held-out) and ``ctr``
                                   (env) with 95% bootstrap intervals (``*_low``, ``*_high``);
                                   ``pairs``: per pair (``policy``, ``other``) the paired
                                   differences with their intervals, ``separated_real`` / ``separated_env``
                                   (interval excludes 0) and ``agree`` (separated on the real
                                   data, same order in the env); ``pairs_separated_real``,
                                   ``pairs_separated_both``, ``pairs_agreeing``, ``pairs_total``
``genre_distribution``             ``real`` (held-out items) and ``simulated`` (liked set):
                                   genre -> share, every user weighing the same
``popularity_distribution``        ``bins`` (popularity-percentile edges, deciles) and ``real``
                                   / ``simulated``: share of items in each bin
``split``                          how the preset's events were split (from its
                                   ``grounding.json``): ``method`` ``temporal`` (each user's last
                                   20% held out: the protocol the targets are judged on) or
                                   ``random`` (a seeded random 20%, as published simulators
                                   evaluate), ``seed``, ``test_share``
``protocol``                       the settings (ratios, seed, users, negatives, liked rule)
``data``                           the preset directory, its source log, users and items
``brain``, ``simrec_version``      who played the users; the simrec version
``ranking_scope``                  ``catalog`` (AUC/NDCG over the unseen catalog) or
                                   ``candidates`` (LLM brains: over the candidate items only)
=================================  ===============================================================
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from simrec.brains import make_brain
from simrec.brains.utility import UtilityBrain
from simrec.fidelity.data import GroundedData, load_grounded
from simrec.fidelity.judges import Baseline, brain_clicks, brain_probabilities
from simrec.fidelity.metrics import (
    accuracy_f1,
    auc_per_user,
    genre_distribution,
    mean_popularity_percentile,
    ndcg_per_user,
    popularity_histogram,
    total_variation,
)
from simrec.fidelity.protocol import Candidates, Protocol, draw_candidates
from simrec.fidelity.ranking import policy_ranking
from simrec.grounding.traits import _percentile

POPULARITY_BINS = 10
"""Deciles of item popularity (percentile) for ``popularity_distribution``."""


def _pair_figures(
    liked_pos: np.ndarray, liked_uniform: np.ndarray, liked_matched: np.ndarray, ratios
) -> dict:
    out: dict[str, float] = {}
    for r in ratios:
        acc, f1 = accuracy_f1(liked_pos, liked_uniform[:, :r])
        out[f"accuracy_1_{r}"], out[f"f1_1_{r}"] = acc, f1
    out["accuracy_1_1_popular_negatives"] = accuracy_f1(liked_pos, liked_matched)[0]
    return out


def run_fidelity(
    root: str | Path,
    brain: str = "utility",
    brain_kwargs: dict[str, Any] | None = None,
    protocol: Protocol | None = None,
) -> dict[str, Any]:
    """The fidelity report of ``brain`` on the grounded preset at ``root`` (a JSON-ready dict)."""
    from simrec import __version__

    protocol = protocol or Protocol()
    data = load_grounded(root)
    users = np.arange(data.n_users)
    if protocol.users is not None and protocol.users < data.n_users:
        users = np.sort(
            np.random.default_rng([protocol.seed, 4]).choice(
                data.n_users, protocol.users, replace=False
            )
        )
    chosen = data.before | data.test
    cand = draw_candidates(data.test, chosen, data.popularity, protocol, users)
    row_of = np.full(data.n_users, -1)
    row_of[users] = np.arange(len(users))
    rows = row_of[cand.user]
    player = make_brain(brain, **dict(brain_kwargs or {}))
    percentile = _percentile(data.popularity)
    if isinstance(player, UtilityBrain):
        probs = brain_probabilities(data, player, users)
        scope = "catalog"
        figures = _pair_figures(
            probs[rows, cand.item] > 0.5,
            probs[rows[:, None], cand.uniform] > 0.5,
            probs[rows, cand.matched] > 0.5,
            protocol.ratios,
        )
        seen, held_out = data.before[users], data.test[users]
        figures["auc"] = float(np.nanmean(auc_per_user(probs, seen, held_out)))
        figures["ndcg_10"] = float(
            np.nanmean(ndcg_per_user(probs, seen, held_out, protocol.ndcg_k))
        )
        liked_sets = [np.flatnonzero((probs[r] > 0.5) & ~seen[r]) for r in range(len(users))]
    else:
        figures, liked_sets = _llm_figures(data, player, cand, rows, users, protocol)
        scope = "candidates"
    real_sets = [np.flatnonzero(data.test[u]) for u in users.tolist()]
    genres = {
        "real": genre_distribution(real_sets, data.genres),
        "simulated": genre_distribution(liked_sets, data.genres),
    }
    figures["genre_tv"] = total_variation(genres["simulated"], genres["real"])
    figures["liked_popularity_percentile"] = mean_popularity_percentile(liked_sets, percentile)
    figures["held_out_popularity_percentile"] = mean_popularity_percentile(real_sets, percentile)
    figures["liked_per_user"] = float(np.mean([len(s) for s in liked_sets]))
    baselines = {}
    for name in ("random", "popularity", "mf"):
        judge = Baseline(name, data, users, protocol.seed)
        figs = _pair_figures(
            judge.liked(rows, cand.item),
            judge.liked(rows[:, None], cand.uniform),
            judge.liked(rows, cand.matched),
            protocol.ratios,
        )
        figs["auc"] = float(
            np.nanmean(auc_per_user(judge.scores, data.before[users], data.test[users]))
        )
        figs["ndcg_10"] = float(
            np.nanmean(
                ndcg_per_user(judge.scores, data.before[users], data.test[users], protocol.ndcg_k)
            )
        )
        figs["validation_threshold"] = judge.threshold
        baselines[name] = figs
    ranking = policy_ranking(
        data, protocol.policies, users, protocol.env_sessions, protocol.seed, protocol.ndcg_k
    )
    return {
        **figures,
        "kendall_tau": ranking["kendall_tau"],
        "kendall_tau_low": ranking["kendall_tau_low"],
        "kendall_tau_high": ranking["kendall_tau_high"],
        "baselines": baselines,
        "policy_ranking": ranking,
        "genre_distribution": genres,
        "popularity_distribution": {
            "bins": np.linspace(0.0, 1.0, POPULARITY_BINS + 1).round(6).tolist(),
            "real": popularity_histogram(real_sets, percentile, POPULARITY_BINS),
            "simulated": popularity_histogram(liked_sets, percentile, POPULARITY_BINS),
        },
        "brain": brain,
        "ranking_scope": scope,
        "split": data.split,
        "protocol": protocol.to_dict(),
        "data": {
            "preset": str(data.root),
            "source": data.grounding.get("source"),
            "users": int(len(users)),
            "items": len(data.catalog),
            "held_out_events": int(len(cand.item)),
        },
        "simrec_version": __version__,
    }


def _llm_figures(data: GroundedData, brain, cand: Candidates, rows, users, protocol: Protocol):
    """An LLM brain: one-item slates of the candidates only (its click is the call)."""
    ratio = max(protocol.ratios)
    pairs = sorted(
        {(int(u), int(i)) for u, i in zip(cand.user, cand.item, strict=True)}
        | {
            (int(u), int(i))
            for u, row in zip(cand.user, cand.uniform, strict=True)
            for i in row[:ratio]
        }
        | {(int(u), int(i)) for u, i in zip(cand.user, cand.matched, strict=True)}
    )
    clicks = brain_clicks(data, brain, pairs, protocol.seed)

    def liked(u_arr, i_arr):
        u_b, i_b = np.broadcast_arrays(u_arr, i_arr)
        return np.vectorize(lambda u, i: clicks[(int(u), int(i))])(u_b, i_b).astype(bool)

    figures = _pair_figures(
        liked(cand.user, cand.item),
        liked(cand.user[:, None], cand.uniform),
        liked(cand.user, cand.matched),
        protocol.ratios,
    )
    n = len(data.catalog)
    scores = np.full((len(users), n), np.nan)
    for (u, i), c in clicks.items():
        scores[np.searchsorted(users, u), i] = float(c)
    shown = ~np.isnan(scores)
    positives = data.test[users] & shown
    filled = np.where(shown, scores, -1.0)
    figures["auc"] = float(np.nanmean(auc_per_user(filled, ~shown, positives)))
    figures["ndcg_10"] = float(
        np.nanmean(ndcg_per_user(filled, ~shown, positives, protocol.ndcg_k))
    )
    liked_sets = [np.flatnonzero(np.nan_to_num(scores[r]) > 0.5) for r in range(len(users))]
    return figures, liked_sets


def write_report(report: dict[str, Any], path: str | Path) -> Path:
    """Write ``report`` as indented JSON."""
    path = Path(path)
    path.write_text(json.dumps(report, indent=2, default=float) + "\n", encoding="utf-8")
    return path
