"""Grounding: personas, a catalog and an env preset built from a real interaction log.

``simrec ground`` (or :func:`ground_log` in Python) reads a log (MovieLens, RecBole
atomic files or a generic table; one reader module per format), cleans it into one
typed table while reporting every dropped row, splits each user's events (in time, or
at random with ``--split random``), fits a latent taste model on the events before each
user's held-out part, and writes a preset directory usable by ``gym.make``, ``simrec
run``, scenarios and ``simrec generate``. See ``docs/grounding.md``.
"""

from __future__ import annotations

from pathlib import Path

from simrec.grounding.fetch import cache_dir, fetch_movielens_100k
from simrec.grounding.generic import TableColumns, read_table
from simrec.grounding.movielens import read_movielens, read_widedeep_100k
from simrec.grounding.pipeline import Grounded, ground
from simrec.grounding.preset import write_preset
from simrec.grounding.recbole import read_recbole
from simrec.grounding.table import DropReport, InteractionLog


def ground_log(
    log: InteractionLog,
    out: str | Path,
    name: str,
    dim: int = 64,
    min_events: int = 5,
    seed: int = 0,
    split: str = "temporal",
    split_seed: int | None = None,
) -> Path:
    """Ground ``log`` and write the preset directory ``out``; returns ``out/preset.yaml``.

    The arguments are :func:`~simrec.grounding.pipeline.ground`'s.
    """
    grounded = ground(
        log, dim=dim, min_events=min_events, seed=seed, split=split, split_seed=split_seed
    )
    return write_preset(grounded, out, name)


__all__ = [
    "DropReport",
    "Grounded",
    "InteractionLog",
    "TableColumns",
    "cache_dir",
    "fetch_movielens_100k",
    "ground",
    "ground_log",
    "read_movielens",
    "read_recbole",
    "read_table",
    "read_widedeep_100k",
    "write_preset",
]
