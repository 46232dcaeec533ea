"""What naming slates by semantic ids costs: ids -> items per step against item indices.

Run: ``python benchmarks/bench_semantic_ids.py [--seconds S]``. On simrec/Golf-v0 (slate 5)
it steps the same pre-drawn random slates, as item indices and through
``SemanticIdSlate`` as id strings (20% of them made up) and as per-level token codes,
in the single env and in the native vector env (1,024 sessions). It prints steps per
CPU-second for each, the overhead per step against index actions, and the cost of the
resolution alone (``SlateResolver``), which is the whole of that overhead.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import simrec  # noqa: F401  (registers the envs)
from simrec.semantic_ids import SemanticIdSlate, SemanticIdSlateVector, SlateResolver

ENV = "simrec/Golf-v0"
POOL = 512
"""Pre-drawn actions cycled through (drawn before the clock starts)."""


def actions(form: str, tree, rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    """``POOL`` actions of ``shape`` (slates) in ``form``: indices, ids or token codes."""
    out = []
    for _ in range(POOL):
        items = rng.integers(0, len(tree.ids), shape)
        if form == "index":
            out.append(items)
        elif form == "ids":
            ids = tree.ids[items].astype(object)
            ids[rng.random(shape) < 0.2] = "made/up/id"
            out.append(ids.tolist())  # what a policy returns: lists of Python strings
        else:
            out.append(tree.codes[items])
    return out


def cpu_rate(step: Callable[[object], object], pool: list, seconds: float) -> float:
    """Calls per CPU-second of ``step`` over the pool for about ``seconds``."""
    done, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        for action in pool:
            step(action)
        done += len(pool)
    return done / (time.process_time() - start)


def single(form: str, seconds: float) -> float:
    env = gym.make(ENV).unwrapped
    wrapped = env if form == "index" else SemanticIdSlate(env, form=_form(form))
    pool = actions(form, SemanticIdSlate(env).hierarchy, np.random.default_rng(0), (5,))
    wrapped.reset(seed=0)

    def step(action: object) -> None:
        _, _, terminated, truncated, _ = wrapped.step(action)
        if terminated or truncated:
            wrapped.reset()

    step(pool[0])
    return cpu_rate(step, pool, seconds)


def vector(form: str, n: int, seconds: float) -> float:
    envs = gym.make_vec(ENV, num_envs=n)
    wrapped = envs if form == "index" else SemanticIdSlateVector(envs, form=_form(form))
    tree = SemanticIdSlate(gym.make(ENV)).hierarchy
    pool = actions(form, tree, np.random.default_rng(0), (n, 5))[:64]
    wrapped.reset(seed=0)
    for action in pool[:16]:  # warm the reply cache a little
        wrapped.step(action)
    return cpu_rate(wrapped.step, pool, seconds)


def resolve_only(form: str, n: int | None, seconds: float) -> float:
    tree = SemanticIdSlate(gym.make(ENV)).hierarchy
    resolver = SlateResolver(tree, 5)
    shape = (5,) if n is None else (n, 5)
    pool = actions(form, tree, np.random.default_rng(0), shape)[: 64 if n else POOL]
    return cpu_rate(lambda a: resolver.resolve(a, _form(form), n), pool, seconds)


def _form(form: str) -> str:
    return {"ids": "semantic_id", "tokens": "semantic_tokens"}.get(form, "item_index")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="CPU seconds per figure")
    parser.add_argument("--num-envs", type=int, default=1024)
    args = parser.parse_args()
    n, t = args.num_envs, args.seconds
    print(f"{ENV}, slate 5, random slates (ids: 20% made up); per CPU-second")
    base = single("index", t)
    print(f"  single env, item indices       {base:10,.0f} steps/s")
    for form in ("ids", "tokens"):
        rate = single(form, t)
        print(
            f"  single env, {form:<18} {rate:10,.0f} steps/s   "
            f"+{(1 / rate - 1 / base) * 1e6:5.1f} us/step ({base / rate:.2f}x the time); "
            f"resolution alone {1e6 / resolve_only(form, None, t):5.1f} us"
        )
    base = vector("index", n, t)
    print(
        f"  vector env x{n:,}, item indices {base * n:10,.0f} user-steps/s  ({1e3 / base:.2f} ms/step)"
    )
    for form in ("ids", "tokens"):
        rate = vector(form, n, t)
        print(
            f"  vector env x{n:,}, {form:<12} {rate * n:10,.0f} user-steps/s  "
            f"({1e3 / rate:.2f} ms/step, +{(1 / rate - 1 / base) * 1e3:.2f} ms); "
            f"resolution alone {1e3 / resolve_only(form, n, t):.2f} ms"
        )


if __name__ == "__main__":
    main()
