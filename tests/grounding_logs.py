"""Small synthetic interaction logs in every format ``simrec ground`` reads (no MovieLens data).

Users each prefer one of four genres and choose mostly items of it, popular ones more
often, over time; every writer can add malformed rows whose reasons tests then expect
in the drop report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

GENRES = ("Action", "Comedy", "Drama", "Horror")


@dataclass
class SyntheticLog:
    """Events (user, item, rating, timestamp) and items (id, title, genres, year)."""

    events: pd.DataFrame
    items: pd.DataFrame


def make_log(
    n_users: int = 40, n_items: int = 48, events_per_user: int = 15, seed: int = 0
) -> SyntheticLog:
    """Users who like one genre each, choosing its popular items more, in time order."""
    rng = np.random.default_rng(seed)
    genre = np.arange(n_items) % len(GENRES)
    items = pd.DataFrame(
        {
            "item": [str(i + 1) for i in range(n_items)],
            "title": [f"Film {i + 1} ({1950 + 5 * (i % 9)})" for i in range(n_items)],
            "genres": [
                GENRES[g] + ("|" + GENRES[(g + 1) % 4] if i % 5 == 0 else "")
                for i, g in enumerate(genre)
            ],
            "year": [1950 + 5 * (i % 9) for i in range(n_items)],
        }
    )
    rows = []
    popularity = 1.0 / (1.0 + np.arange(n_items) // 4)
    for u in range(n_users):
        liked = u % len(GENRES)
        weight = popularity * np.where(genre == liked, 6.0, 0.4)
        chosen = rng.choice(n_items, size=events_per_user, replace=False, p=weight / weight.sum())
        start = 880_000_000 + int(rng.integers(0, 10_000_000))
        for k, i in enumerate(chosen.tolist()):
            rating = int(np.clip(round(4 + rng.normal(0, 1) - (genre[i] != liked)), 1, 5))
            rows.append((str(u + 1), str(i + 1), rating, start + 3_600 * k))
    events = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    return SyntheticLog(events, items)


def write_ml100k(log: SyntheticLog, folder: Path, bad_rows: list[str] = ()) -> Path:
    """GroupLens' ml-100k layout: u.data (tab), u.item (|, 19 genre flags), u.user."""
    from simrec.grounding.movielens import ML100K_GENRES

    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{r.user}\t{r.item}\t{r.rating}\t{r.timestamp}" for r in log.events.itertuples()]
    (folder / "u.data").write_text("\n".join([*lines, *bad_rows]) + "\n", encoding="latin-1")
    item_lines = []
    for r in log.items.itertuples():
        flags = ["1" if g in r.genres.split("|") else "0" for g in ML100K_GENRES]
        item_lines.append("|".join([r.item, r.title, f"01-Jan-{r.year}", "", "http://x", *flags]))
    (folder / "u.item").write_text("\n".join(item_lines) + "\n", encoding="latin-1")
    users = sorted(set(log.events.user), key=int)
    (folder / "u.user").write_text(
        "".join(f"{u}|{20 + int(u) % 40}|M|writer|12345\n" for u in users), encoding="latin-1"
    )
    return folder


def write_latest(log: SyntheticLog, folder: Path, bad_rows: list[str] = ()) -> Path:
    """ml-latest-small layout: ratings.csv and movies.csv (genres ``A|B``)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["userId,movieId,rating,timestamp"]
    lines += [f"{r.user},{r.item},{r.rating}.0,{r.timestamp}" for r in log.events.itertuples()]
    (folder / "ratings.csv").write_text("\n".join([*lines, *bad_rows]) + "\n")
    movies = ["movieId,title,genres"] + [
        f'{r.item},"{r.title}",{r.genres}' for r in log.items.itertuples()
    ]
    (folder / "movies.csv").write_text("\n".join(movies) + "\n")
    return folder


def write_ml1m(log: SyntheticLog, folder: Path, bad_rows: list[str] = ()) -> Path:
    """ml-1m layout: ratings.dat, movies.dat, users.dat (``::``)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{r.user}::{r.item}::{r.rating}::{r.timestamp}" for r in log.events.itertuples()]
    (folder / "ratings.dat").write_text("\n".join([*lines, *bad_rows]) + "\n", encoding="latin-1")
    movies = [f"{r.item}::{r.title}::{r.genres}" for r in log.items.itertuples()]
    (folder / "movies.dat").write_text("\n".join(movies) + "\n", encoding="latin-1")
    users = sorted(set(log.events.user), key=int)
    (folder / "users.dat").write_text(
        "".join(f"{u}::F::25::12::12345\n" for u in users), encoding="latin-1"
    )
    return folder


def write_recbole(log: SyntheticLog, folder: Path, bad_rows: list[str] = ()) -> Path:
    """RecBole atomic files: NAME.inter and NAME.item with typed headers."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    lines += [f"{r.user}\t{r.item}\t{r.rating}\t{r.timestamp}" for r in log.events.itertuples()]
    (folder / "synth.inter").write_text("\n".join([*lines, *bad_rows]) + "\n")
    items = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
    items += [
        f"{r.item}\t{r.title}\t{r.year}\t{r.genres.replace('|', ' ')}"
        for r in log.items.itertuples()
    ]
    (folder / "synth.item").write_text("\n".join(items) + "\n")
    return folder


def write_table(log: SyntheticLog, folder: Path, suffix: str = ".csv") -> tuple[Path, Path]:
    """A generic events table and items table (CSV or parquet, default column names)."""
    folder.mkdir(parents=True, exist_ok=True)
    events, items = folder / f"events{suffix}", folder / f"items{suffix}"
    if suffix == ".csv":
        log.events.to_csv(events, index=False)
        log.items.to_csv(items, index=False)
    else:
        log.events.to_parquet(events, index=False)
        log.items.to_parquet(items, index=False)
    return events, items
