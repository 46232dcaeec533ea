"""LLM-brain throughput: steps/s of the LLM brains against fake APIs with fixed latency.

Run: ``python benchmarks/bench_llm_brain.py [--latency 0.2] [--turns 10] [--backend both]
[--senders N]``.
For each backend (``anthropic``: the Claude brain against
:class:`~simrec.llm.fake_server.FakeMessagesAPI`; ``openai``: the OpenAI-compatible brain
against a vLLM-like :class:`~simrec.llm.fake_openai_server.FakeChatCompletionsAPI`) and
each concurrency c in 1, 4, 16, 64, steps c golf sessions together (one batched ``react``
per turn, as the vector env and data generation do) through the real SDK and HTTP on
127.0.0.1, where every call is answered ``--latency`` seconds after it arrives. No
network, no key.

Printed per concurrency:

* steady-state steps/s and the efficiency against linear scaling from concurrency 1
  (target: at least 80% at 64). Wall-clock: on a machine shared with other work it
  measures the load as well as simrec.
* the client's CPU ms per step (``time.process_time`` of this process over the timed
  turns) and the **budget** that 80% of linear leaves it. A turn of c calls takes at
  least one call's latency L plus the client's CPU for the c steps (one GIL runs it all),
  so 80% needs ``c * cpu <= T1 / 0.8 - L``, T1 being a step's time at concurrency 1.
  CPU time moves little with the machine's load, so CPU against budget says whether
  the client can meet the target on a quiet core, whatever the wall clock said.
* the sender processes' CPU ms per step: with sender processes
  (:mod:`simrec.llm.backends.senders`; by default one per core beyond two above 16 calls
  in flight, ``--senders N`` to choose) the SDK's and HTTP's CPU work leaves this
  process's GIL for theirs; each sender's GIL has the same budget. Their first turn
  includes starting them (importing the SDK).
* the fake server's CPU ms per call. The server runs in its own process, as the real API
  runs on other machines (in the benchmark's process it would compete with the brain for
  the GIL and measure itself); on a 2-core machine it still shares the cores.

The first turn of each run opens the brain's connections and starts its worker threads,
once per run (a long data-generation run pays it once): it is timed apart and printed.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection

import numpy as np

from simrec.brains.anthropic import AnthropicBrain
from simrec.brains.openai import OpenAIBrain
from simrec.env import resolve_catalog, resolve_personas
from simrec.llm.backends.base import default_senders
from simrec.llm.cache import canonical_json
from simrec.llm.client import LLMClient
from simrec.llm.fake_openai_server import FakeChatCompletionsAPI
from simrec.llm.fake_server import FakeMessagesAPI
from simrec.llm.request import LLMRequest
from simrec.policies.llm_scripted import scripted_messages
from simrec.presets import find_preset
from simrec.session import BoundPersona, Session, SessionDynamics

TARGET_EFFICIENCY = 0.8
CONCURRENCIES = (1, 4, 16, 64)
MODEL = "qwen3-8b"


def make_brain(
    backend: str, api_url: str, concurrency: int, senders: int | None = None
) -> AnthropicBrain | OpenAIBrain:
    """The brain of ``backend`` talking to the fake server at ``api_url`` (``senders``:
    sender processes, ``None`` the default for ``concurrency``)."""
    if backend == "anthropic":
        return AnthropicBrain(
            api_key="bench", base_url=api_url, concurrency=concurrency, senders=senders
        )
    return OpenAIBrain(
        base_url=f"{api_url}/v1",
        model=MODEL,
        structured_output="json_schema",
        concurrency=concurrency,
        senders=senders,
    )


def golf_sessions(n: int) -> list[Session]:
    """``n`` new golf visits (slates of 5), the golf personas in turn."""
    preset = find_preset("golf")
    catalog = resolve_catalog(preset.kwargs["catalog"])
    bound = [BoundPersona(p, catalog) for p in resolve_personas(preset.kwargs["personas"])]
    return [Session(bound[i % len(bound)], 5, 3, SessionDynamics(), session_id=i) for i in range(n)]


def steps_per_second(
    api_url: str,
    concurrency: int,
    turns: int,
    seed: int = 0,
    backend: str = "anthropic",
    server: Connection | None = None,
    senders: int | None = None,
) -> tuple[float, float, float, float, float]:
    """Steady-state steps/s of ``concurrency`` golf sessions stepped together for ``turns``
    turns after a first (cold) turn, the first turn's seconds, the client's CPU ms per
    step, its sender processes' CPU ms per step and the server's CPU ms per call
    (``server``: the pipe to the server process; without it, 0)."""
    sessions = golf_sessions(concurrency)
    n_items = len(sessions[0].catalog)
    rng = np.random.default_rng(seed)
    rngs = [np.random.default_rng([seed, i]) for i in range(concurrency)]
    brain = make_brain(backend, api_url, concurrency, senders)

    def turn() -> None:
        slates = [rng.choice(n_items, 5, replace=False).tolist() for _ in sessions]
        reactions = brain.react(sessions, slates, [None] * concurrency, rngs)
        for s, slate, r in zip(sessions, slates, reactions, strict=True):
            s.record(slate, r)

    try:
        start = time.perf_counter()
        turn()
        cold = time.perf_counter() - start
        rate, cpu_ms, sent_ms, served_ms = timed(turn, turns, concurrency, server, brain.client)
        return rate, cold, cpu_ms, sent_ms, served_ms
    finally:
        brain.close()


def transport_only(
    api_url: str,
    concurrency: int,
    turns: int,
    backend: str,
    server: Connection | None = None,
    senders: int | None = None,
) -> tuple[float, float, float, float]:
    """The same calls with everything but the SDK and HTTP taken away: the brain's
    first-turn requests posted bare (:func:`sdk_only`). Returns steps/s, client and sender
    CPU ms per call and server CPU ms per call: the floor the client layer, prompts,
    validation and accounting add to."""
    brain = make_brain(backend, api_url, concurrency, senders)
    try:
        sessions = golf_sessions(concurrency)
        requests = [brain.request(s, [0, 1, 2, 3, 4], None) for s in sessions]
        return sdk_only(brain.client, requests, turns, server)
    finally:
        brain.close()


def sdk_only(
    client: LLMClient, requests: Sequence[LLMRequest], rounds: int, server: Connection | None
) -> tuple[float, float, float, float]:
    """``len(requests)`` threads post these requests' wire bodies through ``client``'s
    backend (the SDK client and :func:`~simrec.llm.backends.base.post_json`, in its sender
    processes if it has any) for ``rounds`` rounds after a first one: no prompts, cache,
    validation or accounting. Returns calls/s, the client's and its senders' CPU ms per
    call and the server's (see :func:`timed`)."""
    sender = client.backend
    wires = [sender.wire(r) for r in requests]
    bodies = [canonical_json(w).encode() for w in wires]
    with ThreadPoolExecutor(len(requests)) as pool:

        def round_trip() -> None:
            list(pool.map(lambda w, b: sender.send(w, "bench", b), wires, bodies))

        round_trip()
        return timed(round_trip, rounds, len(requests), server, client)


