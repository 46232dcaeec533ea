"""Personas from a sentence, through the real SDKs against the fake Messages and Chat
Completions servers: scripted answers (valid, repaired, still invalid), the group's
variety, ids, files never overwritten, replay from the response cache, the CLI."""

from __future__ import annotations

import copy
import json
import re

import pytest
from llm_support import SECRET, small_catalog

from simrec.authoring import PersonaAuthor, write_new_personas
from simrec.cli import main
from simrec.errors import CacheMissError, ConfigError, LLMResponseError
from simrec.llm import fake_openai_server as fake_openai
from simrec.llm import fake_server as fake
from simrec.persona import load_personas

pytest.importorskip("anthropic")

DESCRIPTION = "a retired teacher who plays links golf twice a month"
VALID = {
    "name": "Ruth Ellison",
    "age": 67,
    "location": "St Andrews, Scotland",
    "occupation": "retired teacher",
    "bio": "Taught geography for 35 years. Walks every round and counts every pound.",
    "tastes": {
        "category": [{"value": "links", "weight": 1.5}],
        "tags": [{"value": "walkable", "weight": 0.8}],
    },
    "dislikes": {"category": [], "tags": ["lively-clubhouse"]},
    "price_sensitivity": 0.7,
    "novelty_seeking": 0.2,
    "boredom_rate": 0.4,
    "patience": 0.6,
    "purchase_propensity": 0.3,
    "chattiness": 0.5,
    "intents": [
        {
            "at_turn": 3,
            "says": "Nine holes would do today, my knee is playing up.",
            "constraint": {"field": "holes", "op": "<=", "value": 9},
        }
    ],
}


def invalid() -> dict:
    """A persona with three problems: an unknown tag, a trait out of range, a bad request."""
    answer = copy.deepcopy(VALID)
    answer["tastes"]["tags"].append({"value": "scenic", "weight": 1.0})
    answer["patience"] = 1.7
    answer["intents"][0]["constraint"] = {"field": "category", "op": "==", "values": ["links", "parkland"]}  # fmt: skip
    return answer


def named(body, n):
    """A valid persona named as the request suggests (each of a group gets its own)."""
    text = body["messages"][0]["content"]
    name = re.search(r"call them (.+)\.", text).group(1)
    return fake.answer({**VALID, "name": name})(body, n)


def author(api, **options) -> PersonaAuthor:
    return PersonaAuthor(
        small_catalog(), "golf", api_key=SECRET, base_url=api.url, max_retries=1, timeout=60.0,
        **options,
    )  # fmt: skip


def test_a_valid_answer_becomes_a_persona_valid_against_the_catalog():
    with fake.FakeMessagesAPI(script=[fake.answer(VALID)]) as api, author(api) as a:
        result = a.create(DESCRIPTION)
    (persona,) = result.personas
    assert persona.persona_id == "golf-ruth-ellison" and persona.name == "Ruth Ellison"
    assert persona.tastes == {"category": {"links": 1.5}, "tags": {"walkable": 0.8}}
    assert persona.dislikes == {"tags": ("lively-clubhouse",)}
    assert persona.intents[0].constraint.describe() == "holes <= 9.0"
    persona.check_against(small_catalog())
    (request,) = api.requests
    tool = request["tools"][0]
    assert tool["name"] == "write_persona" and request["tool_choice"]["name"] == "write_persona"
    tags = tool["input_schema"]["properties"]["tastes"]["properties"]["tags"]
    assert tags["items"]["properties"]["value"]["enum"] == ["lively-clubhouse", "walkable"]
    assert "- holes (a number): from 9 to 18" in request["system"][0]["text"]
    assert DESCRIPTION in request["messages"][0]["content"]
    assert a.ledger.summary("authoring").steps == 1 and a.ledger.roles == ["authoring"]


def test_an_invalid_answer_is_repaired_once_with_every_problem_listed():
    script = [fake.answer(invalid()), fake.answer(VALID)]
    with fake.FakeMessagesAPI(script=script) as api, author(api) as a:
        result = a.create(DESCRIPTION)
    assert [p.name for p in result.personas] == ["Ruth Ellison"] and result.repaired == [1]
    note = json.dumps(api.requests[1]["messages"][-1])
    assert "'scenic' is not a tags in the catalog" in note
    assert "field 'patience': expected a number in [0, 1], got 1.7" in note
    assert "op '==' takes exactly one value" in note
    assert a.ledger.summary("authoring").repaired == 1


def test_an_answer_still_invalid_after_its_repair_is_a_clear_failure_not_a_persona():
    script = [fake.answer(invalid()), fake.answer(invalid())]
    with fake.FakeMessagesAPI(script=script) as api, author(api) as a:
        result = a.create(DESCRIPTION)
    assert result.personas == [] and api.calls == 2
    with pytest.raises(LLMResponseError, match=r"persona 1 of 1: invalid answer .*'scenic'.*"
                       r"still invalid after one repair attempt .*patience"):  # fmt: skip
        result.check()
    assert a.ledger.summary("authoring").invalid_responses == 1


def test_liked_and_disliked_values_and_repeats_are_refused():
    answer = copy.deepcopy(VALID)
    answer["dislikes"]["category"] = ["links"]
    answer["tastes"]["tags"].append({"value": "walkable", "weight": 0.2})
    script = [fake.answer(answer), fake.answer(answer)]
    with fake.FakeMessagesAPI(script=script) as api, author(api) as a:
        result = a.create(DESCRIPTION)
    (number, problem) = result.failures[0]
    assert number == 1 and "'walkable' is listed twice" in problem
    answer["tastes"]["tags"].pop()
    with fake.FakeMessagesAPI(script=[fake.answer(answer)] * 2) as api, author(api) as a:
        (failure,) = a.create(DESCRIPTION).failures
    assert "'links' is both liked (tastes.category) and disliked" in failure[1]


