"""The scripted model behind the fake APIs reads the prompt the way a model would."""

from __future__ import annotations

import json

from simrec.policies.llm_scripted import conversational_answer, rank, read_prompt


def item(i: int, category: str, tags=(), price: float = 50.0, **attributes) -> dict:
    return {
        "id": f"x{i}",
        "title": f"Item {i}",
        "category": category,
        "price": price,
        "tags": list(tags),
        "attributes": attributes,
    }


def prompt(visit: list[dict], candidates: list[dict], extra: str = "") -> str:
    lines = "\n".join(json.dumps(v) for v in visit)
    cands = "\n".join(json.dumps(c) for c in candidates)
    return (
        f"<visit>\n{lines}\n</visit>\n\nCandidates:\n<candidates>\n{cands}\n</candidates>\n{extra}"
    )


CANDIDATES = [
    item(0, "links", ["windy"], 90.0, holes=18),
    item(1, "desert", ["dog-friendly"], 120.0, holes=18),
    item(2, "links", ["quiet"], 30.0, holes=9),
    item(3, "mountain", ["family-friendly"], 60.0, holes=9),
]


def test_it_parses_both_blocks():
    visit, candidates = read_prompt(prompt([{"turn": 0, "user_said": "hi"}], CANDIDATES))
    assert visit == [{"turn": 0, "user_said": "hi"}] and [c["id"] for c in candidates] == [
        "x0", "x1", "x2", "x3"
    ]  # fmt: skip


def test_a_request_in_the_users_words_comes_first():
    said = [{"turn": 0}, {"turn": 1, "shown": [], "clicked": [], "user_said": "Can I bring my dogs? Only places that let dogs on, please."}]  # fmt: skip
    assert rank(said, CANDIDATES)[0] == "x1"  # "dogs" names dog-friendly, no other value
    nine = [{"turn": 0, "user_said": "Nine holes would be perfect."}]
    assert set(rank(nine, CANDIDATES)[:2]) == {"x2", "x3"}


def test_negation_repeats_and_price_count_against():
    said = [{"turn": 0, "user_said": "I'm really not into links."}]
    assert set(rank(said, CANDIDATES)[-2:]) == {"x0", "x2"}
    shown = [{"turn": 1, "shown": [{"id": "x0", "category": "links"}], "clicked": [], "user_said": "Hmm."}]  # fmt: skip
    assert rank(shown, CANDIDATES)[-1] == "x0"
    pricey = [{"turn": 0, "user_said": "Can we keep the price down?"}]
    assert rank(pricey, CANDIDATES)[0] == "x2"


def test_the_conversational_script_asks_a_stranger_then_recommends_what_was_said():
    text = prompt(
        [{"turn": 0, "note": "new"}], CANDIDATES, "You may ask 1 more. at least 4 different ids"
    )
    asked = conversational_answer(text)
    assert asked["kind"] == "ask" and asked["message"].endswith("Here are a few of each.")
    assert "links or desert" in asked["message"] or "links or mountain" in asked["message"]
    said = [{"turn": 0, "user_said": "Only mountain, please."}]
    told = conversational_answer(prompt(said, CANDIDATES, "You may ask 1 more."))
    assert told["kind"] == "recommend" and told["ranking"][0] == "x3"
    assert "for mountain" in told["message"]


def test_the_script_answers_the_slate_size_the_prompt_asks_for():
    from simrec.policies.llm_scripted import rerank_answer

    text = prompt([{"turn": 0}], CANDIDATES, "Choose the 3 candidates to show now")
    assert len(rerank_answer(text)["ranking"]) == 3
    asked = conversational_answer(
        prompt([{"turn": 0}], CANDIDATES, "You may ask 1 more. 2 candidate ids")
    )
    assert len(asked["ranking"]) == 2
