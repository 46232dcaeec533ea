"""``simrec report PATH``: the HTML page of a scenario result, dataset or fidelity result.

Exit status 0 when every page was written, 2 on a user error (nothing to report, a
malformed file, matplotlib missing): one line on stderr saying what and how to fix it.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` command to the ``simrec`` parser."""
    report = subparsers.add_parser(
        "report",
        help="write a self-contained HTML report of a scenario result, dataset or fidelity result",
        description=(
            "Write one self-contained HTML page (charts embedded, opens offline) for PATH: "
            "a scenario result <name>.json (page: <name>.html beside it), a dataset folder "
            "from `simrec generate` (page: report.html inside it), a fidelity.json (page: "
            "fidelity.html beside it), or a folder of results (a page per result)."
        ),
    )
    report.add_argument("path", type=Path, help="result JSON, dataset folder or results folder")
    report.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write the page here, when PATH makes one report (default: beside the result; "
        "report.html inside a dataset folder)",
    )
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from simrec.report import find_inputs, write_found

    found = find_inputs(args.path)
    for skipped in found.skipped:
        print(f"skipped {skipped}")
    for page in write_found(found, args.out):
        print(f"report: {page}")
    return 0
