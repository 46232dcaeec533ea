"""Shared fixtures: a small catalog and persona factory built in code (not the shipped library)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from simrec.catalog import Catalog
from simrec.persona import Persona

CATEGORIES = ("alpha", "beta", "gamma")
TAGS = ("sunny", "quiet", "loud")


def small_catalog(n: int = 60, seed: int = 0) -> Catalog:
    """``n`` items over three categories; every third item is expensive; tags cycle."""
    rng = np.random.default_rng(seed)
    categories = [CATEGORIES[i % 3] for i in range(n)]
    tags = [tuple(t for j, t in enumerate(TAGS) if (i >> j) & 1) for i in range(n)]
    prices = [
        float(200 + rng.integers(0, 100)) if i % 3 == 2 else float(10 + rng.integers(0, 20))
        for i in range(n)
    ]
    return Catalog(
        item_ids=[f"it-{i:03d}" for i in range(n)],
        titles=[f"Item {i}" for i in range(n)],
        categories=categories,
        prices=prices,
        tags=tags,
        popularity=[1.0 / (i + 1) for i in range(n)],
        descriptions=[f"Item number {i}" for i in range(n)],
        attributes={
            "size": [float(i % 7) for i in range(n)],
            "color": ["red" if i % 2 else "blue" for i in range(n)],
        },
        domain="test",
    )


def grounded_catalog(n: int = 60, d: int = 4, seed: int = 0) -> Catalog:
    """:func:`small_catalog` with a ``d``-dimensional latent ``embedding`` per item."""
    base = small_catalog(n, seed)
    frame = base.to_frame()
    frame["embedding"] = list(np.random.default_rng(seed + 1).normal(size=(n, d)))
    return Catalog.from_frame(frame, domain="test")


def make_grounded_persona(
    ident: str = "user-1",
    d: int = 4,
    seed: int = 0,
    history: tuple[str, ...] = (),
    **overrides: Any,
) -> Persona:
    """A persona with a latent taste (no token tastes) for :func:`grounded_catalog`."""
    taste = np.random.default_rng(seed).normal(size=d).tolist()
    data: dict[str, Any] = {
        "id": ident,
        "domain": "test",
        "bio": "Grounded from a log.",
        "taste_embedding": taste,
        "history": list(history),
        "profile": {"top_categories": ["alpha"], "mainstreamness": 0.4},
    }
    data.update(overrides)
    return Persona.from_dict(data)


def make_persona(**overrides: Any) -> Persona:
    """A valid persona for :func:`small_catalog`, with fields replaced by ``overrides``."""
    data: dict[str, Any] = {
        "id": "tester",
        "domain": "test",
        "identity": {"name": "Tess Ter", "age": 40},
        "bio": "Likes sunny things.",
        "tastes": {"tags": {"sunny": 1.0}},
        "dislikes": {},
        "price_sensitivity": 0.5,
        "novelty_seeking": 0.3,
        "boredom_rate": 0.5,
        "patience": 0.6,
        "purchase_propensity": 0.5,
        "chattiness": 0.5,
    }
    data.update(overrides)
    return Persona.from_dict(data)


@pytest.fixture
def catalog() -> Catalog:
    return small_catalog()
