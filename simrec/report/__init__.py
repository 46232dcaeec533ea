"""Reports: one self-contained HTML page per scenario result, dataset or fidelity result.

``simrec report PATH`` (or :func:`write_report`) turns what simrec wrote into a page a
person reads: charts embedded as SVG images, tables, no scripts and nothing fetched, so
it opens offline. ``simrec scenario run`` writes the page of each scenario beside its
JSON and CSV. Charts need matplotlib (``pip install 'simrec[report]'``); the rest of
simrec imports and runs without it.

Example::

    from simrec.report import write_report
    for page in write_report("results/"):   # every result in the folder
        print(page)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from simrec.errors import ReportError
from simrec.report.inputs import Found, Input, find_inputs
from simrec.report.plots import INSTALL_HINT, available, require

__all__ = [
    "INSTALL_HINT",
    "available",
    "find_inputs",
    "render",
    "scenario_page",
    "write_found",
    "write_page",
    "write_report",
]


def render(item: Input) -> str:
    """The HTML page of one input (see :func:`simrec.report.inputs.find_inputs`)."""
    require()
    if item.kind == "scenario":
        from simrec.report.scenario import render_scenario

        return render_scenario(item.data, str(item.path))
    if item.kind == "fidelity":
        from simrec.report.fidelity import render_fidelity

        return render_fidelity(item.data, str(item.path))
    if item.kind == "dataset":
        from simrec.report.dataset import render_dataset

        return render_dataset(item.path)
    raise ReportError(f"{item.path}: unknown report kind {item.kind!r}")


def write_page(html: str, out: str | Path) -> Path:
    """Write ``html`` to ``out`` atomically (a reader never sees half a page)."""
    target = Path(out)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(html, encoding="utf-8")
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ReportError(f"{target}: cannot write the report: {exc.strerror or exc}") from None
    return target


def write_report(path: str | Path, out: str | Path | None = None) -> list[Path]:
    """Write the report(s) ``path`` asks for and return where they went.

    Args:
        path: a scenario result JSON, a fidelity JSON, a dataset folder, or a folder of
            results (one page per result in it).
        out: where to write the page instead of the default place (only when ``path``
            makes exactly one report).

    Raises:
        ReportError: nothing to report, a malformed input (naming file and field),
            matplotlib missing (saying how to install it), or an unwritable output.
    """
    found = find_inputs(path)
    return write_found(found, out)


def write_found(found: Found, out: str | Path | None = None) -> list[Path]:
    """Write the reports of :func:`find_inputs`' answer (see :func:`write_report`)."""
    if out is not None and len(found.inputs) != 1:
        raise ReportError(
            f"--out names one file, but there are {len(found.inputs)} reports to write; "
            "leave it out to write each beside its result"
        )
    written = []
    for item in found.inputs:
        written.append(write_page(render(item), out if out is not None else item.out))
    return written


def scenario_page(result_json: dict[str, Any], source: str) -> str:
    """The page of a scenario result held in memory (``simrec scenario run`` uses it)."""
    require()
    from simrec.report.scenario import render_scenario

    return render_scenario(result_json, source)
