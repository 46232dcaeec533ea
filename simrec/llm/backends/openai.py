"""Any OpenAI-compatible Chat Completions server behind the client layer.

vLLM, Ollama, llama.cpp's server, LiteLLM and OpenAI itself speak ``POST
/chat/completions``, but not all of them can constrain an answer to a schema. The
structured answer is asked for the best way the server allows (``structured_output``):

* ``json_schema``: ``response_format: {"type": "json_schema", ...}`` (vLLM's guided
  decoding, OpenAI's structured outputs, recent Ollama and llama.cpp);
* ``tools``: a function tool named in ``tool_choice`` (servers that do function calling);
* ``text``: the schema in the system prompt and the JSON object parsed from the reply
  (bare, fenced or amid prose), the last resort;
* ``auto`` (default): probe the server once per model with a tiny fixed request per mode,
  in that order, and use the first mode whose answer comes back in the requested form. A
  server that refuses a mode (HTTP 400) or ignores it (answers in free text) is probed
  with the next. Probes go through the response cache like any call, under a fixed
  place in the run, so a replay takes the same decision with no call at all.

Whatever the mode, the answer is validated and repaired like Claude's, with the same
cache, accounting, retries (the ``openai`` SDK's, honouring ``retry-after``), failure
types and key hygiene. The key is read from the environment variable ``api_key_env``
(default ``OPENAI_API_KEY``); a server on this machine (127.0.0.1, localhost, ::1) needs
none.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from simrec.errors import ConfigError, LLMConfigError
from simrec.llm.backends.base import Failure, SDKBackend, is_loopback, parse_json_object
from simrec.llm.request import Answer, LLMRequest, Usage

API_KEY_ENV = "OPENAI_API_KEY"
MODES = ("auto", "json_schema", "tools", "text")
PROBE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
}
TEXT_INSTRUCTION = (
    "Answer with only a JSON object named {name} ({description}) matching this JSON "
    "schema, and nothing else:\n{schema}"
)

Ask = Callable[[dict[str, Any], str], "tuple[dict | None, Failure | None]"]
"""``ask(wire, mode) -> (response, failure)``: the client sends a probe through its cache."""


class OpenAIBackend(SDKBackend):
    """An OpenAI-compatible Chat Completions server through the official ``openai`` SDK.

    Args:
        api_key: the key (default: the variable named by ``api_key_env``).
        api_key_env: the environment variable holding the key.
        base_url: the server, e.g. ``http://127.0.0.1:8000/v1`` (vLLM) or
            ``http://127.0.0.1:11434/v1`` (Ollama); ``None``: the SDK default.
        structured_output: ``auto``, ``json_schema``, ``tools`` or ``text`` (module doc).
        max_retries, timeout, http_client, offline, connections, senders: as for the
            Anthropic backend.

    Raises:
        ConfigError: an unknown ``structured_output``.
        LLMConfigError: no SDK, or no key for a server that is not on this machine.
    """

    name = "openai"
    path = "/chat/completions"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_key_env: str = API_KEY_ENV,
        base_url: str | None = None,
        structured_output: str = "auto",
        max_retries: int = 4,
        timeout: float = 60.0,
        http_client: Any = None,
        offline: bool = False,
        connections: int = 8,
        senders: int | None = None,
    ) -> None:
        if structured_output not in MODES:
            raise ConfigError(
                f"structured_output: expected one of {', '.join(MODES)}, got {structured_output!r}"
            )
        if not isinstance(api_key_env, str) or not api_key_env.strip():
            raise ConfigError(
                f"api_key_env: expected an environment variable name, got {api_key_env!r}"
            )
        self.key_env = api_key_env
        self.structured_output = structured_output
        self._modes: dict[str, str] = {}
        self._lock = threading.RLock()
        if offline:
            return
        key = api_key if api_key is not None else os.environ.get(api_key_env, "")
        if not key.strip():
            if not is_loopback(base_url):
                raise LLMConfigError(
                    f"{api_key_env} is not set: export {api_key_env}=<your key>, pass "
                    "api_key_env= to name another variable, point base_url at a server on "
                    "this machine (no key needed), or replay a recorded run with "
                    "cache='replay'"
                )
            key = "no-key-for-a-local-server"  # the SDK insists on one; local servers ignore it
        self.connect(key, base_url, max_retries, timeout, http_client, connections, senders)

    # -- structured-output negotiation -----------------------------------------------------
    def negotiate(self, model: str, ask: Ask) -> str:
        """The mode used for ``model``: the configured one, or (``auto``) the first mode the
        server honours, found by probing once through ``ask``."""
        if self.structured_output != "auto":
            return self.structured_output
        with self._lock:  # one probe sequence per model, whatever the threads
            known = self._modes.get(model)
            if known is not None:
                return known
            mode = "text"
            for candidate in ("json_schema", "tools"):
                response, failure = ask(self._probe(model, candidate), candidate)
                if failure is None and response is not None and self._probe_ok(response, candidate):
                    mode = candidate
                    break
            self._modes[model] = mode
            return mode

    def mode(self, model: str) -> str:
        """The negotiated mode of ``model`` (``text`` until negotiated)."""
        if self.structured_output != "auto":
            return self.structured_output
        with self._lock:
            return self._modes.get(model, "text")

    def _probe(self, model: str, mode: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": 256,
            "messages": [
                {"role": "system", "content": "You answer with JSON."},
                {"role": "user", "content": 'Reply with the JSON object {"ok": true}.'},
            ],
        }
        if mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "probe", "schema": PROBE_SCHEMA, "strict": True},
            }
        else:
            body["tools"] = [_function("probe", "Report the answer.", PROBE_SCHEMA)]
            body["tool_choice"] = {"type": "function", "function": {"name": "probe"}}
        return body

    def _probe_ok(self, response: Mapping[str, Any], mode: str) -> bool:
        message = _message(response)
        if mode == "tools":
            calls = message.get("tool_calls") or []
            return bool(calls) and (calls[0].get("function") or {}).get("name") == "probe"
        content = message.get("content")
        if not isinstance(content, str):
            return False
        try:
            value = json.loads(content)
        except ValueError:
            return False
        return isinstance(value, dict) and isinstance(value.get("ok"), bool)

    # -- request -------------------------------------------------------------------------
    def wire(self, request: LLMRequest) -> dict[str, Any]:
        """The Chat Completions body of ``request`` in its model's negotiated mode."""
        system = "\n\n".join(b.text for b in request.system)
        out = request.output
        mode = self.mode(request.model) if out is not None else "none"
        if mode == "text" and out is not None:
            system += "\n\n" + TEXT_INSTRUCTION.format(
                name=out.name,
                description=out.description,
                schema=json.dumps(dict(out.schema), sort_keys=True),
            )
        messages = [{"role": "system", "content": system}] if system else []
        messages += [
            {
                **m,
                "content": m["content"]
                if isinstance(m["content"], str)
                else "\n".join(b.text for b in m["content"]),
            }
            for m in request.messages
        ]
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "messages": messages,
        }
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if mode == "json_schema" and out is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": out.name, "schema": dict(out.schema), "strict": True},
            }
        elif mode == "tools" and out is not None:
            body["tools"] = [_function(out.name, out.description, out.schema)]
            body["tool_choice"] = {"type": "function", "function": {"name": out.name}}
        return body

    def repair(self, wire: Mapping[str, Any], response: Mapping[str, Any], note: str) -> dict:
        """``wire`` followed by the model's own answer and ``note`` (a ``tool`` message
        answering a tool call, else a user message)."""
        message = _message(response)
        calls = [c for c in message.get("tool_calls") or [] if isinstance(c, Mapping)]
        if calls:
            assistant = {
                "role": "assistant",
                "content": message.get("content") or None,
                "tool_calls": [
                    {
                        "id": str(c.get("id", "")),
                        "type": "function",
                        "function": {
                            "name": str((c.get("function") or {}).get("name", "")),
                            "arguments": str((c.get("function") or {}).get("arguments", "")),
                        },
                    }
                    for c in calls
                ],
            }
            follow = [
                {"role": "tool", "tool_call_id": str(c.get("id", "")), "content": note}
                for c in calls
            ]
        else:
            assistant = {
                "role": "assistant",
                "content": str(message.get("content") or "(empty answer)"),
            }
            follow = [{"role": "user", "content": note}]
        return {**wire, "messages": [*wire["messages"], assistant, *follow]}

    # -- response ------------------------------------------------------------------------
    def answer(self, response: Mapping[str, Any], request: LLMRequest) -> Answer:
        """The answer in ``response``: a tool call's arguments, or the JSON in the content."""
        choices = response.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
            return Answer(None, "", "the response has no choices")
        message = _message(response)
        text = message.get("content") if isinstance(message.get("content"), str) else ""
        if request.output is None:
            return Answer(None, text, None)
        if choices[0].get("finish_reason") == "length":
            return Answer(None, text, "the answer was cut off at max_tokens")
        calls = [c for c in message.get("tool_calls") or [] if isinstance(c, Mapping)]
        if calls:
            name = request.output.name
            fn = calls[0].get("function") or {}
            if len(calls) > 1:
                return Answer(
                    None, text, f"{len(calls)} tool calls; expected exactly one {name} call"
                )
            if fn.get("name") != name:
                return Answer(None, text, f"called tool {fn.get('name')!r}; expected {name!r}")
            data, problem = parse_json_object(str(fn.get("arguments") or ""))
            return Answer(
                data, text, None if data is not None else f"the {name} arguments: {problem}"
            )
        data, problem = parse_json_object(text)
        return Answer(data, text, None if data is not None else problem)

    def usage(self, response: Mapping[str, Any]) -> Usage:
        """``usage``: prompt tokens less those the server read from its prefix cache."""
        u = response.get("usage") or {}
        prompt = int(u.get("prompt_tokens") or 0)
        cached = int(((u.get("prompt_tokens_details") or {}).get("cached_tokens")) or 0)
        return Usage(prompt - cached, int(u.get("completion_tokens") or 0), cached, 0)


def _message(response: Mapping[str, Any]) -> Mapping[str, Any]:
    choices = response.get("choices") or [{}]
    message = choices[0].get("message") if isinstance(choices[0], Mapping) else None
    return message if isinstance(message, Mapping) else {}


def _function(name: str, description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": dict(schema)},
    }
