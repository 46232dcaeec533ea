"""LLM-brain throughput: steps/s of the LLM brains against fake APIs with fixed latency.

Run: ``python benchmarks/bench_llm_brain.py [--latency 0.2] [--turns 10] [--backend both]``.
For each backend (``anthropic``: the Claude brain against
:class:`~simrec.llm.fake_server.FakeMessagesAPI`; ``openai``: the OpenAI-compatible brain
against a vLLM-like :class:`~simrec.llm.fake_openai_server.FakeChatCompletionsAPI`) and
each concurrency c in 1, 4, 16, 64, steps c golf sessions together (one batched ``react``
per turn, as the vector env and data generation do) through the real SDK and HTTP on
127.0.0.1, where every call is answered after ``--latency`` seconds. Prints steady-state
steps/s, the efficiency against linear scaling from concurrency 1 (target: at least 80%
at 64), and the client's CPU milliseconds per step (the figure that caps the
efficiency: the GIL serialises it). The first turn of each run opens the brain's
connections and starts its worker threads, once per run (a long data-generation run pays
it once): it is timed apart and printed beside. No network, no key.

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
from simrec.brains.openai import OpenAIBrain
from simrec.env import resolve_catalog, resolve_personas
from simrec.llm.fake_openai_server import FakeChatCompletionsAPI
from simrec.llm.fake_server import FakeMessagesAPI
from simrec.presets import find_preset
from simrec.session import BoundPersona, Session, SessionDynamics

TARGET_EFFICIENCY = 0.8


MODEL = "qwen3-8b"


def make_brain(backend: str, api_url: str, concurrency: int) -> AnthropicBrain | OpenAIBrain:
    """The brain of ``backend`` talking to the fake server at ``api_url``."""
    if backend == "anthropic":
        return AnthropicBrain(api_key="bench", base_url=api_url, concurrency=concurrency)
    return OpenAIBrain(
        base_url=f"{api_url}/v1",
        model=MODEL,
        structured_output="json_schema",
        concurrency=concurrency,
    )


def steps_per_second(
    api_url: str, concurrency: int, turns: int, seed: int = 0, backend: str = "anthropic"
) -> tuple[float, float, float]:
    """Steady-state steps/s of ``concurrency`` golf sessions stepped together for ``turns``
    turns after a first (cold) turn, the first turn's seconds, and client CPU ms per step."""
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
    brain = make_brain(backend, api_url, concurrency)

    def turn() -> None:
        slates = [rng.choice(len(catalog), 5, replace=False).tolist() for _ in sessions]
        reactions = brain.react(sessions, slates, [None] * concurrency, rngs)
        for s, slate, r in zip(sessions, slates, reactions, strict=True):
            s.record(slate, r)

    try:
        start = time.perf_counter()
        turn()
        cold = time.perf_counter() - start
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(turns):
            turn()
        steps = concurrency * turns
        cpu_ms = (time.process_time() - cpu) * 1000 / steps
        return steps / (time.perf_counter() - start), cold, cpu_ms
    finally:
        brain.close()


def serve(latency: float, backend: str, conn: Connection) -> None:
    """Run the fake API in this (child) process until the parent sends anything."""
    api = (
        FakeMessagesAPI(latency=latency)
        if backend == "anthropic"
        else FakeChatCompletionsAPI("vllm", models=[MODEL], latency=latency)
    )
    with api:
        conn.send(api.url)
        conn.recv()


def bench(backend: str, latency: float, turns: int) -> None:
    """Print the throughput table of ``backend``."""
    parent, child = mp.Pipe()
    server = mp.get_context("spawn").Process(
        target=serve, args=(latency, backend, child), daemon=True
    )
    server.start()
    url = parent.recv()
    try:
        steps_per_second(url, 2, 1, backend=backend)  # warm up: SDK import, connections
        print(
            f"{backend} brain vs fake API, {latency * 1000:.0f} ms per call, "
            f"{turns} timed turns per session after a first one"
        )
        print(
            f"  {'concurrency':>11}  {'steps/s':>8}  {'linear':>8}  efficiency  "
            f"{'CPU ms/step':>11}  first turn"
        )
        base = None
        for c in (1, 4, 16, 64):
            rate, cold, cpu_ms = steps_per_second(url, c, turns, backend=backend)
            base = base or rate
            linear = base * c
            mark = "" if rate / linear >= TARGET_EFFICIENCY else "  (below 80% target)"
            print(
                f"  {c:>11}  {rate:8.1f}  {linear:8.1f}  {rate / linear:9.0%}  "
                f"{cpu_ms:11.2f}  {cold * 1000:8.0f} ms{mark}"
            )
    finally:
        parent.send("stop")
        server.join(timeout=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per fake API call")
    parser.add_argument("--turns", type=int, default=10, help="timed turns per session")
    parser.add_argument(
        "--backend", choices=("anthropic", "openai", "both"), default="both", help="brains to time"
    )
    args = parser.parse_args()
    for backend in ("anthropic", "openai") if args.backend == "both" else (args.backend,):
        bench(backend, args.latency, args.turns)


if __name__ == "__main__":
    main()
