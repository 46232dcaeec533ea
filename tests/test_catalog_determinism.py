"""Generated catalogs are the same in every process, whatever Python's hash seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = (
    "from simrec.catalog_gen import generate_catalog\n"
    "for d in ('golf', 'retail'):\n"
    "    print(list(generate_catalog(d, 60, 0).titles))\n"
)


def titles_with_hash_seed(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_generated_titles_do_not_depend_on_the_hash_seed():
    assert titles_with_hash_seed("1") == titles_with_hash_seed("2")
