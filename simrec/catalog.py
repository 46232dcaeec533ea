"""The items a policy can recommend, as column arrays plus numeric matrices built once.

A :class:`Catalog` stores one numpy array per column instead of one Python object per
item (RecSim rebuilt a document object every step; that is where its time went). Two
derived matrices serve the hot paths:

* ``token_matrix`` (items x tokens, 0/1): one column per categorical value, named
  ``field=value`` — ``category=links``, ``tags=scenic``, ``region=scotland``. Persona
  tastes are weights over these tokens, so a persona's affinity for every item is one
  matrix-vector product at reset.
* ``features`` (items x features, float32): the token columns plus standardised numeric
  attributes, log price and popularity, for policies (LinUCB, MMR, RL agents).

Schema of a catalog table (CSV, parquet, JSONL, YAML):

============  ========  ===================================================
column        required  meaning
============  ========  ===================================================
item_id       yes       unique string id
title         yes       display title
category      yes       one category name
price         yes       non-negative number
tags          no        list of strings (``a|b|c`` in CSV)
popularity    no        non-negative number (1.0 when the column is absent)
description   no        free text (default empty)
semantic_id   no        unique ``/``-separated hierarchy (default ``category/item_id``)
embedding     no        a list of numbers per item, the same length ``d >= 1`` in every
                        row (``1.5|-0.2|3`` in CSV): the item's position in a latent
                        taste space (:attr:`Catalog.embeddings`), written by grounding
consumable    no        true/false in every row, or no column (all false): a consumable
                        item (coffee, batteries) may be bought again in the same visit
anything else no        an attribute: numeric column -> numeric attribute,
                        string column -> categorical attribute
============  ========  ===================================================

Attribute columns may not mix numbers and strings, and may not have gaps; nor may a
``popularity`` column that has a value in any row. CSV cells carry no type, so in CSV
an attribute column whose every cell looks like a number (``01``, ``2``) is read as
numeric; keep such codes categorical by saving as JSONL, YAML or parquet, which
:meth:`Catalog.save` and :func:`load_catalog` round-trip exactly.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from simrec.errors import CatalogError
from simrec.validation import describe
from simrec.yamlio import load_yaml, read_text

REQUIRED_COLUMNS = ("item_id", "title", "category", "price")
_IDENTIFIER_COLUMNS = frozenset({"item_id", "category", "semantic_id"})
"""Columns whose values are compared as keys: surrounding whitespace is an error, not a variant."""
OPTIONAL_COLUMNS = ("tags", "popularity", "description", "semantic_id", "consumable", "embedding")
TAG_SEPARATOR = "|"
EMBEDDING_SEPARATOR = "|"
"""Separates the numbers of an ``embedding`` cell in CSV (``0.5|-1.2|3``)."""
NUMBER_COLUMNS = ("price", "popularity")


@dataclass(frozen=True)
class Item:
    """One item, for display and inspection (the hot paths use the column arrays)."""

    index: int
    item_id: str
    title: str
    category: str
    tags: tuple[str, ...]
    price: float
    popularity: float
    description: str
    semantic_id: str
    attributes: dict[str, Any]
    consumable: bool = False


class Catalog:
    """An immutable table of items with numeric encodings for simulation and policies.

    Args:
        item_ids, titles, categories, prices: the required columns, one entry per item.
        tags: per-item tag lists.
        popularity: per-item non-negative popularity.
        descriptions, semantic_ids: per-item strings.
        attributes: extra columns; numeric arrays become numeric attributes, string
            arrays categorical ones.
        embeddings: ``(n_items, d)`` latent item vectors (grounded catalogs), or ``None``.
        consumable: per-item flags: items a user may buy again (default: none).
        domain: the domain name (``golf``, ``books``, …) or ``None`` for a custom catalog.
        source: where the catalog came from, for error messages.
    """

    def __init__(
        self,
        item_ids: Sequence[str],
        titles: Sequence[str],
        categories: Sequence[str],
        prices: Sequence[float],
        tags: Sequence[Sequence[str]] | None = None,
        popularity: Sequence[float] | None = None,
        descriptions: Sequence[str] | None = None,
        semantic_ids: Sequence[str] | None = None,
        attributes: Mapping[str, Sequence[Any]] | None = None,
        domain: str | None = None,
        source: str | None = None,
        embeddings: np.ndarray | Sequence[Sequence[float]] | None = None,
        consumable: Sequence[bool] | None = None,
    ) -> None:
        n = len(item_ids)
        self.domain = domain
        self.source = source
        # Every column is a private read-only copy: catalogs are shared (``cached_catalog``)
        # and their masks and features are cached, so in-place edits would corrupt both.
        self.item_ids = _frozen(item_ids, object)
        self.titles = _frozen(titles, object)
        self.categories = _frozen(categories, object)
        self.prices = _frozen(prices, np.float64)
        self.tags: tuple[tuple[str, ...], ...] = tuple(
            tuple(t) for t in (tags if tags is not None else [()] * n)
        )
        self.popularity = _frozen(popularity if popularity is not None else np.ones(n), np.float64)
        self.descriptions = _frozen(descriptions if descriptions is not None else [""] * n, object)
        self.semantic_ids = _frozen(
            semantic_ids
            if semantic_ids is not None
            else [f"{c}/{i}" for c, i in zip(self.categories, self.item_ids, strict=True)],
            object,
        )
        self.consumable = _frozen(consumable if consumable is not None else np.zeros(n), bool)
        self.numeric: dict[str, np.ndarray] = {}
        self.categorical: dict[str, np.ndarray] = {}
        for name, values in (attributes or {}).items():
            if name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
                self._fail(
                    f"attribute {name!r} has the name of a built-in column; "
                    f"rename it (built-in columns: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})"
                )
            arr = np.asarray(values)
            if arr.dtype.kind in "iuf":
                self.numeric[name] = _frozen(arr, np.float64)
            else:
                self.categorical[name] = _frozen([str(v) for v in values], object)
        self.embeddings: np.ndarray | None = None
        """``(n_items, d)`` float64 latent item vectors (read-only), or ``None``.

        A persona's ``taste_embedding`` scores every item with one product
        (``embeddings @ taste_embedding``, added to its token affinity). Not part of
        :attr:`features`: policies see it only if they read it on purpose."""
        if embeddings is not None:
            self.embeddings = _frozen_matrix(embeddings, n, self._fail)
        self._check()
        self.index_of: dict[str, int] = {str(i): k for k, i in enumerate(self.item_ids)}
        self.category_names: tuple[str, ...] = tuple(sorted(set(self.categories)))
        code = {c: k for k, c in enumerate(self.category_names)}
        self.category_codes = np.fromiter((code[c] for c in self.categories), np.int64, n)

    # -- construction checks ------------------------------------------------------
    def _fail(self, message: str) -> None:
        prefix = f"{self.source}: " if self.source else ""
        raise CatalogError(prefix + message)

    def _check(self) -> None:
        n = len(self.item_ids)
        if n == 0:
            self._fail("catalog has no items")
        columns = {
            "titles": self.titles,
            "categories": self.categories,
            "prices": self.prices,
            "popularity": self.popularity,
            "descriptions": self.descriptions,
            "semantic_ids": self.semantic_ids,
            "consumable": self.consumable,
            **self.numeric,
            **self.categorical,
        }
        for name, col in columns.items():
            if len(col) != n:
                self._fail(f"column {name!r} has {len(col)} entries, expected {n} (one per item)")
        if len(self.tags) != n:
            self._fail(f"column 'tags' has {len(self.tags)} entries, expected {n}")
        if not (np.all(np.isfinite(self.prices)) and np.all(self.prices >= 0)):
            row = int(np.flatnonzero(~(np.isfinite(self.prices) & (self.prices >= 0)))[0])
            self._fail(
                f"row {row}, field 'price': expected a non-negative number, got {self.prices[row]}"
            )
        if not (np.all(np.isfinite(self.popularity)) and np.all(self.popularity >= 0)):
            row = int(np.flatnonzero(~(np.isfinite(self.popularity) & (self.popularity >= 0)))[0])
            self._fail(f"row {row}, field 'popularity': expected a non-negative number")
        for field, label, values in (
            ("item_id", "id", self.item_ids),
            ("semantic_id", "semantic id", self.semantic_ids),
        ):
            seen: dict[str, int] = {}
            for row, value in enumerate(values):
                if value in seen:
                    self._fail(
                        f"row {row}, field '{field}': duplicate {label} {value!r} "
                        f"(first at row {seen[value]})"
                    )
                seen[value] = row

    # -- basic access -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.item_ids)

    def __repr__(self) -> str:
        return f"Catalog(domain={self.domain!r}, items={len(self)}, tokens={len(self.tokens)})"

    @property
    def embedding_dim(self) -> int | None:
        """``d`` of :attr:`embeddings`, or ``None`` when the catalog has none."""
        return None if self.embeddings is None else int(self.embeddings.shape[1])

    def item(self, index: int) -> Item:
        """The item at position ``index`` as an :class:`Item`."""
        return Item(
            index=int(index),
            item_id=str(self.item_ids[index]),
            title=str(self.titles[index]),
            category=str(self.categories[index]),
            tags=self.tags[index],
            price=float(self.prices[index]),
            popularity=float(self.popularity[index]),
            description=str(self.descriptions[index]),
            semantic_id=str(self.semantic_ids[index]),
            consumable=bool(self.consumable[index]),
            attributes={
                **{k: float(v[index]) for k, v in self.numeric.items()},
                **{k: str(v[index]) for k, v in self.categorical.items()},
            },
        )

    @property
    def attribute_names(self) -> tuple[str, ...]:
        """Names of all attributes, numeric and categorical."""
        return tuple(self.numeric) + tuple(self.categorical)

    def column(self, field: str) -> np.ndarray:
        """The values of ``field`` (``price``, ``category``, or an attribute) per item."""
        if field == "price":
            return self.prices
        if field == "category":
            return self.categories
        if field == "popularity":
            return self.popularity
        if field in self.numeric:
            return self.numeric[field]
        if field in self.categorical:
            return self.categorical[field]
        fields = ("price", "category", "tags", "popularity", *self.attribute_names)
        raise CatalogError(f"catalog has no field {field!r}; fields are: {', '.join(fields)}")

    # -- token and feature encodings ------------------------------------------------
    @cached_property
    def tokens(self) -> tuple[str, ...]:
        """Names of the token columns: ``category=…``, ``tags=…``, ``<attribute>=…``."""
        names = [f"category={c}" for c in self.category_names]
        names += [f"tags={t}" for t in sorted({t for ts in self.tags for t in ts})]
        for attr, values in self.categorical.items():
            names += [f"{attr}={v}" for v in sorted(set(values))]
        return tuple(names)

    @cached_property
    def token_index(self) -> dict[str, int]:
        """Column of each token in :attr:`token_matrix`."""
        return {t: k for k, t in enumerate(self.tokens)}

    @cached_property
    def token_matrix(self) -> np.ndarray:
        """Items x tokens 0/1 matrix (float64)."""
        index = self.token_index
        m = np.zeros((len(self), len(self.tokens)), dtype=np.float64)
        rows = np.arange(len(self))
        m[rows, [index[f"category={c}"] for c in self.categories]] = 1.0
        for row, tags in enumerate(self.tags):
            for tag in tags:
                m[row, index[f"tags={tag}"]] = 1.0
        for attr, values in self.categorical.items():
            m[rows, [index[f"{attr}={v}"] for v in values]] = 1.0
        m.setflags(write=False)
        return m

    @cached_property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the columns of :attr:`features`."""
        return self.tokens + tuple(self.numeric) + ("log_price", "popularity")

    @cached_property
    def features(self) -> np.ndarray:
        """Items x features float32 matrix for policies: tokens, z-scored numerics, price, popularity."""
        numeric = [_zscore(v) for v in self.numeric.values()]
        numeric.append(_zscore(np.log1p(self.prices)))
        numeric.append(self.popularity_share * len(self) / max(1.0, len(self) ** 0.5))
        out = np.column_stack([self.token_matrix, *numeric]).astype(np.float32)
        out.setflags(write=False)
        return out

    @cached_property
    def popularity_share(self) -> np.ndarray:
        """Popularity normalised to sum to one (the base rate of being chosen)."""
        total = float(self.popularity.sum())
        if total <= 0:
            return np.full(len(self), 1.0 / len(self))
        return self.popularity / total

    @cached_property
    def self_information(self) -> np.ndarray:
        """``-log2`` popularity share per item: the novelty of recommending it."""
        return -np.log2(np.maximum(self.popularity_share, 1e-12))

    @cached_property
    def log_price_ratio(self) -> np.ndarray:
        """``log(price / median price)``: how expensive each item is for its catalog."""
        median = float(np.median(self.prices))
        return np.log((self.prices + 1.0) / (median + 1.0))

    @cached_property
    def log1p_prices(self) -> np.ndarray:
        """``log(1 + price)`` per item: prices compared as ratios (0 for a free item)."""
        out = np.log1p(self.prices)
        out.setflags(write=False)
        return out

    # -- tables -----------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """The catalog as a DataFrame in the documented schema (tags as lists)."""
        data: dict[str, Any] = {
            "item_id": list(self.item_ids),
            "title": list(self.titles),
            "category": list(self.categories),
            "price": self.prices,
            "tags": [list(t) for t in self.tags],
            "popularity": self.popularity,
            "description": list(self.descriptions),
            "semantic_id": list(self.semantic_ids),
        }
        if self.consumable.any():  # the column is optional: absent means none is
            data["consumable"] = self.consumable
        data.update({k: v for k, v in self.numeric.items()})
        data.update({k: list(v) for k, v in self.categorical.items()})
        if self.embeddings is not None:
            data["embedding"] = list(self.embeddings)
        return pd.DataFrame(data)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        source: str | None = None,
        domain: str | None = None,
        row_offset: int = 0,
    ) -> Catalog:
        """Build a catalog from a DataFrame in the documented schema.

        ``row_offset`` converts a frame row into the row or line number users see in
        their file (e.g. 2 for a CSV with a header, so row 0 is reported as line 2).
        """
        reader = _RecordReader(source, row_offset, None)
        for column in NUMBER_COLUMNS:
            if column in frame.columns:
                _check_number_dtype(reader, column, frame[column])
        return cls.from_records(frame.to_dict("records"), source, domain, row_offset)

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        source: str | None = None,
        domain: str | None = None,
        row_offset: int = 0,
        row_lines: Sequence[int] | None = None,
    ) -> Catalog:
        """Build a catalog from one mapping per item, validating every field."""
        return _records_to_catalog(list(records), source, domain, row_offset, row_lines)

    def save(self, path: str | Path) -> Path:
        """Write the catalog as CSV, parquet, JSONL or YAML (chosen by file suffix)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            for row, tags in enumerate(self.tags):
                for tag in tags:
                    if TAG_SEPARATOR in tag:
                        raise CatalogError(
                            f"{path}: row {row}, field 'tags': tag {tag!r} contains "
                            f"{TAG_SEPARATOR!r}, which separates tags in CSV; "
                            "save as .jsonl, .yaml or .parquet instead"
                        )
            frame = self.to_frame().assign(tags=[TAG_SEPARATOR.join(t) for t in self.tags])
            if self.embeddings is not None:
                # repr of a float round-trips exactly
                frame["embedding"] = [
                    EMBEDDING_SEPARATOR.join(repr(float(x)) for x in row) for row in self.embeddings
                ]
            frame.to_csv(path, index=False)
        elif suffix == ".parquet":
            try:
                self.to_frame().to_parquet(path, index=False)
            except ImportError:
                raise CatalogError(
                    f"{path}: writing parquet needs pyarrow: pip install 'simrec[parquet]'"
                ) from None
        elif suffix in (".jsonl", ".ndjson"):
            # json (not pandas.to_json, which keeps 10 decimals) writes floats exactly.
            lines = (json.dumps(r, ensure_ascii=False) + "\n" for r in self._plain_records())
            path.write_text("".join(lines), encoding="utf-8")
        elif suffix in (".yaml", ".yml"):
            import yaml

            text = yaml.safe_dump(
                {"items": self._plain_records()}, sort_keys=False, allow_unicode=True
            )
            path.write_text(text, encoding="utf-8")
        else:
            raise CatalogError(
                f"{path}: unknown catalog format {suffix!r}; use .csv, .parquet, .jsonl or .yaml"
            )
        return path

    def _plain_records(self) -> list[dict[str, Any]]:
        """One dict of plain Python values per item, in the column order of :meth:`to_frame`."""
        any_consumable = bool(self.consumable.any())
        return [
            {
                "item_id": str(self.item_ids[i]),
                "title": str(self.titles[i]),
                "category": str(self.categories[i]),
                "price": float(self.prices[i]),
                "tags": list(self.tags[i]),
                "popularity": float(self.popularity[i]),
                "description": str(self.descriptions[i]),
                "semantic_id": str(self.semantic_ids[i]),
                **({"consumable": bool(self.consumable[i])} if any_consumable else {}),
                **{k: float(v[i]) for k, v in self.numeric.items()},
                **{k: str(v[i]) for k, v in self.categorical.items()},
                **(
                    {"embedding": self.embeddings[i].tolist()}
                    if self.embeddings is not None
                    else {}
                ),
            }
            for i in range(len(self))
        ]


def _frozen(values: Any, dtype: Any) -> np.ndarray:
    """A read-only copy of ``values`` as a 1-D array of ``dtype``."""
    arr = np.array(values, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


def _frozen_matrix(values: Any, n: int, fail: Callable[[str], None]) -> np.ndarray:
    """A read-only float64 ``(n, d)`` copy of ``values``, ``d >= 1``, all finite."""
    try:
        matrix = np.array(values, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        fail("embeddings: expected an (n_items, d) matrix of numbers")
        raise AssertionError from None  # fail raises
    if matrix.ndim != 2 or matrix.shape[0] != n or matrix.shape[1] < 1:
        fail(f"embeddings: expected shape ({n}, d) with d >= 1, got {matrix.shape}")
    if not np.isfinite(matrix).all():
        row = int(np.flatnonzero(~np.isfinite(matrix).all(axis=1))[0])
        fail(f"row {row}, field 'embedding': expected finite numbers, got {matrix[row].tolist()}")
    matrix.setflags(write=False)
    return matrix


def _zscore(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    return (values - values.mean()) / (std if std > 0 else 1.0)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, float) and math.isnan(value)


class _RecordReader:
    """Validates catalog records one field at a time, with row-aware messages."""

    def __init__(
        self,
        source: str | None,
        row_offset: int,
        row_lines: Sequence[int] | None,
        field_line: Callable[[int, str], int | None] | None = None,
    ) -> None:
        self.source = source
        self.row_offset = row_offset
        self.row_lines = row_lines
        self.field_line = field_line

    def line(self, row: int, field: str | None = None) -> int | None:
        """The line users see for ``row`` (and ``field``, when lines are per field)."""
        if self.field_line is not None and field is not None:
            line = self.field_line(row, field)
            if line:
                return line
        if self.row_lines is not None:
            return self.row_lines[row]
        if self.row_offset:
            return row + self.row_offset
        return None

    def where(self, row: int, field: str | None = None) -> str:
        """``line 7 (item 5)`` when lines are known, else ``row 5``."""
        line = self.line(row, field)
        if line is None:
            return f"row {row}"
        label = "item" if self.row_lines is not None else "row"
        return f"line {line} ({label} {row})"

    def short_where(self, row: int) -> str:
        """``line 7`` when lines are known, else ``row 5`` (for references to other rows)."""
        line = self.line(row)
        return f"row {row}" if line is None else f"line {line}"

    def fail(self, row: int, field: str, message: str) -> NoReturn:
        prefix = f"{self.source}: " if self.source else ""
        raise CatalogError(f"{prefix}{self.where(row, field)}, field '{field}': {message}")

    def string(
        self, row: int, record: Mapping[str, Any], field: str, default: str | None = None
    ) -> str:
        value = record.get(field)
        if _is_missing(value) or (isinstance(value, str) and not value.strip()):
            if default is not None:
                return default
            self.fail(row, field, "expected a non-empty value, got nothing")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.fail(row, field, f"expected a string, got {describe(value)}")
        text = str(value)
        if field in _IDENTIFIER_COLUMNS and text != text.strip():
            # 'i1' and 'i1 ' would silently be two items (or two categories).
            self.fail(
                row, field, f"expected no leading or trailing whitespace, got {describe(value)}"
            )
        return text

    def number(
        self, row: int, record: Mapping[str, Any], field: str, default: float | None = None
    ) -> float:
        value = record.get(field)
        if _is_missing(value):
            if default is not None:
                return default
            self.fail(
                row,
                field,
                "expected a non-negative number, got nothing (an optional column with values "
                "in some rows needs one in every row)"
                if field in OPTIONAL_COLUMNS
                else "expected a non-negative number, got nothing",
            )
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            self.fail(row, field, f"expected a non-negative number, got {describe(value)}")
        if not math.isfinite(value) or value < 0:
            self.fail(row, field, f"expected a non-negative number, got {describe(value)}")
        return float(value)

    def flag(self, row: int, record: Mapping[str, Any], field: str, filled: bool) -> bool:
        """A true/false cell (``true``/``false``, ``yes``/``no``, ``1``/``0`` in text).

        Missing is false only when no row of the column has a value (``filled`` false).
        """
        value = record.get(field)
        if _is_missing(value):
            if filled:
                self.fail(
                    row,
                    field,
                    "expected true or false, got nothing (an optional column with values "
                    "in some rows needs one in every row)",
                )
            return False
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _FLAG_WORDS:
            return _FLAG_WORDS[value.strip().lower()]
        self.fail(row, field, f"expected true or false, got {describe(value)}")
        return False

    def embedding(self, row: int, record: Mapping[str, Any]) -> list[float]:
        """The ``embedding`` of a row: a list of finite numbers (``a|b|c`` text in CSV)."""
        value = record.get("embedding")
        expected = f"a list of numbers (0.5{EMBEDDING_SEPARATOR}-1.2 in CSV)"
        if _is_missing(value):
            self.fail(
                row,
                "embedding",
                f"expected {expected}, got nothing (an embedding column needs a value in "
                "every row)",
            )
        if isinstance(value, str):
            cells = value.split(EMBEDDING_SEPARATOR)
            if not all(_NUMBER.fullmatch(c.strip()) for c in cells):
                self.fail(row, "embedding", f"expected {expected}, got {describe(value)}")
            return [float(c) for c in cells]
        if isinstance(value, (list, tuple, np.ndarray)):
            out = []
            for x in value:
                if not _is_number(x) or not math.isfinite(x):
                    self.fail(row, "embedding", f"expected {expected}, got {describe(list(value))}")
                out.append(float(x))
            if not out:
                self.fail(row, "embedding", f"expected {expected}, got an empty list")
            return out
        self.fail(row, "embedding", f"expected {expected}, got {describe(value)}")
        return []

    def tags(self, row: int, record: Mapping[str, Any]) -> tuple[str, ...]:
        value = record.get("tags")
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ()
        if isinstance(value, str):
            return tuple(t.strip() for t in value.split(TAG_SEPARATOR) if t.strip())
        if isinstance(value, (list, tuple, np.ndarray)):
            out = []
            for tag in value:
                if not isinstance(tag, str) or not tag.strip():
                    self.fail(
                        row,
                        "tags",
                        f"expected a list of non-empty strings, got {describe(list(value))}",
                    )
                out.append(tag.strip())
            return tuple(out)
        self.fail(
            row, "tags", f"expected a list of strings or 'a{TAG_SEPARATOR}b', got {describe(value)}"
        )
        return ()


_FLAG_WORDS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


def _records_to_catalog(
    records: list[Mapping[str, Any]],
    source: str | None,
    domain: str | None,
    row_offset: int,
    row_lines: Sequence[int] | None,
    field_line: Callable[[int, str], int | None] | None = None,
) -> Catalog:
    prefix = f"{source}: " if source else ""
    if not records:
        raise CatalogError(f"{prefix}catalog has no items")
    reader = _RecordReader(source, row_offset, row_lines, field_line)
    columns: list[str] = []
    for row, record in enumerate(records):
        if not isinstance(record, Mapping):
            reader.fail(row, "(item)", f"expected a mapping of fields, got {describe(record)}")
        for key in record:
            if key not in columns:
                columns.append(str(key))
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise CatalogError(
            f"{prefix}missing required column {missing[0]!r} "
            f"(required: {', '.join(REQUIRED_COLUMNS)}; found: {', '.join(columns)})"
        )
    attr_names = [c for c in columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    # popularity defaults to 1.0 only when no row has one: a gap in a filled column is
    # a mistake, and 1.0 would silently rank the item far above a long tail of 0.001s.
    filled = any(not _is_missing(rec.get("popularity")) for rec in records)
    flagged = any(not _is_missing(rec.get("consumable")) for rec in records)
    ids, titles, cats, prices, tags, pops, descs, sids = ([] for _ in range(8))
    consumable = []
    first_row: dict[str, int] = {}
    first_sid: dict[str, int] = {}
    for row, rec in enumerate(records):
        ids.append(reader.string(row, rec, "item_id"))
        if ids[-1] in first_row:
            reader.fail(
                row,
                "item_id",
                f"duplicate id {ids[-1]!r} (first at {reader.short_where(first_row[ids[-1]])})",
            )
        first_row[ids[-1]] = row
        titles.append(reader.string(row, rec, "title"))
        cats.append(reader.string(row, rec, "category"))
        prices.append(reader.number(row, rec, "price"))
        tags.append(reader.tags(row, rec))
        pops.append(reader.number(row, rec, "popularity", default=None if filled else 1.0))
        descs.append(reader.string(row, rec, "description", default=""))
        sids.append(reader.string(row, rec, "semantic_id", default=f"{cats[-1]}/{ids[-1]}"))
        consumable.append(reader.flag(row, rec, "consumable", flagged))
        if sids[-1] in first_sid:
            reader.fail(
                row,
                "semantic_id",
                f"duplicate semantic id {sids[-1]!r} (first at "
                f"{reader.short_where(first_sid[sids[-1]])}); semantic ids name one item each",
            )
        first_sid[sids[-1]] = row
    attributes = {name: _attribute_column(reader, records, name) for name in attr_names}
    embeddings = _embedding_column(reader, records) if "embedding" in columns else None
    return Catalog(
        ids,
        titles,
        cats,
        prices,
        tags,
        pops,
        descs,
        sids,
        attributes,
        domain,
        source,
        embeddings,
        consumable,
    )


def _embedding_column(reader: _RecordReader, records: list[Mapping[str, Any]]) -> np.ndarray | None:
    """The ``embedding`` column as an ``(n, d)`` matrix: every row, one length, or no column."""
    if all(_is_missing(rec.get("embedding")) for rec in records):
        return None
    rows = [reader.embedding(row, rec) for row, rec in enumerate(records)]
    d = len(rows[0])
    for row, vector in enumerate(rows):
        if len(vector) != d:
            reader.fail(
                row,
                "embedding",
                f"expected {d} numbers like {reader.short_where(0)}, got {len(vector)}",
            )
    return np.array(rows, dtype=np.float64)


def _attribute_column(
    reader: _RecordReader, records: list[Mapping[str, Any]], name: str
) -> list[Any]:
    """One attribute column: all numbers (numeric) or all strings (categorical), no mixing."""
    values = [rec.get(name) for rec in records]
    present = [(row, v) for row, v in enumerate(values) if not _is_missing(v)]
    if not present:
        raise CatalogError(
            f"{reader.source + ': ' if reader.source else ''}attribute column {name!r} is empty"
        )
    first_row, first = present[0]
    numeric = _is_number(first)
    like = f"like {reader.short_where(first_row)}'s {describe(first)}"
    out: list[Any] = []
    for row, value in enumerate(values):
        if _is_missing(value):
            reader.fail(
                row, name, "expected a value (attribute columns may not have gaps), got nothing"
            )
        if isinstance(value, (bool, np.bool_)):
            reader.fail(
                row,
                name,
                f"expected a number or a string, got the boolean {value}; write 0/1 or a word",
            )
        if numeric and not _is_number(value):
            reader.fail(
                row,
                name,
                f"expected a number {like} (a column may not mix numbers and strings), "
                f"got {describe(value)}",
            )
        if not numeric and not isinstance(value, str):
            reader.fail(
                row,
                name,
                f"expected a string {like} (a column may not mix numbers and strings), "
                f"got {describe(value)}",
            )
        out.append(float(value) if numeric else value)
    return out


def _check_number_dtype(reader: _RecordReader, column: str, values: pd.Series) -> None:
    """Refuse a number column stored as text (e.g. parquet strings), naming its first bad row.

    Each text cell is wrong, but the first one (``'73.96'``) reads as a number; the row
    worth reporting is the first that is not a number even as text (``'abc'``).
    """
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return  # booleans and negatives are reported per row by the record reader
    texts = [(row, v) for row, v in enumerate(values) if isinstance(v, str)]
    if not texts:
        return
    unreadable = [(row, v) for row, v in texts if not _NUMBER.fullmatch(v.strip())]
    row, value = (unreadable or texts)[0]
    reader.fail(
        row,
        column,
        f"expected a non-negative number, got {describe(value)} (the column is stored as "
        f"text, dtype {values.dtype}; store {column} as numbers)",
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def load_catalog(path: str | Path, domain: str | None = None) -> Catalog:
    """Load a catalog from CSV, parquet, JSONL or YAML, validating every row.

    Raises:
        CatalogError: the file is missing, unreadable or violates the schema; the
            message names the file, the row or line and the field.
    """
    path = Path(path)
    src = str(path)
    if not path.is_file():
        raise CatalogError(f"{src}: catalog file not found")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".jsonl", ".ndjson", ".yaml", ".yml"):
        raise CatalogError(
            f"{src}: unknown catalog format {suffix!r}; expected .csv, .parquet, .jsonl or .yaml"
        )
    if path.stat().st_size == 0:
        raise CatalogError(
            f"{src}: file is empty; expected a catalog (see simrec.catalog for the schema)"
        )
    if suffix == ".csv":
        records, lines = _read_csv(path)
        return Catalog.from_records(records, src, domain, row_lines=lines)
    if suffix == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except ImportError:
            raise CatalogError(
                f"{src}: reading parquet needs pyarrow: pip install 'simrec[parquet]'"
            ) from None
        except Exception as exc:  # pyarrow raises several unrelated types for bad files
            raise CatalogError(f"{src}: not a readable parquet file: {exc}") from None
        return Catalog.from_frame(frame, src, domain)
    if suffix in (".jsonl", ".ndjson"):
        records, lines = [], []
        # split on "\n" only: str.splitlines also splits inside strings at U+2028 or U+0085
        for lineno, line in enumerate(_read_text(path).split("\n"), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise CatalogError(
                    f"{src}:{lineno}: invalid JSON: {exc.msg} (column {exc.colno})"
                ) from None
            lines.append(lineno)
        return Catalog.from_records(records, src, domain, row_lines=lines)
    return _load_yaml_catalog(path, domain)


def _read_text(path: Path) -> str:
    """The file's text, line endings untranslated (a quoted CSV cell may hold ``\\r\\n``)."""
    return read_text(path, CatalogError, encoding="utf-8-sig", newline="")


