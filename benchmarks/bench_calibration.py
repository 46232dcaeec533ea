"""Fitting the utility brain to recorded reactions: does maximum likelihood recover known
parameters, how much better does the fit reproduce the recorded curves, what does it cost.

Run: ``python benchmarks/bench_calibration.py [--episodes 40] [--seeds 3] [--repeats 3]``.
For each repeat, the utility brain with known non-default parameters plays a golf
scenario (30 generated personas, a dog-friendly request after slate 3, a random and a
constant-slate policy, horizon 10) on its own seeds; the fit starts from the defaults and
fits those parameters. Prints, per parameter, the true value, the default, the fitted
values (error and standard error), the curve gaps to the recording (defaults vs fitted),
and the CPU cost: microseconds of likelihood per recorded step and seconds per fit. No
network, no key.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from simrec.brains.utility import UtilityParams
from simrec.calibration.compare import curve_gaps
from simrec.calibration.fit import Recording, fit_utility, log_likelihood
from simrec.calibration.runs import BrainSpec, run_brain
from simrec.scenario import parse_scenario

TRUE = {"outside_utility": 3.0, "position_weight": 0.9, "purchase_base": -1.2, "leave_base": -2.4}
SCENARIO = """
name: recovery
env: golf
personas: {{generate: {{domain: golf, n: 30, seed: 3}}}}
persona_events: drop
events:
  - intent: {{at_turn: 3, says: "Only dog-friendly courses, please.",
             constraint: {{field: tags, op: has, value: dog-friendly}}}}
episodes: {episodes}
seeds: [{seeds}]
horizon: 10
policies:
  random: random
  constant: constant_slate
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    defaults = UtilityParams()
    errors: dict[str, list[float]] = {n: [] for n in TRUE}
    ses: dict[str, list[float]] = {n: [] for n in TRUE}
    for r in range(args.repeats):
        seeds = ", ".join(str(r * args.seeds + k) for k in range(args.seeds))
        scenario = parse_scenario(SCENARIO.format(episodes=args.episodes, seeds=seeds))
        recorded = run_brain(scenario, BrainSpec("true", "utility", TRUE), concurrency=1)
        logs = [log for batches in recorded.logs.values() for log in batches]
        recording = Recording.from_logs(logs, scenario.catalog, scenario.personas, scenario.env_kwargs)  # fmt: skip
        start = time.process_time()
        log_likelihood(recording, defaults)
        per_step = (time.process_time() - start) / recording.steps * 1e6
        start = time.process_time()
        result = fit_utility(recording, tuple(TRUE))
        fit_seconds = time.process_time() - start
        print(
            f"repeat {r + 1}: {recording.steps} steps of {len(recording.visits)} visits; "
            f"likelihood {per_step:.0f} us CPU per step; fit {fit_seconds:.1f} s CPU "
            f"({result.evaluations} evaluations, with standard errors)"
        )
        for name, true in TRUE.items():
            errors[name].append(result.fitted[name] - true)
            ses[name].append(result.standard_errors[name])
            print(
                f"  {name:<18} true {true:>6.2f}  default {getattr(defaults, name):>6.2f}  "
                f"fitted {result.fitted[name]:>6.3f}  s.e. {result.standard_errors[name]:.3f}"
            )
        fitted = result.params()
        gaps = {
            label: curve_gaps(
                recorded, run_brain(scenario, BrainSpec(label, "utility", kw), concurrency=1)
            )  # fmt: skip
            for label, kw in (("defaults", {}), ("fitted", dict(fitted.brain_kwargs)))
        }
        for curve in gaps["defaults"]:
            print(
                f"  gap {curve:<28} defaults {gaps['defaults'][curve]:.4f}  "
                f"fitted {gaps['fitted'][curve]:.4f}"
            )
    print("over repeats: mean |error| / mean s.e. per parameter")
    for name in TRUE:
        print(
            f"  {name:<18} {np.mean(np.abs(errors[name])):.3f} / {np.mean(ses[name]):.3f}"
            f"  (default off by {abs(getattr(defaults, name) - TRUE[name]):.2f})"
        )


if __name__ == "__main__":
    main()
