"""The pytest plugin: scenario YAML files become one test per assertion, with readable failures.

The plugin is loaded explicitly (``-p simrec.pytest_plugin``) with entry-point autoloading
off, so these tests do not depend on how simrec is installed.
"""

from __future__ import annotations

import pytest

from tests.test_scenario import TINY
from tests.test_scenario_cli import FAILING

pytest_plugins = ["pytester"]


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")

    def go(*args: str) -> pytest.RunResult:
        return pytester.runpytest_inprocess(
            "-p", "simrec.pytest_plugin", "-p", "no:cacheprovider", *args
        )

    return go


def test_each_assertion_is_an_item_and_a_failure_says_by_how_much(pytester, run):
    pytester.makefile(".yaml", behaviour=TINY + FAILING)
    pytester.makefile(".yaml", persona="id: x\ndomain: golf\n")  # not a scenario: ignored
    result = run("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*behaviour.yaml::oracle.cold_start.ctr_at_5 > random.cold_start.ctr_at_5 PASSED*",
            "*behaviour.yaml::random.cold_start.ctr_at_5 > oracle.cold_start.ctr_at_5 FAILED*",
            "*behaviour.yaml:13: FAILED: random.cold_start.ctr_at_5 > oracle.cold_start.ctr_at_5",
            "*the lower bound * must be above the upper bound *: short by *",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_named_assertions_use_their_name(pytester, run):
    pytester.makefile(
        ".yaml",
        named=TINY.replace(
            "  - oracle.cold_start.ctr_at_5",
            "  - name: oracle finds clicks\n    check: oracle.cold_start.ctr_at_5",
        ),
    )
    result = run("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*named.yaml::oracle finds clicks PASSED*"])


def test_a_malformed_scenario_is_a_collection_error_naming_line_and_field(pytester, run):
    pytester.makefile(".yaml", broken=TINY.replace("episodes: 8", "episodes: -1"))
    result = run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*invalid scenario: *broken.yaml:5: field 'episodes': expected an integer in ?1, 100000?*"]
    )


def test_collection_can_be_switched_off(pytester, run):
    pytester.makefile(".yaml", behaviour=TINY)
    pytester.makeini("[pytest]\nsimrec_scenarios = false\n")
    result = run()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_a_scenario_that_does_not_parse_is_an_error_not_a_silent_skip(pytester, run):
    # A typo in a key (``assertion``) plus a YAML syntax error: not skipped as "not a scenario".
    pytester.makefile(".yaml", typo=TINY.replace("assertions:", "assertion:").replace(
        "horizon: 5", "horizon: [5"))  # fmt: skip
    result = run()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*invalid scenario: *typo.yaml:*: invalid YAML*"])
    assert "passed" not in result.stdout.str().splitlines()[-1]


def test_an_invalid_file_named_explicitly_says_what_is_invalid(pytester, run):
    path = pytester.makefile(".yaml", lone="env: golf\npolicies: {random: random}\nseedz: 3\n")
    result = run(str(path))
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*invalid scenario: *lone.yaml:3: field 'seedz': unknown field*"])
    assert "not found" not in result.stdout.str()


def test_upper_case_suffix_is_collected(pytester, run):
    pytester.makefile(".YAML", upper=TINY)
    run().assert_outcomes(passed=1)


def test_a_scenario_without_assertions_is_an_error_under_pytest(pytester, run):
    pytester.makefile(".yaml", bare=TINY.split("assertions:")[0])
    result = run()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*bare.yaml: no assertions*"])