#: What a CSV cell must look like to be read as a number (``12``, ``-3.5``, ``1e3``).
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
#: CSV columns that are always text, however their cells look (``007`` stays ``007``).
_TEXT_COLUMNS = (
    "item_id",
    "title",
    "category",
    "tags",
    "description",
    "semantic_id",
    "embedding",
)


def _csv_cell(column: str, text: str) -> Any:
    """A CSV cell as a record value: empty -> missing; numbers outside text columns -> float."""
    if not text.strip():
        return None
    if column not in _TEXT_COLUMNS and _NUMBER.fullmatch(text.strip()):
        return float(text)
    return text


def _read_csv(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """Records of a CSV catalog and the line each starts on (header is line 1).

    The csv module (not pandas) reads the file so that text columns stay text (``007``,
    ``NA``), blank lines and quoted multi-line cells keep line numbers right, and every
    problem names its line.
    """
    src = str(path)
    header: list[str] | None = None
    header_line = 1
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue  # a blank line, or a row of empty cells
            if header is None:
                header, header_line = [c.strip() for c in cells], line
                _check_csv_header(src, line, header)
                continue
            if len(cells) > len(header):
                raise CatalogError(
                    f"{src}:{line}: {len(cells)} cells but the header (line {header_line}) names "
                    f"{len(header)} columns; quote cells that contain commas"
                )
            record: dict[str, Any] = {}
            for k, (col, cell) in enumerate(zip(header, cells, strict=False), start=1):
                if col:
                    record[col] = _csv_cell(col, cell)
                elif cell.strip():
                    raise CatalogError(
                        f"{src}:{line}: cell {k} ({cell.strip()!r}) is under a column with no "
                        f"name; name column {k} in the header (line {header_line})"
                    )
            records.append(record)
            lines.append(line)
    except csv.Error as exc:
        raise CatalogError(f"{src}:{reader.line_num}: not a readable CSV file: {exc}") from None
    if header is None:
        raise CatalogError(f"{src}: file is empty; expected a header line and one line per item")
    return records, lines


def _check_csv_header(src: str, line: int, header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise CatalogError(f"{src}:{line}: column {name!r} appears twice in the header")
        if name:
            seen.add(name)


def _load_yaml_catalog(path: Path, domain: str | None) -> Catalog:
    doc = load_yaml(path, CatalogError)
    data = doc.data
    key: tuple[str, ...] = ()
    if data is None:
        raise CatalogError(
            f"{path}: file is empty; expected a list of items (or a mapping with 'items:')"
        )
    if isinstance(data, Mapping) and "items" in data:
        data, key = data["items"], ("items",)
        domain = domain or (
            doc.data.get("domain") if isinstance(doc.data.get("domain"), str) else None
        )
    if not isinstance(data, list):
        raise CatalogError(
            f"{path}: expected a list of items (or a mapping with 'items:'), got {type(data).__name__}"
        )
    lines = [doc.line((*key, i)) or 0 for i in range(len(data))]

    def field_line(row: int, field: str) -> int | None:
        return doc.lines.get((*key, row, field))

    return _records_to_catalog(data, str(path), domain, 0, lines, field_line)
