"""Single-env throughput: steps/second of simrec/Golf-v0 (slate 5) under a random policy.

Run: ``python benchmarks/bench_env_steps.py [--steps N]``. Prints steps/s for the raw
env (``env.unwrapped``) and for ``gym.make``'s wrapped env, and the ratio to the 20,000
steps/s target. The random policy samples ``action_space`` like any Gymnasium user would.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym

import simrec  # noqa: F401  (registers the envs)

TARGET = 20_000


def run(env: gym.Env, steps: int, seed: int = 0) -> tuple[float, float]:
    """Steps per wall-clock second and per CPU second of ``env`` over ``steps`` steps.

    CPU time is what "one core" means when other processes share the machine; on an idle
    machine the two agree.
    """
    env.action_space.seed(seed)
    env.reset(seed=seed)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - wall), steps / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    args = parser.parse_args()
    wrapped = gym.make("simrec/Golf-v0")
    raw = wrapped.unwrapped
    run(raw, 2_000)  # warm caches
    print(f"simrec/Golf-v0 random policy (action_space.sample), slate 5, {args.steps:,} steps")
    for name, env in (("env.unwrapped", raw), ("gym.make(...)", wrapped)):
        wall, cpu = run(env, args.steps)
        print(
            f"  {name}: {wall:8,.0f} steps/s wall, {cpu:8,.0f} steps/CPU-s "
            f"({cpu / TARGET:.2f}x the {TARGET:,} target)"
        )


if __name__ == "__main__":
    main()
