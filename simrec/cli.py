"""The ``simrec`` command line: run sessions, generate personas and catalogs.

Every user error (unknown preset, malformed file, bad option) ends in one line on
stderr naming what is wrong and exit status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym

from simrec import scenario_cli
from simrec.authoring import cli as authoring_cli
from simrec.calibration import cli as calibration_cli
from simrec.cli_args import (
    add_policy_params,
    policy_params,
    positive_int,
    seed,
    use_defaults_help,
)
from simrec.datagen import cli as datagen_cli
from simrec.errors import ConfigError, SimrecError
from simrec.fidelity import cli as fidelity_cli
from simrec.grounding import cli as grounding_cli
from simrec.llm.cli_support import (
    add_llm_arguments,
    format_usage_report,
    llm_options,
    usage_ledgers,
)
from simrec.report import cli as report_cli


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``simrec`` command."""
    from simrec.domains import DOMAINS
    from simrec.policies import POLICIES

    parser = argparse.ArgumentParser(
        prog="simrec", description="Simulated users react to recommendation slates."
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a policy through sessions and print the transcripts")
    run.add_argument(
        "preset", help="env preset: golf, books, retail, a Gymnasium id, or a preset .yaml"
    )
    run.add_argument(
        "--policy",
        default="random",
        choices=sorted(POLICIES),
        help="policy to run (default: random)",
    )
    run.add_argument(
        "--episodes", type=positive_int, default=3, help="sessions to run (default: 3)"
    )
    run.add_argument("--seed", type=seed, default=0, help="seed of the first session (default: 0)")
    run.add_argument(
        "--max-turns",
        type=positive_int,
        default=None,
        help="turn limit per session (default: the preset's)",
    )
    run.add_argument("--quiet", action="store_true", help="print only the per-episode summaries")
    run.add_argument(
        "--conversational",
        action="store_true",
        help="actions carry the recommender's message (llm_conversational writes one; "
        "other policies say nothing)",
    )
    run.add_argument(
        "--brain",
        choices=("utility", "anthropic", "openai"),
        default=None,
        help="who plays the users: utility (offline model), anthropic (Claude) or openai "
        "(any OpenAI-compatible server: vLLM, Ollama, llama.cpp, LiteLLM) (default: the "
        "preset's brain)",
    )
    add_policy_params(run)
    run.add_argument(
        "--brain-params",
        default=None,
        help="a utility-brain params file (brain_kwargs / dynamics), e.g. one written by "
        "`simrec calibrate fit`; implies --brain utility (default: the preset's brain settings)",
    )
    add_llm_arguments(run)
    run.set_defaults(handler=_run)

    personas = commands.add_parser("personas", help="persona library tools").add_subparsers(
        dest="personas_command", required=True
    )
    gen = personas.add_parser("generate", help="generate reproducible personas as YAML files")
    gen.add_argument(
        "--domain", required=True, choices=sorted(DOMAINS), help="the personas' domain"
    )
    gen.add_argument("--n", type=positive_int, required=True, help="how many personas")
    gen.add_argument("--seed", type=seed, default=0, help="seed of the generator")
    gen.add_argument(
        "--out", type=Path, required=True, help="output directory (one <id>.yaml per persona)"
    )
    gen.add_argument("--overwrite", action="store_true", help="replace existing files")
    gen.set_defaults(handler=_personas_generate)
    check = personas.add_parser(
        "validate", help="validate persona files (and against a domain catalog)"
    )
    check.add_argument("paths", nargs="+", type=Path, help="persona files or directories")
    check.add_argument(
        "--catalog",
        type=Path,
        default=None,
        help="check tastes, dislikes and constraints against this catalog file "
        "(default: the generated catalog of each persona's domain)",
    )
    check.set_defaults(handler=_personas_validate)
    authoring_cli.register(personas)

    catalog = commands.add_parser("catalog", help="catalog tools").add_subparsers(
        dest="catalog_command", required=True
    )
    cgen = catalog.add_parser("generate", help="generate a reproducible catalog file")
    cgen.add_argument(
        "--domain", required=True, choices=sorted(DOMAINS), help="the catalog's domain"
    )
    cgen.add_argument("--n", type=positive_int, default=200, help="number of items (default: 200)")
    cgen.add_argument("--seed", type=seed, default=0, help="seed of the generator")
    cgen.add_argument("--out", type=Path, required=True, help=".csv, .parquet, .jsonl or .yaml")
    cgen.set_defaults(handler=_catalog_generate)
    cache = commands.add_parser("cache", help="LLM response cache tools").add_subparsers(
        dest="cache_command", required=True
    )
    compact = cache.add_parser(
        "compact",
        help="shrink recordings to what replay reads: drop the stored request bodies (kept "
        "for inspection only) and vacuum, before committing one beside a scenario",
    )
    compact.add_argument("paths", nargs="+", type=Path, help=".sqlite response caches")
    compact.set_defaults(handler=_cache_compact)
    scenario_cli.register(commands)
    datagen_cli.register(commands)
    grounding_cli.register(commands)
    fidelity_cli.register(commands)
    calibration_cli.register(commands)
    report_cli.register(commands)
    use_defaults_help(parser)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("simrec")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown (not installed)"


def _run(args: argparse.Namespace) -> int:
    from simrec.events import sessions_frame
    from simrec.policies import make_policy
    from simrec.policies.batching import serves_many
    from simrec.presets import find_preset
    from simrec.runner import run_sessions

    preset = find_preset(args.preset)
    kwargs = dict(preset.kwargs)
    if args.max_turns is not None:
        kwargs["max_turns"] = args.max_turns
    if args.conversational:
        kwargs["conversational"] = True
    # --concurrency runs episodes concurrently with any brain (and sets an LLM brain's
    # calls in flight), so it is not one of the LLM-only options checked below.
    concurrency, args.concurrency = args.concurrency or 1, None
    options = llm_options(args)
    if args.brain_params is not None:
        from simrec.calibration.params import load_brain_params

        if args.brain not in (None, "utility"):
            raise ConfigError(f"--brain-params applies to the utility brain, not {args.brain!r}")
        kwargs.update(load_brain_params(args.brain_params).env_kwargs())
        args.brain = "utility"
    elif args.brain in ("anthropic", "openai"):
        kwargs.update(brain=args.brain, brain_kwargs={**options, "concurrency": concurrency})
    elif args.brain == "utility":
        kwargs.update(brain="utility", brain_kwargs={})
    # The generic id with the preset's full kwargs: a preset loaded from a file has no
    # registered id of its own, and this keeps shipped and user presets on one path.
    env = gym.make("simrec/RecSession-v0", render_mode="ansi", **kwargs)
    params = policy_params(args.policy_params)
    policy = make_policy(args.policy, env, seed=args.seed, **params)
    transcript = _Transcript(args.seed, args.episodes, args.quiet, buffered=concurrency > 1)
    # A policy that serves many visits at once (an LLM policy) is one object for every lane.
    shared = serves_many(policy)
    log = run_sessions(
        env,
        policy,
        args.episodes,
        seed=args.seed,
        on_step=transcript.on_step,
        on_reset=transcript.on_reset,
        concurrency=concurrency,
        policy_factory=lambda lane, seed: (
            policy if shared else make_policy(args.policy, lane, seed=seed, **params)
        ),
    )
    interactions, turns = log.frames()
    sessions = sessions_frame(turns)
    print(
        f"\n{args.policy} on {preset.env_id}, {args.episodes} episodes: "
        f"mean return {sessions['return'].mean():.2f}, "
        f"clicks {interactions['clicked'].sum() / args.episodes:.1f}, "
        f"purchases {interactions['purchased'].sum() / args.episodes:.1f}, "
        f"turns {sessions['turns'].mean():.1f}, left {sessions['left'].mean():.0%}"
    )
    for ledger in usage_ledgers(env, policy):
        print(format_usage_report(ledger))
    getattr(policy, "close", lambda: None)()
    env.close()
    return 0


class _Transcript:
    """Prints each episode's transcript; with episodes run concurrently, holds each one
    back until it ends and every earlier one is printed, so the output is in episode order
    whatever the concurrency."""

    def __init__(self, seed: int, episodes: int, quiet: bool, buffered: bool) -> None:
        self.seed, self.episodes, self.quiet, self.buffered = seed, episodes, quiet, buffered
        self.lines: dict[int, list[str]] = {}
        self.ended: set[int] = set()
        self.next = seed

    def _emit(self, session_id: int, text: str) -> None:
        if self.buffered:
            self.lines.setdefault(session_id, []).append(text)
        else:
            print(text)

    def on_reset(self, env: gym.Env, info: dict) -> None:
        sid = env.unwrapped.session_id
        self._emit(sid, f"\n=== episode {sid - self.seed + 1}/{self.episodes} (seed {sid}) ===")
        self._emit(sid, env.render())

    def on_step(self, env: gym.Env, info: dict) -> None:
        base = env.unwrapped
        if not self.quiet:
            self._emit(base.session_id, env.render())
        if info["reaction"].left or info["turn"] >= base.max_turns:
            self._emit(base.session_id, _summary_line(base))
            self.ended.add(base.session_id)
            while self.next in self.ended:
                for line in self.lines.pop(self.next, []):
                    print(line)
                self.next += 1


def _summary_line(env) -> str:
    """One episode's return, clicks, purchases, dismissals, turns, ending and satisfaction."""
    session = env.session
    reactions = [reaction for _, reaction in session.history]
    episode_return = sum(env.reward(r) for r in reactions)
    clicks = sum(sum(r.clicked) for r in reactions)
    purchases = sum(sum(r.purchased) for r in reactions)
    dismissals = sum(sum(r.dismissed) for r in reactions)
    ending = "user left" if reactions[-1].left else "turn limit"
    return (
        f"--- return {episode_return:.2f} | clicks {clicks} | purchases {purchases} | "
        f"dismissals {dismissals} | turns {session.turn} | {ending} | "
        f"satisfaction {session.satisfaction:.2f}"
    )


def _personas_generate(args: argparse.Namespace) -> int:
    from simrec.persona_gen import generate_personas, write_personas

    paths = write_personas(
        generate_personas(args.domain, args.n, args.seed), args.out, overwrite=args.overwrite
    )
    print(f"wrote {len(paths)} {args.domain} personas to {args.out}")
    return 0


def _personas_validate(args: argparse.Namespace) -> int:
    from simrec.catalog import load_catalog
    from simrec.catalog_gen import cached_catalog
    from simrec.domains import DOMAINS
    from simrec.errors import PersonaError
    from simrec.persona import load_personas
    from simrec.validation import field_error

    catalog = load_catalog(args.catalog) if args.catalog is not None else None
    count = 0
    for path in args.paths:
        for persona in load_personas(path):
            if catalog is not None:
                persona.check_against(catalog)
            elif persona.domain in DOMAINS:
                persona.check_against(cached_catalog(persona.domain, 200, 0))
            else:
                raise field_error(
                    PersonaError,
                    persona.source,
                    persona.doc,
                    ("domain",),
                    f"unknown domain {persona.domain!r}; expected one of: "
                    f"{', '.join(sorted(DOMAINS))} (or pass --catalog to check against your own "
                    "catalog)",
                )
            count += 1
    print(f"{count} personas valid")
    return 0


def _catalog_generate(args: argparse.Namespace) -> int:
    from simrec.catalog_gen import generate_catalog

    catalog = generate_catalog(args.domain, args.n, args.seed)
    if args.out.exists():
        raise SimrecError(f"{args.out}: already exists; choose another --out")
    catalog.save(args.out)
    print(f"wrote {len(catalog)} {args.domain} items to {args.out}")
    return 0


def _cache_compact(args: argparse.Namespace) -> int:
    from simrec.llm.cache import compact

    for path in args.paths:
        before, after = compact(path)
        print(f"{path}: {before:,} -> {after:,} bytes")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``simrec`` command; returns the exit status."""
    import simrec  # noqa: F401  (registers the envs)

    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except SimrecError as exc:
        print(f"simrec: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `simrec run golf | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
