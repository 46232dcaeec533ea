"""Do policies rank the same on the real held-out data and in the grounded env?

Each policy is fitted on the users' pre-test histories, then ranked twice: by NDCG@10 of
its first slate's ranking against each user's held-out items (the real data), and by
click-through rate over seeded sessions of the grounded env (the simulation). Kendall's
tau between the two orders says whether the simulator would have picked the same
policies as the log does.
"""

from __future__ import annotations

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
    rows = []
    for name in policies:
        policy = make_policy(name, env, seed=seed)
        if hasattr(policy, "fit"):
            policy.fit(histories)
        ndcg = _held_out_ndcg(policy, data, histories, users, seed, k)
        policy = make_policy(name, env, seed=seed)
        if hasattr(policy, "fit"):
            policy.fit(histories)
        interactions, _ = run_sessions(env, policy, sessions, seed=seed).frames()
        shown = interactions["item_id"].notna()
        ctr = float(interactions["clicked"][shown].mean())
        rows.append({"policy": name, "ndcg_10": ndcg, "ctr": ctr})
    tau = kendall_tau([r["ndcg_10"] for r in rows], [r["ctr"] for r in rows])
    return {"policies": rows, "kendall_tau": tau, "env_sessions": sessions}


def _held_out_ndcg(
    policy, data: GroundedData, histories, users: np.ndarray, seed: int, k: int
) -> float:
    if hasattr(policy, "score_items"):
        empty = np.zeros(0, dtype=np.int64)
        scores = np.stack([policy.score_items(histories[u], empty) for u in users.tolist()])
    else:  # a policy without a model of the user: its slates are random
        scores = np.random.default_rng([seed, 3]).random((len(users), len(data.catalog)))
    return float(np.nanmean(ndcg_per_user(scores, data.before[users], data.test[users], k)))
