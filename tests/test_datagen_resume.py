"""Kill -9 or Ctrl-C a running ``simrec generate`` and resume it: the dataset is as if never
interrupted."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simrec.datagen import generate, load_dataset

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["golf", "--policy", "random", "--sessions", "300", "--seed", "4", "--max-turns", "5"]
OPTIONS = {"max_turns": 5, "shard_size": 10}


def dir_digest(path: Path) -> dict[str, str]:
    """sha256 of every file under ``path`` by relative name."""
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def _committed(out: Path) -> int:
    try:
        return len(json.loads((out / "_progress.json").read_text())["shards"])
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize(
    ("backend", "workers", "other"),
    [
        ("single", 1, "vector"),
        ("single", 2, "single"),
        ("vector", 1, "single"),
        ("vector", 2, "vector"),
    ],
)
def test_sigkill_mid_run_then_resume_gives_the_uninterrupted_dataset(
    tmp_path, backend, workers, other
):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "simrec.cli", "generate", *ARGS, "--out", str(out)]
    cmd += ["--shard-size", "10", "--workers", str(workers), "--backend", backend]
    # another hash seed than this process: the dataset must not depend on it
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "12345"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _committed(out) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    workers_pids = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    done = _committed(out)
    assert 4 <= done < 30, "the run was not killed mid-way"
    # workers (and the forkserver that starts them) notice the parent's death and exit
    give_up = time.monotonic() + 10
    while [p for p in workers_pids if _alive(p)] and time.monotonic() < give_up:
        time.sleep(0.05)
    assert not [p for p in workers_pids if _alive(p)], "worker processes outlived the kill"
    assert not (out / "manifest.json").exists()

    # resumed (and compared) with the other backend in two of the cases: the dataset
    # does not depend on it, so a run may even switch backends on resume
    resumed = generate(
        "golf", "random", 300, 4, out, resume=True, workers=workers, backend=other, **OPTIONS
    )
    reference = generate("golf", "random", 300, 4, tmp_path / "reference", backend=other, **OPTIONS)
    assert dir_digest(out) == dir_digest(tmp_path / "reference")
    assert resumed.manifest == reference.manifest
    ds = load_dataset(out)
    keys = ["session_id", "turn", "position"]
    assert not ds.interactions.duplicated(keys).any()
    assert sorted(ds.sessions["session_id"]) == list(range(4, 304))


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_mid_run_says_how_to_resume_and_resume_gives_the_uninterrupted_dataset(
    tmp_path, workers
):
    out = tmp_path / "run"
    args = ["golf", "--policy", "random", "--sessions", "120", "--seed", "4", "--max-turns", "5"]
    cmd = [sys.executable, "-m", "simrec.cli", "generate", *args, "--out", str(out)]
    cmd += ["--shard-size", "10", "--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # its own process group, so Ctrl-C can reach every process of the run, as in a terminal
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while _committed(out) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    said = stderr.decode()
    assert proc.returncode > 0, said  # an orderly exit, not death by the signal
    assert "Traceback" not in said and said.count("\n") == 1, said
    done = _committed(out)
    assert 3 <= done < 12, "the run was not interrupted mid-way"
    assert re.search(
        rf"interrupted; {done} of 12 shards are complete\. Run again with --resume", said
    )
    assert not (out / "manifest.json").exists()

    resume = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, timeout=120)
    assert resume.returncode == 0, resume.stderr.decode()
    generate("golf", "random", 120, 4, tmp_path / "reference", **OPTIONS)
    assert dir_digest(out) == dir_digest(tmp_path / "reference")
