"""Report size and generation time for every shipped scenario (and a generated dataset).

Run: ``python benchmarks/bench_report.py [scenario.yaml ...]`` (default: every file in
``scenarios/``). Each scenario is run once (not timed) and its result JSON written to a
temporary folder; then for each it prints:

* ``cold``: ``simrec report <name>.json`` in a fresh process, what a user waits for
  (Python start, imports including matplotlib, reading, drawing, writing), wall and CPU
  seconds (CPU of the child process, which other load on the machine does not inflate);
* ``warm``: the same page rendered again in this process (imports done), CPU seconds;
* the page's size against the 2 MB budget, and its charts.

Targets: under 3 s per shipped scenario, under 2 MB per page. ``--dataset N`` also
times the report of an N-session golf dataset (``simrec generate``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_BYTES = 2_000_000
BUDGET_SECONDS = 3.0


def cold(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``simrec report path`` in a fresh Python process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from simrec.cli import main; import sys; sys.exit(main())",
         "report", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def warm(path: Path) -> float:
    """CPU seconds to render and write the page again in this process."""
    from simrec.report import write_report

    write_report(path)
    start = time.process_time()
    write_report(path)
    return time.process_time() - start


def describe(page: Path) -> str:
    html = page.read_text(encoding="utf-8")
    charts = html.count("<figure")
    panels = html.count('class="panel plot"')
    size = len(html.encode("utf-8"))
    return f"{size / 1e6:.2f} MB ({size / BUDGET_BYTES:.0%} of 2 MB), {charts} charts, {panels} metric panels"


def bench_scenario(path: Path, out: Path) -> None:
    from simrec.scenario import load_scenario
    from simrec.scenario_report import write_results
    from simrec.scenario_run import run_scenario

    scenario = load_scenario(path)
    json_path, _ = write_results(run_scenario(scenario), out)
    wall, cpu = cold(json_path)
    again = warm(json_path)
    print(
        f"{scenario.name}: cold {wall:.2f} s wall / {cpu:.2f} s CPU "
        f"({cpu / BUDGET_SECONDS:.0%} of 3 s), warm {again:.2f} s CPU; "
        f"{describe(json_path.with_suffix('.html'))}"
    )


def bench_dataset(sessions: int, out: Path) -> None:
    import simrec

    folder = out / f"golf-{sessions}"
    simrec.generate("golf", "popularity", sessions, seed=0, out=folder, workers=os.cpu_count() or 1)
    wall, cpu = cold(folder)
    rows = json.loads((folder / "manifest.json").read_text())["rows"]["interactions"]
    print(
        f"dataset ({sessions:,} sessions, {rows:,} interactions): cold {wall:.2f} s wall / "
        f"{cpu:.2f} s CPU; {describe(folder / 'report.html')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--dataset", type=int, default=0, help="also a dataset of N sessions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        for path in args.paths or sorted((ROOT / "scenarios").glob("*.yaml")):
            bench_scenario(path, out)
        if args.dataset:
            bench_dataset(args.dataset, out)


if __name__ == "__main__":
    main()
