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

It also serves the Message Batches endpoints (create, retrieve, results): each request of
a batch is answered like a Messages call (script first), a batch ends after
``batch_polls`` status checks, and results come back in shuffled order, with non-200
replies as ``errored`` items — as the real service may do.
"""

from __future__ import annotations

import json
import random
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


def _not_found(what: str) -> Reply:
    return {
        "status": 404,
        "json": {"type": "error", "error": {"type": "not_found_error", "message": what}},
    }


def _batch_object(batch_id: str, n: int, base: str, ended: bool) -> dict[str, Any]:
    stamp = "2026-11-29T00:00:00Z"
    return {
        "id": batch_id,
        "type": "message_batch",
        "processing_status": "ended" if ended else "in_progress",
        "request_counts": {
            "processing": 0 if ended else n,
            "succeeded": 0,
            "errored": 0,
            "canceled": 0,
            "expired": 0,
        },
        "created_at": stamp,
        "expires_at": stamp,
        "ended_at": stamp if ended else None,
        "archived_at": None,
        "cancel_initiated_at": None,
        "results_url": f"{base}/v1/messages/batches/{batch_id}/results" if ended else None,
    }


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops bursts of new connections, and a dropped SYN
    # is retried after a second: far more than the latency being measured.
    request_queue_size = 256
    daemon_threads = True


class FakeMessagesAPI:
    """A threaded HTTP server speaking enough of ``POST /v1/messages`` for the SDK.

    Args:
        latency: seconds added to every Messages answer (to measure concurrency).
        script: replies for the first requests, in order.
        default: the responder once the script is used up.
        batch_polls: status checks before a message batch ends.

    Attributes:
        requests: every request body received (batch items included), in arrival order.
        usage: totals of the ``usage`` reported in successful answers.
        batch_usage: the part of ``usage`` answered inside message batches.
        peak_in_flight: the most Messages requests being answered at the same time.
        batches: ``{batch_id: [result lines]}`` of the message batches created.
    """

    def __init__(
        self,
        latency: float = 0.0,
        script: Iterable[Reply | Responder] = (),
        default: Responder = react_first,
        batch_polls: int = 2,
    ) -> None:
        self.latency = latency
        self.script = list(script)
        self.default = default
        self.batch_polls = batch_polls
        self.requests: list[dict[str, Any]] = []
        self.usage = dict.fromkeys(USAGE_KEYS, 0)
        self.batch_usage = dict.fromkeys(USAGE_KEYS, 0)
        self.batches: dict[str, list[dict[str, Any]]] = {}
        self.peak_in_flight = 0
        self._in_flight = 0
        self._polls: dict[str, int] = {}
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
                arrived = time.perf_counter()
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                path = self.path.split("?")[0]
                if path == "/v1/messages":
                    api.enter()
                    try:
                        reply = api.answer(body)
                        # The latency counts from the request's arrival, so the server's own
                        # work (parsing, answering) does not add to it on a busy machine.
                        due = arrived + api.latency + float(reply.get("delay", 0.0))
                        self._send({**reply, "delay": due - time.perf_counter()})
                    finally:
                        api.leave()
                elif path == "/v1/messages/batches":
                    self._send(api.create_batch(body, self._base()))
                else:
                    self._send(_not_found(self.path))

            def do_GET(self) -> None:  # noqa: N802
                parts = self.path.split("?")[0].strip("/").split("/")
                if parts[:3] != ["v1", "messages", "batches"] or len(parts) not in (4, 5):
                    self._send(_not_found(self.path))
                elif len(parts) == 5 and parts[4] == "results":
                    self._send(api.batch_results(parts[3]))
                else:
                    self._send(api.batch_status(parts[3], self._base()))

            def _base(self) -> str:
                return f"http://{self.headers.get('host')}"

            def _send(self, reply: Reply) -> None:
                delay = float(reply.get("delay", 0.0))
                if delay > 0:
                    time.sleep(delay)
                raw = reply.get("raw")
                data = raw if raw is not None else json.dumps(reply.get("json")).encode()
                try:
                    self.send_response(int(reply.get("status", 200)))
                    self.send_header("content-type", reply.get("type", "application/json"))
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
            self._add_usage(self.usage, usage)
        return reply

    def _add_usage(self, totals: dict[str, int], usage: Mapping[str, Any]) -> None:
        with self._lock:
            for k in USAGE_KEYS:
                totals[k] += int(usage.get(k) or 0)

    def enter(self) -> None:
        """A Messages request starts being answered."""
        with self._lock:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)

    def leave(self) -> None:
        """A Messages request has been answered."""
        with self._lock:
            self._in_flight -= 1

    # -- Message Batches ---------------------------------------------------------------
    def create_batch(self, body: Mapping[str, Any], base: str) -> Reply:
        """``POST /v1/messages/batches``: answer every item now, report it in progress."""
        items = body.get("requests") or []
        results = []
        for item in items:
            reply = self.answer(item["params"])
            if int(reply.get("status", 200)) == 200:
                result = {"type": "succeeded", "message": reply["json"]}
                self._add_usage(self.batch_usage, reply["json"]["usage"])
            else:
                result = {"type": "errored", "error": reply.get("json")}
            results.append({"custom_id": item["custom_id"], "result": result})
        with self._lock:
            batch_id = f"msgbatch_fake_{len(self.batches) + 1:04d}"
            self.batches[batch_id] = results
            self._polls[batch_id] = 0
        return {"status": 200, "json": _batch_object(batch_id, len(items), base, ended=False)}

    def batch_status(self, batch_id: str, base: str) -> Reply:
        """``GET /v1/messages/batches/{id}``: ends after ``batch_polls`` checks."""
        with self._lock:
            if batch_id not in self.batches:
                return _not_found(batch_id)
            self._polls[batch_id] += 1
            ended = self._polls[batch_id] >= self.batch_polls
            n = len(self.batches[batch_id])
        return {"status": 200, "json": _batch_object(batch_id, n, base, ended)}

    def batch_results(self, batch_id: str) -> Reply:
        """``GET .../results``: JSON lines, shuffled (the real order is arbitrary too)."""
        with self._lock:
            lines = list(self.batches.get(batch_id, []))
        random.Random(batch_id).shuffle(lines)
        data = "".join(json.dumps(line) + "\n" for line in lines).encode()
        return {"status": 200, "raw": data, "type": "application/binary"}

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
