"""``simrec personas create DESCRIPTION --domain golf [--n 5] [--out DIR]``: an LLM writes
personas for a domain's catalog (or ``--catalog FILE``) and they are written as YAML files."""

from __future__ import annotations

import argparse
from pathlib import Path

from simrec.cli_args import positive_int
from simrec.llm.cli_support import add_llm_arguments, llm_options

DEFAULT_OUT = Path("created-personas")


def register(personas: argparse._SubParsersAction) -> None:
    """Add ``create`` to the ``simrec personas`` subcommands."""
    from simrec.domains import DOMAINS

    create = personas.add_parser(
        "create",
        help="an LLM writes personas from a one-sentence description (YAML files)",
        description="An LLM writes personas that fit DESCRIPTION, using only the catalog's "
        "vocabulary; each is validated like a hand-written file (repaired once if not) and "
        "written as <id>.yaml, never over an existing file.",
    )
    create.add_argument(
        "description", help='who the personas are, e.g. "a retired teacher who plays links golf'
        ' twice a month"',
    )  # fmt: skip
    create.add_argument(
        "--domain",
        help=f"the personas' domain ({', '.join(sorted(DOMAINS))}: its preset's catalog; "
        "default: the --catalog file's domain)",
    )
    create.add_argument(
        "--catalog",
        type=Path,
        help="the catalog whose vocabulary the personas use (default: the --domain preset's)",
    )
    create.add_argument("--n", type=positive_int, default=1, help="how many personas")
    create.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="directory for the <id>.yaml files"
    )
    create.add_argument(
        "--brain",
        choices=("anthropic", "openai"),
        default="anthropic",
        help="who writes them: anthropic (Claude) or openai (any OpenAI-compatible server)",
    )
    add_llm_arguments(create, fallback=False, title="LLM options")
    create.set_defaults(handler=_create)


def _create(args: argparse.Namespace) -> int:
    from simrec.authoring.author import PersonaAuthor
    from simrec.authoring.files import write_new_personas
    from simrec.llm.cli_support import format_usage_report

    catalog = _catalog(args.domain, args.catalog)
    options = llm_options(args)
    with PersonaAuthor(catalog, args.domain, args.brain, **options) as author:
        result = author.create(args.description, args.n)
        report = format_usage_report(author.ledger)
    written = write_new_personas(result.personas, args.out)
    for persona in written:
        print(f"{persona.source}: {_summary(persona)}")
    print(f"wrote {len(written)} of {args.n} personas to {args.out}")
    print(report)
    result.check()
    return 0


def _catalog(domain: str | None, path: Path | None):
    """The catalog of ``--catalog``, else of the ``--domain`` preset."""
    from simrec.catalog import load_catalog
    from simrec.env import resolve_catalog
    from simrec.errors import ConfigError
    from simrec.presets import find_preset

    if path is not None:
        return load_catalog(path)
    if domain is None:
        raise ConfigError("pass --domain (its preset's catalog) or --catalog FILE")
    return resolve_catalog(find_preset(domain).kwargs["catalog"])


def _summary(persona) -> str:
    """``Name (age, occupation): likes ...; traits ...`` in one line."""
    likes = sorted(
        ((w, v) for values in persona.tastes.values() for v, w in values.items() if w > 0),
        reverse=True,
    )
    traits = ", ".join(
        f"{t.split('_')[0]} {getattr(persona, t):.1f}"
        for t in ("price_sensitivity", "patience", "purchase_propensity")
    )
    asks = f"; asks {len(persona.intents)}x" if persona.intents else ""
    return (
        f"{persona.card()}: likes {', '.join(v for _, v in likes[:4]) or 'nothing named'}; "
        f"{traits}{asks}"
    )
