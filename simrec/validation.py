"""Reading user-written mappings (YAML files, dicts) field by field with clear errors.

A :class:`Fields` wraps one mapping and knows where it lives (file, line, dotted path),
so every accessor can raise an error such as::

    personas/golf/ana.yaml:14: field 'price_sensitivity': expected a number in [0, 1], got 'high'

No value is ever coerced silently: a string is not a number, a float is not an int.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import numbers
import types
import typing
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn, TypeVar

import numpy as np

from simrec.errors import ActionError, ArgumentError, ConfigError, SimrecError, located
from simrec.yamlio import PathKey, YamlDoc

_MISSING: Any = object()

SEED_MAX = 2**32 - 1
"""The largest seed simrec accepts: session ids (``seed + i``) and sub-env seeds must stay
well inside the 64-bit integers that numpy, pandas and the dataset files store."""


def number_expected(
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    integer: bool = False,
) -> str | None:
    """What was expected, when ``value`` is not a finite number (an integer) in ``[low, high]``;
    ``None`` when it is. Booleans and strings are never numbers; NaN and infinities never pass.

    One rule for every numeric input (YAML fields, CLI options, constructor arguments), so a
    ``nan`` or a ``"3"`` is refused the same way everywhere.
    """
    expected = "an integer" if integer else "a number"
    if low is not None and high is not None:
        expected += f" in [{_bound(low)}, {_bound(high)}]"
    elif low is not None:
        expected += f" >= {_bound(low)}"
    elif high is not None:
        expected += f" <= {_bound(high)}"
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        return expected
    if not integer and not math.isfinite(value):
        return expected
    if (low is not None and value < low) or (high is not None and value > high):
        return expected
    return None


def _bound(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def check_seed(value: Any, what: str = "seed", error: type[SimrecError] = ConfigError) -> int:
    """``value`` as a seed: an integer in ``[0, SEED_MAX]``; otherwise ``error`` naming ``what``."""
    expected = number_expected(value, 0, SEED_MAX, integer=True)
    if expected is not None:
        raise error(f"{what}: expected {expected} (a seed), got {describe(value)}")
    return int(value)


def check_fields(instance: Any, ranges: Mapping[str, tuple[float | None, float | None]]) -> None:
    """Check a dataclass of numbers: every ``float``/``int`` field finite, of its type, and
    within ``ranges[name]`` (``(low, high)``, either ``None``) where given.

    Raises:
        ArgumentError: naming the class, the field and what was expected.
    """
    hints = typing.get_type_hints(type(instance))
    for spec in dataclasses.fields(instance):
        kind = hints.get(spec.name)
        if kind not in (float, int):
            continue
        value = getattr(instance, spec.name)
        low, high = ranges.get(spec.name, (None, None))
        expected = number_expected(value, low, high, integer=kind is int)
        if expected is not None:
            raise ArgumentError(
                f"{type(instance).__name__}: field '{spec.name}': expected {expected}, "
                f"got {describe(value)}",
                spec.name,
            )


_Callable = TypeVar("_Callable", bound=Callable[..., Any])
_SCALARS = (bool, int, float, str)


def _scalar_kinds(annotation: Any) -> tuple[type, ...] | None:
    """The scalar types an annotation allows (``None`` included), or ``None`` when the
    annotation is not a plain scalar (lists, arrays, envs... are left to the callee)."""
    if annotation in _SCALARS:
        return (annotation,)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        kinds = tuple(a for a in args if a is not type(None))
        if all(a in _SCALARS for a in kinds):
            return kinds + ((type(None),) if type(None) in args else ())
    return None


def _argument_problem(value: Any, kinds: tuple[type, ...]) -> str | None:
    """What was expected of ``value`` under the scalar ``kinds``, or ``None`` if it fits."""
    if value is None and type(None) in kinds:
        return None
    for kind in kinds:
        if kind is bool and isinstance(value, bool):
            return None
        if kind is str and isinstance(value, str):
            return None
        if kind in (int, float) and number_expected(value, integer=kind is int) is None:
            return None
    names = {bool: "true or false", int: "an integer", float: "a finite number", str: "a string"}
    wanted = [names[k] for k in kinds if k in names]
    if type(None) in kinds:
        wanted.append("None")
    return " or ".join(wanted)


@functools.cache
def _call_spec(function: Callable[..., Any]) -> tuple[inspect.Signature, str, dict | None]:
    """``function``'s signature, owner name and type hints (``None``: hints naming what its
    module cannot resolve, so no check), read once: policies are built per visit, and
    resolving hints is far slower than checking a few scalars."""
    function = inspect.unwrap(function)
    owner = function.__qualname__.rsplit(".", 1)[0]
    try:
        hints = typing.get_type_hints(function)
    except (NameError, TypeError):
        hints = None
    return inspect.signature(function), owner, hints


def check_arguments(function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Check the scalar arguments of a call to ``function`` against its type hints.

    An argument annotated ``float`` must be a finite real number (not ``nan``, not a
    string, not a boolean), ``int`` an integer (``2.7`` is refused, not truncated), ``bool``
    ``True`` or ``False``, ``str`` a string; ``X | None`` also takes ``None``. Values given
    through ``**kwargs: float`` are checked too. Ranges stay the callee's business.

    Raises:
        ArgumentError: ``LinUCBPolicy: argument 'alpha': expected a finite number, got nan``.
    """
    signature, owner, hints = _call_spec(function)
    if hints is None:
        return
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise ConfigError(f"{owner}: {exc}") from None
    for name, value in bound.arguments.items():
        parameter = signature.parameters[name]
        kinds = _scalar_kinds(hints.get(name))
        if kinds is None:
            continue
        given = value.items() if parameter.kind is parameter.VAR_KEYWORD else [(name, value)]
        for key, item in given:
            problem = _argument_problem(item, kinds)
            if problem is not None:
                raise ArgumentError(
                    f"{owner}: argument '{key}': expected {problem}, got {describe(item)}", key
                )