def timed(
    play: Callable[[], None],
    rounds: int,
    calls: int,
    server: Connection | None,
    client: LLMClient,
) -> tuple[float, float, float, float]:
    """Steps/s over ``rounds`` calls of ``play`` (``calls`` steps each), the client's and
    its sender processes' CPU ms per step and the server's CPU ms per call."""
    served, sent = server_cpu(server), sender_cpu(client)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        play()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    served, sent = server_cpu(server) - served, sender_cpu(client) - sent
    steps = calls * rounds
    return steps / elapsed, cpu * 1000 / steps, sent * 1000 / steps, served * 1000 / steps


def sender_cpu(client: LLMClient) -> float:
    """CPU seconds ``client``'s sender processes have used so far (0 without them)."""
    senders = client.backend.transport.senders
    return senders.cpu_seconds() if senders is not None else 0.0


def server_cpu(server: Connection | None) -> float:
    """The server process's CPU seconds so far (0 without a pipe to it)."""
    if server is None:
        return 0.0
    server.send("cpu")
    return float(server.recv())


def serve(latency: float, backend: str, conn: Connection, scripted: bool = False) -> None:
    """Run the fake API in this (child) process: answer ``"cpu"`` with the process's CPU
    seconds so far; stop at anything else. ``scripted``: (``anthropic``) answer with the
    scripted recommender of :mod:`simrec.policies.llm_scripted` (the LLM policies' model)."""
    api: FakeMessagesAPI | FakeChatCompletionsAPI
    if backend != "anthropic":
        api = FakeChatCompletionsAPI("vllm", models=[MODEL], latency=latency)
    elif scripted:
        api = FakeMessagesAPI(latency=latency, default=scripted_messages())
    else:
        api = FakeMessagesAPI(latency=latency)
    with api:
        conn.send(api.url)
        while conn.recv() == "cpu":
            conn.send(time.process_time())


