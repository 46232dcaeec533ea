"""A scripted OpenAI-compatible Chat Completions server on 127.0.0.1, in two flavours.

``FakeChatCompletionsAPI(flavor="vllm")`` answers like vLLM's OpenAI-compatible server
(0.10.1 and later): ``response_format`` JSON schemas are honoured (guided decoding), a
function named in ``tool_choice`` is called, but ``tool_choice`` ``auto`` / ``required``
is a 400 unless the server was started with ``--enable-auto-tool-choice``
(``tools_enabled=True``); errors are ``{"error": {"message", "type": "BadRequestError",
"param", "code": 400}}``; usage has ``prompt_tokens_details`` (``null`` unless
``prefix_cache=True``, when a prompt prefix an earlier request had is reported as
``cached_tokens``, in whole 16-token blocks as vLLM's automatic prefix cache reads it).

``flavor="ollama"`` answers like an Ollama server whose OpenAI layer does not honour
``response_format`` (older releases and its cloud models accept the field and ignore it):
the answer is free text, a sentence and the JSON in a code fence. Models in
``tool_models`` call tools; any other model answers a request with ``tools`` with 400
``{"error": {"message": "registry.ollama.ai/library/<model> does not support tools",
"type": "api_error", "param": null, "code": null}}``. Usage is ``prompt_tokens``,
``completion_tokens``, ``total_tokens``.

A model not in ``models`` gets the flavour's 404. Scripted replies work as in
:mod:`simrec.llm.fake_server`; :func:`answer` renders a reaction in whatever form the
request and the flavour call for, and the default answers a reaction clicking the first
item of the slate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from simrec.llm.fake_server import FakeHTTPAPI, Reply, Responder, tokens

_SLATE_START, _SLATE_END = "<slate>\n", "\n</slate>"
USAGE_KEYS = ("prompt_tokens", "completion_tokens", "cached_tokens")
FLAVORS = ("vllm", "ollama")
PREFIX_BLOCK = 16
"""Tokens per block of vLLM's automatic prefix cache (its default block size)."""


