"""``simrec generate`` and ``simrec export``: write datasets, convert them for other tools."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simrec.cli_args import add_policy_params, policy_params, positive_float, positive_int, seed
from simrec.datagen.formats import FORMATS
from simrec.llm.cli_support import add_llm_arguments, llm_options

if TYPE_CHECKING:
    import pandas as pd


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(
            f"expected a JSON object, got {text!r}: {exc.msg}"
        ) from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def register(commands: Any) -> None:
    """Add the ``generate`` and ``export`` subcommands to ``simrec``'s subparsers."""
    from simrec.datagen.generate import DEFAULT_SHARD_SIZE
    from simrec.policies import POLICIES

    gen = commands.add_parser(
        "generate",
        help="generate a synthetic interaction dataset (sharded, resumable)",
        description="Run sessions and write the interactions, turns, sessions, personas and "
        "items tables plus a manifest. Interrupt at any time; --resume continues.",
    )
    gen.add_argument("preset", help="env preset: golf, books, retail, a Gymnasium id or a .yaml")
    gen.add_argument(
        "--policy", default="random", choices=sorted(POLICIES), help="policy that shows the slates"
    )
    gen.add_argument("--sessions", type=positive_int, required=True, help="number of sessions")
    gen.add_argument("--seed", type=seed, default=0, help="seed (and id) of the first session")
    gen.add_argument("--out", type=Path, required=True, help="output directory")
    gen.add_argument("--format", choices=list(FORMATS), default="parquet", help="table file format")
    mode = gen.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue an interrupted run")
    mode.add_argument("--overwrite", action="store_true", help="replace an existing dataset")
    gen.add_argument(
        "--shard-size",
        type=positive_int,
        default=DEFAULT_SHARD_SIZE,
        help=f"sessions per shard file (default {DEFAULT_SHARD_SIZE})",
    )
    gen.add_argument(
        "--workers",
        type=positive_int,
        default=os.cpu_count() or 1,
        help="processes (default: one per CPU)",
    )
    gen.add_argument(
        "--lanes",
        type=positive_int,
        default=None,
        help="sessions in flight per worker (default: as many as the shard and memory allow)",
    )
    gen.add_argument(
        "--backend",
        choices=["auto", "vector", "single"],
        default="auto",
        help="how sessions are stepped: vector (utility brain, batched numpy), single (one "
        "env step at a time, any brain) or auto (vector where it applies); same dataset",
    )
    gen.add_argument(
        "--max-turns",
        type=positive_int,
        default=None,
        help="turn limit per session (default: the preset's)",
    )
    gen.add_argument(
        "--brain",
        default=None,
        help="who plays the users: utility or anthropic (default: the preset's brain)",
    )
    gen.add_argument(
        "--brain-kwargs",
        type=_json_object,
        default=None,
        help='brain options as JSON, e.g. \'{"cache": "record", "cache_path": "golf.sqlite"}\' '
        "(default: none)",
    )
    gen.add_argument(
        "--batch",
        action="store_true",
        help="LLM brains: send each turn of all sessions in flight as one Message Batch "
        "(half price, higher latency; resumable)",
    )
    gen.add_argument(
        "--batch-poll",
        type=positive_float,
        default=10.0,
        help="--batch: seconds between batch status checks (default 10)",
    )
    gen.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_policy_params(gen)
    add_llm_arguments(gen)
    gen.set_defaults(handler=_generate)

    export = commands.add_parser("export", help="convert a dataset for other tools")
    export.add_argument("kind", choices=["recbole", "minari"], help="target format")
    export.add_argument("dataset", type=Path, help="a dataset directory (simrec generate --out)")
    export.add_argument("--out", type=Path, required=True, help="output directory")
    export.add_argument(
        "--name", default=None, help="dataset name (default: the dataset directory's name)"
    )
    export.add_argument(
        "--user",
        choices=["session", "persona"],
        default="session",
        help="recbole: what a user is (default: each session)",
    )
    for option, what in (
        ("--author", "the dataset's author"),
        ("--author-email", "the author's email or other contact"),
        ("--code-permalink", "a link to the versioned code that generated the data"),
    ):
        export.add_argument(
            option, default=None, help=f"minari: {what} (default: none; Minari warns)"
        )
    export.set_defaults(handler=_export)


