"""LLM-policy throughput: vector steps/s of the LLM reranker against a fake API with fixed latency.

Run: ``python benchmarks/bench_llm_policy.py [--latency 0.2] [--steps 8] [--senders N]``.

For each sub-env count n in 1, 4, 16, 64, steps the native vector env (golf, the offline
utility users: their step is one numpy computation, so what is timed is the policy) with
:class:`~simrec.policies.llm_reranker.LLMRerankerPolicy` choosing every sub-env's slate:
one concurrent round of n calls per step through the real Anthropic SDK and HTTP on
127.0.0.1, to :class:`~simrec.llm.fake_server.FakeMessagesAPI` answering each call after
``--latency`` seconds with the scripted model (:mod:`simrec.policies.llm_scripted`).
Printed per n:

* steady-state vector steps/s, slates/s (steps x sub-envs whose visit is going on) and
  the efficiency against linear scaling from n = 1 (target: one step costs about one
  request's latency, i.e. slates/s close to n times n = 1's);
* **the SDK alone**: the same n requests (the policy's first step's) posted bare by n
  threads through the same client's backend against the same fake, with no simrec work
  (:func:`bench_llm_brain.sdk_only`, what ``bench_llm_brain.py`` prints as "SDK only"):
  its calls/s, its efficiency against its own n = 1, and simrec's slates/s as a share of
  it. The SDK's own CPU per call caps both (one GIL runs every thread), so this is the
  ceiling simrec's figure is read against;
* CPU milliseconds per slate: the client process's, the part spent in the main thread
  (the serial work of a step around the concurrent calls: retrievers, prompts, parsing
  the answers, updating the visits, the env) and the sender processes';
* the first step apart (it opens the connections and starts the worker threads once per
  run).

The table is printed twice: every call from this process (``senders 0``) and with
``--senders N`` sender processes (default 2; see :mod:`simrec.llm.backends.senders`),
which take the SDK's work off this process's GIL. Wall-clock figures measure the
machine's load as well: the CPU columns move little with it.

The fake server runs in its own process, as the real API runs on other machines. No
network, no key.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from bench_llm_brain import sdk_only, sender_cpu, serve

from simrec.llm.request import LLMRequest
from simrec.policies.llm_reranker import LLMRerankerPolicy
from simrec.presets import find_preset
from simrec.vector import RecSessionVectorEnv

TARGET_EFFICIENCY = 0.8
SUB_ENVS = (1, 4, 16, 64)


@dataclass(frozen=True)
class Run:
    """One sub-env count's figures (rates per second, CPU in ms per slate or call)."""

    steps: float
    slates: float
    cold: float
    cpu_ms: float
    main_ms: float
    sent_ms: float
    sdk_calls: float
    sdk_cpu_ms: float


def throughput(
    api_url: str,
    n: int,
    steps: int,
    seed: int = 0,
    senders: int = 0,
    server: Connection | None = None,
) -> Run:
    """The LLM reranker on ``n`` golf sub-envs for ``steps`` steps after a first (cold)
    one, then the SDK alone posting that first step's requests for ``steps`` rounds."""
    preset = find_preset("golf").kwargs
    envs = RecSessionVectorEnv(n, preset["catalog"], preset["personas"], max_turns=50)
    policy = LLMRerankerPolicy(
        envs, api_key="bench", base_url=api_url, concurrency=n, senders=senders
    )
    first: list[LLMRequest] = []
    complete_many = policy.client.complete_many

    def recording(requests: list[LLMRequest], validators: Any = None) -> Any:
        first.extend([] if first else requests)
        return complete_many(requests, validators)

    policy.client.complete_many = recording  # type: ignore[method-assign]
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
        start, cpu, main = time.perf_counter(), time.process_time(), time.thread_time()
        slates = sum(step() for _ in range(steps))
        main_ms = (time.thread_time() - main) * 1000 / max(slates, 1)
        cpu_ms = (time.process_time() - cpu) * 1000 / max(slates, 1)
        seconds = time.perf_counter() - start
        sent_ms = (sender_cpu(policy.client) - sent) * 1000 / max(slates, 1)
        sdk_calls, sdk_cpu_ms, _, _ = sdk_only(policy.client, first, steps, server)
        return Run(
            steps / seconds, slates / seconds, cold, cpu_ms, main_ms, sent_ms, sdk_calls,
            sdk_cpu_ms,
        )  # fmt: skip
    finally:
        policy.close()


def table(url: str, steps: int, senders: int, server: Connection) -> None:
    """Print the figures of every sub-env count with ``senders`` sender processes."""
    print(f"  senders {senders}:")
    print(
        f"  {'sub-envs':>8}  {'steps/s':>7}  {'slates/s':>8}  {'linear':>7}  efficiency"
        f"  {'SDK alone calls/s':>17}  {'efficiency':>10}  {'simrec/SDK':>10}"
        f"  {'CPU ms/slate':>12}  {'main thread':>11}  {'senders':>7}  first step"
    )
    base = sdk_base = None
    for n in SUB_ENVS:
        run = throughput(url, n, steps, senders=senders, server=server)
        base, sdk_base = base or run.slates, sdk_base or run.sdk_calls
        efficiency = run.slates / (base * n)
        mark = "" if efficiency >= TARGET_EFFICIENCY else "  (below 80% of linear)"
        print(
            f"  {n:>8}  {run.steps:7.2f}  {run.slates:8.1f}  {base * n:7.1f}  {efficiency:9.0%}"
            f"  {run.sdk_calls:17.1f}  {run.sdk_calls / (sdk_base * n):10.0%}"
            f"  {run.slates / run.sdk_calls:10.0%}  {run.cpu_ms:12.2f}  {run.main_ms:11.2f}"
            f"  {run.sent_ms:7.2f}  {run.cold * 1000:7.0f} ms{mark}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per fake API call")
    parser.add_argument("--steps", type=int, default=8, help="timed vector steps per run")
    parser.add_argument(
        "--senders", type=int, default=2, help="sender processes of the second table (default 2)"
    )
    args = parser.parse_args()
    parent, child = mp.Pipe()
    server = mp.get_context("spawn").Process(
        target=serve, args=(args.latency, "anthropic", child, True), daemon=True
    )
    server.start()
    url = parent.recv()
    try:
        throughput(url, 2, 1)  # warm up: SDK import, catalog generation
        print(
            f"LLM reranker on the golf vector env vs a fake API, {args.latency * 1000:.0f} ms "
            f"per call, {args.steps} timed steps after a first one; load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        print(
            "  (SDK alone: the same requests posted bare by n threads, no simrec work; CPU "
            "columns: ms per slate, 'senders' = the sender processes')"
        )
        for senders in (0, args.senders):
            table(url, args.steps, senders, parent)
        print(f"  load average after: {os.getloadavg()[0]:.1f}")
    finally:
        parent.send("stop")
        server.join(timeout=5)


if __name__ == "__main__":
    main()
