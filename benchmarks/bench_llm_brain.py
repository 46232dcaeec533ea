"""LLM-brain throughput: steps/s of the anthropic brain against a fake API with fixed latency.

Run: ``python benchmarks/bench_llm_brain.py [--latency 0.2] [--turns 10]``. For each
concurrency c in 1, 4, 16, 64, steps c golf sessions together (one batched ``react`` per
turn, as the vector env and data generation do) through the real SDK and HTTP against
:class:`~simrec.llm.fake_server.FakeMessagesAPI` on 127.0.0.1, which answers every call
after ``--latency`` seconds. Prints steady-state steps/s and the efficiency against
linear scaling from concurrency 1 (target: at least 80% up to 16). The first turn of
each run opens the brain's connections and starts its worker threads, once per run (a
long data-generation run pays it once): it is timed apart and printed beside. No
network, no key.

The fake server runs in its own process, as the real API runs on other machines: in the
benchmark's process it would compete with the brain for the GIL and measure itself.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from multiprocessing.connection import Connection

import numpy as np

from simrec.brains.anthropic import AnthropicBrain
from simrec.env import resolve_catalog, resolve_personas
from simrec.llm.fake_server import FakeMessagesAPI
from simrec.presets import find_preset
from simrec.session import BoundPersona, Session, SessionDynamics

TARGET_EFFICIENCY = 0.8


def steps_per_second(
    api_url: str, concurrency: int, turns: int, seed: int = 0
) -> tuple[float, float]:
    """Steady-state steps/s of ``concurrency`` golf sessions stepped together for ``turns``
    turns after a first (cold) turn, and the first turn's seconds."""
    preset = find_preset("golf")
    catalog = resolve_catalog(preset.kwargs["catalog"])
    personas = resolve_personas(preset.kwargs["personas"])
    bound = [BoundPersona(p, catalog) for p in personas]
    rng = np.random.default_rng(seed)
    sessions = [
        Session(bound[i % len(bound)], 5, 3, SessionDynamics(), session_id=i)
        for i in range(concurrency)
    ]
    rngs = [np.random.default_rng([seed, i]) for i in range(concurrency)]
    brain = AnthropicBrain(api_key="bench", base_url=api_url, concurrency=concurrency)

    def turn() -> None:
        slates = [rng.choice(len(catalog), 5, replace=False).tolist() for _ in sessions]
        reactions = brain.react(sessions, slates, [None] * concurrency, rngs)
        for s, slate, r in zip(sessions, slates, reactions, strict=True):
            s.record(slate, r)

    try:
        start = time.perf_counter()
        turn()
        cold = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(turns):
            turn()
        return concurrency * turns / (time.perf_counter() - start), cold
    finally:
        brain.close()


def serve(latency: float, conn: Connection) -> None:
    """Run the fake API in this (child) process until the parent sends anything."""
    with FakeMessagesAPI(latency=latency) as api:
        conn.send(api.url)
        conn.recv()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per fake API call")
    parser.add_argument("--turns", type=int, default=10, help="timed turns per session")
    args = parser.parse_args()
    parent, child = mp.Pipe()
    server = mp.get_context("spawn").Process(target=serve, args=(args.latency, child), daemon=True)
    server.start()
    url = parent.recv()
    try:
        steps_per_second(url, 2, 1)  # warm up: SDK import, connections, catalog
        print(
            f"anthropic brain vs fake Messages API, {args.latency * 1000:.0f} ms per call, "
            f"{args.turns} timed turns per session after a first one"
        )
        print(f"  {'concurrency':>11}  {'steps/s':>8}  {'linear':>8}  efficiency  first turn")
        base = None
        for c in (1, 4, 16, 64):
            rate, cold = steps_per_second(url, c, args.turns)
            base = base or rate
            linear = base * c
            mark = "" if c > 16 or rate / linear >= TARGET_EFFICIENCY else "  (below 80% target)"
            print(
                f"  {c:>11}  {rate:8.1f}  {linear:8.1f}  {rate / linear:9.0%}  "
                f"{cold * 1000:8.0f} ms{mark}"
            )
    finally:
        parent.send("stop")
        server.join(timeout=5)


if __name__ == "__main__":
    main()
