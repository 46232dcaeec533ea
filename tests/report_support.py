"""Small inputs for the report tests, built in code: a scenario result, a dataset, a fidelity
result (the documented fields of ``simrec fidelity``'s ``fidelity.json``)."""

from __future__ import annotations

import json
import textwrap
from functools import lru_cache
from pathlib import Path
from typing import Any

SCENARIO = """\
name: tiny_report
description: Four golfers ask for cheap courses after slate 2 and change taste after slate 3.
env: golf
personas: {generate: {domain: golf, n: 4, seed: 0}}
persona_events: drop
events:
  - intent: {at_turn: 2, says: "Something cheaper, please.",
             constraint: {field: price, op: "<=", value: 80}}
  - drift: {at_turn: 3, tastes: {category: {desert: 2.0}}}
episodes: 6
seeds: 3
horizon: 6
metrics: {steer_window: 2, drift_window: 2, drift_lag: 1}
policies:
  random: random
  steer: {policy: steer_aware, base: linucb}
  oracle: oracle
assertions:
  - oracle.novelty.session_length >= 1
  - random.steerability.compliance >= 0.99
"""
"""Two policies and the oracle; one assertion holds, one fails (every section is drawn)."""


@lru_cache(maxsize=1)
def scenario_result_text() -> str:
    """The result JSON of :data:`SCENARIO` (run once per test process)."""
    import tempfile

    from simrec.scenario import load_scenario
    from simrec.scenario_report import result_json
    from simrec.scenario_run import run_scenario

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tiny_report.yaml"
        path.write_text(textwrap.dedent(SCENARIO))
        result = run_scenario(load_scenario(path))
    return json.dumps(result_json(result))


def scenario_result() -> dict[str, Any]:
    """A fresh copy of the scenario result (tests may edit it)."""
    return json.loads(scenario_result_text())


def write_scenario_result(folder: Path, data: dict[str, Any] | None = None) -> Path:
    """``folder/tiny_report.json`` as ``simrec scenario run`` writes it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny_report.json"
    path.write_text(json.dumps(data if data is not None else scenario_result(), indent=2))
    return path


def write_dataset(folder: Path) -> Path:
    """A small CSV dataset from ``simrec.generate`` (popularity policy: a real long tail)."""
    import simrec

    simrec.generate("golf", "popularity", 40, seed=3, out=folder, format="csv", max_turns=8)
    return folder


@lru_cache(maxsize=1)
def real_fidelity_text() -> str:
    """``simrec fidelity``'s own result on a small generated MovieLens-style log."""
    import tempfile

    from simrec.fidelity import Protocol, run_fidelity
    from simrec.grounding import ground_log, read_movielens
    from tests.grounding_logs import make_log, write_ml100k

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        log = write_ml100k(make_log(n_users=30, events_per_user=20), root / "log")
        ground_log(read_movielens(log), root / "preset", "synthetic", dim=8)
        return json.dumps(run_fidelity(root / "preset", protocol=Protocol(env_sessions=10)))


def real_fidelity() -> dict[str, Any]:
    """A fresh copy of :func:`real_fidelity_text`'s result."""
    return json.loads(real_fidelity_text())


def fidelity_result() -> dict[str, Any]:
    """A hand-made ``fidelity.json`` of every shape the report reads (figures, a mapping
    table, a list table, category and binned distributions)."""
    return {
        "dataset": "ml-100k",
        "brain": "utility",
        "split": {"holdout": 0.2, "validation": 0.1},
        "accuracy_1_1": 0.812,
        "accuracy_1_1_popular_negatives": 0.634,
        "f1_1_9": 0.471,
        "auc": 0.905,
        "ndcg_10": 0.121,
        "genre_tv": 0.043,
        "kendall_tau": 0.8,
        "baselines": {
            "random": {"accuracy_1_1": 0.5, "f1_1_9": 0.18, "auc": 0.5, "ndcg_10": 0.01},
            "popularity": {"accuracy_1_1": 0.71, "f1_1_9": 0.3, "auc": 0.85, "ndcg_10": 0.09},
            "mf": {"accuracy_1_1": 0.81, "f1_1_9": 0.44, "auc": 0.9, "ndcg_10": 0.13},
        },
        "policy_ranking": [
            {"policy": "mf", "ndcg_10_real": 0.13, "ctr_simulated": 0.41},
            {"policy": "popularity", "ndcg_10_real": 0.09, "ctr_simulated": 0.30},
            {"policy": "random", "ndcg_10_real": 0.01, "ctr_simulated": 0.10},
        ],
        "genre_distribution": {
            "real": {"Drama": 0.4, "Comedy": 0.35, "Horror": 0.25},
            "simulated": {"Drama": 0.38, "Comedy": 0.3, "Horror": 0.32},
        },
        "popularity_distribution": {
            "percentiles": [25, 50, 75, 100],
            "real": [0.1, 0.3, 0.6, 1.0],
            "simulated": [0.12, 0.33, 0.62, 1.0],
        },
    }
