"""Small catalogs, personas and sessions for the LLM brain tests (built in code, no network)."""

from __future__ import annotations

from typing import Any

from simrec.catalog import Catalog
from simrec.persona import Persona
from simrec.session import BoundPersona, Session, SessionDynamics

SECRET = "sk-ant-test-SECRET-0123456789abcdef"
"""A recognisable fake API key: tests assert its bytes never leave the SDK client."""


def small_catalog(description: str | None = None) -> Catalog:
    """Eight golf courses; item 0 gets ``description`` when given (for injection tests)."""
    n = 8
    descriptions = [f"A quiet course number {i}." for i in range(n)]
    if description is not None:
        descriptions[0] = description
    return Catalog(
        item_ids=[f"c{i}" for i in range(n)],
        titles=[f"Course {i}" for i in range(n)],
        categories=["links", "parkland"] * (n // 2),
        prices=[20.0 + 10 * i for i in range(n)],
        tags=[["walkable"] if i % 2 == 0 else ["lively-clubhouse"] for i in range(n)],
        descriptions=descriptions,
        attributes={"holes": [9, 18] * (n // 2)},
        domain="golf",
    )


def persona(persona_id: str = "walker", **extra: Any) -> Persona:
    """A persona with a steering intent at turn 2 whose hidden constraint is ``holes <= 9``."""
    data = {
        "id": persona_id,
        "domain": "golf",
        "identity": {"name": "Pat Walker", "age": 51, "occupation": "nurse"},
        "bio": "Walks every round, likes old links.",
        "tastes": {"category": {"links": 1.2}, "tags": {"walkable": 0.8}},
        "dislikes": {"tags": ["lively-clubhouse"]},
        "intents": [
            {
                "at_turn": 2,
                "says": "Only short rounds from now on, my knee hurts.",
                "constraint": {"field": "holes", "op": "<=", "value": 9},
            }
        ],
        **extra,
    }
    return Persona.from_dict(data)


def session(
    p: Persona | None = None, catalog: Catalog | None = None, session_id: int = 0
) -> Session:
    """A fresh visit of ``p`` over ``catalog`` (slates of 4)."""
    bound = BoundPersona(p or persona(), catalog or small_catalog())
    return Session(
        bound, slate_size=4, history_window=2, dynamics=SessionDynamics(), session_id=session_id
    )


def brain_kwargs(api_url: str, **extra: Any) -> dict[str, Any]:
    """Fast-failing options for a brain that talks to the fake server (a generous timeout:
    the fake answers at once, and a loaded machine must not turn that into a timeout)."""
    return {"api_key": SECRET, "base_url": api_url, "max_retries": 2, "timeout": 60.0, **extra}
