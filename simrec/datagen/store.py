"""The output directory of a generated dataset: layout, progress file, manifest, loading.

Layout (``.parquet`` shown; ``.csv`` / ``.jsonl`` likewise)::

    out/
      manifest.json                       # written last: the run is complete
      personas.parquet  items.parquet     # written first
      interactions/part-00000.parquet     # one file per shard and table
      turns/part-00000.parquet
      sessions/part-00000.parquet
      _progress.json                      # while running: committed shards (removed at the end)
      _batches.json                       # batch mode, while running: submitted batch ids

A shard is committed when its entry (rows, bytes, sha256 of each file) is in
``_progress.json``; files of uncommitted shards are removed and rewritten on resume, so
an interrupted run never shows lost or duplicated rows once it completes. The manifest
lists every file with its checksum and row count, and the run's config with its hash;
:func:`load_dataset` refuses a file whose bytes changed and a manifest edited by hand
(a config that no longer matches its hash, row counts that disagree with the files).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from simrec.datagen import formats
from simrec.datagen.tables import SHARD_TABLES, TABLES
from simrec.errors import DatasetError

MANIFEST = "manifest.json"
PROGRESS = "_progress.json"
LOCK = ".lock"
BATCHES = "_batches.json"
MANIFEST_VERSION = 1
CONFIG_COPIES = ("seed", "sessions", "shard_size", "format")
"""Config fields the manifest also records at its top level, for readers."""


def shard_path(table: str, index: int, fmt: str) -> str:
    """Relative path of shard ``index`` of ``table``."""
    return f"{table}/part-{index:05d}{formats.FORMATS[fmt]}"


def static_path(table: str, fmt: str) -> str:
    """Relative path of a once-per-run table."""
    return f"{table}{formats.FORMATS[fmt]}"


def write_json(path: Path, doc: Mapping[str, Any], indent: int | None = None) -> None:
    """Write ``doc`` as JSON, atomically (see :func:`formats.write_atomic`)."""
    formats.write_atomic(path, (json.dumps(doc, indent=indent, sort_keys=True) + "\n").encode())


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, or a :class:`DatasetError` naming it."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from None
    if not isinstance(doc, dict):
        raise DatasetError(f"{path}: expected a JSON object")
    return doc


def is_dataset_dir(path: Path) -> bool:
    """Whether ``path`` holds a simrec dataset, complete or not."""
    return (path / MANIFEST).exists() or (path / PROGRESS).exists()


def prepare_output(out: Path, resume: bool, overwrite: bool) -> None:
    """Create ``out``, or check that it may be resumed / replaced.

    Raises:
        DatasetError: ``out`` is non-empty and neither flag allows it; ``--overwrite`` of a
            directory that is not a simrec dataset; the directory cannot be created.
    """
    if resume and overwrite:
        raise DatasetError("--resume and --overwrite exclude each other; pick one")
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out}: exists and is not a directory")
    # a lock left by a run killed before it wrote anything does not make the directory ours
    non_empty = out.is_dir() and any(child.name != LOCK for child in out.iterdir())
    if non_empty and overwrite:
        if not is_dataset_dir(out):
            raise DatasetError(
                f"{out}: not a simrec dataset (no {MANIFEST} or {PROGRESS}); refusing to "
                "delete it with --overwrite. Remove it yourself or choose another --out"
            )
        _remove_dataset(out)
    elif non_empty and not resume:
        raise DatasetError(
            f"{out}: already exists and is not empty. Pass --resume to continue an "
            "interrupted run, or --overwrite to replace it"
        )
    elif non_empty and not is_dataset_dir(out):
        raise DatasetError(
            f"{out}: not a simrec dataset (no {MANIFEST} or {PROGRESS}); cannot resume it"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise DatasetError(
            f"{out}: cannot write the output directory: {exc.strerror or exc}"
        ) from None


def _remove_dataset(out: Path) -> None:
    for child in out.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def remove_uncommitted(out: Path, committed: set[str]) -> None:
    """Delete shard files and temporaries that no committed shard owns (before resuming)."""
    for table in SHARD_TABLES:
        folder = out / table
        if not folder.is_dir():
            continue
        for child in folder.iterdir():
            rel = f"{table}/{child.name}"
            ours = child.name.startswith(("part-", ".part-")) and child.is_file()
            if ours and rel not in committed:
                child.unlink()
    for child in out.iterdir():
        if child.name.startswith(".") and child.name.endswith(".tmp") and child.is_file():
            child.unlink()


class Dataset:
    """A generated dataset: the five tables as DataFrames, and its manifest.

    Tables of a dataset on disk are read when first used (``ds.interactions``), with the
    dtypes the manifest records.

    Attributes:
        manifest: the run's manifest (config, versions, usage, row counts, files).
        path: the dataset directory, or ``None`` for an in-memory run.
    """

    def __init__(
        self,
        manifest: dict[str, Any],
        path: Path | None = None,
        frames: Mapping[str, pd.DataFrame] | None = None,
    ) -> None:
        self.manifest = manifest
        self.path = path
        self._frames: dict[str, pd.DataFrame] = dict(frames or {})

    def __repr__(self) -> str:
        rows = ", ".join(f"{k} {v:,}" for k, v in self.manifest.get("rows", {}).items())
        return f"Dataset({self.path or 'in memory'}: {rows})"

    def table(self, name: str) -> pd.DataFrame:
        """The table ``name`` (one of ``interactions``, ``turns``, ``sessions``, ``personas``, ``items``)."""
        if name not in TABLES:
            raise DatasetError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}")
        if name not in self._frames:
            assert self.path is not None
            self._frames[name] = read_table(self.path, self.manifest, name)
        return self._frames[name]

    @property
    def interactions(self) -> pd.DataFrame:
        """One row per (session, turn, slot)."""
        return self.table("interactions")

    @property
    def turns(self) -> pd.DataFrame:
        """One row per (session, turn)."""
        return self.table("turns")

    @property
    def sessions(self) -> pd.DataFrame:
        """One row per session."""
        return self.table("sessions")

    @property
    def personas(self) -> pd.DataFrame:
        """One row per persona of the pool."""
        return self.table("personas")

    @property
    def items(self) -> pd.DataFrame:
        """One row per catalog item."""
        return self.table("items")


def read_table(root: Path, manifest: Mapping[str, Any], name: str) -> pd.DataFrame:
    """Concatenate the files of table ``name`` with the manifest's dtypes."""
    spec = manifest["tables"][name]
    dtypes = dict(spec["columns"])  # [[column, dtype], ...] keeps the column order
    parts = []
    for record in spec["files"]:
        part = formats.decode(root / record["path"], manifest["format"], dtypes)
        if len(part) != record["rows"]:
            raise DatasetError(
                f"{root / MANIFEST}: tables.{name}: {record['path']} holds {len(part)} rows, "
                f"the manifest says {record['rows']}: the manifest was edited after generation"
            )
        parts.append(part)
    if not parts:
        return pd.DataFrame({c: pd.array([], dtype=d) for c, d in dtypes.items()})
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return frame.astype(dtypes)


