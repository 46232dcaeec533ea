"""Writing a grounded preset directory.

==================  ===========================================================
file                what it holds
==================  ===========================================================
``catalog.parquet``   the items, with an ``embedding`` per item
``personas.parquet``  one persona per kept user (:mod:`simrec.population`)
``events.parquet``    the cleaned events with their split (``train``, ``validation``,
                      ``test``): what ``simrec fidelity`` compares the personas with
``preset.yaml``       the env preset: ``simrec run DIR/preset.yaml``, scenarios,
                      ``simrec generate``
``grounding.json``    where the log came from, every dropped row by reason, the
                      chosen settings, validation figures, simrec version
==================  ===========================================================
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import yaml

from simrec.grounding.pipeline import Grounded, persona_id
from simrec.grounding.split import SPLIT_NAMES
from simrec.population import save_population


def preset_id(name: str) -> str:
    """A versioned Gymnasium-style id from a name: ``ml-100k`` -> ``Ml100kGrounded-v0``."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    stem = "".join(w[:1].upper() + w[1:] for w in words) or "Log"
    if not stem[0].isalpha():
        stem = "Log" + stem
    return f"{stem}Grounded-v0"


def write_preset(grounded: Grounded, out: str | Path, name: str) -> Path:
    """Write the preset directory ``out`` (created if needed); returns ``out/preset.yaml``."""
    from simrec import __version__

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    grounded.catalog.save(out / "catalog.parquet")
    save_population(grounded.personas, out / "personas.parquet")
    split, items = grounded.split, grounded.log.items
    pd.DataFrame(
        {
            "persona_id": [persona_id(u) for u in split.user_ids[split.user]],
            "item_id": items.ids[split.item].astype(str),
            "timestamp": split.timestamp,
            "value": split.value,
            "split": pd.Categorical.from_codes(split.part, SPLIT_NAMES),
        }
    ).to_parquet(out / "events.parquet", index=False)
    preset = {
        "id": preset_id(name),
        "description": f"Grounded on {grounded.log.source}: {len(grounded.personas)} real users "
        f"as personas, {len(grounded.catalog)} items.",
        "catalog": "catalog.parquet",
        "personas": "personas.parquet",
        "slate_size": 5,
        "max_turns": 20,
        "history_window": 3,
    }
    path = out / "preset.yaml"
    path.write_text(yaml.safe_dump(preset, sort_keys=False), encoding="utf-8")
    info = {
        "simrec_version": __version__,
        "source": grounded.log.source,
        "name": name,
        **grounded.summary,
        **grounded.log.report.to_dict(),
        "rated": grounded.split.rated,
    }
    (out / "grounding.json").write_text(
        json.dumps(info, indent=2, default=float) + "\n", encoding="utf-8"
    )
    return path
