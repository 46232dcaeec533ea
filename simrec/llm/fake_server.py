"""A scripted stand-in for the Messages API on 127.0.0.1, for tests, benchmarks and CI.

The real SDK talks to it over real HTTP, so retries, timeouts, ``retry-after``, usage
parsing and concurrency are exercised exactly as in production, without network or key::

    with FakeMessagesAPI(latency=0.2, script=[error(429, retry_after=0.1)]) as api:
        brain = AnthropicBrain(api_key="test", base_url=api.url)
        ...
        assert api.calls == 2

Each request consumes the next scripted reply (a dict, or a function of the request body
returning one); when the script is empty, :func:`react_first` answers: a valid reaction
that clicks the first item of the slate. The server totals the ``usage`` it reports, so
tests can check accounting against it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = dict[str, Any]
"""``{"status": int, "json": body | None, "raw": bytes | None, "headers": {...}, "delay": s}``."""
Responder = Callable[[Mapping[str, Any], int], Reply]
"""A function of (request body, call number starting at 1) returning a :data:`Reply`."""

_SLATE = re.compile(r"<slate>\n(.*?)\n</slate>", re.S)
USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


def slate_items(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The items (JSON objects) of the slate in the request's first user message."""
    first = body["messages"][0]["content"]
    text = first if isinstance(first, str) else " ".join(b.get("text", "") for b in first)
    match = _SLATE.search(text)
    return [json.loads(line) for line in match.group(1).splitlines()] if match else []


def message(
    body: Mapping[str, Any],
    content: list[dict[str, Any]],
    n: int,
    usage: Mapping[str, int] | None = None,
) -> Reply:
    """A 200 Messages API response with ``content`` and a plausible, deterministic usage."""
    system = " ".join(b.get("text", "") for b in body.get("system", []))
    user = json.dumps(body.get("messages", []))
    out = json.dumps(content)
    default = {
        "input_tokens": 10 + len(user) // 4,
        "output_tokens": 5 + len(out) // 4,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
    }
    default["cache_read_input_tokens" if n > 1 else "cache_creation_input_tokens"] = (
        len(system) // 4
    )
    stop = "tool_use" if any(b.get("type") == "tool_use" for b in content) else "end_turn"
    return {
        "status": 200,
        "json": {
            "id": f"msg_fake_{n}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "?"),
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": dict(usage or default),
        },
    }


def tool(
    reaction: Mapping[str, Any] | str | Callable[[list[dict[str, Any]]], Any],
    *,
    name: str = "react_to_slate",
    usage: Mapping[str, int] | None = None,
) -> Responder:
    """Answer with a tool call whose input is ``reaction`` (or ``reaction(slate_items)``).

    A string input is sent as is, to script malformed JSON arguments.
    """

    def respond(body: Mapping[str, Any], n: int) -> Reply:
        data = reaction(slate_items(body)) if callable(reaction) else reaction
        return message(
            body, [{"type": "tool_use", "id": f"toolu_{n}", "name": name, "input": data}], n, usage
        )

    return respond


def text(words: str) -> Responder:
    """Answer with plain text and no tool call."""
    return lambda body, n: message(body, [{"type": "text", "text": words}], n)


def error(status: int, *, retry_after: float | None = None, kind: str = "api_error") -> Responder:
    """An API error response (``retry-after`` in seconds when given)."""
    headers = (
        {"retry-after": str(retry_after)} if retry_after is not None else {"retry-after-ms": "5"}
    )
    return lambda body, n: {
        "status": status,
        "headers": headers,
        "json": {"type": "error", "error": {"type": kind, "message": f"scripted {status}"}},
    }


def slow(seconds: float, then: Responder | None = None) -> Responder:
    """Wait ``seconds`` before answering (with ``then`` or the default reaction)."""

    def respond(body: Mapping[str, Any], n: int) -> Reply:
        return {**(then or react_first)(body, n), "delay": seconds}

    return respond


def react_first(body: Mapping[str, Any], n: int) -> Reply:
    """A valid reaction: click the first item, buy it every third call, say something numbered."""
    items = slate_items(body)
    first = items[0] if items else {"id": "?", "title": "?"}
    reaction = {
        "clicked": [first["id"]],
        "purchased": [first["id"]] if n % 3 == 0 else [],
        "dismissed": [i["id"] for i in items[-1:] if len(items) > 1 and n % 2 == 0],
        "reply": f"(answer {n}) {first['title']} looks promising.",
        "leave": n % 7 == 0,
        "satisfaction": round(0.4 + (n % 5) / 10, 2),
    }
    return tool(reaction)(body, n)


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops bursts of new connections, and a dropped SYN
    # is retried after a second: far more than the latency being measured.
    request_queue_size = 256
    daemon_threads = True


class FakeMessagesAPI:
    """A threaded HTTP server speaking enough of ``POST /v1/messages`` for the SDK.

    Args:
        latency: seconds added to every answer (to measure concurrency).
        script: replies for the first requests, in order.
        default: the responder once the script is used up.

    Attributes:
        requests: every request body received, in arrival order.
        usage: totals of the ``usage`` reported in successful answers.
    """

    def __init__(
        self,
        latency: float = 0.0,
        script: Iterable[Reply | Responder] = (),
        default: Responder = react_first,
    ) -> None:
        self.latency = latency
        self.script = list(script)
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self.usage = dict.fromkeys(USAGE_KEYS, 0)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def calls(self) -> int:
        """Requests received so far."""
        with self._lock:
            return len(self.requests)

    @property
    def url(self) -> str:
        """The base URL to pass as ``base_url``."""
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeMessagesAPI:
        """Serve on a free port of 127.0.0.1 in a daemon thread."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as separate small writes; with Nagle's algorithm on,
            # the body waits for the client's delayed ACK (~40 ms on Linux) on every call.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.split("?")[0] != "/v1/messages":
                    self._send(
                        {
                            "status": 404,
                            "json": {
                                "type": "error",
                                "error": {"type": "not_found_error", "message": self.path},
                            },
                        }
                    )
                    return
                self._send(api.answer(body))

            def _send(self, reply: Reply) -> None:
                delay = api.latency + float(reply.get("delay", 0.0))
                if delay:
                    time.sleep(delay)
                raw = reply.get("raw")
                data = raw if raw is not None else json.dumps(reply.get("json")).encode()
                try:
                    self.send_response(int(reply.get("status", 200)))
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.send_header("request-id", "req_fake")
                    for k, v in reply.get("headers", {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a scripted timeout)

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def answer(self, body: dict[str, Any]) -> Reply:
        """The reply to ``body`` (next scripted one, else the default); counts usage."""
        with self._lock:
            self.requests.append(body)
            n = len(self.requests)
            step = self.script.pop(0) if self.script else self.default
        reply = step(body, n) if callable(step) else step
        usage = (reply.get("json") or {}).get("usage") if reply.get("status", 200) == 200 else None
        if usage:
            with self._lock:
                for k in USAGE_KEYS:
                    self.usage[k] += int(usage.get(k) or 0)
        return reply

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeMessagesAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
