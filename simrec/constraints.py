"""Machine-readable constraints: the hidden meaning of a steering request.

When a persona says "something cheaper, please", the scorer needs to know what
"cheaper" meant for this persona: ``price <= 60``. A :class:`Constraint` is that
meaning. The env uses it only to drive the user model and to score compliance; a
policy never sees it unless it reads the clearly named ground-truth entry of ``info``.

YAML forms::

    constraint: {field: price, op: "<=", value: 60}
    constraint: {field: tags, op: has, value: family-friendly}
    constraint: {field: category, op: in, value: [links, heathland]}
    constraint: {all: [{field: holes, op: "==", value: 9}, {field: price, op: "<", value: 80}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from simrec.catalog import Catalog
from simrec.errors import PersonaError, SimrecError
from simrec.validation import Fields, describe

NUMERIC_OPS = ("<", "<=", ">", ">=", "==", "!=")
SET_OPS = ("in", "not_in")
TAG_OPS = ("has", "lacks")
OPS = NUMERIC_OPS + SET_OPS + TAG_OPS


@dataclass(frozen=True)
class Constraint:
    """A predicate over catalog items; several combine with ``all_of``.

    Args:
        field: ``price``, ``category``, ``tags``, ``popularity`` or an attribute name.
        op: a comparison (``<`` ``<=`` ``>`` ``>=`` ``==`` ``!=``), ``in`` / ``not_in`` a
            list of values, or ``has`` / ``lacks`` a tag.
        value: the number, string or tuple of strings compared against.
        all_of: sub-constraints that must all hold (then ``field``/``op`` are unused).
    """

    field: str = ""
    op: str = ""
    value: Any = None
    all_of: tuple[Constraint, ...] = ()

    def mask(self, catalog: Catalog) -> np.ndarray:
        """Boolean array: which catalog items satisfy the constraint (cached, read-only)."""
        return _mask(self, catalog)

    def describe(self) -> str:
        """A compact human rendering, e.g. ``price <= 60``."""
        if self.all_of:
            return " and ".join(c.describe() for c in self.all_of)
        value = ", ".join(self.value) if isinstance(self.value, tuple) else self.value
        return f"{self.field} {self.op} {value}"

    def to_dict(self) -> dict[str, Any]:
        """The YAML/JSON form of the constraint."""
        if self.all_of:
            return {"all": [c.to_dict() for c in self.all_of]}
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"field": self.field, "op": self.op, "value": value}

    def to_json(self) -> str:
        """The YAML/JSON form as canonical JSON text (sorted keys), as logged."""
        return _json(self)

    def check_against(self, catalog: Catalog) -> None:
        """Raise :class:`SimrecError` if the constraint cannot apply to ``catalog``.

        Besides the field and op, the values are checked: a tag or categorical value the
        catalog does not have (``tags has famly-friendly``) is almost always a typo that
        would otherwise silently match nothing (or, with ``lacks``, everything).
        """
        if self.all_of:
            for part in self.all_of:
                part.check_against(catalog)
            return
        if self.op not in OPS:
            raise SimrecError(
                f"constraint '{self.describe()}': unknown op {self.op!r}; "
                f"expected one of: {', '.join(OPS)}"
            )
        if self.field == "tags":
            if self.op not in TAG_OPS or not isinstance(self.value, str):
                raise SimrecError(
                    f"constraint '{self.describe()}': field 'tags' takes op 'has' or 'lacks' "
                    f"with one tag, got op {self.op!r} with value {describe(self.value)}"
                )
            known = sorted({t for tags in catalog.tags for t in tags})
            self._check_values((self.value,), known, "tag")
            return
        column = catalog.column(self.field)
        numeric = column.dtype.kind == "f"
        if numeric:
            fits = self.op in NUMERIC_OPS and not isinstance(self.value, str)
        else:
            fits = self.op in SET_OPS or (self.op in ("==", "!=") and isinstance(self.value, str))
        if not fits:
            kind = "numeric" if numeric else "categorical"
            raise SimrecError(
                f"constraint '{self.describe()}': field {self.field!r} is {kind} in this "
                f"catalog; op {self.op!r} with value {describe(self.value)} does not apply"
            )
        if not numeric:
            values = self.value if isinstance(self.value, tuple) else (self.value,)
            self._check_values(values, sorted(set(column)), f"{self.field} value")

    def _check_values(self, values: tuple[Any, ...], known: list[str], noun: str) -> None:
        for value in values:
            if value not in known:
                raise SimrecError(
                    f"constraint '{self.describe()}': field {self.field!r}: {value!r} is not "
                    f"a {noun} in the catalog (no item has it); "
                    f"known: {', '.join(known)}"
                )

    @classmethod
    def from_fields(cls, fields: Fields) -> Constraint:
        """Parse and validate a constraint mapping (see the module docstring)."""
        if "all" in fields:
            fields.reject_unknown({"all"})
            parts = [
                cls.from_fields(fields.element("all", i, v)) for i, v in fields.items_of("all")
            ]
            if not parts:
                fields.fail("all", "expected at least one constraint")
            return cls(all_of=tuple(parts))
        fields.reject_unknown({"field", "op", "value"})
        field = fields.string("field")
        op = fields.choice("op", OPS)
        raw = fields.raw("value")
        if op in SET_OPS:
            if not isinstance(raw, list) or not raw or not all(isinstance(v, str) for v in raw):
                fields.fail(
                    "value",
                    f"expected a non-empty list of strings for op {op!r}, got {describe(raw)}",
                )
            value: Any = tuple(raw)
        elif op in TAG_OPS:
            if field != "tags":
                fields.fail("op", f"op {op!r} applies to field 'tags' only, not {field!r}")
            value = fields.string("value")
        elif isinstance(raw, str) and op in ("==", "!="):
            value = raw
        else:
            value = fields.number("value")
        if field == "tags" and op not in TAG_OPS:
            fields.fail("op", f"field 'tags' takes op 'has' or 'lacks', got {op!r}")
        return cls(field=field, op=op, value=value)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | None = None) -> Constraint:
        """Parse a constraint from a plain mapping (errors name ``source``)."""
        return cls.from_fields(Fields(data, PersonaError, source=source))


@lru_cache(maxsize=4096)
def _json(constraint: Constraint) -> str:
    return json.dumps(constraint.to_dict(), sort_keys=True)


@lru_cache(maxsize=4096)
def _mask(constraint: Constraint, catalog: Catalog) -> np.ndarray:
    if constraint.all_of:
        out = np.ones(len(catalog), dtype=bool)
        for part in constraint.all_of:
            out &= _mask(part, catalog)
    elif constraint.field == "tags":
        has = np.fromiter((constraint.value in tags for tags in catalog.tags), bool, len(catalog))
        out = has if constraint.op == "has" else ~has
    else:
        column = catalog.column(constraint.field)
        op, value = constraint.op, constraint.value
        if op == "in":
            out = np.isin(column, list(value))
        elif op == "not_in":
            out = ~np.isin(column, list(value))
        elif op == "==":
            out = column == value
        elif op == "!=":
            out = column != value
        else:
            out = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}[op](
                column.astype(np.float64), float(value)
            )
        out = np.asarray(out, dtype=bool)
    out.setflags(write=False)
    return out
