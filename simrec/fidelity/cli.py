"""``simrec fidelity``: how closely a brain playing grounded personas matches the real users."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from simrec.cli_args import positive_int, seed
from simrec.llm.cli_support import add_llm_arguments, llm_options


def register(commands: Any) -> None:
    """Add the ``fidelity`` subcommand to ``simrec``'s subparsers."""
    fid = commands.add_parser(
        "fidelity",
        help="compare a brain playing a grounded preset with the real users' held-out events",
        description="Taste alignment on the preset's held-out events (accuracy and F1 at 1:1, "
        "1:3, 1:9; popularity-matched negatives; AUC and NDCG@10 over the unseen catalog; genre "
        "and popularity of the liked set), random / popularity / MF baselines, and whether "
        "policies rank the same in the grounded env as on the real data. The split is the one "
        "the preset was grounded with (simrec ground --split): temporal, each user's last 20%% "
        "held out (the default, and the protocol the targets are judged on), or random, as "
        "published simulators evaluate; the table and DIR/fidelity.json name it.",
    )
    fid.add_argument("preset_dir", type=Path, help="a directory written by simrec ground")
    fid.add_argument(
        "--brain",
        choices=("utility", "anthropic", "openai"),
        default="utility",
        help="who plays the personas: utility (offline), anthropic (Claude) or openai (any "
        "OpenAI-compatible server); LLM brains go through the response cache options below",
    )
    fid.add_argument(
        "--users",
        type=positive_int,
        help="evaluate a seeded sample of this many users, bounding LLM cost (default: every user)",
    )
    fid.add_argument(
        "--sessions",
        type=positive_int,
        default=500,
        help="env sessions per policy for the ranking",
    )
    fid.add_argument(
        "--seed", type=seed, default=0, help="seeds negatives, user sample and env sessions"
    )
    fid.add_argument(
        "--out", type=Path, help="where to write the JSON (default: DIR/fidelity.json)"
    )
    add_llm_arguments(fid)
    fid.set_defaults(handler=_fidelity)


def _fidelity(args: argparse.Namespace) -> int:
    from simrec.fidelity.protocol import Protocol
    from simrec.fidelity.report import run_fidelity, write_report
    from simrec.fidelity.table import print_report

    protocol = Protocol(seed=args.seed, users=args.users, env_sessions=args.sessions)
    kwargs = llm_options(args) if args.brain != "utility" else {}
    report = run_fidelity(args.preset_dir, brain=args.brain, brain_kwargs=kwargs, protocol=protocol)
    path = write_report(report, args.out or args.preset_dir / "fidelity.json")
    print_report(report)
    print(f"wrote {path}")
    return 0
