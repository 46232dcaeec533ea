"""What a path given to ``simrec report`` is: scenario results, a dataset or a fidelity result.

* a scenario result: ``<name>.json`` written by ``simrec scenario run`` (it has
  ``scenario`` and ``results``); its report is ``<name>.html`` beside it;
* a fidelity result: ``fidelity.json`` written by ``simrec fidelity`` (it has
  ``accuracy_1_1``); its report is ``fidelity.html`` beside it;
* a dataset: a folder with ``manifest.json`` written by ``simrec generate``; its report
  is ``report.html`` inside the folder;
* a folder of results (e.g. ``results/``): every scenario or fidelity result in it.
  Other JSON files there are listed as skipped, never silently ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simrec.datagen.store import MANIFEST, is_dataset_dir
from simrec.errors import ReportError

DATASET_REPORT = "report.html"
FIDELITY_KEYS = ("accuracy_1_1",)


@dataclass(frozen=True)
class Input:
    """One report to make: its kind, where the data is, where the page goes."""

    kind: str  # "scenario" | "fidelity" | "dataset"
    path: Path
    out: Path
    data: Any = None  # the parsed JSON (scenario, fidelity)


@dataclass
class Found:
    """The reports a path asks for, and the files in it that are not results."""

    inputs: list[Input] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def find_inputs(path: str | Path) -> Found:
    """The reports ``path`` asks for.

    Raises:
        ReportError: the path does not exist, is unreadable or invalid JSON, is a JSON
            file of another kind, or is a folder holding nothing to report.
    """
    root = Path(path)
    if not root.exists():
        raise ReportError(f"{root}: no such file or directory")
    if root.is_file():
        data = read_json(root)
        kind = classify(data)
        if kind is None:
            raise ReportError(
                f"{root}: not a simrec result: expected a scenario result (fields 'scenario' "
                "and 'results', from `simrec scenario run`) or a fidelity result (field "
                "'accuracy_1_1', from `simrec fidelity`)"
            )
        return Found([Input(kind, root, report_path(root), data)])
    if is_dataset_dir(root):
        return Found([Input("dataset", root, root / DATASET_REPORT)])
    found = Found()
    for file in sorted(root.glob("*.json")):
        data = read_json(file)
        kind = classify(data)
        if kind is None:
            found.skipped.append(f"{file} (not a scenario or fidelity result)")
        else:
            found.inputs.append(Input(kind, file, report_path(file), data))
    if not found.inputs:
        raise ReportError(
            f"{root}: nothing to report: no scenario result (<name>.json from `simrec "
            f"scenario run`), fidelity result (fidelity.json) or dataset ({MANIFEST}) here"
        )
    return found


def read_json(path: Path) -> Any:
    """The parsed JSON of ``path``, or a :class:`ReportError` naming it and where it broke."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: cannot read: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(
            f"{path}:{exc.lineno}: not valid JSON: {exc.msg} (column {exc.colno})"
        ) from None


def classify(data: Any) -> str | None:
    """``"scenario"``, ``"fidelity"`` or ``None`` for a parsed JSON document."""
    if not isinstance(data, dict):
        return None
    if "scenario" in data and "results" in data:
        return "scenario"
    if any(key in data for key in FIDELITY_KEYS):
        return "fidelity"
    return None


def report_path(result: Path) -> Path:
    """Where the report of a result file goes: beside it, ``.html`` for ``.json``."""
    return result.with_suffix(".html")
