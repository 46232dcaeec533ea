"""``simrec scenario run / robustness / validate``: behaviour checks from the command line.

Exit status: 0 when every assertion held, 1 when one failed (each named with its
margin) or was gamed by the gauntlet, 2 on a malformed scenario (one line naming file,
line and field). A scenario without assertions is run with a warning, or refused (exit
2) with ``--strict``. ``robustness`` exits 1 when an assertion passes in fewer seed
blocks than ``--min-rate``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from simrec.cli_args import non_negative_int, positive_int
from simrec.errors import ConfigError

if TYPE_CHECKING:
    from simrec.scenario import Scenario
    from simrec.scenario_run import Progress, ScenarioResult


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
    run.add_argument(
        "--strict",
        action="store_true",
        help="a scenario without assertions is an error (exit 2) instead of a warning "
        "(default: off)",
    )
    run.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (default: shown on stderr when it is a terminal)",
    )
    run.set_defaults(handler=_run)
    robustness = commands.add_parser(
        "robustness",
        help="pass rate of each assertion over independent seed blocks, and the parameter "
        "perturbations that flip it",
    )
    robustness.add_argument("paths", nargs="+", type=Path, help="scenario .yaml files")
    robustness.add_argument(
        "--blocks",
        type=non_negative_int,
        default=25,
        help="seed blocks of the scenario's size (default 25)",
    )
    robustness.add_argument(
        "--perturb-by",
        type=float,
        default=0.25,
        help="relative change of each user-model parameter (default 0.25 = ±25%%)",
    )
    robustness.add_argument(
        "--no-perturb", action="store_true", help="only the seed blocks, no parameter changes"
    )
    robustness.add_argument(
        "--params",
        default=None,
        help="comma-separated parameters to perturb (default: every UtilityParams and "
        "SessionDynamics field)",
    )
    robustness.add_argument(
        "--min-rate",
        type=float,
        default=0.95,
        help="exit 1 when an assertion passes in fewer blocks than this share (default 0.95)",
    )
    robustness.add_argument(
        "--workers", type=positive_int, default=None, help="processes (default: every usable CPU)"
    )
    robustness.add_argument(
        "--json",
        type=Path,
        default=None,
        help="also write the figures to this JSON file (default: none)",
    )
    robustness.set_defaults(handler=_robustness)
    validate = commands.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("paths", nargs="+", type=Path, help="scenario .yaml files")
    validate.set_defaults(handler=_validate)


def _run(args: argparse.Namespace) -> int:

    from simrec.scenario import load_scenario
    from simrec.scenario_report import print_report, report_console, write_results
    from simrec.scenario_run import run_scenario

    console = report_console()
    scenarios = [load_scenario(p) for p in args.paths]  # validate all before running any
    for scenario in scenarios:
        if not scenario.assertions:
            message = f"{scenario.source}: no assertions; the run measures but checks nothing"
            if args.strict:
                raise ConfigError(f"{message} (field 'assertions'; --strict)")
            print(f"simrec: warning: {message} (--strict makes this an error)", file=sys.stderr)
    failed = []
    for scenario in scenarios:
        show = not args.no_progress and sys.stderr.isatty()
        with _progress_bar(scenario, show=show) as progress:
            result = run_scenario(scenario, progress=progress)
        print_report(result, console)
        json_path, csv_path = write_results(result, args.out)
        console.print(f"results: {json_path} {csv_path}", highlight=False)
        if not args.no_report:
            console.print(_write_report(result, json_path), highlight=False, markup=False)
        console.print()
        failed += [f"{scenario.name}: {o.assertion.text}" for o in result.failures]
        failed += [f"{scenario.name}: gamed: {s.describe()}" for s in result.gamed]
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


def _robustness(args: argparse.Namespace) -> int:
    import json

    from simrec.scenario import load_scenario
    from simrec.scenario_report import print_robustness, report_console
    from simrec.scenario_robustness import robustness

    console = report_console()
    scenarios = [load_scenario(p) for p in args.paths]  # validate all before running any
    reports, weak = [], []
    for scenario in scenarios:
        report = robustness(
            scenario,
            blocks=args.blocks,
            perturb_by=None if args.no_perturb else args.perturb_by,
            parameters=args.params.split(",") if args.params else None,
            workers=args.workers,
            progress=_progress_line(scenario.name),
        )
        print_robustness(report, console)
        reports.append(report.to_dict())
        weak += [
            f"{scenario.name}: {a.text} ({report.pass_rate(i):.0%})"
            for i, a in enumerate(scenario.assertions)
            if report.pass_rate(i) < args.min_rate
        ]
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")
    if weak:
        print(
            f"{len(weak)} assertion(s) pass in fewer than {args.min_rate:.0%} of seed blocks:",
            *weak,
            sep="\n  ",
            file=sys.stderr,
        )
        return 1
    return 0


def _progress_line(name: str):
    """A progress callback writing ``name: runs done/all`` over itself on a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\r{name}: {done}/{total} runs", end=end, file=sys.stderr, flush=True)

    return show


@contextmanager
def _progress_bar(scenario: Scenario, show: bool) -> Iterator[Progress | None]:
    """A bar on stderr over the scenario's (policy, seed) batches; ``None`` when hidden."""
    if not show:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    n_seeds = len(scenario.seeds)
    labels = list(scenario.policies)
    bar = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("batches"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task(scenario.name, total=len(labels) * n_seeds)

    def advance(label: str, seed_index: int, seeds: int) -> None:
        done = labels.index(label) * n_seeds + seed_index
        bar.update(
            task,
            completed=done,
            description=f"{scenario.name}: {label} seed {seed_index + 1}/{seeds}",
        )

    with bar:
        yield advance
        bar.update(task, completed=len(labels) * n_seeds, description=scenario.name)


def _validate(args: argparse.Namespace) -> int:
    from simrec.scenario import load_scenario

    for path in args.paths:
        scenario = load_scenario(path)
        print(
            f"{path}: ok ({len(scenario.policies)} policies, {len(scenario.assertions)} assertions)"
        )
    return 0
