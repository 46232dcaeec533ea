"""Data generation throughput: interaction rows/s end to end, written as parquet.

Run: ``python benchmarks/bench_datagen.py [--sessions 10000] [--workers 2] [--policy random]``.
Generates ``simrec/Golf-v0`` sessions (utility brain, slate 5, up to 20 turns) into a
temporary directory with ``simrec.generate`` — stepping, logging, encoding, checksums,
fsync'd atomic writes and the manifest all included — and prints interaction rows/s,
the ratio to the 200,000 rows/s target, and the peak resident memory of the parent and
of the largest worker (memory stays bounded by the shard size, not the run size).
It also prints rows per CPU-second (parent and workers, user + system): on a shared
machine wall-clock rates drop with other load, CPU time much less.
For context it also prints the single-process rate of the plain env loop
(``run_sessions`` + ``EventLog``) on a slice of the same sessions.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

import simrec
from simrec.env import RecSessionEnv
from simrec.events import EventLog
from simrec.policies import make_policy
from simrec.presets import find_preset
from simrec.runner import run_sessions

TARGET = 200_000


def env_loop_rate(policy: str, sessions: int, seed: int) -> float:
    """Interaction rows/s of ``run_sessions`` with the event log, one process, no writing."""
    env = RecSessionEnv(**find_preset("golf").kwargs)
    start = time.perf_counter()
    log = run_sessions(
        env, make_policy(policy, env, seed=seed), sessions, seed=seed, log=EventLog()
    )
    interactions, _ = log.frames()
    return len(interactions) / (time.perf_counter() - start)


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--policy", default="random")
    parser.add_argument("--shard-size", type=int, default=1000)
    parser.add_argument("--format", default="parquet")
    args = parser.parse_args()

    baseline = env_loop_rate(args.policy, min(1000, args.sessions), seed=10**6)
    with tempfile.TemporaryDirectory() as tmp:
        cpu_before = _cpu_seconds()
        start = time.perf_counter()
        ds = simrec.generate(
            "golf",
            args.policy,
            args.sessions,
            seed=1,
            out=f"{tmp}/run",
            format=args.format,
            shard_size=args.shard_size,
            workers=args.workers,
        )
        elapsed = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu_before
        rows = ds.manifest["rows"]
        size = sum(f["bytes"] for t in ds.manifest["tables"].values() for f in t["files"])
    rate = rows["interactions"] / elapsed
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"simrec/Golf-v0, {args.policy} policy, utility brain, slate 5, max 20 turns, "
        f"{args.sessions:,} sessions, {args.workers} worker(s), shards of {args.shard_size}, {args.format}"
    )
    print(
        f"  rows        : {rows['interactions']:,} interactions, {rows['turns']:,} turns, "
        f"{size / 1e6:.1f} MB on disk"
    )
    print(f"  wall time   : {elapsed:.2f} s")
    print(
        f"  throughput  : {rate:,.0f} interaction rows/s ({rate / TARGET:.2f}x the {TARGET:,} target)"
    )
    print(
        f"  CPU time    : {cpu:.2f} s, {rows['interactions'] / cpu:,.0f} rows per CPU-second "
        f"(so {rows['interactions'] / cpu * args.workers:,.0f} rows/s on {args.workers} idle cores)"
    )
    print(
        f"  env loop    : {baseline:,.0f} rows/s (run_sessions + EventLog, 1 process, no writing)"
    )
    print(f"  peak RSS    : parent {parent:,.0f} MB, largest worker {child:,.0f} MB")


if __name__ == "__main__":
    main()
