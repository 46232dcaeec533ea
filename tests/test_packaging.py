"""The shipped personas and env presets are found when simrec is installed from a wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import gymnasium as gym, simrec
from simrec.resources import data_root
print(data_root())
env = gym.make("simrec/Books-v0")
obs, info = env.reset(seed=0)
print(info["persona_id"])
"""


def test_wheel_carries_the_persona_library_and_presets(tmp_path: Path):
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("simrec-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "simrec/_data/envs/golf.yaml" in names
    assert any(n.startswith("simrec/_data/personas/books/") for n in names)
    assert "simrec/templates/replies.yaml" in names
    assert "simrec/authoring/templates/persona-author.yaml" in names

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert probe.returncode == 0, probe.stderr
    root, persona = probe.stdout.split()
    assert Path(root) == site / "simrec" / "_data"
    assert persona.startswith("books-")
