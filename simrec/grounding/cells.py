"""From raw text cells to typed rows: splitting files into lines and fields, parsing numbers.

Every reader goes through these helpers, so every log format reports a bad row the same
way: the row is dropped, counted under its reason in the :class:`DropReport`, and the
first few are kept with their file and line (``u.data:17: field 'rating': 'x'``).
Only structural problems (a missing file, a header without a required column) raise.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from simrec.errors import GroundingError
from simrec.grounding.table import DropReport, Interactions, Items
from simrec.yamlio import read_text as read_file


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """The text of ``path``, line endings untranslated; a missing or unreadable file raises."""
    if not path.is_file():
        raise GroundingError(f"{path}: file not found")
    return read_file(path, GroundingError, encoding=encoding, newline="")


def split_rows(
    path: Path,
    separator: str,
    n_fields: int | None,
    report: DropReport,
    table: str,
    header: bool,
    encoding: str = "utf-8",
) -> tuple[list[str] | None, list[list[str]], list[int]]:
    """Rows of a delimited file as lists of cells, with the line each starts on.

    ``separator`` ``","`` reads CSV with quoting (titles with commas); any other separator
    (``"\\t"``, ``"|"``, ``"::"``) splits plainly. A row with the wrong number of fields
    is dropped and reported. Blank lines are skipped.

    Returns:
        ``(header cells or None, rows, line numbers)``.
    """
    text = read_text(path, encoding)
    names: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    if separator == ",":
        reader = csv.reader(io.StringIO(text, newline=""))
        start = 1
        try:
            for cells in reader:
                line, start = start, reader.line_num + 1
                if not any(c.strip() for c in cells):
                    continue
                rows.append(cells)
                lines.append(line)
        except csv.Error as exc:
            raise GroundingError(
                f"{path}:{reader.line_num}: not a readable CSV file: {exc}"
            ) from None
    else:
        for line, raw in enumerate(text.splitlines(), start=1):
            if raw.strip():
                rows.append(raw.split(separator))
                lines.append(line)
    if header:
        if not rows:
            raise GroundingError(f"{path}: file is empty; expected a header line and rows")
        names = [c.strip() for c in rows.pop(0)]
        lines.pop(0)
        n_fields = len(names)
    report.read[table] += len(rows)
    if n_fields is not None:
        bad = [k for k, cells in enumerate(rows) if len(cells) != n_fields]
        if bad:
            report.drop_many(
                f"{table}: wrong number of fields",
                [f"{path.name}:{lines[k]}" for k in bad],
                [f"{len(rows[k])} fields, expected {n_fields}" for k in bad],
            )
            dropped = set(bad)
            rows = [r for k, r in enumerate(rows) if k not in dropped]
            lines = [n for k, n in enumerate(lines) if k not in dropped]
    return names, rows, lines


def require_columns(path: Path, header: list[str], wanted: dict[str, str | None]) -> dict[str, int]:
    """Column index of each wanted role (``{"user": "userId", ...}``); a missing one raises."""
    out = {}
    for role, name in wanted.items():
        if name is None:
            continue
        if name not in header:
            raise GroundingError(
                f"{path}:1: no column {name!r} for the {role} (columns: {', '.join(header)}); "
                f"name the right one with --{role}-column"
            )
        out[role] = header.index(name)
    return out


def interactions_from_cells(
    users: list[str],
    items: list[str],
    values: list[str] | None,
    timestamps: list[str] | None,
    wheres: list[str],
    report: DropReport,
    value_field: str = "rating",
    rated: bool = True,
) -> Interactions:
    """Typed interactions from text cells; bad rows are dropped and reported.

    ``values`` ``None`` means every row is one interaction (value 1). With ``rated``
    false the values are clicks: a row whose value is 0 is an impression without a
    click, not an interaction, and is reported as such. ``timestamps`` ``None`` orders
    events by their position in the file. A timestamp may be an integer (seconds) or a
    date-time text.
    """
    n = len(users)
    where = np.array(wheres, dtype=object)
    user = pd.Series(users, dtype=object).str.strip()
    item = pd.Series(items, dtype=object).str.strip()
    keep = np.ones(n, dtype=bool)
    missing = ((user == "") | (item == "")).to_numpy()
    _drop(report, "interactions: missing user or item id", where, missing, keep, "empty id")
    if values is None:
        value = np.ones(n)
    else:
        raw = pd.Series(values, dtype=object).str.strip()
        value = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        bad = keep & ~np.isfinite(value)
        _drop(
            report,
            f"interactions: {value_field} is not a number",
            where,
            bad,
            keep,
            [f"field '{value_field}': {v!r}" for v in raw[bad]],
        )
        if not rated:
            zero = keep & (value <= 0)
            _drop(
                report,
                "interactions: click is 0 (an impression, not an interaction)",
                where,
                zero,
                keep,
                "",
            )
    if timestamps is None:
        stamp = np.arange(n, dtype=np.int64)
    else:
        stamp = parse_timestamps(timestamps)
        bad = keep & (stamp == np.iinfo(np.int64).min)
        raw_t = np.array(timestamps, dtype=object)
        _drop(
            report,
            "interactions: timestamp is not a time",
            where,
            bad,
            keep,
            [f"field 'timestamp': {v!r}" for v in raw_t[bad]],
        )
    return Interactions(
        users=user.to_numpy(dtype=object)[keep],
        items=item.to_numpy(dtype=object)[keep],
        values=value[keep],
        timestamps=stamp[keep],
        wheres=where[keep],
        rated=rated,
    )


_BAD_TIME = np.iinfo(np.int64).min


def parse_timestamps(cells: list[str]) -> np.ndarray:
    """Integer seconds from numbers or date-time texts (``_BAD_TIME`` where neither)."""
    raw = pd.Series(cells, dtype=object).astype(str).str.strip()
    numbers = pd.to_numeric(raw, errors="coerce")
    out = np.full(len(raw), _BAD_TIME, dtype=np.int64)
    ok = numbers.notna().to_numpy() & np.isfinite(numbers.to_numpy(dtype=np.float64))
    out[ok] = numbers.to_numpy(dtype=np.float64)[ok].astype(np.int64)
    rest = ~ok & (raw != "").to_numpy()
    if rest.any():
        dates = pd.to_datetime(raw[rest], errors="coerce", utc=True, format="mixed")
        valid = dates.notna().to_numpy()
        epoch = pd.Timestamp(0, tz="UTC")
        seconds = ((dates[valid] - epoch) // pd.Timedelta(seconds=1)).to_numpy(dtype=np.int64)
        index = np.flatnonzero(rest)[valid]
        out[index] = seconds
    return out


def _drop(
    report: DropReport,
    reason: str,
    where: np.ndarray,
    bad: np.ndarray,
    keep: np.ndarray,
    details: str | list[str],
) -> None:
    bad = bad & keep
    if not bad.any():
        return
    index = np.flatnonzero(bad)
    shown = index[:5]
    detail = details if isinstance(details, list) else [details] * len(index)
    report.drop_many(reason, [str(w) for w in where[shown]], list(detail[: len(shown)]))
    report.counts[reason] += len(index) - len(shown)
    keep &= ~bad


_YEAR_IN_TITLE = r"\((\d{4})\)\s*$"


def items_from_cells(
    ids: list[str],
    titles: list[str],
    genres: list[tuple[str, ...]],
    wheres: list[str],
    report: DropReport,
    years: list[str] | None = None,
    prices: list[str] | None = None,
    texts: list[str] | None = None,
) -> Items:
    """A typed items table; rows without an id or title, duplicates and bad prices are dropped.

    The year comes from ``years`` (a year or a date such as ``01-Jan-1995``) or, when
    that is missing, from a trailing ``(1995)`` in the title.
    """
    n = len(ids)
    where = np.array(wheres, dtype=object)
    ident = pd.Series(ids, dtype=object).astype(str).str.strip()
    title = pd.Series(titles, dtype=object).fillna("").astype(str).str.strip()
    keep = np.ones(n, dtype=bool)
    _drop(report, "items: missing item id", where, (ident == "").to_numpy(), keep, "empty id")
    _drop(
        report,
        "items: missing title",
        where,
        (title == "").to_numpy(),
        keep,
        "field 'title' is empty",
    )
    repeated = ident.duplicated().to_numpy()
    _drop(
        report,
        "items: duplicate item id (the first row is kept)",
        where,
        repeated,
        keep,
        [f"item {i!r}" for i in ident[repeated & keep]],
    )
    year = np.full(n, np.nan)
    if years is not None:
        raw = pd.Series(years, dtype=object).fillna("").astype(str).str.strip()
        found = raw.str.extract(r"(\d{4})", expand=False)
        year = pd.to_numeric(found, errors="coerce").to_numpy(dtype=np.float64)
    from_title = pd.to_numeric(
        title.str.extract(_YEAR_IN_TITLE, expand=False), errors="coerce"
    ).to_numpy(dtype=np.float64)
    year = np.where(np.isnan(year), from_title, year)
    price = np.full(n, np.nan)
    if prices is not None:
        raw_p = pd.Series(prices, dtype=object).fillna("").astype(str).str.strip()
        price = pd.to_numeric(raw_p, errors="coerce").to_numpy(dtype=np.float64)
        bad = ~(np.isfinite(price) & (price >= 0))
        _drop(
            report,
            "items: price is not a non-negative number",
            where,
            bad,
            keep,
            [f"field 'price': {v!r}" for v in raw_p[bad & keep]],
        )
    text = (
        pd.Series(texts, dtype=object).fillna("").astype(str).to_numpy(dtype=object)
        if texts is not None
        else np.full(n, "", dtype=object)
    )
    index = np.flatnonzero(keep)
    return Items(
        ids=ident.to_numpy(dtype=object)[index],
        titles=title.to_numpy(dtype=object)[index],
        genres=[tuple(g for g in genres[i] if g) for i in index.tolist()],
        years=year[index],
        prices=price[index],
        texts=text[index],
    )
