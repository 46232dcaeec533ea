"""Throughput against RecSim: simrec's single env and native vector env vs interest_evolution.

Run: ``python benchmarks/bench_vs_recsim.py [--seconds S] [--recsim-venv DIR] [--preset P]``.

``--preset`` times another env instead of Golf: a preset name, a preset ``.yaml`` or a
directory written by ``simrec ground`` (e.g. the ML-100K grounded env: 943 personas,
1,682 items); the vector env's build time and its shared tables' bytes are printed too.

RecSim runs in its own virtual environment, in a subprocess: the script creates it on
first use under ``~/.cache/simrec-bench/recsim-venv`` (or ``--recsim-venv``) with::

    python -m venv DIR && DIR/bin/pip install recsim-no-tf six "numpy<2"

(``numpy<2`` because RecSim's ``gym`` 0.26 predates NumPy 2). Settings: RecSim's
``interest_evolution`` with 10 candidates per step and slates of 2; simrec's
``simrec/Golf-v0`` (200 items) with slates of 2. Both are driven by a random policy whose
slates are drawn before the clock starts (distinct items, cycled), so the figures time the
environments, not the policy. Figures are for a long-running env, whose caches have
filled: the vector env first runs 5,000 steps (at most 5 s; its cache of reply texts
fills), the single env 60,000 steps (at most 8 s, once; each persona's item scores are
computed on its first visit, about 0.5 ms each for the 1,682 items of ML-100K: a pool of
943 personas takes some 50,000 steps to be visited); the warm-up's own rate is printed
too. The vector env is also timed with ``info_format="arrays"`` (numbers only: no reply
texts, no reset ``user_history`` rows, which a grounded pool pads to its longest
history). Rates are per
second of CPU time of the timed process (``time.process_time``), so other programs
competing for the cores do not count against either side; the compared figures are also
the best of interleaved rounds. Printed:
steps/s of each, the ratios (targets: single env >= 3x RecSim; vector env at 1,024
sessions >= 100x RecSim in user-steps), the vector env's state bytes per session, and
user-steps/s from 1 to 16,384 sessions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

import gymnasium as gym
import numpy as np

import simrec  # noqa: F401  (registers the envs)

SLATE = 2
CANDIDATES = 10
SESSIONS = (1, 16, 256, 1024, 4096, 16384)
WARM_STEPS, WARM_SECONDS = 5_000, 5.0  # vector env warm-up: whichever ends first
SINGLE_WARM_STEPS, SINGLE_WARM_SECONDS = 60_000, 8.0  # single env warm-up (once per slate size)
DEFAULT_VENV = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "simrec-bench" / "recsim-venv"
)

RECSIM_SCRIPT = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np
from recsim.environments import interest_evolution
seconds, candidates, slate = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
env = interest_evolution.create_environment(
    {"num_candidates": candidates, "slate_size": slate, "resample_documents": True, "seed": 0}
)
rng = np.random.default_rng(0)
actions = [rng.choice(candidates, slate, replace=False) for _ in range(4096)]
env.reset()
for i in range(200):
    _, _, done, _ = env.step(actions[i])
    if done:
        env.reset()
steps, start = 0, time.process_time()
while time.process_time() - start < seconds:
    for _ in range(100):
        _, _, done, _ = env.step(actions[steps % 4096])
        steps += 1
        if done:
            env.reset()
print(json.dumps({"steps_per_s": steps / (time.process_time() - start)}))
"""


def recsim_python(venv_dir: Path) -> Path:
    """The RecSim venv's interpreter, creating the venv (and installing RecSim) if needed."""
    python = venv_dir / "bin" / "python"
    if python.exists():
        return python
    print(f"creating RecSim's environment in {venv_dir} (one time) ...", flush=True)
    venv.EnvBuilder(with_pip=True).create(venv_dir)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "recsim-no-tf", "six", "numpy<2"],
        check=True,
    )
    return python


