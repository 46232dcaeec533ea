"""Small envs and options for the LLM-policy tests (built in code; fake APIs, no network)."""

from __future__ import annotations

from typing import Any

from conftest import make_persona, small_catalog
from llm_support import SECRET

from simrec.env import RecSessionEnv
from simrec.llm import fake_server as fake
from simrec.llm.fake_server import Reply
from simrec.policies.llm_scripted import read_prompt, request_text


def personas() -> list:
    """Three personas; each asks for loud items in its reply to slate 2."""
    said = "I want only loud things from now on, please."
    constraint = {"field": "tags", "op": "has", "value": "loud"}
    return [
        make_persona(
            id=f"p{i}",
            tastes={"category": {c: 1.0}},
            intents=[{"at_turn": 2, "says": said, "constraint": constraint}],
        )
        for i, c in enumerate(("alpha", "beta", "gamma"))
    ]


def env(**kwargs: Any) -> RecSessionEnv:
    """A 60-item env of slates of 4 (see ``conftest.small_catalog``), utility users."""
    return RecSessionEnv(small_catalog(), personas(), slate_size=4, **{"max_turns": 5, **kwargs})


def options(api_url: str, **extra: Any) -> dict[str, Any]:
    """Fast-failing options for a policy that talks to a fake Messages API."""
    return {
        "api_key": SECRET,
        "base_url": api_url,
        "max_retries": 1,
        "timeout": 60.0,  # the fake answers at once; a loaded machine must not time out
        "candidates": 10,
        **extra,
    }


def candidate_ids(body: dict) -> list[str]:
    """The candidate ids of a policy request, in the retriever's order."""
    return [c["id"] for c in read_prompt(request_text(body))[1]]


def ranking(pick: Any) -> Any:
    """A Messages API responder answering ``{"ranking": pick(candidate ids)}``."""

    def respond(body: dict, n: int) -> Reply:
        return fake.answer({"ranking": pick(candidate_ids(body))})(body, n)

    return respond
