"""A generic log: an events table and an items table, CSV or parquet, columns named by you.

Events: one row per interaction with a user, an item, a rating *or* a click (0/1; rows
with 0 are impressions and are reported, not used) and a timestamp (seconds or a
date-time text). Items: an id, a title, a category or genres (``A|B``), and optionally a
year, a price and a text. :class:`TableColumns` says which column is which.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simrec.errors import GroundingError
from simrec.grounding.cells import interactions_from_cells, items_from_cells, split_rows
from simrec.grounding.table import DropReport, InteractionLog, UserInfo


@dataclass(frozen=True)
class TableColumns:
    """Column names of a generic log (``None``: the log has no such column).

    Exactly one of ``rating`` and ``click`` may be set; with neither, every row is one
    interaction. Without ``timestamp`` the file order is the time order.
    """

    user: str = "user"
    item: str = "item"
    rating: str | None = "rating"
    click: str | None = None
    timestamp: str | None = "timestamp"
    item_id: str = "item"
    title: str = "title"
    genres: str = "genres"
    year: str | None = None
    price: str | None = None
    text: str | None = None
    genre_separator: str = "|"


def _rows(
    path: Path, report: DropReport, table: str
) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows of text cells and ``file:line`` locations of a CSV or parquet table."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header, rows, lines = split_rows(path, ",", None, report, table, header=True)
        assert header is not None
        return header, rows, [f"{path.name}:{n}" for n in lines]
    if suffix == ".parquet":
        if not path.is_file():
            raise GroundingError(f"{path}: file not found")
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise GroundingError(f"{path}: not a readable parquet file: {exc}") from None
        report.read[table] += len(frame)
        cells = frame.astype(object).where(frame.notna(), "").astype(str)
        return (
            [str(c) for c in frame.columns],
            cells.to_numpy().tolist(),
            [f"{path.name} row {k}" for k in range(len(frame))],
        )
    raise GroundingError(f"{path}: unknown table format {suffix!r}; expected .csv or .parquet")


def _column(path: Path, header: list[str], name: str | None, role: str, option: str) -> int | None:
    if name is None:
        return None
    if name not in header:
        raise GroundingError(
            f"{path}: no column {name!r} for the {role} (columns: {', '.join(header)}); "
            f"name it with {option}"
        )
    return header.index(name)


def read_table(
    events: str | Path,
    items: str | Path,
    columns: TableColumns | None = None,
    domain: str = "items",
) -> InteractionLog:
    """Read a generic events table and items table (CSV or parquet)."""
    c = columns or TableColumns()
    if c.rating is not None and c.click is not None:
        raise GroundingError("give a rating column or a click column, not both")
    events, items = Path(events), Path(items)
    report = DropReport()
    header, rows, wheres = _rows(events, report, "interactions")
    user = _column(events, header, c.user, "user", "--user-column")
    item = _column(events, header, c.item, "item", "--item-column")
    rating = _column(events, header, c.rating, "rating", "--rating-column")
    click = _column(events, header, c.click, "click", "--click-column")
    time = _column(events, header, c.timestamp, "timestamp", "--timestamp-column")
    value = rating if rating is not None else click
    assert user is not None and item is not None
    log_events = interactions_from_cells(
        [r[user] for r in rows],
        [r[item] for r in rows],
        None if value is None else [r[value] for r in rows],
        None if time is None else [r[time] for r in rows],
        wheres,
        report,
        value_field=c.rating or c.click or "value",
        rated=rating is not None,
    )
    iheader, irows, iwheres = _rows(items, report, "items")
    ident = _column(items, iheader, c.item_id, "item id", "--item-id-column")
    title = _column(items, iheader, c.title, "title", "--title-column")
    genres = _column(items, iheader, c.genres, "category or genres", "--genres-column")
    year = _column(items, iheader, c.year, "year", "--year-column")
    price = _column(items, iheader, c.price, "price", "--price-column")
    text = _column(items, iheader, c.text, "text", "--text-column")
    assert ident is not None and title is not None and genres is not None
    sep = c.genre_separator
    log_items = items_from_cells(
        [r[ident] for r in irows],
        [r[title] for r in irows],
        [tuple(g.strip() for g in r[genres].split(sep) if g.strip()) for r in irows],
        iwheres,
        report,
        years=None if year is None else [r[year] for r in irows],
        prices=None if price is None else [r[price] for r in irows],
        texts=None if text is None else [r[text] for r in irows],
    )
    return InteractionLog(
        log_events, log_items, UserInfo(), report, f"table ({events}, {items})", domain
    )
