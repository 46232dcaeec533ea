"""Command-line options for LLM brains, for ``simrec run ... --brain anthropic|openai``.

The CLI owns its parser; it calls three functions from here::

    add_llm_arguments(run_parser)                   # --model, --cache, --cache-path ...
    brain_kwargs = llm_options(args)                # -> gym.make(..., brain_kwargs=...)
    print(format_usage_report(usage_ledger(env)))   # tokens, latency, invalid, cost

Options left unset are not passed, so the brain's documented defaults apply.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from simrec.cli_args import non_negative_int, positive_float, positive_int
from simrec.errors import ConfigError, located
from simrec.llm.accounting import UsageLedger, format_ledger, resolve_prices
from simrec.llm.cache import MODES
from simrec.validation import describe
from simrec.yamlio import load_yaml, read_text

_FALLBACKS = ("raise", "utility", "skip")
LLM_BRAINS = ("anthropic", "openai")
_OPENAI_ONLY = ("api_key_env", "structured_output")


def add_llm_arguments(
    parser: argparse.ArgumentParser, *, fallback: bool = True, title: str | None = None
) -> argparse._ArgumentGroup:
    """Add the LLM brain options to ``parser`` (as one argument group) and return the group.

    Args:
        parser: the subcommand's parser.
        fallback: add ``--on-invalid`` (a simulated user's step has a fallback; a command
            whose answers have none, such as ``personas create``, leaves it out).
        title: the group's title.
    """
    group = parser.add_argument_group(title or "LLM brain (--brain anthropic or --brain openai)")
    group.add_argument(
        "--model", help="model id (default: claude-haiku-5-5; required with --brain openai)"
    )
    group.add_argument(
        "--base-url",
        help="API base URL, e.g. http://127.0.0.1:8000/v1 for a local vLLM or "
        "http://127.0.0.1:11434/v1 for Ollama (default: the SDK's, or ANTHROPIC_BASE_URL / "
        "OPENAI_BASE_URL)",
    )
    group.add_argument(
        "--api-key-env",
        help="environment variable holding the key (--brain openai; default OPENAI_API_KEY; "
        "a server on this machine needs none)",
    )
    group.add_argument(
        "--structured-output",
        choices=("auto", "json_schema", "tools", "text"),
        help="how an OpenAI-compatible server is asked for the reaction (default auto: "
        "probe it once per model)",
    )
    group.add_argument(
        "--cache",
        choices=MODES,
        help="response cache: off (default), record "
        "(read-write) or replay (no API calls; a miss is an error)",
    )
    group.add_argument(
        "--cache-path",
        help="the .sqlite cache file to record to or replay from (default: none; "
        "--cache record/replay need one)",
    )
    group.add_argument(
        "--concurrency",
        type=positive_int,
        help="LLM calls in flight at once (default 8); with simrec run, episodes run at "
        "once (any brain; the same results whatever N)",
    )
    if fallback:
        group.add_argument(
            "--on-invalid",
            choices=_FALLBACKS,
            help="after an invalid answer is repaired once without success, or the API "
            "keeps failing: raise, use the utility brain (default) or skip the step",
        )
    group.add_argument(
        "--max-retries",
        type=non_negative_int,
        help="retries of 429/529/5xx/timeouts (default 4)",
    )
    group.add_argument(
        "--timeout", type=positive_float, help="seconds per API attempt (default 60)"
    )
    group.add_argument(
        "--prices",
        help="YAML/JSON file {model: {input, output, cache_read, "
        "cache_write}} in USD per million tokens (default: the built-in table)",
    )
    return group


def brain_kwargs_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The ``brain_kwargs`` for ``brain="anthropic"`` from parsed options (unset ones omitted).

    Raises:
        ConfigError: the ``--prices`` file is missing or malformed (see :func:`read_prices_file`).
    """
    names = {
        "model": "model",
        "base_url": "base_url",
        "api_key_env": "api_key_env",
        "structured_output": "structured_output",
        "cache": "cache",
        "cache_path": "cache_path",
        "concurrency": "concurrency",
        "on_invalid": "on_invalid",
        "max_retries": "max_retries",
        "timeout": "timeout",
    }
    out = {
        key: getattr(args, attr)
        for attr, key in names.items()
        if getattr(args, attr, None) is not None
    }
    prices = getattr(args, "prices", None)
    if prices is not None:
        out["prices"] = read_prices_file(prices)
    return out


def read_prices_file(name: str) -> dict[str, Any]:
    """The ``--prices`` file's ``{model: {rate: USD per million tokens}}``, validated now.

    Raises:
        ConfigError: naming the file (and line) when it is missing, unreadable, not valid
            JSON/YAML, not a mapping, or a rate is unknown or not a non-negative number.
    """
    path = Path(name)
    if not path.is_file():
        raise ConfigError(f"--prices: file {name!r} not found")
    doc = None
    if path.suffix == ".json":
        try:
            data = json.loads(read_text(path, ConfigError))
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{name}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})"
            ) from None
    else:
        doc = load_yaml(path, ConfigError)
        data = doc.data
    if not isinstance(data, dict):
        raise ConfigError(
            f"{name}: expected a mapping {{model: {{input: ..., output: ...}}}}, "
            f"got {describe(data)}"
        )
    for model, rates in data.items():  # one model at a time, so an error has its line
        try:
            resolve_prices({model: rates})
        except ConfigError as exc:
            line = doc.line((str(model),)) if doc is not None else None
            raise ConfigError(located(name, str(exc), line)) from None
    return data


def llm_options(args: argparse.Namespace) -> dict[str, Any]:
    """:func:`brain_kwargs_from_args`, refusing LLM options given without an LLM brain.

    Raises:
        ConfigError: an LLM option without ``--brain anthropic`` or ``--brain openai``, an
            OpenAI-only option with ``--brain anthropic``, or a bad ``--prices`` file.
    """
    options = brain_kwargs_from_args(args)
    brain = getattr(args, "brain", None)
    if options and brain not in LLM_BRAINS:
        flag = next(iter(options)).replace("_", "-")
        raise ConfigError(f"--{flag} applies only with --brain anthropic or --brain openai")
    if brain == "anthropic":
        for name in _OPENAI_ONLY:
            if name in options:
                raise ConfigError(f"--{name.replace('_', '-')} applies only with --brain openai")
    return options


def usage_ledger(env: Any) -> UsageLedger | None:
    """The usage ledger of ``env``'s brain (unwrapping Gymnasium wrappers), or ``None``."""
    brain = getattr(getattr(env, "unwrapped", env), "brain", None)
    return getattr(brain, "ledger", None)


def usage_ledgers(env: Any, policy: Any = None) -> list[UsageLedger]:
    """Every ledger a run counted into: the brain's, and the policy's when it has its own
    (an LLM policy shares the brain's by default: one report, a block per role)."""
    found = [usage_ledger(env), getattr(policy, "ledger", None)]
    out: list[UsageLedger] = []
    for ledger in found:
        if isinstance(ledger, UsageLedger) and all(ledger is not o for o in out):
            out.append(ledger)
    return out


def format_usage_report(ledger: UsageLedger | None) -> str:
    """The end-of-run LLM report: calls, tokens, latency percentiles, invalid answers, cost."""
    if ledger is None:
        return "LLM usage: none (the brain makes no LLM calls)"
    return format_ledger(ledger)
