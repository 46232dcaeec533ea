"""The prompts of the LLM policies: named, versioned templates and the visit as data.

A policy's request has the shape the LLM users' requests have (see
:mod:`simrec.llm.prompts`), ordered for prompt caching:

1. **System**, one cached block: the instructions (the same for every user).
2. **User message**: the visit so far as JSON lines between ``<visit>`` markers, one block
   per past slate (append-only, so the turns already seen are read from the prompt
   cache; the last past turn ends a cached prefix), then the current candidates as JSON
   lines between ``<candidates>`` markers and the instruction.
3. **Output**: the template's JSON schema (``rank_candidates``, ``next_turn``).

Everything users and item listings wrote (replies, titles, descriptions) is data: every
line is a JSON object with ``<``, ``>`` and ``&`` escaped, so no text can close a block and
pose as instructions. The hidden truth of the simulation (``info["ground_truth"]``) is
never rendered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from simrec.catalog import Catalog
from simrec.errors import ConfigError
from simrec.llm.prompts import HISTORY_SHOWN, data_json, purchase_verb
from simrec.llm.request import OutputSchema
from simrec.memo import PerObject
from simrec.policies.visit import Step, Visit

TEMPLATE_PACKAGE = "simrec.policies"
REQUIRED = ("name", "version", "output", "system", "visit_head", "user", "repair")


@dataclass(frozen=True)
class PolicyTemplate:
    """A policy prompt (``simrec/policies/templates/<name>.yaml``).

    Attributes:
        name, version: ``name@version`` is part of every response-cache key.
        output: ``{"name", "description", "fields": {field: description}}``.
        system, visit_head, user, repair: ``str.format`` texts.
        extra: any other top-level text of the file (phrases a policy uses).
    """

    name: str
    version: int
    output: Mapping[str, Any]
    system: str
    visit_head: str
    user: str
    repair: str
    extra: Mapping[str, str]

    @property
    def tag(self) -> str:
        """``name@version``, as written in cache entries and reports."""
        return f"{self.name}@{self.version}"

    def field_text(self, name: str, **values: Any) -> str:
        """The description of output field ``name``, formatted."""
        return " ".join(str(self.output["fields"][name]).format(**values).split())


@lru_cache(maxsize=8)
def load_policy_template(name: str) -> PolicyTemplate:
    """The shipped template ``name`` (``simrec/policies/templates/<name>.yaml``), or the
    template file at path ``name`` (``*.yaml``: your own policy's prompt).

    Raises:
        ConfigError: naming the file and the missing field.
    """
    if name.endswith((".yaml", ".yml")):
        path: Any = Path(name)
        where = name
    else:
        path = resources.files(TEMPLATE_PACKAGE) / "templates" / f"{name}.yaml"
        where = f"simrec/policies/templates/{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown policy prompt template {name!r} ({where} does not exist)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {exc}") from None
    missing = [k for k in REQUIRED if not isinstance(data, dict) or k not in data]
    if missing:
        raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
    output = data["output"]
    if not isinstance(output, dict) or not {"name", "description", "fields"} <= set(output):
        raise ConfigError(f"{where}: output needs name, description and fields")
    try:
        version = int(data["version"])
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: version must be an integer, got {data['version']!r}") from None
    return PolicyTemplate(
        name=str(data["name"]),
        version=version,
        output=output,
        system=str(data["system"]),
        visit_head=str(data["visit_head"]),
        user=str(data["user"]),
        repair=str(data["repair"]),
        extra={k: str(v) for k, v in data.items() if k not in REQUIRED},
    )


def ids_schema(description: str) -> dict[str, Any]:
    """A JSON-schema array of item ids."""
    return {"type": "array", "items": {"type": "string"}, "description": description}


def output_schema(template: PolicyTemplate, properties: Mapping[str, Any]) -> OutputSchema:
    """The template's answer: an object of exactly ``properties``, every one required."""
    return OutputSchema(
        name=str(template.output["name"]),
        description=" ".join(str(template.output["description"]).split()),
        schema={
            "type": "object",
            "additionalProperties": False,
            "properties": dict(properties),
            "required": list(properties),
        },
    )


def system_text(template: PolicyTemplate, catalog: Catalog, k: int) -> str:
    """The instructions, for ``catalog``'s domain and slates of ``k``."""
    return template.system.format(
        domain=catalog.domain or "shopping", k=k, verb=purchase_verb(catalog)
    )


class _CatalogText:
    """A catalog's item ids, titles and categories as ``str``, kept once per catalog:
    every turn of every visit shows items again, and a catalog does not change once
    loaded. (Candidate lines are memoised by :func:`simrec.llm.prompts.render_slate`.)"""

    def __init__(self, catalog: Catalog) -> None:
        self.ids: list[str] = [str(i) for i in catalog.item_ids]
        self.titles: list[str] = [str(t) for t in catalog.titles]
        self.categories: list[str] = [str(c) for c in catalog.categories]


_text: PerObject[Catalog, _CatalogText] = PerObject(_CatalogText)


def item_ids(catalog: Catalog) -> list[str]:
    """Every item's id as ``str``, by index (computed once per catalog; do not modify)."""
    return _text(catalog).ids


def _entry(catalog: Catalog, index: int) -> dict[str, str]:
    text = _text(catalog)
    return {"id": text.ids[index], "title": text.titles[index], "category": text.categories[index]}


def _ids(catalog: Catalog, items: Sequence[int]) -> list[str]:
    ids = item_ids(catalog)
    return [ids[i] for i in items]


def step_line(catalog: Catalog, number: int, step: Step) -> str:
    """One past slate as a JSON line: what the policy said, the items, the feedback, the
    user's reply."""
    line: dict[str, Any] = {"turn": number}
    if step.message:
        line["you_asked" if step.asked else "you_said"] = step.message
    line["shown"] = [_entry(catalog, i) for i in step.items()]
    line["clicked"] = _ids(catalog, step.items(step.clicked))
    if any(step.purchased):
        line["bought"] = _ids(catalog, step.items(step.purchased))
    if any(step.dismissed):
        line["dismissed"] = _ids(catalog, step.items(step.dismissed))
    line["user_said"] = " ".join(step.reply.split())
    return data_json(line)


def visit_lines(visit: Visit, catalog: Catalog) -> list[str]:
    """The visit as JSON lines: the arrival (what the user said, what they chose before
    the visit), then one line per past slate."""
    if not visit.lines:  # the arrival never changes: rendered on the first turn
        visit.lines.append(_arrival_line(visit, catalog))
    done = visit.lines  # past steps never change: each is rendered once
    done += [
        step_line(catalog, n, step)
        for n, step in enumerate(visit.steps[len(done) - 1 :], start=len(done))
    ]
    return list(done)


def _arrival_line(visit: Visit, catalog: Catalog) -> str:
    head: dict[str, Any] = {"turn": 0}
    if visit.opening:
        head["user_said"] = " ".join(visit.opening.split())
    if len(visit.history):
        recent = visit.history[-HISTORY_SHOWN:].tolist()
        head["chose_before_visit"] = [_entry(catalog, i) for i in recent]
        if len(visit.history) > len(recent):
            head["earlier_choices"] = len(visit.history) - len(recent)
    if len(head) == 1:
        head["note"] = "a new user: nothing known yet"
    return data_json(head)


__all__ = [
    "PolicyTemplate",
    "ids_schema",
    "item_ids",
    "load_policy_template",
    "output_schema",
    "step_line",
    "system_text",
    "visit_lines",
]
