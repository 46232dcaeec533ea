"""The Claude Messages API behind the client layer, in the request shape each model takes.

:class:`AnthropicBackend` writes an :class:`~simrec.llm.request.LLMRequest` as a Messages
API body: system blocks with ``cache_control`` where the request marks a cache prefix;
the structured answer as a forced strict tool where the model allows forcing, else as
JSON structured output (``output_config.format``); the ``thinking`` and ``effort``
settings the model accepts (:mod:`.claude_models`). Answers are read by content-block
type (thinking models start with ``thinking`` blocks), and a repair replays the model's
own answer before the note (a ``tool_result`` for a tool call, as the API requires).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from simrec.errors import LLMConfigError
from simrec.llm.backends.base import Failure, SDKBackend, parse_json_object
from simrec.llm.backends.claude_models import claude_model
from simrec.llm.request import Answer, LLMRequest, Usage

API_KEY_ENV = "ANTHROPIC_API_KEY"
MISSING_KEY = (
    f"{API_KEY_ENV} is not set: export {API_KEY_ENV}=<your key> (from console.anthropic.com), "
    "or pass api_key=..., or replay a recorded run with cache='replay' "
    "(--cache replay --cache-path FILE)"
)


class AnthropicBackend(SDKBackend):
    """Claude through the official ``anthropic`` SDK.

    Args:
        api_key: the key (default: ``ANTHROPIC_API_KEY``); kept only inside the SDK client.
        base_url: the API base URL (``None``: the SDK default or ``ANTHROPIC_BASE_URL``).
        max_retries: SDK retries of 429 / 529 / 5xx / timeouts / connection errors, with
            exponential backoff honouring ``retry-after``.
        timeout: seconds per attempt.
        http_client: an ``httpx2.Client`` for the SDK (tests pass a mock transport).
        offline: build no client (replay mode: every answer comes from the cache).
        connections: calls expected in flight at once (sizes the SDK clients).
        senders: sender processes posting the calls (see
            :mod:`~simrec.llm.backends.senders`); ``None``: as many as
            :func:`~simrec.llm.backends.base.default_senders` gives for ``connections``.

    Raises:
        LLMConfigError: no key (outside ``offline``) or no SDK.
    """

    name = "anthropic"
    key_env = API_KEY_ENV
    path = "/v1/messages"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_retries: int = 4,
        timeout: float = 60.0,
        http_client: Any = None,
        offline: bool = False,
        connections: int = 8,
        senders: int | None = None,
    ) -> None:
        if offline:
            return
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
        if not key.strip():
            raise LLMConfigError(MISSING_KEY)
        self.connect(key, base_url, max_retries, timeout, http_client, connections, senders)

    # -- request -------------------------------------------------------------------------
    def wire(self, request: LLMRequest) -> dict[str, Any]:
        """The Messages API body of ``request`` for its model (see the module docstring).

        Raises:
            LLMConfigError: a ``temperature`` the model does not accept.
        """
        shape = claude_model(request.model)
        system = [
            {"type": "text", "text": b.text, **({"cache_control": _EPHEMERAL} if b.cache else {})}
            for b in request.system
        ]
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens + (shape.thinking_allowance if shape.thinks else 0),
            "system": system,
            "messages": [{**m, "content": _content(m["content"])} for m in request.messages],
        }
        output_config: dict[str, Any] = {}
        out = request.output
        if out is not None and shape.forced_tool:
            body["tools"] = [
                {
                    "name": out.name,
                    "description": out.description,
                    "strict": True,
                    "input_schema": dict(out.schema),
                }
            ]
            body["tool_choice"] = {
                "type": "tool",
                "name": out.name,
                "disable_parallel_tool_use": True,
            }
        elif out is not None:
            output_config["format"] = {"type": "json_schema", "schema": dict(out.schema)}
        if shape.thinking is not None:
            body["thinking"] = dict(shape.thinking)
        if shape.effort is not None:
            output_config["effort"] = shape.effort
        if output_config:
            body["output_config"] = output_config
        if request.temperature is not None:
            if not shape.sampling and request.temperature != 1.0:
                raise LLMConfigError(
                    f"{request.label}: {request.model} does not accept temperature "
                    f"{request.temperature} (sampling parameters were removed from this "
                    "model); leave temperature unset"
                )
            body["temperature"] = request.temperature
        return body

    def repair(self, wire: Mapping[str, Any], response: Mapping[str, Any], note: str) -> dict:
        """``wire`` followed by the model's own answer and ``note``.

        A tool call gets an error ``tool_result`` (the API requires one per ``tool_use``);
        text gets a user turn. Thinking blocks are left out: the API drops them from
        earlier turns anyway, and they are bound to the conversation that produced them.
        """
        content = [
            _input_block(b)
            for b in response.get("content") or []
            if isinstance(b, Mapping) and b.get("type") in ("text", "tool_use")
        ] or [{"type": "text", "text": "(empty answer)"}]
        uses = [b for b in content if b["type"] == "tool_use"]
        follow = (
            [
                {"type": "tool_result", "tool_use_id": b["id"], "is_error": True, "content": note}
                for b in uses
            ]
            if uses
            else [{"type": "text", "text": note}]
        )
        return {
            **wire,
            "messages": [
                *wire["messages"],
                {"role": "assistant", "content": content},
                {"role": "user", "content": follow},
            ],
        }

    # -- response ------------------------------------------------------------------------
    def answer(self, response: Mapping[str, Any], request: LLMRequest) -> Answer:
        """The answer in ``response``: the tool's input, or the JSON text (by block type)."""
        content = response.get("content")
        if not isinstance(content, list):
            return Answer(None, "", "the response has no content list")
        blocks = [b for b in content if isinstance(b, Mapping)]
        text = "".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
        stop = response.get("stop_reason")
        if stop == "refusal":
            return Answer(None, text, "the model declined to answer (stop_reason refusal)")
        out = request.output
        if out is None:
            return Answer(None, text, None)
        if claude_model(request.model).forced_tool:
            return _tool_answer(blocks, out.name, text, stop)
        if stop == "max_tokens":
            return Answer(None, text, "the answer was cut off at max_tokens")
        data, problem = parse_json_object(text)
        return Answer(data, text, None if data is not None else problem)

    def usage(self, response: Mapping[str, Any]) -> Usage:
        """The ``usage`` block (input tokens exclude cache reads and writes)."""
        u = response.get("usage") or {}
        return Usage(
            int(u.get("input_tokens") or 0),
            int(u.get("output_tokens") or 0),
            int(u.get("cache_read_input_tokens") or 0),
            int(u.get("cache_creation_input_tokens") or 0),
        )

    def batch_result(self, result: Any) -> tuple[dict | None, Failure | None]:
        """A Message Batches item result as ``(response, failure)``."""
        if result.type == "succeeded":
            return result.message.to_dict(mode="json"), None
        detail = getattr(getattr(result, "error", None), "error", None)
        return None, {
            "kind": getattr(detail, "type", None) or result.type,
            "status": None,
            "message": str(getattr(detail, "message", None) or f"batch item {result.type}"),
        }


