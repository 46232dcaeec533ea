"""Do policies rank the same on the real held-out data and in the grounded env?

Each policy is fitted on the users' pre-test histories, then ranked twice: by NDCG@10 of
its first slate's ranking against each user's held-out items (the real data), and by
click-through rate over seeded sessions of the grounded env (the simulation). Kendall's
tau between the two orders says whether the simulator would have picked the same
policies as the log does.

A tau is only worth its separations: two policies a few thousandths apart can swap with
another seed. So every figure comes with a 95% bootstrap interval (users resampled for
NDCG, sessions for CTR; session ``i`` meets the same persona under every policy, so
differences are paired), every pair of policies says whether each side separates them
(the paired difference's interval excludes 0) and whether the two sides agree, and tau
gets the interval of its bootstrap distribution.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import gymnasium as gym
import numpy as np

from simrec.fidelity.data import GroundedData
from simrec.fidelity.metrics import kendall_tau, ndcg_per_user
from simrec.policies import make_policy
from simrec.presets import load_preset
from simrec.runner import run_sessions


def policy_ranking(
    data: GroundedData,
    policies: tuple[str, ...],
    users: np.ndarray,
    sessions: int,
    seed: int,
    k: int = 10,
) -> dict:
    """Held-out NDCG@k and env CTR of each policy, and Kendall's tau between the two."""
    preset = load_preset(data.root / "preset.yaml", root=Path(data.root))
    kwargs = {**preset.kwargs, "catalog": data.catalog, "personas": data.personas}
    env = gym.make("simrec/RecSession-v0", **kwargs).unwrapped
    histories = data.histories(data.before)
    ndcgs, clicks, shown = [], [], []
    for name in policies:
        policy = make_policy(name, env, seed=seed)
        if hasattr(policy, "fit"):
            policy.fit(histories)
        ndcgs.append(_held_out_ndcg(policy, data, histories, users, seed, k))
        policy = make_policy(name, env, seed=seed)
        if hasattr(policy, "fit"):
            policy.fit(histories)
        interactions, _ = run_sessions(env, policy, sessions, seed=seed).frames()
        slots = interactions[interactions["item_id"].notna()]
        per_session = slots.groupby("session_id")["clicked"].agg(["sum", "count"])
        per_session = per_session.reindex(range(seed, seed + sessions), fill_value=0)
        clicks.append(per_session["sum"].to_numpy(dtype=np.float64))
        shown.append(per_session["count"].to_numpy(dtype=np.float64))
    return compare_rankings(
        list(policies), np.array(ndcgs), np.array(clicks), np.array(shown), seed, sessions
    )


BOOTSTRAP_DRAWS = 1000
"""Resamples behind every interval of the ranking comparison."""


def compare_rankings(
    names: list[str],
    ndcg: np.ndarray,
    clicks: np.ndarray,
    shown: np.ndarray,
    seed: int,
    sessions: int,
) -> dict:
    """Both rankings with 95% bootstrap intervals, pairwise separations and tau's interval.

    Args:
        names: the policies.
        ndcg: policies x users held-out NDCG (NaN: a user without held-out items).
        clicks, shown: policies x sessions clicks and shown items per env session (session
            ``i`` is the same visit start under every policy: paired).
        seed: seeds the resampling.
        sessions: the env sessions per policy (reported).
    """
    rng = np.random.default_rng([seed, 5])
    ndcg = ndcg[:, ~np.isnan(ndcg).any(axis=0)]
    by_user = rng.integers(ndcg.shape[1], size=(BOOTSTRAP_DRAWS, ndcg.shape[1]))
    by_session = rng.integers(clicks.shape[1], size=(BOOTSTRAP_DRAWS, clicks.shape[1]))
    ndcg_draws = ndcg[:, by_user].mean(axis=2)  # policies x draws
    ctr_draws = clicks[:, by_session].sum(axis=2) / np.maximum(shown[:, by_session].sum(axis=2), 1)
    ndcg_mean = ndcg.mean(axis=1)
    ctr = clicks.sum(axis=1) / np.maximum(shown.sum(axis=1), 1)
    rows = [
        {
            "policy": name,
            "ndcg_10": float(ndcg_mean[p]),
            **_interval("ndcg_10", ndcg_draws[p]),
            "ctr": float(ctr[p]),
            **_interval("ctr", ctr_draws[p]),
        }
        for p, name in enumerate(names)
    ]
    pairs = []
    for a, b in itertools.combinations(range(len(names)), 2):
        real = _interval("ndcg_10_difference", ndcg_draws[a] - ndcg_draws[b])
        sim = _interval("ctr_difference", ctr_draws[a] - ctr_draws[b])
        real_sign, sim_sign = _sign(real), _sign(sim)
        pairs.append(
            {
                "policy": names[a],
                "other": names[b],
                "ndcg_10_difference": float(ndcg_mean[a] - ndcg_mean[b]),
                **real,
                "ctr_difference": float(ctr[a] - ctr[b]),
                **sim,
                "separated_real": real_sign != 0,
                "separated_env": sim_sign != 0,
                "agree": real_sign != 0 and real_sign == sim_sign,
            }
        )
    taus = [kendall_tau(ndcg_draws[:, d], ctr_draws[:, d]) for d in range(BOOTSTRAP_DRAWS)]
    separated = [p for p in pairs if p["separated_real"]]
    return {
        "policies": rows,
        "kendall_tau": kendall_tau(ndcg_mean.tolist(), ctr.tolist()),
        **_interval("kendall_tau", np.array(taus)),
        "pairs": pairs,
        "pairs_separated_real": len(separated),
        "pairs_separated_both": sum(p["separated_env"] for p in separated),
        "pairs_agreeing": sum(p["agree"] for p in separated),
        "pairs_total": len(pairs),
        "env_sessions": sessions,
        "bootstrap_draws": BOOTSTRAP_DRAWS,
    }


def _interval(name: str, draws: np.ndarray) -> dict[str, float]:
    """``{name_low, name_high}``: the central 95% of bootstrap ``draws``."""
    low, high = np.nanquantile(draws, [0.025, 0.975])
    return {f"{name}_low": float(low), f"{name}_high": float(high)}


def _sign(interval: dict[str, float]) -> int:
    """+1 / -1 when the interval lies above / below 0, else 0 (not separated)."""
    low, high = interval.values()
    return 1 if low > 0 else -1 if high < 0 else 0


def _held_out_ndcg(
    policy, data: GroundedData, histories, users: np.ndarray, seed: int, k: int
) -> np.ndarray:
    """Per user, NDCG@k of the policy's ranking of the unseen catalog."""
    if hasattr(policy, "score_items"):
        empty = np.zeros(0, dtype=np.int64)
        scores = np.stack([policy.score_items(histories[u], empty) for u in users.tolist()])
    else:  # a policy without a model of the user: its slates are random
        scores = np.random.default_rng([seed, 3]).random((len(users), len(data.catalog)))
    return ndcg_per_user(scores, data.before[users], data.test[users], k)
