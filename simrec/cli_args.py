"""Argument types and help formatting shared by the ``simrec`` subcommands."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import Any

import yaml

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


_KEY = re.compile(r"^[A-Za-z_]\w*$")
SECRET_PARAMS = ("api_key",)
"""Policy parameters never taken from a command line (they reach logs and manifests)."""


def policy_param(text: str) -> tuple[str, Any]:
    """An ``argparse`` type: ``KEY=VALUE``, the value read as YAML (``0.3``, ``true``,
    ``[a, b]``, ``{alpha: 1}``; anything else is a string)."""
    key, sep, raw = text.partition("=")
    if not sep or not _KEY.match(key.strip()):
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (e.g. candidates=30), got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise argparse.ArgumentTypeError(
            f"{text!r}: the value is not valid YAML ({problem})"
        ) from None
    return key.strip(), value


def policy_params(pairs: Sequence[tuple[str, Any]] | None) -> dict[str, Any]:
    """The ``--policy-param`` pairs as keyword arguments of the policy.

    Raises:
        ConfigError: a key given twice, or a secret (``api_key``: set it in the environment).
    """
    out: dict[str, Any] = {}
    for key, value in pairs or ():
        if key in SECRET_PARAMS:
            raise ConfigError(
                f"--policy-param {key}: not accepted on a command line (it would reach logs "
                "and manifests); set the key in the environment (ANTHROPIC_API_KEY, or the "
                "variable api_key_env names)"
            )
        if key in out:
            raise ConfigError(f"--policy-param {key}: given twice")
        out[key] = value
    return out


def add_policy_params(parser: argparse.ArgumentParser) -> None:
    """Add ``--policy-param KEY=VALUE`` (repeatable) to ``parser``."""
    parser.add_argument(
        "--policy-param",
        dest="policy_params",
        metavar="KEY=VALUE",
        type=policy_param,
        action="append",
        help="a parameter of the policy, repeatable; the value is read as YAML: "
        "--policy-param alpha=0.3, --policy-param model=claude-haiku-5-5 --policy-param "
        "cache=record --policy-param cache_path=policy.sqlite (default: the policy's own)",
    )


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
