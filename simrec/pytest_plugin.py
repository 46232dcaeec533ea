"""A pytest plugin: scenario YAML files become tests, one item per assertion.

Installed with simrec (entry point ``pytest11``), so ``pytest scenarios/`` runs a team's
behaviour checks in CI. A YAML file is collected when it looks like a scenario (top-level
``policies:`` and ``assertions:`` keys); other YAML files are left alone. Each file's
scenario runs once, on first use, and every assertion is its own test item whose failure
message names the check, both intervals and by how much it missed. With ``gauntlet:
true`` an assertion also fails when a gauntlet policy passes it in the place of the
policy it endorses (:mod:`simrec.scenario_gauntlet`).

Disable with ``-p no:simrec`` or the ini option ``simrec_scenarios = false``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

_SCENARIO_KEYS = (re.compile(r"^policies:", re.M), re.compile(r"^assertions:", re.M))


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``simrec_scenarios`` ini switch."""
    parser.addini(
        "simrec_scenarios", "collect simrec scenario YAML files as tests", type="bool", default=True
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect ``*.yaml`` / ``*.yml`` files that look like scenarios."""
    if file_path.suffix not in (".yaml", ".yml") or not parent.config.getini("simrec_scenarios"):
        return None
    try:
        text = file_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not all(key.search(text) for key in _SCENARIO_KEYS):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):
    """One scenario file: validated at collection, run once when its first item runs."""

    def collect(self):
        """One :class:`AssertionItem` per assertion of the scenario."""
        from simrec.errors import SimrecError
        from simrec.scenario import load_scenario

        try:
            self.scenario = load_scenario(self.path)
        except SimrecError as exc:
            raise self.CollectError(f"invalid scenario: {exc}") from None
        self._result: Any = None
        for index, assertion in enumerate(self.scenario.assertions):
            name = assertion.name or assertion.text
            yield AssertionItem.from_parent(self, name=name, index=index)

    def result(self) -> Any:
        """The scenario's results (run on first call, then reused)."""
        if self._result is None:
            from simrec.scenario_run import run_scenario

            self._result = run_scenario(self.scenario)
        return self._result


class ScenarioAssertionFailed(Exception):
    """An assertion of a scenario did not hold (the message says by how much)."""


class AssertionItem(pytest.Item):
    """One assertion of a scenario as a test."""

    def __init__(self, *, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = index

    def runtest(self) -> None:
        """Run the scenario (once per file) and check this assertion on the intervals."""
        result = self.parent.result()
        outcome = result.outcomes[self.index]
        if not outcome.passed:
            raise ScenarioAssertionFailed(outcome.message)
        gamed = [s for s in result.gamed if s.assertion is outcome.assertion]
        if gamed:  # with ``gauntlet: true``, a verdict a degenerate policy earns is no verdict
            lines = "\n  ".join(s.describe() for s in gamed)
            raise ScenarioAssertionFailed(
                f"{outcome.message}\n  but the gauntlet games it:\n  {lines}"
            )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        """The assertion's own message instead of a traceback."""
        if isinstance(excinfo.value, ScenarioAssertionFailed):
            return f"{self.path}:{self.assertion_line or '?'}: {excinfo.value}"
        return super().repr_failure(excinfo)

    @property
    def assertion_line(self) -> int | None:
        """The line of this assertion in the scenario file."""
        return self.parent.scenario.assertions[self.index].line

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the assertion is written (shown in reports)."""
        line = self.assertion_line
        return self.path, (line - 1 if line else None), f"scenario assertion: {self.name}"
