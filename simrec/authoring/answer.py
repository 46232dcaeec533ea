"""An LLM's persona answer turned into a :class:`~simrec.persona.Persona`, or every reason why not.

The answer has the shape of :meth:`Vocabulary.schema
<simrec.authoring.vocabulary.Vocabulary.schema>` (lists of ``{value, weight}`` per field,
one constraint object per request); :func:`persona_data` rewrites it in the persona YAML
form, and :func:`read_persona` validates that with the YAML loader's own checks
(:meth:`Persona.from_dict` and :meth:`Persona.check_against` the catalog), so an authored
persona is exactly as valid as a hand-written file.

The loader stops at the first problem; a repair is cheaper when the model hears about all
of them at once, so on failure each part of the answer (identity, tastes and dislikes,
each trait, each request) is validated again on its own, on a minimal valid persona, and
every problem found is listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simrec.catalog import Catalog
from simrec.errors import PersonaError
from simrec.llm.request import InvalidAnswer
from simrec.persona import TRAITS, Persona
from simrec.validation import describe

IDENTITY = ("name", "age", "location", "occupation")


def persona_data(
    answer: Mapping[str, Any], persona_id: str, domain: str
) -> tuple[dict[str, Any], list[str]]:
    """The persona YAML form of ``answer`` (see the module docstring), and the problems the
    rewriting found: a value repeated within a field (a mapping would hide it), a request
    giving ``==`` / ``!=`` several values (the first is kept)."""
    problems: list[str] = []
    identity = {k: answer.get(k) for k in IDENTITY if answer.get(k) not in (None, "")}
    data: dict[str, Any] = {
        "id": persona_id,
        "domain": domain,
        "identity": identity,
        "bio": answer.get("bio"),
        "tastes": _tastes(answer.get("tastes"), problems),
        "dislikes": _dislikes(answer.get("dislikes"), problems),
        **{t: answer.get(t) for t in TRAITS},
        "intents": [_intent(k, i, problems) for k, i in enumerate(_items(answer.get("intents")))],
    }
    return data, problems


def read_persona(
    answer: Mapping[str, Any], persona_id: str, domain: str, catalog: Catalog
) -> Persona:
    """The validated persona of ``answer``, its tastes and requests checked against ``catalog``.

    Raises:
        InvalidAnswer: listing every problem found (see the module docstring).
    """
    data, problems = persona_data(answer, persona_id, domain)
    try:
        persona = _validated(data, catalog)
    except PersonaError as first:
        raise InvalidAnswer(problems + (_every_problem(data, catalog) or [str(first)])) from None
    if problems:
        raise InvalidAnswer(problems)
    return persona


def _validated(data: Mapping[str, Any], catalog: Catalog) -> Persona:
    persona = Persona.from_dict(dict(data))
    persona.check_against(catalog)
    return persona


def _every_problem(data: Mapping[str, Any], catalog: Catalog) -> list[str]:
    """The loader's complaint about each part of ``data``, checked apart on a valid base."""
    field, value = catalog.tokens[0].split("=", 1)  # a taste the base persona may hold
    base = {"id": data["id"], "domain": data["domain"], "bio": "-", "tastes": {field: {value: 1.0}}}
    parts: list[dict[str, Any]] = [
        {"identity": data["identity"], "bio": data["bio"]},
        {"tastes": data["tastes"], "dislikes": data["dislikes"]},
        *({t: data[t]} for t in TRAITS),
        *({"intents": [intent]} for intent in data["intents"]),
    ]
    problems = []
    for part in parts:
        try:
            _validated({**base, **part}, catalog)
        except PersonaError as exc:
            problems.append(str(exc))
    return problems


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _tastes(value: Any, problems: list[str]) -> Any:
    if not isinstance(value, Mapping):
        return value  # the loader says what is wrong with it
    out: dict[str, Any] = {}
    for field, entries in value.items():
        if not isinstance(entries, list):
            out[field] = entries
            continue
        weights: dict[Any, Any] = {}
        for k, entry in enumerate(entries):
            if not isinstance(entry, Mapping) or set(entry) != {"value", "weight"}:
                problems.append(
                    f"tastes.{field}[{k}]: expected {{value, weight}}, got {describe(entry)}"
                )
            elif _key(entry["value"]) in weights:
                problems.append(f"tastes.{field}: {entry['value']!r} is listed twice; keep one")
            else:
                weights[_key(entry["value"])] = entry["weight"]
        if weights:
            out[field] = weights
    return out


def _dislikes(value: Any, problems: list[str]) -> Any:
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for field, values in value.items():
        if isinstance(values, list):
            repeated = sorted({str(v) for v in values if values.count(v) > 1})
            if repeated:
                problems.append(f"dislikes.{field}: {', '.join(repeated)} listed twice; keep one")
            if not values:
                continue
        out[field] = values
    return out


def _key(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) else describe(value)


def _intent(k: int, value: Any, problems: list[str]) -> Any:
    """A request in the YAML form: ``values`` (a categorical constraint) becomes ``value``,
    one string for ``==`` / ``!=``."""
    if not isinstance(value, Mapping) or not isinstance(value.get("constraint"), Mapping):
        return value
    constraint = dict(value["constraint"])
    if "values" in constraint:
        values = constraint.pop("values")
        op = constraint.get("op")
        if op in ("==", "!=") and isinstance(values, list):
            if len(values) != 1:
                problems.append(
                    f"intents[{k}].constraint: op {op!r} takes exactly one value, got "
                    f"{describe(values)} (use 'in' or 'not_in' for a list)"
                )
            values = values[0] if values else values
        constraint["value"] = values
    return {**value, "constraint": constraint}


__all__ = ["persona_data", "read_persona"]