def bench_recsim(python: Path, seconds: float) -> float:
    """RecSim interest_evolution steps/s (random slates of ``SLATE`` from ``CANDIDATES``)."""
    out = subprocess.run(
        [str(python), "-c", RECSIM_SCRIPT, str(seconds), str(CANDIDATES), str(SLATE)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["steps_per_s"])


def random_slates(rng: np.random.Generator, rows: int, n_items: int, k: int) -> np.ndarray:
    """``rows`` slates of ``k`` distinct random items (contiguous, as a policy returns them:
    a view into the sorted rows would make the env read the policy's cold memory)."""
    return np.ascontiguousarray(np.argsort(rng.random((rows, n_items)), axis=1)[:, :k])


ENV = {"id": "simrec/Golf-v0", "kwargs": {}, "label": "Golf-v0"}
"""The env timed: Golf unless ``--preset`` names another (set in :func:`main`)."""


def use_preset(name: str) -> None:
    """Time the preset ``name`` (a shipped name, a .yaml, or a ``simrec ground`` directory)."""
    from simrec.presets import find_preset

    path = Path(name)
    preset = find_preset(str(path / "preset.yaml") if path.is_dir() else name)
    ENV.update(
        id="simrec/RecSession-v0", kwargs=dict(preset.kwargs), label=preset.env_id.split("/")[-1]
    )


_SINGLE_ENVS: dict[int, tuple] = {}
"""One warmed-up single env (and its slates) per slate size, kept across rounds."""


def single_env(slate_size: int) -> tuple:
    """The single env of ``slate_size`` and its slates, warmed up on first use."""
    if slate_size not in _SINGLE_ENVS:
        env = gym.make(ENV["id"], **{**ENV["kwargs"], "slate_size": slate_size}).unwrapped
        slates = random_slates(np.random.default_rng(0), 4096, len(env.catalog), slate_size)
        env.reset(seed=0)
        steps = run_single(env, slates, SINGLE_WARM_SECONDS, SINGLE_WARM_STEPS)
        print(
            f"  (single env, slate {slate_size}: warm-up {steps[0]:,} steps at {steps[1]:,.0f} steps/s)"
        )
        _SINGLE_ENVS[slate_size] = env, slates
    return _SINGLE_ENVS[slate_size]


def run_single(env, slates: np.ndarray, seconds: float, max_steps: int) -> tuple[int, float]:
    """Step ``env`` (resetting at episode ends) for ``seconds`` of CPU or ``max_steps``;
    returns ``(steps, steps/s)``."""
    steps, start = 0, time.process_time()
    while time.process_time() - start < seconds and steps < max_steps:
        for _ in range(200):
            _, _, terminated, truncated, _ = env.step(slates[steps % 4096])
            steps += 1
            if terminated or truncated:
                env.reset()
    return steps, steps / (time.process_time() - start)


def bench_single(seconds: float, slate_size: int) -> float:
    """Steps/s of one env (``env.unwrapped``), resetting at episode ends."""
    env, slates = single_env(slate_size)
    return run_single(env, slates, seconds, 2**62)[1]


def bench_vector(
    num_envs: int, seconds: float, info_format: str = "full"
) -> tuple[float, float, int]:
    """``(user-steps/s, ms per vector step, state bytes per session)`` of the native vector env."""
    kwargs = {**ENV["kwargs"], "slate_size": SLATE, "info_format": info_format}
    vec = gym.make_vec(ENV["id"], num_envs=num_envs, **kwargs)
    base = vec.unwrapped
    rng = np.random.default_rng(0)
    batches = [random_slates(rng, num_envs, len(base.catalog), SLATE) for _ in range(16)]
    vec.reset(seed=0)
    # Warm up until the reply cache has filled (the first ~2,000 steps at 1,024 sessions
    # are 10-15% slower while most replies are new): figures are for a long-running env.
    warm, start = 0, time.process_time()
    while warm < WARM_STEPS and time.process_time() - start < WARM_SECONDS:
        vec.step(batches[warm % 16])
        warm += 1
    steps, start = 0, time.process_time()
    while time.process_time() - start < seconds or steps < 3:
        vec.step(batches[steps % 16])
        steps += 1
    elapsed = time.process_time() - start
    per_session = base.batch.state_nbytes() // num_envs
    return steps * num_envs / elapsed, elapsed / steps * 1e3, per_session


def report_build() -> None:
    """Print the vector env's build time and the bytes of its shared (per-persona) tables."""
    start = time.process_time()
    vec = gym.make_vec(ENV["id"], num_envs=1024, **{**ENV["kwargs"], "slate_size": SLATE})
    built = time.process_time() - start
    batch = vec.unwrapped.batch
    arrays = [a for a in vars(batch).values() if isinstance(a, np.ndarray)]
    shared = sum(a.nbytes for a in arrays if 1024 not in a.shape)  # not sized by sessions
    print(
        f"{ENV['label']}: {len(vec.unwrapped.personas):,} personas, {len(vec.unwrapped.catalog):,} "
        f"items; vector env (1,024 sessions) built in {built:.1f} CPU-s; shared per-persona and "
        f"per-item tables {shared / 1e6:,.1f} MB; per-session state "
        f"{batch.state_nbytes() / 1024:,.0f} B/session"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="timing window per figure")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; best kept")
    parser.add_argument("--recsim-venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--skip-recsim", action="store_true", help="simrec figures only")
    parser.add_argument("--preset", help="time this preset (name, .yaml or ground directory)")
    args = parser.parse_args()
    if args.preset:
        use_preset(args.preset)
        report_build()

    python = None if args.skip_recsim else recsim_python(args.recsim_venv)
    # The compared figures are timed in interleaved rounds and the best of each kept, so
    # other load on the machine hits RecSim and simrec alike.
    best = dict.fromkeys(("recsim", "single", "single5", "vector", "arrays"), 0.0)
    for _ in range(args.rounds):
        if python is not None:
            best["recsim"] = max(best["recsim"], bench_recsim(python, args.seconds))
        best["single"] = max(best["single"], bench_single(args.seconds, SLATE))
        best["single5"] = max(best["single5"], bench_single(args.seconds, 5))
        best["vector"] = max(best["vector"], bench_vector(1024, args.seconds)[0])
        best["arrays"] = max(best["arrays"], bench_vector(1024, args.seconds, "arrays")[0])
    table = [(n, *bench_vector(n, args.seconds)) for n in SESSIONS]
    recsim = best["recsim"] or None

    print(
        f"one core, random slates, per CPU-second, best of {args.rounds} interleaved rounds "
        f"of {args.seconds:g} s; "
        f"python {sys.version.split()[0]}, numpy {np.__version__}"
    )
    rows = [
        (f"simrec {ENV['label']} single env (slate {SLATE})", best["single"], "steps/s", 3),
        (f"simrec {ENV['label']} single env (slate 5)", best["single5"], "steps/s", None),
        (f"simrec vector env, 1,024 sessions (slate {SLATE})", best["vector"], "user-steps/s", 100),
        ("  the same, info_format='arrays'", best["arrays"], "user-steps/s", None),
    ]
    if recsim is not None:
        label = f"RecSim interest_evolution ({CANDIDATES} candidates, slate {SLATE})"
        print(f"  {label:<52} {recsim:>11,.0f} steps/s")
    for label, rate, unit, target in rows:
        ratio = f"  {rate / recsim:6.1f}x RecSim" if recsim else ""
        if recsim and target:
            ratio += f" (target {target}x)"
        print(f"  {label:<52} {rate:>11,.0f} {unit}{ratio}")
    print()
    print(f"  {'sessions':>9} {'user-steps/s':>14} {'ms/step':>9} {'state B/session':>16}")
    for n, rate, ms, nbytes in table:
        print(f"  {n:>9,} {rate:>14,.0f} {ms:>9.2f} {nbytes:>16,}")


if __name__ == "__main__":
    main()