def checked_arguments(function: _Callable) -> _Callable:
    """Decorate a constructor so that every call checks its arguments (:func:`check_arguments`).

    Raises:
        ArgumentError: naming the class, the argument and what was expected.
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check_arguments(function, *args, **kwargs)
        return function(*args, **kwargs)

    return typing.cast(_Callable, wrapper)


def _dotted(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def field_error(
    error: type[SimrecError], source: str | None, doc: YamlDoc | None, path: PathKey, message: str
) -> SimrecError:
    """``error`` for the field at ``path``: ``file:line: field 'a.b[0]': message``."""
    line = doc.line(path) if doc is not None else None
    field = f"field '{_dotted(path)}': " if path else ""
    return error(located(source, field + message, line))


def integer_action(value: Any, shape: tuple[int, ...], what: str, holds: str) -> np.ndarray:
    """``value`` (an action) as an integer array of ``shape``, or an ActionError that says
    what was expected: ``{what}: expected shape (5,) of {holds}, got (4,)``.

    Args:
        value: what the policy handed over.
        shape: the shape it must have.
        what: the action's name in the message (``action``, ``actions``, ``token action``).
        holds: what its entries are (``item indices``, ``token codes``).
    """
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise ActionError(f"{what}: expected {shape} {holds}, got {describe(value)}") from None
    if array.shape != shape:
        raise ActionError(f"{what}: expected shape {shape} of {holds}, got {array.shape}")
    if array.dtype.kind not in "iu":
        values = describe(array.tolist()) if array.dtype != object else "objects"
        raise ActionError(f"{what}: expected integer {holds}, got {array.dtype} values {values}")
    return array


def describe(value: Any) -> str:
    """A short, quoted rendering of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Fields:
    """Typed access to the fields of one mapping, raising ``error`` on bad input."""

    def __init__(
        self,
        data: Any,
        error: type[SimrecError],
        source: str | None = None,
        doc: YamlDoc | None = None,
        path: PathKey = (),
    ) -> None:
        self.error = error
        self.source = source
        self.doc = doc
        self.path = path
        if not isinstance(data, Mapping):
            self._raise(path, f"expected a mapping of fields, got {describe(data)}")
        self.data: Mapping[str, Any] = data

    @classmethod
    def from_doc(cls, doc: YamlDoc, error: type[SimrecError]) -> Fields:
        """Fields of the top-level mapping of a parsed YAML document."""
        return cls(doc.data, error, source=doc.source, doc=doc)

    # -- errors ---------------------------------------------------------------
    def _raise(self, path: PathKey, message: str) -> NoReturn:
        raise field_error(self.error, self.source, self.doc, path, message)

    def fail(self, key: str | int, message: str) -> NoReturn:
        """Raise the reader's error for ``key`` with ``message``."""
        self._raise((*self.path, key), message)

    def fail_at(self, keys: tuple[str | int, ...], message: str) -> NoReturn:
        """Raise the reader's error for the field ``keys`` below this mapping."""
        self._raise((*self.path, *keys), message)

    def fail_here(self, message: str) -> NoReturn:
        """Raise the reader's error about this mapping as a whole."""
        self._raise(self.path, message)

    def warn(self, key: str, message: str, category: type[Warning] = FutureWarning) -> None:
        """Warn about ``key`` (e.g. an old spelling) as errors read: file, line, field."""
        path = (*self.path, key)
        text = str(field_error(self.error, self.source, self.doc, path, message))
        warnings.warn(text, category, stacklevel=3)

    def _bad(self, key: str | int, expected: str, value: Any) -> NoReturn:
        self.fail(key, f"expected {expected}, got {describe(value)}")

    # -- structure ------------------------------------------------------------
    def __contains__(self, key: str) -> bool:
        return key in self.data

    def __iter__(self) -> Iterator[str]:
        """The mapping's keys, in file order."""
        return iter(self.data.keys())

    def reject_unknown(self, allowed: set[str] | frozenset[str]) -> None:
        """Fail on any key not in ``allowed`` (catches typos such as ``pateince``)."""
        for key in self.data:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                self.fail(str(key), f"unknown field; expected one of: {known}")

    def _absent(self, key: str, default: Any) -> bool:
        """True when ``key`` is missing (or null) and a default applies."""
        return default is not _MISSING and self.data.get(key) is None

    def _get(self, key: str, default: Any) -> Any:
        if key in self.data and self.data[key] is not None:
            return self.data[key]
        if default is _MISSING:
            self.fail(key, "required field is missing")
        return default

    def child(self, key: str, default: Any = _MISSING) -> Fields:
        """The nested mapping at ``key`` as a :class:`Fields`."""
        value = self._get(key, default)
        if not isinstance(value, Mapping):
            self._bad(key, "a mapping", value)
        return Fields(value, self.error, self.source, self.doc, (*self.path, key))

    def items_of(self, key: str, default: Any = _MISSING) -> list[tuple[int, Any]]:
        """The list at ``key`` as ``(index, value)`` pairs."""
        value = self._get(key, default)
        if not isinstance(value, list):
            self._bad(key, "a list", value)
        return list(enumerate(value))

    def element(self, key: str, index: int, value: Any) -> Fields:
        """A :class:`Fields` for the mapping at ``key[index]``."""
        return Fields(value, self.error, self.source, self.doc, (*self.path, key, index))

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        """The value at ``key`` as it is."""
        return self._get(key, default)

    # -- scalars --------------------------------------------------------------
    def string(self, key: str, default: Any = _MISSING, nonempty: bool = True) -> str:
        """A string field (``default`` when absent)."""
        if self._absent(key, default):
            return default
        value = self._get(key, default)
        if not isinstance(value, str) or (nonempty and not value.strip()):
            self._bad(key, "a non-empty string" if nonempty else "a string", value)
        return value

    def number(
        self,
        key: str,
        default: Any = _MISSING,
        low: float | None = None,
        high: float | None = None,
    ) -> float:
        """A finite real number, optionally within ``[low, high]``."""
        if self._absent(key, default):
            return default
        value = self._get(key, default)
        return self.check_number(key, value, low, high)

    def check_number(
        self, key: str | int, value: Any, low: float | None = None, high: float | None = None
    ) -> float:
        """Validate an already-fetched value as a number within ``[low, high]``."""
        expected = number_expected(value, low, high)
        if expected is not None:
            self._bad(key, expected, value)
        return float(value)

    def integer(
        self, key: str, default: Any = _MISSING, low: int | None = None, high: int | None = None
    ) -> int:
        """An integer field (floats and booleans are rejected), within ``[low, high]``."""
        if self._absent(key, default):
            return default
        value = self._get(key, default)
        expected = number_expected(value, low, high, integer=True)
        if expected is not None:
            self._bad(key, expected, value)
        return int(value)

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        """A true/false field."""
        if self._absent(key, default):
            return default
        value = self._get(key, default)
        if not isinstance(value, bool):
            self._bad(key, "true or false", value)
        return value

    def choice(self, key: str, options: tuple[str, ...], default: Any = _MISSING) -> str:
        """A string that must be one of ``options``."""
        if self._absent(key, default):
            return default
        value = self._get(key, default)
        if value not in options:
            self._bad(key, "one of " + ", ".join(options), value)
        return value

    def string_list(self, key: str, default: Any = _MISSING) -> list[str]:
        """A list of non-empty strings."""
        out = []
        for i, value in self.items_of(key, default):
            if not isinstance(value, str) or not value.strip():
                self._raise(
                    (*self.path, key, i), f"expected a non-empty string, got {describe(value)}"
                )
            out.append(value)
        return out

    def weights(
        self,
        key: str,
        default: Any = _MISSING,
        low: float | None = None,
        high: float | None = None,
    ) -> dict[str, float]:
        """A mapping of names to finite numbers within ``[low, high]`` (taste weights)."""
        sub = self.child(key, default)
        return {str(name): sub.number(str(name), low=low, high=high) for name in sub}