_EPHEMERAL = {"type": "ephemeral"}


def _content(content: Any) -> Any:
    """A message's content as the API takes it (text blocks keep their cache marks)."""
    if isinstance(content, str):
        return content
    return [
        {"type": "text", "text": b.text, **({"cache_control": _EPHEMERAL} if b.cache else {})}
        for b in content
    ]


def _tool_answer(blocks: list[Mapping[str, Any]], name: str, text: str, stop: Any) -> Answer:
    calls = [b for b in blocks if b.get("type") == "tool_use"]
    if not calls:
        hint = f"; it wrote text instead: {text[:200]!r}" if text.strip() else ""
        cut = " (cut off at max_tokens)" if stop == "max_tokens" else ""
        return Answer(None, text, f"no {name} tool call in the answer{cut}{hint}")
    if len(calls) > 1:
        return Answer(None, text, f"{len(calls)} tool calls; expected exactly one {name} call")
    call = calls[0]
    if call.get("name") != name:
        return Answer(None, text, f"called tool {call.get('name')!r}; expected {name!r}")
    data = call.get("input")
    if not isinstance(data, Mapping):
        return Answer(
            None,
            text,
            f"the {name} input is not a JSON object (got {type(data).__name__}: "
            f"{str(data)[:80]!r})",
        )
    return Answer(dict(data), text, None)


def _input_block(block: Mapping[str, Any]) -> dict[str, Any]:
    """A response content block reduced to the fields the API accepts back as input."""
    if block.get("type") == "text":
        return {"type": "text", "text": str(block.get("text", "")) or "(empty)"}
    return {
        "type": "tool_use",
        "id": block.get("id", ""),
        "name": block.get("name", ""),
        "input": block.get("input") if isinstance(block.get("input"), dict) else {},
    }