def _generate(args: argparse.Namespace) -> int:
    from simrec.datagen.generate import generate

    brain_kwargs = args.brain_kwargs
    options = llm_options(args)
    if options:
        brain_kwargs = {**(brain_kwargs or {}), **options}
    ds = generate(
        args.preset,
        args.policy,
        args.sessions,
        args.seed,
        args.out,
        format=args.format,
        shard_size=args.shard_size,
        workers=args.workers,
        lanes=args.lanes,
        backend=args.backend,
        resume=args.resume,
        overwrite=args.overwrite,
        progress=not args.no_progress and sys.stderr.isatty(),
        max_turns=args.max_turns,
        brain=args.brain,
        brain_kwargs=brain_kwargs,
        batch=args.batch,
        batch_poll=args.batch_poll,
        policy_params=policy_params(args.policy_params),
    )
    m = ds.manifest
    rows = m["rows"]
    usage = m["usage"]
    print(
        f"wrote {rows['sessions']:,} sessions, {rows['turns']:,} turns, "
        f"{rows['interactions']:,} interactions to {args.out} ({m['format']})"
    )
    if usage["input_tokens"] or usage["output_tokens"]:
        print(_llm_report(ds.turns, usage, m.get("model")))
    spent = usage.get("policy", {})
    if spent.get("input_tokens") or spent.get("output_tokens"):
        print(_policy_report(ds.turns, spent, m.get("policy_model")))
    return 0


def _policy_report(turns: pd.DataFrame, spent: dict, model: str | None) -> str:
    """The policy's own LLM usage, apart from the users': tokens, latency, fallbacks, cost."""
    return "\n".join(
        [
            f"policy LLM ({model or 'unknown model'}): {_tokens(spent)}",
            f"policy {_latency(turns['policy_latency_ms'])}",
            f"policy fallbacks: {spent['fallbacks']:,} of {len(turns):,} turns",
            f"policy estimated cost: ${spent['cost_usd']:.4f} (replayed calls cost nothing)",
        ]
    )


def _tokens(usage: dict) -> str:
    """``tokens: input …, output …, cache read …, cache write …`` of a usage summary."""
    return (
        f"tokens: input {usage['input_tokens']:,}, output {usage['output_tokens']:,}, "
        f"cache read {usage['cache_read_tokens']:,}, cache write {usage['cache_write_tokens']:,}"
    )


def _latency(latency_ms: pd.Series) -> str:
    """Per-turn latency percentiles over the turns that waited for an answer (batch answers,
    offline turns and replays have none)."""
    import numpy as np

    live = latency_ms.to_numpy()
    live = live[live > 0]
    p50, p90, p99 = np.percentile(live, [50, 90, 99]) if len(live) else (0.0, 0.0, 0.0)
    return f"latency per turn ms: p50 {p50:.0f}, p90 {p90:.0f}, p99 {p99:.0f}"


def _llm_report(turns: pd.DataFrame, usage: dict, model: str | None = None) -> str:
    """Tokens, per-turn latency percentiles, invalid responses and cost of an LLM run.

    Replayed turns cost nothing; beside what the run spent, the report says what its
    turns' tokens cost at ``model``'s list price (what the recording paid, batch
    discounts aside).
    """
    from simrec.llm.accounting import DEFAULT_PRICES

    return "\n".join(
        [
            _tokens(usage),
            _latency(turns["latency_ms"]),
            f"invalid responses: {usage['invalid_responses']:,} of {len(turns):,} turns",
            f"estimated cost: ${usage['cost_usd']:.4f} (replayed turns cost nothing)"
            + _recorded_cost(usage, DEFAULT_PRICES.get(model or "")),
        ]
    )


def _recorded_cost(usage: dict, price: Any) -> str:
    """``; the turns' tokens cost $X at list price`` when some turns were replayed."""
    if price is None:
        return ""
    listed = price.cost(
        usage["input_tokens"],
        usage["output_tokens"],
        usage["cache_read_tokens"],
        usage["cache_write_tokens"],
    )
    if listed <= usage["cost_usd"] + 1e-12:
        return ""
    return f"; these turns' tokens cost ${listed:.4f} at list price when recorded"


def _export(args: argparse.Namespace) -> int:
    from simrec.datagen import exports
    from simrec.datagen.store import load_dataset

    ds = load_dataset(args.dataset)
    name = args.name or args.dataset.resolve().name
    if args.kind == "recbole":
        paths = exports.to_recbole(ds, args.out, name, user=args.user)
        print(f"wrote {', '.join(str(p) for p in paths)}")
    else:
        path = exports.to_minari(
            ds,
            args.out,
            name,
            author=args.author,
            author_email=args.author_email,
            code_permalink=args.code_permalink,
        )
        print(f"wrote Minari dataset {name!r} to {path}")
    return 0