def test_a_group_differs_on_purpose_and_replays_from_the_cache(tmp_path):
    cache = tmp_path / "authoring.sqlite"
    with (
        fake.FakeMessagesAPI(default=named) as api,
        author(api, cache="record", cache_path=str(cache), concurrency=3) as a,
    ):
        recorded = a.create(DESCRIPTION, n=5)
    users = sorted(r["messages"][0]["content"] for r in api.requests)  # by persona number
    assert len(set(users)) == 5  # every request its own angle and name
    assert "the most typical person" in users[0] and "tight budget" in users[1]
    names = [p.name for p in recorded.personas]
    assert len(set(names)) == 5
    with PersonaAuthor(small_catalog(), "golf", cache="replay", cache_path=str(cache)) as a:
        replayed = a.create(DESCRIPTION, n=5)
        assert a.ledger.summary().api_calls == 0
    assert [p.to_dict() for p in replayed.personas] == [p.to_dict() for p in recorded.personas]
    with PersonaAuthor(small_catalog(), "golf", cache="replay", cache_path=str(cache)) as a:
        assert len(a.create(DESCRIPTION, n=3).personas) == 3  # a prefix of the group replays
        with pytest.raises(CacheMissError, match="persona 6 for"):
            a.create(DESCRIPTION, n=6)


def test_files_get_ids_that_clash_with_nothing_and_never_overwrite(tmp_path):
    mine = tmp_path / "golf-ruth-ellison.yaml"
    mine.write_text("a user's own file, not even valid YAML: [", encoding="utf-8")
    other = tmp_path / "walker.yaml"
    other.write_text("id: golf-ruth-ellison-2\n", encoding="utf-8")
    with fake.FakeMessagesAPI(script=[fake.answer(VALID)] * 2) as api, author(api) as a:
        result = a.create(DESCRIPTION, n=2)
    written = write_new_personas(result.personas, tmp_path)
    assert [p.persona_id for p in written] == ["golf-ruth-ellison-3", "golf-ruth-ellison-4"]
    assert mine.read_text(encoding="utf-8").startswith("a user's own file")
    loaded = load_personas(
        [tmp_path / "golf-ruth-ellison-3.yaml", tmp_path / "golf-ruth-ellison-4.yaml"]
    )
    for persona in loaded:
        persona.check_against(small_catalog())
    assert loaded[0].to_dict() == {**result.personas[0].to_dict(), "id": "golf-ruth-ellison-3"}


def test_sonnet_gets_json_output_and_an_openai_compatible_server_works_too():
    with (
        fake.FakeMessagesAPI(script=[fake.answer(VALID)]) as api,
        author(api, model="claude-sonnet-5-5") as a,
    ):
        (persona,) = a.create(DESCRIPTION).personas
    assert "output_config" in api.requests[0] and "tools" not in api.requests[0]
    assert persona.name == "Ruth Ellison"
    for flavor in ("vllm", "ollama"):  # ollama ignores response_format: JSON in text
        with fake_openai.FakeChatCompletionsAPI(
            flavor, script=[fake_openai.answer({"ok": True})] * 2 + [fake_openai.answer(VALID)]
        ) as api, PersonaAuthor(
            small_catalog(), "golf", "openai", model="qwen3-8b", base_url=f"{api.url}/v1",
            structured_output="auto", max_retries=1,
        ) as a:  # fmt: skip
            result = a.create(DESCRIPTION)
        assert [p.name for p in result.personas] == ["Ruth Ellison"], flavor


def test_bad_options_are_clear_errors():
    with pytest.raises(ConfigError, match="needs a model"):
        PersonaAuthor(small_catalog(), "golf", "openai", base_url="http://127.0.0.1:9/v1")
    catalog = small_catalog()
    catalog.domain = None
    with pytest.raises(ConfigError, match="pass domain="):
        PersonaAuthor(catalog, cache="off", api_key=SECRET)
    with fake.FakeMessagesAPI() as api, author(api) as a:
        with pytest.raises(ConfigError, match="description is empty"):
            a.create("   ")
        with pytest.raises(ConfigError, match="n: expected"):
            a.create(DESCRIPTION, n=0)


def test_the_cli_writes_the_valid_personas_and_names_the_one_that_failed(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    catalog = tmp_path / "courses.jsonl"
    small_catalog().save(catalog)
    out = tmp_path / "people"
    script = [fake.answer(VALID), fake.answer(invalid()), fake.answer(invalid())]
    with fake.FakeMessagesAPI(script=script) as api:
        code = main(
            ["personas", "create", DESCRIPTION, "--catalog", str(catalog), "--domain", "golf",
             "--n", "2", "--out", str(out), "--base-url", api.url, "--concurrency", "1",
             "--max-retries", "1"]
        )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2
    assert "golf-ruth-ellison.yaml: Ruth Ellison (67, retired teacher" in captured.out
    assert "wrote 1 of 2 personas" in captured.out and "persona-authoring" not in captured.out
    assert "persona 2 of 2: invalid answer" in captured.err
    assert [p.name for p in out.iterdir()] == ["golf-ruth-ellison.yaml"]
    assert main(["personas", "validate", str(out), "--catalog", str(catalog)]) == 0
    assert SECRET not in captured.out + captured.err
    assert SECRET not in (out / "golf-ruth-ellison.yaml").read_text(encoding="utf-8")


def test_the_cli_needs_a_domain_or_a_catalog(capsys):
    assert main(["personas", "create", DESCRIPTION]) == 2
    assert "pass --domain" in capsys.readouterr().err