def cpu_budget_ms(base_rate: float, latency: float, concurrency: int) -> float:
    """The client CPU ms per step that still allows 80% of linear at ``concurrency``:
    ``(T1 / 0.8 - L) / c`` with ``T1 = 1 / base_rate`` (see the module docstring)."""
    return (1 / (TARGET_EFFICIENCY * base_rate) - latency) * 1000 / concurrency


def bench(backend: str, latency: float, turns: int, senders: int | None) -> None:
    """Print the throughput table of ``backend`` (``senders``: as for :func:`make_brain`)."""
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
            f"{'client CPU ms/step':>18}  {'budget':>6}  {'senders':>7}  "
            f"{'sender CPU ms/step':>18}  {'server CPU ms/call':>18}  first turn"
        )
        base = None
        for c in CONCURRENCIES:
            rate, cold, cpu_ms, sent_ms, served_ms = steps_per_second(
                url, c, turns, backend=backend, server=parent, senders=senders
            )
            base = base or rate
            linear = base * c
            mark = "" if rate / linear >= TARGET_EFFICIENCY else "  (below 80% target)"
            budget = f"{cpu_budget_ms(base, latency, c):6.2f}" if c > 1 else f"{'':6}"
            print(
                f"  {c:>11}  {rate:8.1f}  {linear:8.1f}  {rate / linear:9.0%}  "
                f"{cpu_ms:18.2f}  {budget}  {sender_count(c, senders):>7}  {sent_ms:18.2f}  "
                f"{served_ms:18.2f}  {cold * 1000:7.0f} ms{mark}"
            )
        c = CONCURRENCIES[-1]
        rate, cpu_ms, sent_ms, served_ms = transport_only(
            url, c, turns, backend, server=parent, senders=senders
        )
        print(
            f"  {'SDK only':>11}  {rate:8.1f}  {base * c:8.1f}  {rate / (base * c):9.0%}  "
            f"{cpu_ms:18.2f}  {'':6}  {sender_count(c, senders):>7}  {sent_ms:18.2f}  "
            f"{served_ms:18.2f}  (the same bodies posted by {c} threads through the backend: "
            "no prompts, cache, validation or accounting)"
        )
    finally:
        parent.send("stop")
        server.join(timeout=5)


def sender_count(concurrency: int, senders: int | None) -> int:
    """The sender processes a brain of ``concurrency`` runs with ``senders``."""
    return default_senders(concurrency) if senders is None else senders


def add_senders_argument(parser: argparse.ArgumentParser) -> None:
    """``--senders N`` (the LLM client's sender processes; default: its own choice)."""
    parser.add_argument(
        "--senders",
        type=int,
        default=None,
        help="sender processes (default: none up to 16 calls in flight, else one per core "
        "beyond two; 0: every call from this process)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per fake API call")
    parser.add_argument("--turns", type=int, default=10, help="timed turns per session")
    parser.add_argument(
        "--backend", choices=("anthropic", "openai", "both"), default="both", help="brains to time"
    )
    add_senders_argument(parser)
    args = parser.parse_args()
    for backend in ("anthropic", "openai") if args.backend == "both" else (args.backend,):
        bench(backend, args.latency, args.turns, args.senders)


if __name__ == "__main__":
    main()
