"""Authored personas written as YAML files, never over anything already there.

An authored persona's id comes from its domain and name (``golf-eleanor-price``). In the
output directory a file name or persona id can already be taken (an earlier run, a
hand-written persona); the new persona then gets the first free ``-2``, ``-3`` ... suffix,
and each file is created exclusively (``open(..., "x")``), so even a file that appears
while the run is writing is never replaced.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from simrec.errors import PersonaError
from simrec.persona import Persona

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """``"Éléonore O'Brien"`` -> ``"eleonore-o-brien"`` (ASCII, lowercase, dashes)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-") or "persona"


def taken_ids(out_dir: Path) -> set[str]:
    """Ids a new persona in ``out_dir`` must not use: every YAML file's stem and ``id``.

    A file that does not parse still blocks its stem (its id cannot be read, and it is
    left alone).
    """
    taken: set[str] = set()
    if not out_dir.is_dir():
        return taken
    for path in out_dir.iterdir():
        if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
            continue
        taken.add(path.stem)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            taken.add(data["id"])
    return taken


def unique_ids(wanted: Iterable[str], taken: set[str]) -> list[str]:
    """Each of ``wanted``, or it with the first free ``-2``, ``-3`` ... suffix."""
    used = set(taken)
    out = []
    for base in wanted:
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = f"{base}-{n}"
        used.add(candidate)
        out.append(candidate)
    return out


def write_new_personas(personas: Sequence[Persona], out_dir: str | Path) -> list[Persona]:
    """Write each persona to ``out_dir/<id>.yaml`` under an id no file there has.

    Returns:
        The personas as written (ids renamed where they clashed), in order.

    Raises:
        PersonaError: a file could not be created (it appeared meanwhile, or the
            directory is not writable); the files written before it stay.
    """
    out = Path(out_dir)
    ids = unique_ids((p.persona_id for p in personas), taken_ids(out))
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for persona, persona_id in zip(personas, ids, strict=True):
        persona = dataclasses.replace(persona, persona_id=persona_id)
        path = out / f"{persona_id}.yaml"
        try:
            with path.open("x", encoding="utf-8") as handle:
                handle.write(persona.to_yaml())
        except OSError as exc:
            raise PersonaError(f"{path}: cannot create the file ({exc.strerror or exc})") from None
        written.append(dataclasses.replace(persona, source=str(path)))
    return written


__all__ = ["slug", "taken_ids", "unique_ids", "write_new_personas"]
