"""Argument types and help formatting shared by the ``simrec`` subcommands."""

from __future__ import annotations

import argparse

from simrec.errors import ConfigError
from simrec.validation import SEED_MAX, check_seed


def positive_int(text: str) -> int:
    """An ``argparse`` type: a whole number of at least 1, with a clear message otherwise."""
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """An ``argparse`` type: a whole number of at least 0, with a clear message otherwise."""
    return _int_at_least(text, 0, "an integer >= 0")


def _int_at_least(text: str, low: int, expected: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
    return value


def positive_float(text: str) -> float:
    """An ``argparse`` type: a finite number above 0, with a clear message otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def seed(text: str) -> int:
    """An ``argparse`` type: a seed, an integer in ``[0, SEED_MAX]``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a seed (an integer in [0, {SEED_MAX}]), got {text!r}"
        ) from None
    try:
        return check_seed(value, "seed")
    except ConfigError:
        raise argparse.ArgumentTypeError(
            f"expected a seed (an integer in [0, {SEED_MAX}]), got {value}"
        ) from None


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Help that always shows an option's default: ``(default: X)`` is appended unless the
    help text already says what the default is (``default: the preset's``)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default is argparse.SUPPRESS or action.required:
            return text
        if not action.option_strings:  # positionals have no default
            return text
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            return f"{text} (default: {'on' if action.default else 'off'})"
        return f"{text} (default: %(default)s)"


def use_defaults_help(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` and every subcommand's parser :class:`DefaultsHelpFormatter`."""
    parser.formatter_class = DefaultsHelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                use_defaults_help(sub)
