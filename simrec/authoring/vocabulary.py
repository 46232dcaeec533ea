"""What a persona may be made of, for one catalog: its fields and values, in words and as a
JSON schema.

A persona's tastes and dislikes are weights over the catalog's categorical values
(``category=links``, ``tags=walkable``, ``region=scotland``) and its requests are
constraints over the catalog's fields. :class:`Vocabulary` lists them once, so the LLM
writing a persona is told the words in the prompt (with the ranges of numeric fields) and
constrained to them by the answer's schema (``enum`` everywhere a value is named), where
the provider enforces schemas. Every answer is validated again with the persona loader's
own checks (:mod:`simrec.authoring.answer`): a server that ignores the schema cannot slip
an unknown word through.

The schema stays inside what strict tools and JSON structured outputs accept on every
provider: every property required, ``additionalProperties: false``, no numeric bounds
(traits in [0, 1] are checked after), and a single ``anyOf`` (the three kinds of
constraint).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from simrec.catalog import Catalog
from simrec.constraints import NUMERIC_OPS, SET_OPS, TAG_OPS
from simrec.llm.request import OutputSchema
from simrec.persona import TRAITS

CATEGORICAL_OPS = ("==", "!=", *SET_OPS)
"""Ops over a categorical field: one value (``==``, ``!=``) or a list (``in``, ``not_in``)."""


@dataclass(frozen=True)
class Vocabulary:
    """The words and fields of one catalog that a persona can use.

    Attributes:
        categorical: ``{field: values}`` for ``category``, ``tags`` and every categorical
            attribute (sorted values that at least one item has).
        numeric: ``{field: (low, median, high)}`` for ``price`` and every numeric
            attribute (what a request such as "under $60" can constrain).
    """

    categorical: Mapping[str, tuple[str, ...]]
    numeric: Mapping[str, tuple[float, float, float]]

    @classmethod
    def of(cls, catalog: Catalog) -> Vocabulary:
        """The vocabulary of ``catalog``."""
        categorical: dict[str, tuple[str, ...]] = {}
        for token in catalog.tokens:
            field, value = token.split("=", 1)
            categorical[field] = (*categorical.get(field, ()), value)
        numeric = {
            name: _spread(catalog.column(name)) for name in ("price", *sorted(catalog.numeric))
        }
        return cls(categorical, numeric)

    @property
    def constraint_fields(self) -> tuple[str, ...]:
        """Every field a request can constrain."""
        return (*self.numeric, *self.categorical)

    def describe(self) -> str:
        """The vocabulary in words, one field per line (for the prompt)."""
        lines = [f"- {field}: {', '.join(values)}" for field, values in self.categorical.items()]
        lines += [
            f"- {field} (a number): from {_num(low)} to {_num(high)}, typically {_num(mid)}"
            for field, (low, mid, high) in self.numeric.items()
        ]
        return "\n".join(lines)

    def schema(self, name: str, description: str, fields: Mapping[str, str]) -> OutputSchema:
        """The answer's JSON schema (see the module docstring).

        Args:
            name: the answer's name (the tool or schema name).
            description: what the answer is.
            fields: a description per top-level property (identity, tastes, traits ...).
        """
        text = {"type": "string"}
        number = {"type": "number"}
        liked = {
            field: {
                "type": "array",
                "items": _object(
                    {"value": {"type": "string", "enum": list(values)}, "weight": number}
                ),
            }
            for field, values in self.categorical.items()
        }
        avoided = {
            field: {"type": "array", "items": {"type": "string", "enum": list(values)}}
            for field, values in self.categorical.items()
        }
        intent = _object(
            {"at_turn": {"type": "integer"}, "says": text, "constraint": self._constraint()}
        )
        properties: dict[str, Any] = {
            "name": text,
            "age": {"type": "integer"},
            "location": text,
            "occupation": text,
            "bio": text,
            "tastes": _object(liked),
            "dislikes": _object(avoided),
            **{trait: dict(number) for trait in TRAITS},
            "intents": {"type": "array", "items": intent},
        }
        for key, value in properties.items():
            if key in fields:
                value["description"] = fields[key]
        return OutputSchema(name=name, description=description, schema=_object(properties))

    def _constraint(self) -> dict[str, Any]:
        """One constraint: numeric, on a tag, or over categorical values (one ``anyOf``)."""
        kinds = [
            _object(
                {
                    "field": {"type": "string", "enum": list(self.numeric)},
                    "op": {"type": "string", "enum": list(NUMERIC_OPS)},
                    "value": {"type": "number"},
                }
            )
        ]
        if "tags" in self.categorical:
            kinds.append(
                _object(
                    {
                        "field": {"type": "string", "enum": ["tags"]},
                        "op": {"type": "string", "enum": list(TAG_OPS)},
                        "value": {"type": "string", "enum": list(self.categorical["tags"])},
                    }
                )
            )
        fields = [f for f in self.categorical if f != "tags"]
        values = sorted({v for f in fields for v in self.categorical[f]})
        kinds.append(
            _object(
                {
                    "field": {"type": "string", "enum": fields},
                    "op": {"type": "string", "enum": list(CATEGORICAL_OPS)},
                    "values": {"type": "array", "items": {"type": "string", "enum": values}},
                }
            )
        )
        return {"anyOf": kinds}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    """A strict object schema: every property required, nothing else allowed."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": list(properties),
    }


def _spread(column: np.ndarray) -> tuple[float, float, float]:
    values = np.asarray(column, dtype=np.float64)
    return float(values.min()), float(np.median(values)), float(values.max())


def _num(x: float) -> str:
    """``7473.0`` -> ``7473``, ``94.915`` -> ``94.9``, ``0.1234`` -> ``0.123``."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


__all__ = ["CATEGORICAL_OPS", "Vocabulary"]
