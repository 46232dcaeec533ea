"""A grounded preset directory read back for the fidelity protocol."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simrec.catalog import Catalog, load_catalog
from simrec.errors import GroundingError
from simrec.persona import Persona
from simrec.population import load_population


@dataclass
class GroundedData:
    """Catalog, personas and the split events of a grounded preset, as index arrays.

    Attributes:
        before: users x items mask of events before the held-out part (train + validation).
        train: users x items mask of train events (validation excluded).
        validation, test: users x items masks of those parts.
        genres: each item's genres (``tags``, else its category).
        popularity: pre-test event count per item.
        split: how the events were split (``grounding.json``'s ``split``: ``method``
            ``temporal`` or ``random``, ``seed``, ``test_share``).
    """

    root: Path
    catalog: Catalog
    personas: list[Persona]
    before: np.ndarray
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    genres: list[tuple[str, ...]]
    popularity: np.ndarray
    grounding: dict
    order: list[np.ndarray]

    @property
    def split(self) -> dict:
        """The split ``grounding.json`` records; one written before ``--split`` existed was
        temporal, and without the file the split is ``unknown``."""
        if not self.grounding:
            return {"method": "unknown", "seed": None, "test_share": None}
        return self.grounding.get("split", {"method": "temporal", "seed": None, "test_share": 0.2})

    @property
    def n_users(self) -> int:
        return len(self.personas)

    def histories(self, mask: np.ndarray) -> list[np.ndarray]:
        """Per user, the item indices of ``mask`` in time order (as the personas hold them)."""
        out = []
        for u in range(self.n_users):
            order = self.order[u]
            out.append(order[mask[u, order]])
        return out


def load_grounded(root: str | Path) -> GroundedData:
    """Read ``catalog.parquet``, ``personas.parquet`` and ``events.parquet`` from ``root``."""
    root = Path(root)
    for name in ("catalog.parquet", "personas.parquet", "events.parquet"):
        if not (root / name).is_file():
            raise GroundingError(
                f"{root}: no {name}; expected a directory written by 'simrec ground'"
            )
    catalog = load_catalog(root / "catalog.parquet")
    personas = load_population(root / "personas.parquet")
    events = pd.read_parquet(root / "events.parquet")
    users = {p.persona_id: u for u, p in enumerate(personas)}
    user = events["persona_id"].map(users)
    item = events["item_id"].astype(str).map(catalog.index_of)
    if user.isna().any() or item.isna().any():
        row = int(np.flatnonzero(user.isna().to_numpy() | item.isna().to_numpy())[0])
        raise GroundingError(
            f"{root / 'events.parquet'}: row {row}: persona or item not in the preset "
            f"({events.iloc[row]['persona_id']!r}, {events.iloc[row]['item_id']!r})"
        )
    u, i = user.to_numpy(np.int64), item.to_numpy(np.int64)
    part = events["split"].astype(str).to_numpy()
    shape = (len(personas), len(catalog))

    def mask(*names: str) -> np.ndarray:
        out = np.zeros(shape, dtype=bool)
        keep = np.isin(part, names)
        out[u[keep], i[keep]] = True
        return out

    data = GroundedData(
        root=root,
        catalog=catalog,
        personas=personas,
        before=mask("train", "validation"),
        train=mask("train"),
        validation=mask("validation"),
        test=mask("test"),
        genres=[
            tags or (str(c),) for tags, c in zip(catalog.tags, catalog.categories, strict=True)
        ],
        popularity=np.bincount(
            i[np.isin(part, ("train", "validation"))], minlength=len(catalog)
        ).astype(float),
        grounding=json.loads((root / "grounding.json").read_text())
        if (root / "grounding.json").is_file()
        else {},
        order=[_time_order(u[part != "test"], i[part != "test"], k) for k in range(len(personas))],
    )
    return data


def _time_order(user: np.ndarray, item: np.ndarray, u: int) -> np.ndarray:
    """Items of user ``u`` in the events' order (the events file is sorted by user, time)."""
    return item[user == u]
