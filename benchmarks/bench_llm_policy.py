"""LLM-policy throughput: vector steps/s of the LLM reranker against a fake API with fixed latency.

Run: ``python benchmarks/bench_llm_policy.py [--latency 0.2] [--steps 8] [--senders N]``.

For each sub-env count n in 1, 4, 16, 64, steps the native vector env (golf, the offline
utility users: their step is one numpy computation, so what is timed is the policy) with
:class:`~simrec.policies.llm_reranker.LLMRerankerPolicy` choosing every sub-env's slate:
one concurrent round of n calls per step through the real Anthropic SDK and HTTP on
127.0.0.1, to :class:`~simrec.llm.fake_server.FakeMessagesAPI` answering each call after
``--latency`` seconds with the scripted model (:mod:`simrec.policies.llm_scripted`).
Prints steady-state vector steps/s, slates/s (steps x sub-envs whose visit is going on),
the efficiency against linear scaling from n = 1 (target: one step costs about one
request's latency, i.e. slates/s close to n times n = 1's), the client's CPU
milliseconds per slate (the GIL serialises it: what caps the efficiency), its sender
processes' (above 16 calls in flight on a machine of more than two cores, the SDK's work
runs in sender processes, see :mod:`simrec.llm.backends.senders`; ``--senders`` to
choose) and the first step apart (it
opens the connections and starts the worker threads once per run).

The fake server runs in its own process, as the real API runs on other machines. No
network, no key.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from multiprocessing.connection import Connection

from bench_llm_brain import add_senders_argument, sender_count, sender_cpu

from simrec.llm.fake_server import FakeMessagesAPI
from simrec.policies.llm_reranker import LLMRerankerPolicy
from simrec.policies.llm_scripted import scripted_messages
from simrec.presets import find_preset
from simrec.vector import RecSessionVectorEnv

TARGET_EFFICIENCY = 0.8
SUB_ENVS = (1, 4, 16, 64)


def throughput(
    api_url: str, n: int, steps: int, seed: int = 0, senders: int | None = None
) -> tuple[float, float, float, float, float]:
    """Steady-state vector steps/s and slates/s of ``n`` sub-envs over ``steps`` steps
    after a first (cold) one, the first step's seconds, and the client's and its sender
    processes' CPU ms per slate."""
    preset = find_preset("golf").kwargs
    envs = RecSessionVectorEnv(n, preset["catalog"], preset["personas"], max_turns=50)
    policy = LLMRerankerPolicy(
        envs, api_key="bench", base_url=api_url, concurrency=n, senders=senders
    )
    obs, infos = envs.reset(seed=seed)

    def step() -> int:
        nonlocal obs, infos
        acting = int((~policy._resetting).sum())
        actions = policy.act(obs, infos)
        obs, rewards, terminated, truncated, infos = envs.step(actions)
        policy.update(obs, rewards, infos, terminated, truncated)
        return acting

    try:
        start = time.perf_counter()
        step()
        cold = time.perf_counter() - start
        sent = sender_cpu(policy.client)
        start, cpu = time.perf_counter(), time.process_time()
        slates = sum(step() for _ in range(steps))
        cpu_ms = (time.process_time() - cpu) * 1000 / max(slates, 1)
        seconds = time.perf_counter() - start
        sent_ms = (sender_cpu(policy.client) - sent) * 1000 / max(slates, 1)
        return steps / seconds, slates / seconds, cold, cpu_ms, sent_ms
    finally:
        policy.close()


def serve(latency: float, conn: Connection) -> None:
    """Run the fake API in this (child) process until the parent sends anything."""
    with FakeMessagesAPI(latency=latency, default=scripted_messages()) as api:
        conn.send(api.url)
        conn.recv()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per fake API call")
    parser.add_argument("--steps", type=int, default=8, help="timed vector steps per run")
    add_senders_argument(parser)
    args = parser.parse_args()
    parent, child = mp.Pipe()
    server = mp.get_context("spawn").Process(target=serve, args=(args.latency, child), daemon=True)
    server.start()
    url = parent.recv()
    try:
        throughput(url, 2, 1)  # warm up: SDK import, catalog generation
        print(
            f"LLM reranker on the golf vector env vs a fake API, {args.latency * 1000:.0f} ms "
            f"per call, {args.steps} timed steps after a first one"
        )
        print(
            f"  {'sub-envs':>8}  {'steps/s':>8}  {'slates/s':>8}  {'linear':>8}  efficiency  "
            f"{'CPU ms/slate':>12}  {'senders':>7}  {'sender CPU ms/slate':>19}  first step"
        )
        base = None
        for n in SUB_ENVS:
            steps, rate, cold, cpu_ms, sent_ms = throughput(
                url, n, args.steps, senders=args.senders
            )
            base = base or rate
            linear = base * n
            mark = "" if rate / linear >= TARGET_EFFICIENCY else "  (below 80% of linear)"
            print(
                f"  {n:>8}  {steps:8.2f}  {rate:8.1f}  {linear:8.1f}  {rate / linear:9.0%}  "
                f"{cpu_ms:12.2f}  {sender_count(n, args.senders):>7}  {sent_ms:19.2f}  "
                f"{cold * 1000:7.0f} ms{mark}"
            )
    finally:
        parent.send("stop")
        server.join(timeout=5)


if __name__ == "__main__":
    main()
