"""A pytest plugin: scenario YAML files become tests, one item per assertion.

Installed with simrec (entry point ``pytest11``), so ``pytest scenarios/`` runs a team's
behaviour checks in CI. A YAML file is collected when it looks like a scenario (two
top-level keys only scenarios have, or a mention of policies or assertions in a file that
does not parse) or is named on the command line; other YAML files are left alone. A
scenario that is invalid is a collection error naming the file, line and field; one without assertions
is a collection error too (it would otherwise pass without checking anything). Each file's
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

_SCENARIO_KEY = re.compile(
    r"^(policies|assertions|seeds|horizon|episodes|persona_events|events|metrics)\s*:", re.M
)
"""Top-level keys that, two at a time, only a scenario has."""
_SCENARIO_WORDS = re.compile(r"\b(policies|assertions)\b")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``simrec_scenarios`` ini switch."""
    parser.addini(
        "simrec_scenarios", "collect simrec scenario YAML files as tests", type="bool", default=True
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect ``*.yaml`` / ``*.yml`` files (any letter case) that look like scenarios.

    A file named on the command line is always collected, so ``pytest typo.yaml`` says
    what is wrong with it instead of "not found". In a directory, a file is a scenario
    when it has two top-level keys only scenarios have (``policies``, ``assertions``,
    ``seeds``, ``horizon``, ...), or mentions policies or assertions and does not parse:
    a scenario with a typo fails loudly instead of being skipped.
    """
    if file_path.suffix.lower() not in (".yaml", ".yml"):
        return None
    if not parent.config.getini("simrec_scenarios"):
        return None
    if parent.session.isinitpath(file_path) or _looks_like_scenario(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def _looks_like_scenario(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if len(set(_SCENARIO_KEY.findall(text))) >= 2:
        return True
    if not _SCENARIO_WORDS.search(text):
        return False
    import yaml

    try:
        yaml.safe_load(text)
    except yaml.YAMLError:
        return True  # mentions policies/assertions and does not parse: a broken scenario
    return False


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
        if not self.scenario.assertions:
            raise self.CollectError(
                f"invalid scenario: {self.path}: no assertions; a scenario under pytest needs "
                "at least one (field 'assertions')"
            )
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
