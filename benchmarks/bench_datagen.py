"""Data generation throughput: interaction rows/s end to end, written as parquet.

Run: ``python benchmarks/bench_datagen.py [--sessions 20000] [--workers 2] [--policy random]
[--backends vector,single]``. Generates ``simrec/Golf-v0`` sessions (utility brain,
slate 5, up to 20 turns; users who leave end their session early, so the default 20,000
sessions make about 1M interaction rows, the size the target is set at) into a temporary directory with ``simrec.generate`` — stepping,
logging, encoding, checksums, fsync'd atomic writes and the manifest all included — once
per stepping backend, each in a fresh process (so peak memory is its own), and prints
interaction rows/s, the ratio to the 200,000 rows/s target, rows per CPU-second (parent
and workers, user + system: on a shared machine wall-clock rates drop with other load,
CPU time much less) and the peak resident memory of the parent and of the largest worker
(bounded by the shard size, not the run size). Both backends write the same bytes; the
script checks that the datasets' checksums agree. For context it also prints the
single-process rate of the plain env loop (``run_sessions`` + ``EventLog``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

TARGET = 200_000


def env_loop_rate(policy: str, sessions: int, seed: int) -> float:
    """Interaction rows/s of ``run_sessions`` with the event log, one process, no writing."""
    from simrec.env import RecSessionEnv
    from simrec.events import EventLog
    from simrec.policies import make_policy
    from simrec.presets import find_preset
    from simrec.runner import run_sessions

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


def _stop_forkserver() -> None:
    """Stop and reap multiprocessing's forkserver, if one was started.

    Workers started by a forkserver are its children, not ours: the forkserver reaps them,
    and only once it is reaped in turn do their CPU time and peak memory reach this
    process's ``RUSAGE_CHILDREN``. (``_stop`` is CPython's own hook for this.)
    """
    from multiprocessing import forkserver

    forkserver._forkserver._stop()


def measure(args: argparse.Namespace, backend: str) -> dict:
    """One generation run in this process; its figures as a dict."""
    import simrec

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
            backend=backend,
        )
        elapsed = time.perf_counter() - start
        _stop_forkserver()
        cpu = _cpu_seconds() - cpu_before
    files = [f for t in ds.manifest["tables"].values() for f in t["files"]]
    return {
        "backend": backend,
        "rows": ds.manifest["rows"],
        "bytes": sum(f["bytes"] for f in files),
        "checksums": sorted(f["sha256"] for f in files),
        "wall": elapsed,
        "cpu": cpu,
        "parent_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--policy", default="random")
    parser.add_argument("--shard-size", type=int, default=1000)
    parser.add_argument("--format", default="parquet")
    parser.add_argument("--backends", default="vector,single")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args, args.one)))
        return

    results = []
    for backend in args.backends.split(","):
        cmd = [sys.executable, __file__, *sys.argv[1:], "--one", backend]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    baseline = env_loop_rate(args.policy, min(1000, args.sessions), seed=10**6)
    rows = results[0]["rows"]
    print(
        f"simrec/Golf-v0, {args.policy} policy, utility brain, slate 5, max 20 turns, "
        f"{args.sessions:,} sessions, {args.workers} worker(s), shards of {args.shard_size}, "
        f"{args.format}: {rows['interactions']:,} interactions, {rows['turns']:,} turns, "
        f"{results[0]['bytes'] / 1e6:.1f} MB on disk"
    )
    for r in results:
        n = r["rows"]["interactions"]
        rate = n / r["wall"]
        # Say so rather than print a wrong figure if the workers' usage was not seen.
        seen = r["worker_mb"] > 0
        cpu = f"{n / r['cpu']:>9,.0f} rows per CPU-second" if seen else "CPU n/a"
        worker = f"{r['worker_mb']:,.0f} MB" if seen else "n/a (workers not reaped)"
        print(
            f"  {r['backend']:<7}: {r['wall']:6.2f} s, {rate:>9,.0f} rows/s "
            f"({rate / TARGET:.2f}x the {TARGET:,} target), {cpu}, "
            f"peak RSS parent {r['parent_mb']:,.0f} MB / largest worker {worker}"
        )
    same = all(r["checksums"] == results[0]["checksums"] for r in results)
    print(f"  same bytes from every backend: {'yes' if same else 'NO'}")
    print(f"  env loop: {baseline:,.0f} rows/s (run_sessions + EventLog, 1 process, no writing)")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