def load_dataset(path: str | Path, verify: bool = True) -> Dataset:
    """Open a dataset written by ``simrec generate`` / :func:`simrec.generate`.

    Args:
        path: the dataset directory.
        verify: check every file's size and sha256 against the manifest first.

    Raises:
        DatasetError: no manifest (not a dataset, or an unfinished run — the message says
            which), a manifest edited after generation (see :func:`check_manifest`), a
            missing file, or a file whose checksum differs (it names the file).
    """
    root = Path(path)
    manifest_path = root / MANIFEST
    if not manifest_path.exists():
        if (root / PROGRESS).exists():
            raise DatasetError(
                f"{root}: the run has not finished (no {MANIFEST}); complete it with "
                "`simrec generate ... --resume` using the same options"
            )
        raise DatasetError(f"{root}: not a simrec dataset (no {MANIFEST})")
    manifest = read_json(manifest_path)
    if manifest.get("manifest_version") != MANIFEST_VERSION or "tables" not in manifest:
        raise DatasetError(
            f"{manifest_path}: not a simrec dataset manifest (version {MANIFEST_VERSION})"
        )
    check_manifest(manifest_path, manifest)
    if verify:
        for spec in manifest["tables"].values():
            for record in spec["files"]:
                verify_file(root, record)
    return Dataset(manifest, root)


def config_digest(config: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of a run's config: its ``config_hash``."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def check_manifest(path: Path, manifest: Mapping[str, Any]) -> None:
    """Refuse a manifest edited after generation, naming ``path`` and the field.

    Checksums protect the data files but not the manifest itself, which readers trust for
    the run's seed, policy and row counts. Its ``config`` must still hash to
    ``config_hash``, the top-level copies of config fields must equal the config's, and
    each table's ``rows`` must be the sum of its files' rows (what the files hold is
    checked when a table is read).
    """
    config = manifest.get("config")
    if not isinstance(config, dict) or config_digest(config) != manifest.get("config_hash"):
        raise DatasetError(
            f"{path}: config: does not match config_hash; the manifest was edited after "
            "generation, so its record of how the data was made cannot be trusted"
        )
    for name in CONFIG_COPIES:
        if manifest.get(name) != config.get(name):
            raise DatasetError(
                f"{path}: {name}: {manifest.get(name)!r} differs from config.{name} "
                f"{config.get(name)!r}; the manifest was edited after generation"
            )
    rows = manifest.get("rows", {})
    for table, spec in manifest["tables"].items():
        in_files = sum(record["rows"] for record in spec["files"])
        if rows.get(table) != in_files:
            raise DatasetError(
                f"{path}: rows.{table}: {rows.get(table)!r} but the table's files hold "
                f"{in_files} rows; the manifest was edited after generation"
            )


def verify_file(root: Path, record: Mapping[str, Any], listed_in: str = "the manifest") -> None:
    """Check one file against its record (exists, size, sha256) in ``listed_in``."""
    file = root / record["path"]
    if not file.is_file():
        raise DatasetError(f"{file}: listed in {listed_in} but missing")
    size = file.stat().st_size
    if size != record["bytes"]:
        raise DatasetError(
            f"{file}: size {size} bytes differs from the {record['bytes']} recorded in "
            f"{listed_in}: the file was modified or truncated after it was written"
        )
    digest = formats.sha256_file(file)
    if digest != record["sha256"]:
        raise DatasetError(
            f"{file}: checksum mismatch (sha256 {digest[:12]}…, {listed_in} says "
            f"{record['sha256'][:12]}…): the file was modified after it was written"
        )
