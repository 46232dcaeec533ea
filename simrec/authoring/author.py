"""Personas from a sentence: an LLM writes them, the persona loader's checks decide.

::

    with PersonaAuthor(catalog, "golf", cache="record", cache_path="authoring.sqlite") as author:
        result = author.create("a retired teacher who plays links golf twice a month", n=5)
    written = write_new_personas(result.personas, "my_personas/")
    result.check()          # LLMResponseError naming every persona that stayed invalid

One request per persona, all through the LLM client layer (response cache, retries, one
repair, accounting under the role ``authoring``, ``concurrency`` calls in flight):

* **system** (one cached block, shared by the group): what a persona is and the catalog's
  vocabulary in words (:class:`~simrec.authoring.vocabulary.Vocabulary`);
* **user**: the description, the persona's number, an *angle* (the most typical person,
  someone on a tight budget, someone impatient ...: the template's ``angles``, taken in
  turn) and a name to use unless the description gives one (seeded by the description
  and the number), so the personas of a group differ on purpose, not by chance;
* **answer**: ``write_persona``, the vocabulary's JSON schema;
* **sample** ``("persona", number)``: the persona's place in the group, so a recording
  replays exactly, and a recording of ``--n 5`` answers the first five of ``--n 10``.

An answer is validated by :func:`~simrec.authoring.answer.read_persona` (the YAML loader's
checks, against the catalog); an invalid one is repaired once with every problem listed;
one still invalid is a failure of the group's :class:`AuthoringResult`, never a persona.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from faker import Faker

from simrec.authoring.answer import read_persona
from simrec.authoring.files import slug
from simrec.authoring.vocabulary import Vocabulary
from simrec.catalog import Catalog
from simrec.errors import ConfigError, LLMResponseError
from simrec.llm.accounting import UsageLedger
from simrec.llm.client import LLMClient
from simrec.llm.request import LLMRequest, OutputSchema, TextBlock
from simrec.persona import Persona
from simrec.replies import default_templates

ROLE = "authoring"
DEFAULT_MODELS = {"anthropic": "claude-haiku-5-5"}
"""The model per backend when none is given (an OpenAI-compatible server needs one named)."""
MAX_TOKENS = 2048
"""Output budget per persona (an answer is about 400-700 tokens)."""
_FIELDS = (
    "name", "age", "location", "occupation", "bio", "tastes", "dislikes", "price_sensitivity",
    "novelty_seeking", "boredom_rate", "patience", "purchase_propensity", "chattiness", "intents",
)  # fmt: skip


@dataclass(frozen=True)
class AuthoringTemplate:
    """The persona-writing prompt (``simrec/authoring/templates/<name>.yaml``).

    Attributes:
        name, version: the template's name and version (``name@version`` is in every
            cache key, so editing the prompt makes old recordings miss loudly).
        answer_name, answer_description, fields: the answer format and its field docs.
        system, user, repair: the prompt texts.
        angles: what makes each persona of a group different, taken in turn.
    """

    name: str
    version: int
    answer_name: str
    answer_description: str
    fields: Mapping[str, str]
    system: str
    user: str
    repair: str
    angles: tuple[str, ...]

    @property
    def tag(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"


@lru_cache(maxsize=8)
def load_authoring_template(name: str = "persona-author") -> AuthoringTemplate:
    """The shipped template ``name``.

    Raises:
        ConfigError: an unknown template, or one missing a field.
    """
    files = resources.files("simrec.authoring") / "templates"
    path = files / f"{name}.yaml"
    where = f"simrec/authoring/templates/{name}.yaml"
    if not path.is_file():
        known = sorted(p.name.removesuffix(".yaml") for p in files.iterdir())
        raise ConfigError(f"unknown authoring template {name!r}; available: {', '.join(known)}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        answer = data["answer"]
        template = AuthoringTemplate(
            name=str(data["name"]),
            version=int(data["version"]),
            answer_name=str(answer["name"]),
            answer_description=str(answer["description"]),
            fields={k: str(v) for k, v in answer["fields"].items()},
            system=str(data["system"]),
            user=str(data["user"]),
            repair=str(data["repair"]),
            angles=tuple(str(a) for a in data["angles"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: missing or malformed field {exc}") from None
    missing = [f for f in _FIELDS if f not in template.fields]
    if missing:
        raise ConfigError(f"{where}: answer.fields lacks {', '.join(missing)}")
    if not template.angles:
        raise ConfigError(f"{where}: angles: expected at least one")
    return template


@dataclass
class AuthoringResult:
    """What one :meth:`PersonaAuthor.create` call produced.

    Attributes:
        description: the description the personas were written for.
        personas: the valid personas, in the group's order (ids from domain and name,
            not yet made unique against files: :func:`~simrec.authoring.files.write_new_personas`
            does that).
        failures: ``(number, problem)`` of each persona that stayed invalid after its
            repair or whose calls failed (number 1 is the first of the group).
        repaired: numbers of the personas whose first answer was repaired.
    """

    description: str
    personas: list[Persona] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    repaired: list[int] = field(default_factory=list)

    def check(self) -> None:
        """Raise if any persona of the group failed.

        Raises:
            LLMResponseError: naming each failed persona's number and what was wrong.
        """
        if not self.failures:
            return
        total = len(self.personas) + len(self.failures)
        lines = [f"persona {n} of {total}: {problem}" for n, problem in self.failures]
        raise LLMResponseError(
            f"{len(self.failures)} of {total} personas for {self.description!r} could not be "
            "written: " + "; ".join(lines)
        )


class PersonaAuthor:
    """Writes personas for one catalog with an LLM (see the module docstring).

    Args:
        catalog: the catalog whose vocabulary tastes, dislikes and requests must use.
        domain: the personas' domain (default: the catalog's).
        backend: ``anthropic`` or ``openai`` (any OpenAI-compatible server).
        model: the model (default: ``claude-haiku-5-5`` on ``anthropic``; required on
            ``openai``).
        template: the prompt template's name.
        max_tokens: the output budget per persona.
        cache, cache_path, concurrency, ledger, prices, max_retries, timeout,
            **backend_options: the :class:`~simrec.llm.client.LLMClient`'s (``api_key``,
            ``base_url``, ``api_key_env``, ``structured_output`` ...).

    Raises:
        ConfigError: no domain, no model for ``openai``, or bad client options.
        LLMConfigError: no SDK, or no key where one is needed (not in replay mode).
    """

    def __init__(
        self,
        catalog: Catalog,
        domain: str | None = None,
        backend: str = "anthropic",
        *,
        model: str | None = None,
        template: str = "persona-author",
        max_tokens: int = MAX_TOKENS,
        cache: str = "off",
        cache_path: str | None = None,
        concurrency: int = 8,
        ledger: UsageLedger | None = None,
        prices: Mapping[str, Any] | None = None,
        max_retries: int = 4,
        timeout: float = 60.0,
        **backend_options: Any,
    ) -> None:
        domain = domain or catalog.domain
        if not domain:
            raise ConfigError(
                "the catalog names no domain; pass domain= (--domain) for the personas' domain"
            )
        model = model or DEFAULT_MODELS.get(backend)
        if not model:
            raise ConfigError(f"the {backend} backend needs a model: pass model= (--model)")
        self.catalog, self.domain, self.model, self.max_tokens = catalog, domain, model, max_tokens
        self.template = load_authoring_template(template)
        self.vocabulary = Vocabulary.of(catalog)
        self.client = LLMClient(
            backend,
            cache=cache,
            cache_path=cache_path,
            concurrency=concurrency,
            ledger=ledger,
            prices=prices,
            max_retries=max_retries,
            timeout=timeout,
            **backend_options,
        )
        self.ledger = self.client.ledger
        words = _domain_words(domain)
        t = self.template
        self._answer = self.vocabulary.schema(
            t.answer_name,
            t.answer_description.format(**words),
            {k: v.format(**words).strip() for k, v in t.fields.items()},
        )
        self._system = (
            TextBlock(t.system.format(vocabulary=self.vocabulary.describe(), **words), cache=True),
        )

    @property
    def answer_schema(self) -> OutputSchema:
        """The ``write_persona`` answer format for this catalog."""
        return self._answer

    def request(self, description: str, number: int) -> LLMRequest:
        """The request for persona ``number`` (1 = the first) of a group for ``description``.

        Raises:
            ConfigError: an empty description or a number below 1.
        """
        text = " ".join(str(description).split())
        if not text:
            raise ConfigError("the description is empty: say who the personas should be")
        if number < 1:
            raise ConfigError(f"persona number: expected 1 or more, got {number}")
        t = self.template
        user = t.user.format(
            number=number,
            description=text,
            angle=t.angles[(number - 1) % len(t.angles)],
            suggested_name=suggested_name(text, number),
        )
        return LLMRequest(
            model=self.model,
            system=self._system,
            messages=({"role": "user", "content": user},),
            output=self._answer,
            max_tokens=self.max_tokens,
            sample=("persona", number),
            role=ROLE,
            prompt=t.tag,
            label=f"persona {number} for {_short(text)}",
            repair=t.repair,
        )

    def validator(self, number: int) -> Any:
        """The check of persona ``number``'s answer (the persona loader's, on the catalog)."""

        def validate(data: Mapping[str, Any]) -> Persona:
            name = data.get("name")
            persona_id = f"{self.domain}-{slug(name if isinstance(name, str) else str(number))}"
            return read_persona(data, persona_id, self.domain, self.catalog)

        return validate

    def create(self, description: str, n: int = 1) -> AuthoringResult:
        """Write ``n`` personas for ``description``, up to ``concurrency`` calls at once.

        Raises:
            ConfigError: an empty description or ``n`` below 1.
            LLMConfigError: the API refused the key, the model or the request.
            CacheMissError: replay mode and a persona was not recorded.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"n: expected a number of personas >= 1, got {n!r}")
        numbers = range(1, n + 1)
        requests = [self.request(description, k) for k in numbers]
        results = self.client.complete_many(requests, [self.validator(k) for k in numbers])
        out = AuthoringResult(" ".join(str(description).split()))
        for number, result in zip(numbers, results, strict=True):
            if result.ok:
                out.personas.append(result.value)
                if result.repaired:
                    out.repaired.append(number)
                self.ledger.add_step(repaired=result.repaired, role=ROLE)
            else:
                out.failures.append((number, str(result.problem)))
                self.ledger.add_step(fallback="error", role=ROLE)
        return out

    def close(self) -> None:
        """Close the client (its cache file, threads and connections)."""
        self.client.close()

    def __enter__(self) -> PersonaAuthor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def suggested_name(description: str, number: int) -> str:
    """A name for persona ``number`` of ``description`` (faker, seeded by both)."""
    fake = Faker("en_US")
    fake.seed_instance(f"{description}|{number}")
    return f"{fake.first_name()} {fake.last_name()}"


def _domain_words(domain: str) -> dict[str, str]:
    from simrec.domains import DOMAINS

    spec = DOMAINS.get(domain)
    noun = spec.item_noun if spec is not None else "item"
    return {"domain": domain, "noun": noun, "verb": default_templates().verb(domain)}


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


__all__ = [
    "DEFAULT_MODELS",
    "AuthoringResult",
    "AuthoringTemplate",
    "PersonaAuthor",
    "load_authoring_template",
    "suggested_name",
]
