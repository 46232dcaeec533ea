"""Kill -9 or Ctrl-C a running ``simrec generate`` and resume it: the dataset is as if never
interrupted."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simrec.datagen import generate, load_dataset
from simrec.datagen.generate import PAUSE_AFTER_SHARDS

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


def _wait_for_commits(out: Path, proc: subprocess.Popen, n: int) -> None:
    """Wait until the run has committed ``n`` shards; it then pauses (PAUSE_AFTER_SHARDS), so
    the interruption lands at a known point however fast or slow the machine is."""
    while _committed(out) < n:
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.01)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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
    env[PAUSE_AFTER_SHARDS] = "4"  # the run stops after 4 committed shards: killed there
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_commits(out, proc, 4)
    workers_pids = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    assert _committed(out) == 4
    # workers (and the forkserver that starts them) notice the parent's death and exit
    give_up = time.monotonic() + 120  # a safety net: they exit as soon as they notice
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
        cmd,
        env={**env, PAUSE_AFTER_SHARDS: "3"},  # interrupted after exactly 3 committed shards
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        # Ctrl-C as in a terminal, even when the test runner was started with SIGINT
        # ignored (a background job, `nohup`): an ignored SIGINT is inherited across exec
        # and Python would then never raise KeyboardInterrupt
        preexec_fn=_default_sigint,
    )
    _wait_for_commits(out, proc, 3)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    said = stderr.decode()
    assert proc.returncode > 0, said  # an orderly exit, not death by the signal
    assert "Traceback" not in said and said.count("\n") == 1, said
    assert _committed(out) == 3
    assert "interrupted; 3 of 12 shards are complete. Run again with --resume" in said
    assert not (out / "manifest.json").exists()

    resume = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, timeout=600)
    assert resume.returncode == 0, resume.stderr.decode()
    generate("golf", "random", 120, 4, tmp_path / "reference", **OPTIONS)
    assert dir_digest(out) == dir_digest(tmp_path / "reference")


def test_resume_refuses_a_committed_shard_modified_on_disk(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "simrec.cli", "generate", *ARGS, "--out", str(out)]
    cmd += ["--shard-size", "10", "--workers", "1", "--format", "csv"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        cmd, env={**env, PAUSE_AFTER_SHARDS: "2"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _wait_for_commits(out, proc, 2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    shard = out / "interactions" / "part-00001.csv"
    text = shard.read_text()
    edited = text.replace(",golf-", ",golf_", 1)  # same size, other content
    assert edited != text and len(edited) == len(text)
    shard.write_text(edited)
    resume = subprocess.run(
        [*cmd, "--resume"], env=env, capture_output=True, text=True, timeout=600
    )
    assert resume.returncode == 2, resume.stdout
    assert resume.stderr.startswith(f"simrec: error: {shard}: "), resume.stderr
    assert "--resume cannot build on it" in resume.stderr and "Traceback" not in resume.stderr
    assert not (out / "manifest.json").exists()
