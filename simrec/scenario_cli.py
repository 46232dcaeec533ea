"""``simrec scenario run / validate``: behaviour checks from the command line.

Exit status: 0 when every assertion held, 1 when one failed (each named with its
margin), 2 on a malformed scenario (one line naming file, line and field).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simrec.scenario_run import ScenarioResult


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``scenario`` command to the ``simrec`` parser."""
    scenario = subparsers.add_parser("scenario", help="run behaviour scenarios (YAML)")
    commands = scenario.add_subparsers(dest="scenario_command", required=True)
    run = commands.add_parser(
        "run", help="run a scenario's policies, print tables, write results, check assertions"
    )
    run.add_argument("paths", nargs="+", type=Path, help="scenario .yaml files")
    run.add_argument(
        "--out", type=Path, default=Path("results"), help="results folder (default: results/)"
    )
    run.add_argument(
        "--no-report",
        action="store_true",
        help="skip the HTML report (default: <name>.html beside the JSON and CSV)",
    )
    run.set_defaults(handler=_run)
    validate = commands.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("paths", nargs="+", type=Path, help="scenario .yaml files")
    validate.set_defaults(handler=_validate)


def _run(args: argparse.Namespace) -> int:

    from simrec.scenario import load_scenario
    from simrec.scenario_report import print_report, report_console, write_results
    from simrec.scenario_run import run_scenario

    console = report_console()
    scenarios = [load_scenario(p) for p in args.paths]  # validate all before running any
    failed = []
    for scenario in scenarios:
        result = run_scenario(scenario)
        print_report(result, console)
        json_path, csv_path = write_results(result, args.out)
        console.print(f"results: {json_path} {csv_path}", highlight=False)
        if not args.no_report:
            console.print(_write_report(result, json_path), highlight=False, markup=False)
        console.print()
        failed += [f"{scenario.name}: {o.assertion.text}" for o in result.failures]
    if failed:
        print(f"{len(failed)} assertion(s) failed:", *failed, sep="\n  ", file=sys.stderr)
        return 1
    return 0


def _write_report(result: ScenarioResult, json_path: Path) -> str:
    """Write ``<name>.html`` beside the JSON; the line to print (its path, or why not)."""
    from simrec.report import INSTALL_HINT, available, scenario_page, write_page
    from simrec.scenario_report import result_json

    if not available():
        return f"report: skipped, it needs matplotlib: {INSTALL_HINT}"
    page = write_page(
        scenario_page(result_json(result), str(json_path)), json_path.with_suffix(".html")
    )
    return f"report: {page}"


def _validate(args: argparse.Namespace) -> int:
    from simrec.scenario import load_scenario

    for path in args.paths:
        scenario = load_scenario(path)
        print(
            f"{path}: ok ({len(scenario.policies)} policies, {len(scenario.assertions)} assertions)"
        )
    return 0
