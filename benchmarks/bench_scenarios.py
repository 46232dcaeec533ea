"""Scenario throughput: wall time of each shipped scenario and steps/second per policy.

Run: ``python benchmarks/bench_scenarios.py [scenario.yaml ...]`` (default: every file in
``scenarios/``). For each scenario it prints the total wall time, the time spent scoring
metrics, and per policy the env steps taken and steps/second including the policy's own
work (ratio to the bare random policy shows what a policy costs per step).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import simrec.scenario_run as scenario_run
from simrec.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def bench(path: Path) -> None:
    """Run one scenario and print its timings."""
    scenario = load_scenario(path)
    spans: dict[str, float] = {}
    steps: dict[str, int] = {}
    current = {"label": None, "since": 0.0}
    scoring = {"seconds": 0.0}
    score = scenario_run._score

    def timed_score(scenario, interactions, turns, horizon):
        start = time.perf_counter()
        steps[current["label"]] = steps.get(current["label"], 0) + len(turns)
        out = score(scenario, interactions, turns, horizon)
        scoring["seconds"] += time.perf_counter() - start
        return out

    def progress(label: str, k: int, n: int) -> None:
        now = time.perf_counter()
        if current["label"] is not None:
            spans[current["label"]] = spans.get(current["label"], 0.0) + now - current["since"]
        current.update(label=label, since=now)

    scenario_run._score = timed_score
    try:
        start = time.perf_counter()
        result = scenario_run.run_scenario(scenario, progress)
        total = time.perf_counter() - start
    finally:
        scenario_run._score = score
    spans[current["label"]] = (
        spans.get(current["label"], 0.0) + time.perf_counter() - current["since"]
    )
    print(
        f"{scenario.name}: {total:.1f} s wall, metrics {scoring['seconds']:.1f} s "
        f"({len(scenario.policies)} policies x {len(scenario.seeds)} seeds x "
        f"{scenario.episodes} sessions), assertions {'pass' if result.passed else 'FAIL'}"
    )
    base = None
    for label, seconds in spans.items():
        rate = steps[label] / seconds
        base = base or rate
        print(
            f"  {label:15s} {steps[label]:7,d} steps  {rate:8,.0f} steps/s  ({rate / base:.2f}x first)"
        )


def main() -> None:
    """Benchmark the given scenarios (all shipped ones by default)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args()
    for path in args.paths or sorted((ROOT / "scenarios").glob("*.yaml")):
        bench(path)


if __name__ == "__main__":
    main()
