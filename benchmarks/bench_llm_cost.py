"""What an LLM-played visit costs: tokens per step, prompt-cache share, dollars per visit.

Run: ``python benchmarks/bench_llm_cost.py [--visits 6] [--turns 10]``. For every priced
current Claude model, plays ``--visits`` golf visits of ``--turns`` turns (random slates,
users who never leave early) through the Claude brain against the fake Messages API,
whose usage is counted as the real API counts it (tools, schema, system and messages are
input; a prompt-cache read only when an earlier request wrote the same prefix). Prints
input tokens per step, the share of them read from the prompt cache (overall, and over
each persona's turns after its first), output tokens per step and the cost of one
10-turn visit at list price. Token counts are the fake's estimate (4 characters a token);
real tokenizers differ by model (Haiku 5.5 counts about 30% more than Haiku 4.5). No
network, no key.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import simrec  # noqa: F401  (registers the envs)
from simrec.llm import fake_openai_server as fake_chat
from simrec.llm import fake_server as fake
from simrec.llm.accounting import DEFAULT_PRICES
from simrec.llm.backends.claude_models import CLAUDE_MODELS
from simrec.llm.fake_openai_server import FakeChatCompletionsAPI

MODELS = (
    "claude-haiku-5-5",
    "claude-sonnet-5-5",
    "claude-opus-5-5",
    "claude-fable-5-1",
    "claude-haiku-4-5",
)
LOCAL_MODEL = "qwen3-8b"
LOCAL_PRICE = {"input": 0.05, "output": 0.25, "cache_read": 0.005, "cache_write": 0.0}
"""An example price (USD per million tokens) for the OpenAI-compatible model: a local or
self-hosted model has no list price; override it with ``--local-price``."""


def stays(body, n):
    """A valid reaction that never leaves: click the first item, dismiss the last."""
    return fake.answer(stays_reaction(fake.slate_items(body), n))(body, n)


def stays_chat(body, n):
    """:func:`stays` for the Chat Completions fake (in the form the request asks for)."""
    return fake_chat.answer(lambda items: stays_reaction(items, n))(body, n)


def stays_reaction(items, n):
    """The reaction :func:`stays` answers."""
    return {
        "clicked": [items[0]["id"]],
        "purchased": [],
        "dismissed": [items[-1]["id"]],
        "reply": f"(answer {n}) {items[0]['title']} might do.",
        "leave": False,
        "satisfaction": 0.5,
    }


def visit_costs(
    model: str, visits: int, turns: int, seed: int = 0, backend: str = "anthropic"
) -> dict[str, float]:
    """Figures of ``visits`` visits of ``turns`` turns played by ``model`` (``backend``
    ``openai``: the OpenAI-compatible brain against a vLLM-like server with its prefix
    cache on, priced at :data:`LOCAL_PRICE`)."""
    server = (
        fake.FakeMessagesAPI(default=stays)
        if backend == "anthropic"
        else FakeChatCompletionsAPI("vllm", models=[model], prefix_cache=True, default=stays_chat)
    )
    with server as api:
        env = (
            gym.make(
                "simrec/GolfClaude-v0",
                max_turns=turns,
                brain_kwargs={"api_key": "bench", "base_url": api.url, "model": model},
            )
            if backend == "anthropic"
            else gym.make(
                "simrec/Golf-v0",
                max_turns=turns,
                brain="openai",
                brain_kwargs={
                    "base_url": f"{api.url}/v1",
                    "model": model,
                    "structured_output": "json_schema",
                    "prices": {model: LOCAL_PRICE},
                },
            )
        )
        rng = np.random.default_rng(seed)
        later = [0, 0]  # cache-read tokens, all input tokens of turns after a persona's first
        for v in range(visits):
            env.reset(seed=seed + v, options={"session_id": v})
            for t in range(turns):
                slate = rng.choice(200, 5, replace=False)
                reaction = env.step(slate)[4]["reaction"]
                if t > 0:
                    later[0] += reaction.cache_read_tokens
                    later[1] += (
                        reaction.input_tokens
                        + reaction.cache_read_tokens
                        + reaction.cache_write_tokens
                    )
        summary = env.unwrapped.brain.ledger.summary()
        env.close()
    return {
        "input_per_step": summary.prompt_tokens_per_step,
        "cache_share": summary.cache_read_share,
        "later_share": later[0] / later[1] if later[1] else 0.0,
        "output_per_step": summary.output_tokens / summary.steps,
        "visit_cost": summary.cost_usd / visits * (10 / turns),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=6, help="visits per model")
    parser.add_argument("--turns", type=int, default=10, help="turns per visit")
    parser.add_argument(
        "--local-price",
        type=float,
        nargs=3,
        metavar=("INPUT", "OUTPUT", "CACHE_READ"),
        help=f"USD per million tokens for {LOCAL_MODEL} (default: {LOCAL_PRICE})",
    )
    args = parser.parse_args()
    if args.local_price:
        LOCAL_PRICE.update(zip(("input", "output", "cache_read"), args.local_price, strict=True))
    print(f"golf personas, {args.visits} visits of {args.turns} turns per model")
    print(
        f"  {'model':<18} {'backend':<9} {'answer as':<12} {'input/step':>10} {'cached':>7} "
        f"{'cached after turn 1':>20} {'output/step':>11} {'$ per 10-turn visit':>20}"
    )
    rows = [(m, "anthropic") for m in MODELS if m in DEFAULT_PRICES] + [(LOCAL_MODEL, "openai")]
    for model, backend in rows:
        r = visit_costs(model, args.visits, args.turns, backend=backend)
        if backend == "openai":
            shape = "json_schema"
        else:
            shape = "tool" if CLAUDE_MODELS[model].forced_tool else "json output"
        print(
            f"  {model:<18} {backend:<9} {shape:<12} {r['input_per_step']:>10,.0f} "
            f"{r['cache_share']:>7.0%} {r['later_share']:>20.0%} {r['output_per_step']:>11,.0f} "
            f"{r['visit_cost']:>20.5f}"
        )
    print(
        f"  (anthropic: the fake Messages API, list prices; openai: a vLLM-like Chat "
        f"Completions fake with its prefix cache on, {LOCAL_MODEL} at an example price of "
        f"${LOCAL_PRICE['input']}/${LOCAL_PRICE['output']}/${LOCAL_PRICE['cache_read']} per "
        "million input/output/cached tokens)"
    )


if __name__ == "__main__":
    main()
