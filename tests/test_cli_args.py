"""Every option of every ``simrec`` command has help text and shows its default; seeds are
checked where they are typed."""

from __future__ import annotations

import argparse

import pytest

from simrec.cli import build_parser
from simrec.cli_args import seed


def _parsers(parser: argparse.ArgumentParser, name: str = "simrec"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


COMMANDS = list(_parsers(build_parser()))


def test_the_walk_reaches_every_command():
    names = {name for name, _ in COMMANDS}
    assert {"simrec run", "simrec generate", "simrec export", "simrec scenario run",
            "simrec personas validate", "simrec catalog generate"} <= names  # fmt: skip


@pytest.mark.parametrize(("name", "parser"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_option_has_help_and_shows_its_default(name, parser):
    text = parser.format_help()
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            continue
        if isinstance(action, argparse._SubParsersAction):
            continue
        label = "/".join(action.option_strings) or action.dest
        assert action.help, f"{name}: {label} has no help text"
        if action.option_strings and not action.required:
            shown = parser.formatter_class(name)._get_help_string(action) % {
                **vars(action), "prog": name}  # fmt: skip
            assert "default" in shown, f"{name}: {label} does not show its default: {shown!r}"
    assert "(default: None)" not in text, f"{name}: a default shown as 'None' says nothing"


@pytest.mark.parametrize("text", ["-1", "4294967296", "99999999999999999999999", "1.5", "x"])
def test_a_seed_outside_the_range_is_a_usage_error_naming_the_range(text):
    with pytest.raises(
        argparse.ArgumentTypeError, match=r"expected a seed \(an integer in \[0, 4294967295\]\)"
    ):
        seed(text)


def test_seeds_in_range_pass():
    assert seed("0") == 0 and seed("4294967295") == 4294967295
