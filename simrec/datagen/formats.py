"""Table files: parquet, CSV and JSONL, encoded in memory and written atomically.

Every file is encoded to bytes first (so its sha256 is known before it touches the disk),
written to a hidden temporary name beside its final name, flushed and fsynced, then
renamed into place with :func:`os.replace` and the directory fsynced. A crash at any
moment leaves either no file or a complete one under the final name, never a torn one;
readers such as ``pandas.read_parquet(dir)`` skip the hidden temporaries.

Round trips keep dtypes and values exactly: parquet stores the pandas dtypes; CSV writes
missing values as ``\\N`` (so an empty reply stays an empty string) and floats in their
shortest exact form; JSONL writes one JSON object per line with exact float text.
Readers apply the dtypes recorded in the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simrec.errors import DatasetError

FORMATS = {"parquet": ".parquet", "csv": ".csv", "jsonl": ".jsonl"}
"""Supported formats and their file suffixes."""
CSV_NULL = "\\N"
"""How CSV files spell a missing value (an empty field is an empty string)."""


def check_format(name: str) -> str:
    """``name`` if it is a supported format (parquet also needs pyarrow installed)."""
    if name not in FORMATS:
        raise DatasetError(f"format: expected one of {', '.join(FORMATS)}, got {name!r}")
    if name == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise DatasetError(
                "the parquet format needs pyarrow: pip install 'simrec[parquet]' "
                "(or choose --format csv / jsonl)"
            ) from None
    return name


def encode(frame: pd.DataFrame, fmt: str) -> bytes:
    """``frame`` as the bytes of a ``fmt`` file (deterministic: same frame, same bytes)."""
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        return sink.getvalue()
    if fmt == "csv":
        return frame.to_csv(index=False, na_rep=CSV_NULL, lineterminator="\n").encode()
    if fmt == "jsonl":
        return _jsonl(frame).encode()
    raise DatasetError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")


def _jsonl(frame: pd.DataFrame) -> str:
    """One JSON object per row; floats in Python's shortest exact form (as json.dumps)."""
    if frame.empty:
        return ""
    columns = [
        [json.dumps(str(name)) + ":" + v for v in _json_column(frame[name])]
        for name in frame.columns
    ]
    return "".join("{" + ",".join(row) + "}\n" for row in zip(*columns, strict=True))


def _json_column(column: pd.Series) -> list[str]:
    """The JSON text of every value of ``column`` (``null`` for missing values)."""
    missing = column.isna().to_numpy()
    dtype = str(column.dtype)
    if dtype in ("bool", "boolean"):
        values = column.to_numpy(dtype=object, na_value=None).tolist()
        text = ["null" if v is None else "true" if v else "false" for v in values]
    elif dtype in ("int64", "Int64"):
        values = column.to_numpy(dtype=object, na_value=None).tolist()
        text = ["null" if v is None else str(int(v)) for v in values]
    elif dtype == "float64":
        text = [repr(v) if math.isfinite(v) else "null" for v in column.to_numpy().tolist()]
    else:
        cache: dict[Any, str] = {}
        values = column.to_numpy(dtype=object, na_value=None).tolist()
        text = []
        for v in values:
            if v not in cache:
                cache[v] = "null" if v is None else json.dumps(_plain(v), ensure_ascii=False)
            text.append(cache[v])
    return ["null" if m else t for m, t in zip(missing.tolist(), text, strict=True)]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def decode(path: Path, fmt: str, dtypes: Mapping[str, str]) -> pd.DataFrame:
    """Read a table file written by :func:`encode` back with ``dtypes``."""
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
        elif fmt == "csv":
            frame = pd.read_csv(
                path,
                dtype={c: "string" if d == "string" else object for c, d in dtypes.items()},
                keep_default_na=False,
                na_values=[CSV_NULL],
            )
            frame = _parse_csv_columns(frame, dtypes)
        elif fmt == "jsonl":
            frame = _read_jsonl(path, dtypes)
        else:
            raise DatasetError(f"{path}: unknown format {fmt!r}")
    except DatasetError:
        raise
    except (ValueError, OSError, TypeError) as exc:
        raise DatasetError(f"{path}: cannot read the {fmt} file: {exc}") from None
    missing = [c for c in dtypes if c not in frame.columns]
    if missing:
        raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}")
    try:
        return frame[list(dtypes)].astype(dict(dtypes))
    except (ValueError, TypeError) as exc:
        raise DatasetError(f"{path}: a column does not have its documented dtype: {exc}") from None


def _parse_csv_columns(frame: pd.DataFrame, dtypes: Mapping[str, str]) -> pd.DataFrame:
    out = {}
    for column, dtype in dtypes.items():
        if column not in frame.columns:
            continue
        values = frame[column]
        if dtype in ("bool", "boolean"):
            mapping = {"True": True, "False": False}
            bad = values.notna() & ~values.isin(list(mapping))
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise DatasetError(
                    f"row {row + 1}: field {column!r}: expected True or False, got {values.iloc[row]!r}"
                )
            values = values.map(mapping.get, na_action="ignore")
        elif dtype in ("int64", "Int64", "float64"):
            values = pd.to_numeric(values)
        out[column] = values
    return pd.DataFrame(out)


def _read_jsonl(path: Path, dtypes: Mapping[str, str]) -> pd.DataFrame:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{line_no}: not a JSON object: {exc.msg}") from None
    columns = {c: [row.get(c) for row in rows] for c in dtypes}
    return pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in columns.items()})


def sha256_file(path: Path) -> str:
    """The sha256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves no partial file under that name.

    Raises:
        OSError: the write failed (disk full, no permission); the temporary is removed.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