def slate_items(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The items of the slate in the request's first user message."""
    for m in body.get("messages") or []:
        text = m.get("content")
        if m.get("role") == "user" and isinstance(text, str) and _SLATE_START in text:
            inner = text.split(_SLATE_START, 1)[1].split(_SLATE_END, 1)[0]
            return [json.loads(line) for line in inner.splitlines()]
    return []


def is_probe(body: Mapping[str, Any]) -> bool:
    """Whether ``body`` is a structured-output probe of the OpenAI-compatible backend (it
    wants ``{"ok": true}`` in the form it asks for)."""
    schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("name")
    tools = [(t.get("function") or {}).get("name") for t in body.get("tools") or []]
    return schema == "probe" or tools == ["probe"]


def completion(
    body: Mapping[str, Any], message: dict[str, Any], n: int, finish: str = "stop"
) -> Reply:
    """A 200 chat completion carrying ``message`` (the server fills in ``usage``)."""
    return {
        "status": 200,
        "json": {
            "id": f"chatcmpl-fake{n}",
            "object": "chat.completion",
            "created": 1796515200,
            "model": body.get("model", "?"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", **message},
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": None,
        },
    }


def text(words: str) -> Responder:
    """Answer with plain text."""
    return lambda body, n: completion(body, {"content": words}, n)


def answer(data: Mapping[str, Any] | Callable[[list[dict[str, Any]]], Any]) -> Responder:
    """Answer with ``data`` as the request asks: a call of the named tool, JSON content for
    a ``response_format`` the server honours, else prose with the JSON in a code fence.
    (The server object decides what it honours: see :meth:`FakeChatCompletionsAPI.render`.)"""

    def respond(body: Mapping[str, Any], n: int) -> Reply:
        value = data(slate_items(body)) if callable(data) else data
        return {"status": 200, "render": value}

    return respond


def react_first(body: Mapping[str, Any], n: int) -> Reply:
    """A valid reaction: click the first item, buy it every third call, say something numbered."""
    items = slate_items(body)
    first = items[0] if items else {"id": "?", "title": "?"}
    return answer(
        {
            "clicked": [first["id"]],
            "purchased": [first["id"]] if n % 3 == 0 else [],
            "dismissed": [],
            "reply": f"(answer {n}) {first['title']} looks promising.",
            "leave": n % 7 == 0,
            "satisfaction": round(0.4 + (n % 5) / 10, 2),
        }
    )(body, n)


def error(
    status: int, message: str = "scripted error", *, retry_after: float | None = None
) -> Responder:
    """An error in the OpenAI shape (``retry-after`` in seconds when given)."""
    headers = (
        {"retry-after": str(retry_after)} if retry_after is not None else {"retry-after-ms": "5"}
    )
    return lambda body, n: {
        "status": status,
        "headers": headers,
        "json": {
            "error": {
                "message": message,
                "type": "BadRequestError" if status < 500 else "InternalServerError",
                "param": None,
                "code": status,
            }
        },
    }


class FakeChatCompletionsAPI(FakeHTTPAPI):
    """``POST /v1/chat/completions`` as vLLM or Ollama answer it (see the module docstring).

    Args:
        flavor: ``vllm`` or ``ollama``.
        models: the model names served.
        latency, script, default: as :class:`~simrec.llm.fake_server.FakeHTTPAPI`.
        tools_enabled: (vLLM) started with ``--enable-auto-tool-choice``.
        tool_models: (Ollama) the models whose template supports tools.
        prefix_cache: (vLLM) report cached prompt prefixes in ``prompt_tokens_details``.

    Attributes:
        usage: totals of ``prompt_tokens``, ``completion_tokens`` and ``cached_tokens``.
    """

    usage_keys = USAGE_KEYS

    def __init__(
        self,
        flavor: str = "vllm",
        *,
        models: Iterable[str] = ("qwen3-8b",),
        latency: float = 0.0,
        script: Iterable[Reply | Responder] = (),
        default: Responder = react_first,
        tools_enabled: bool = False,
        tool_models: Iterable[str] = (),
        prefix_cache: bool = False,
    ) -> None:
        if flavor not in FLAVORS:
            raise ValueError(f"flavor: expected one of {FLAVORS}, got {flavor!r}")
        super().__init__(latency, script, default)
        self.flavor = flavor
        self.models = set(models)
        self.tools_enabled = tools_enabled
        self.tool_models = set(tool_models)
        self.prefix_cache = prefix_cache
        self._prefixes: set[str] = set()

    def post(self, path: str, body: dict[str, Any], arrived: float, base: str) -> Reply:
        if path not in ("/v1/chat/completions", "/chat/completions"):
            return self._error(404, f"Not Found: {path}")
        return self.timed(arrived, self.answer(body))

    def answer(self, body: dict[str, Any]) -> Reply:
        """The reply to ``body``: a refusal, else the scripted (or default) one, rendered."""
        n, step = self.next_step(body)
        refused = self.refusal(body)
        if refused is not None:
            return refused
        reply = step(body, n) if callable(step) else step
        if "render" in reply:
            reply = self.render(body, reply["render"], n)
        payload = reply.get("json") or {}
        if reply.get("status", 200) != 200 or "choices" not in payload:
            return reply
        usage = payload.get("usage") or self._usage(body, payload)
        self.add_usage(
            self.usage,
            {
                **usage,
                "cached_tokens": (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0),
            },
        )
        return {**reply, "json": {**payload, "usage": usage}}

    def refusal(self, body: Mapping[str, Any]) -> Reply | None:
        """The error this flavour gives ``body``, or ``None``."""
        model = str(body.get("model", ""))
        if model not in self.models:
            if self.flavor == "vllm":
                return self._error(404, f"The model `{model}` does not exist.", "NotFoundError")
            return self._error(404, f'model "{model}" not found, try pulling it first')
        if not body.get("messages"):
            return self._error(400, "messages: Field required")
        tools = body.get("tools")
        if tools and self.flavor == "ollama" and model not in self.tool_models:
            return self._error(400, f"registry.ollama.ai/library/{model} does not support tools")
        choice = body.get("tool_choice")
        if (
            tools
            and self.flavor == "vllm"
            and not self.tools_enabled
            and choice in (None, "auto", "required")
        ):
            return self._error(
                400,
                '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
            )
        return None

    def render(self, body: Mapping[str, Any], value: Any, n: int) -> Reply:
        """``value`` as this server would return it for ``body``."""
        tools = body.get("tools") or []
        if tools:
            name = ((body.get("tool_choice") or {}).get("function") or {}).get("name") or tools[0][
                "function"
            ]["name"]
            call = {
                "id": f"call_fake{n}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(value)},
            }
            return completion(body, {"content": None, "tool_calls": [call]}, n, "tool_calls")
        honoured = (
            self.flavor == "vllm"
            and (body.get("response_format") or {}).get("type") == "json_schema"
        )
        if honoured:
            return completion(body, {"content": json.dumps(value)}, n)
        return completion(
            body, {"content": f"Here is my answer.\n```json\n{json.dumps(value, indent=2)}\n```"}, n
        )

    def _usage(self, body: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
        # What the server puts before the conversation (tool definitions, the answer's
        # schema) comes first, as chat templates and OpenAI's own prompt do: it is the
        # prefix every request of the run shares.
        head = json.dumps(body.get("tools") or []) + json.dumps(body.get("response_format") or {})
        prompt_text = head + json.dumps(body.get("messages"))
        prompt = tokens(prompt_text)
        message = payload["choices"][0]["message"]
        out = tokens(
            json.dumps(message.get("tool_calls"))
            if message.get("tool_calls")
            else (message.get("content") or "")
        )
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": out,
            "total_tokens": prompt + out,
        }
        if self.flavor == "vllm":
            cached = self._cached_prefix(body, prompt_text) if self.prefix_cache else None
            usage["prompt_tokens_details"] = (
                {"cached_tokens": cached} if cached is not None else None
            )
        return usage

    def _cached_prefix(self, body: Mapping[str, Any], text: str) -> int:
        """Tokens of the longest prompt prefix an earlier request of the model had, in whole
        blocks of :data:`PREFIX_BLOCK` tokens: vLLM's automatic prefix cache hashes the
        prompt block by block, so a conversation that only grows (a visit's past turns)
        is read from cache up to its new text, not only up to its last unchanged message.
        The block holding the prompt's last token (of ``text``) is always computed."""
        size = PREFIX_BLOCK * 4  # characters, at the 4 characters a token of ``tokens``
        digest = hashlib.sha256(str(body.get("model")).encode())
        keys = []
        for end in range(size, len(text), size):
            digest.update(text[end - size : end].encode())
            keys.append(digest.hexdigest())
        with self._lock:
            hits = 0
            while hits < len(keys) and keys[hits] in self._prefixes:
                hits += 1
            self._prefixes.update(keys)
        return hits * PREFIX_BLOCK

    def _error(self, status: int, message: str, kind: str | None = None) -> Reply:
        if self.flavor == "vllm":
            err = {
                "message": message,
                "type": kind or "BadRequestError",
                "param": None,
                "code": status,
            }
        else:
            err = {
                "message": message,
                "type": "api_error" if status < 500 else "server_error",
                "param": None,
                "code": None,
            }
        return {"status": status, "json": {"error": err}}
