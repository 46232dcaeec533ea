"""RecBole atomic files: ``NAME.inter`` (events) and ``NAME.item`` (items).

Each file is tab-separated with a typed header, ``name:type`` per column, types
``token``, ``token_seq`` (space-separated tokens), ``float`` and ``float_seq`` (as in
RecBole's ``recbole/data/dataset/dataset.py``). Columns are found by name:

==========  ===========================================================================
role        column names tried (first found)
==========  ===========================================================================
user        ``user_id``
item        ``item_id``
value       ``rating``, then ``label`` (a 0/1 click); none: every row is one interaction
time        ``timestamp``; none: file order
title       ``movie_title``, ``title``, ``item_name``, ``name`` (``.item``)
genres      ``genre``, ``genres``, ``categories``, ``category``, ``class`` (``.item``)
year        ``release_year``, ``year`` (``.item``)
price       ``price`` (``.item``)
text        ``description``, ``text``, ``summary`` (``.item``)
==========  ===========================================================================
"""

from __future__ import annotations

from pathlib import Path

from simrec.errors import GroundingError
from simrec.grounding.cells import interactions_from_cells, items_from_cells, split_rows
from simrec.grounding.table import DropReport, InteractionLog, UserInfo

TYPES = ("token", "token_seq", "float", "float_seq")
TITLE = ("movie_title", "title", "item_name", "name")
GENRES = ("genre", "genres", "categories", "category", "class")
YEAR = ("release_year", "year")
TEXT = ("description", "text", "summary")


def find_atomic_files(path: str | Path) -> tuple[Path, Path]:
    """The ``.inter`` and ``.item`` files of a RecBole dataset folder (or of an ``.inter`` path)."""
    path = Path(path)
    if path.is_file() and path.suffix == ".inter":
        inter = path
    elif path.is_dir():
        found = sorted(path.glob("*.inter"))
        if len(found) != 1:
            raise GroundingError(
                f"{path}: expected one RecBole .inter file in the folder, found {len(found)}"
            )
        inter = found[0]
    else:
        raise GroundingError(f"{path}: not a RecBole .inter file or a folder holding one")
    item = inter.with_suffix(".item")
    if not item.is_file():
        raise GroundingError(
            f"{item}: file not found (a RecBole dataset needs NAME.item beside NAME.inter)"
        )
    return inter, item


def _typed_header(path: Path, header: list[str]) -> dict[str, tuple[int, str]]:
    """``name -> (column index, type)`` from ``name:type`` header cells."""
    out = {}
    for k, cell in enumerate(header):
        name, sep, kind = cell.partition(":")
        if not sep or kind not in TYPES:
            raise GroundingError(
                f"{path}:1: column {k + 1} header {cell!r}: expected name:type with type one of "
                f"{', '.join(TYPES)}"
            )
        out[name] = (k, kind)
    return out


def _first(columns: dict[str, tuple[int, str]], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in columns:
            return columns[name][0]
    return None


def read_recbole(path: str | Path) -> InteractionLog:
    """Read a RecBole ``.inter`` + ``.item`` pair into an :class:`InteractionLog`."""
    inter, item = find_atomic_files(path)
    report = DropReport()
    header, rows, lines = split_rows(inter, "\t", None, report, "interactions", header=True)
    assert header is not None
    cols = _typed_header(inter, header)
    for need in ("user_id", "item_id"):
        if need not in cols:
            raise GroundingError(f"{inter}:1: no {need!r} column (columns: {', '.join(header)})")
    value = _first(cols, ("rating",))
    rated = value is not None
    if value is None:
        value = _first(cols, ("label",))
    time = _first(cols, ("timestamp",))
    wheres = [f"{inter.name}:{n}" for n in lines]
    events = interactions_from_cells(
        [r[cols["user_id"][0]] for r in rows],
        [r[cols["item_id"][0]] for r in rows],
        None if value is None else [r[value] for r in rows],
        None if time is None else [r[time] for r in rows],
        wheres,
        report,
        value_field="rating" if rated else "label",
        rated=rated,
    )
    iheader, irows, ilines = split_rows(item, "\t", None, report, "items", header=True)
    assert iheader is not None
    icols = _typed_header(item, iheader)
    if "item_id" not in icols:
        raise GroundingError(f"{item}:1: no 'item_id' column (columns: {', '.join(iheader)})")
    title = _first(icols, TITLE)
    genre = _first(icols, GENRES)
    year = _first(icols, YEAR)
    price = _first(icols, ("price",))
    text = _first(icols, TEXT)
    ident = icols["item_id"][0]
    items = items_from_cells(
        [r[ident] for r in irows],
        [r[title] if title is not None else f"Item {r[ident]}" for r in irows],
        [tuple(r[genre].split()) if genre is not None else () for r in irows],
        [f"{item.name}:{n}" for n in ilines],
        report,
        years=None if year is None else [r[year] for r in irows],
        prices=None if price is None else [r[price] for r in irows],
        texts=None if text is None else [r[text] for r in irows],
    )
    return InteractionLog(
        events, items, UserInfo(), report, f"RecBole atomic files ({inter})", inter.stem
    )
