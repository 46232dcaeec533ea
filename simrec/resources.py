"""Where the shipped persona library and env presets live, installed or in a checkout.

A wheel carries ``personas/`` and ``envs/`` inside the package as ``simrec/_data/``; a
source checkout (or an editable install) has them at the repository root.
"""

from __future__ import annotations

from pathlib import Path

from simrec.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parent


def data_root() -> Path:
    """The folder holding ``personas/`` and ``envs/``."""
    for root in (_PACKAGE / "_data", _PACKAGE.parent):
        if (root / "envs").is_dir() and (root / "personas").is_dir():
            return root
    raise ConfigError(
        f"simrec's shipped data (personas/, envs/) was not found under {_PACKAGE / '_data'} "
        f"or {_PACKAGE.parent}; reinstall simrec"
    )


def personas_dir() -> Path:
    """The shipped persona library (one sub-folder per domain)."""
    return data_root() / "personas"


def envs_dir() -> Path:
    """The shipped env presets (``envs/*.yaml``)."""
    return data_root() / "envs"
