"""A scripted stand-in for the Messages API on 127.0.0.1, for tests, benchmarks and CI.

The real SDK talks to it over real HTTP, so retries, timeouts, ``retry-after``, usage
parsing and concurrency are exercised exactly as in production, without network or key::

    with FakeMessagesAPI(latency=0.2, script=[error(429, retry_after=0.1)]) as api:
        brain = AnthropicBrain(api_key="test", base_url=api.url)
        ...
        assert api.calls == 2

It behaves like the real API where simrec depends on it:

* **It refuses what each model family refuses** (:data:`FAMILIES`), with the real status
  and error text: forced tool use on Opus 5.5, Sonnet 5.5 and Fable 5.1; ``thinking``
  types a model does not take (Opus 5.5 cannot disable thinking, Sonnet 5.5's lowest is
  ``between_tools``); forced tool use while thinking is on; non-default sampling
  parameters on the 5.x models; a final assistant turn (prefill); an unknown model (404).
* **It reports usage as the API does**: tools, the structured-output schema, system and
  messages are all input; prompt caching is emulated per model, so ``cache_read_input_tokens``
  counts only a prefix (up to a ``cache_control`` breakpoint, at least the model's minimum
  length) that an earlier request wrote and whose response has started, within 5
  minutes; the first request writes it (``cache_creation_input_tokens``); ``input_tokens``
  is the rest. Thinking models start their answer with a ``thinking`` block and bill its
  tokens as output. Tokens are estimated at 4 characters each.

Each request consumes the next scripted reply (a dict, or a function of the request body
and the call number returning one); when the script is empty, :func:`react_first`
answers: a valid reaction that clicks the first item of the slate, in the form the
request asks for (a tool call or JSON text).

It also serves the Message Batches endpoints (create, retrieve, results): each request of
a batch is answered like a Messages call (script first), a batch ends after
``batch_polls`` status checks, and results come back in shuffled order, with non-200
replies as ``errored`` items — as the real service may do.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
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
CACHE_TTL = 300.0
"""Seconds a cached prefix lives after its last use (the default 5-minute cache)."""
THINKING_TOKENS = 64
"""Output tokens a thinking model spends thinking before each answer (effort low)."""
TOOL_PROMPT_TOKENS = {"forced": 313, "auto": 346}
"""Input tokens the API adds for the tool-use system prompt (per Anthropic's tool docs)."""
GATHER_TIMEOUT = 30.0
"""Seconds a request is held at most while the fake gathers concurrent requests: long
enough that a concurrent client's requests all arrive on a loaded machine (a shorter hold
turned slowness into a false "not concurrent"); only a client that is not concurrent waits
it out."""
LOOKBACK = 20
"""Block boundaries before a breakpoint where the API still looks for a cached prefix."""


@dataclass(frozen=True)
class Family:
    """What one model accepts (see the module docstring).

    Attributes:
        thinking: the ``thinking.type`` values accepted.
        thinks_by_default: thinking is on when no ``thinking`` field is sent.
        forced_tool: ``tool_choice`` ``tool``/``any`` accepted (with thinking off).
        sampling: non-default ``temperature`` / ``top_p`` / ``top_k`` accepted.
        prefill: a final assistant turn accepted.
        min_cache: the shortest cacheable prefix, in tokens.
        disabled_hint: what the ``disabled`` error tells to use instead.
    """

    thinking: frozenset[str]
    thinks_by_default: bool
    forced_tool: bool
    sampling: bool
    prefill: bool
    min_cache: int
    disabled_hint: str = (
        '"thinking.type.adaptive" and "output_config.effort" to control thinking behavior'
    )


_ALWAYS_ON = Family(frozenset({"adaptive"}), True, False, False, False, 512)
FAMILIES: dict[str, Family] = {
    "claude-fable-5-1": _ALWAYS_ON,
    "claude-opus-5-5": _ALWAYS_ON,
    "claude-sonnet-5-5": Family(
        frozenset({"adaptive", "between_tools"}),
        True,
        False,
        False,
        False,
        512,
        '"thinking.type.between_tools" to turn off up-front thinking',
    ),
    "claude-haiku-5-5": Family(frozenset({"adaptive", "disabled"}), True, True, False, False, 512),
    "claude-opus-5": Family(frozenset({"adaptive", "disabled"}), True, True, False, False, 512),
    "claude-sonnet-5": Family(frozenset({"adaptive", "disabled"}), True, True, False, False, 1024),
    "claude-haiku-4-5": Family(frozenset({"enabled", "disabled"}), False, True, True, True, 4096),
}
"""Model id -> what it accepts (checked November 2026 against Anthropic's model pages;
see docs/claude.md)."""


def tokens(text: str) -> int:
    """Estimated tokens of ``text`` (4 characters each, at least 1 for non-empty text)."""
    return (len(text) + 3) // 4


def request_text(body: Mapping[str, Any]) -> str:
    """Every text of a request, system first (Messages API or Chat Completions body): what
    a scripted model reads."""
    parts: list[str] = []
    system = body.get("system")
    if isinstance(system, str):
        parts.append(system)
    elif isinstance(system, list):
        parts += [str(b.get("text", "")) for b in system if isinstance(b, Mapping)]
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [str(b.get("text", "")) for b in content if isinstance(b, Mapping)]
    return "\n".join(parts)


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
    """A 200 Messages API response with ``content``; the server fills in ``usage`` (as
    the real API would count it) unless one is given."""
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
            "usage": dict(usage) if usage is not None else None,
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


def answer(reaction: Mapping[str, Any] | Callable[[list[dict[str, Any]]], Any]) -> Responder:
    """Answer with ``reaction`` in the form the request asks for: a call of its tool, or
    JSON text when it asks for JSON output (``output_config.format``) or has no tool."""

    def respond(body: Mapping[str, Any], n: int) -> Reply:
        data = reaction(slate_items(body)) if callable(reaction) else reaction
        tools = body.get("tools") or []
        if tools:
            return tool(data, name=str(tools[0].get("name")))(body, n)
        return message(body, [{"type": "text", "text": json.dumps(data)}], n)

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
        "json": _error_body(kind, f"scripted {status}"),
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
    return answer(reaction)(body, n)


def _error_body(kind: str, text: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": text}, "request_id": "req_fake"}


def _invalid(text: str) -> Reply:
    return {"status": 400, "json": _error_body("invalid_request_error", text)}


def _not_found(what: str) -> Reply:
    return {"status": 404, "json": _error_body("not_found_error", what)}


def refusal(body: Mapping[str, Any]) -> Reply | None:
    """The 400 or 404 the real API gives ``body`` for its model, or ``None`` if accepted."""
    model = str(body.get("model", ""))
    family = FAMILIES.get(model)
    if family is None:
        return _not_found(f"model: {model}")
    messages = body.get("messages") or []
    if messages and messages[-1].get("role") == "assistant" and not family.prefill:
        return _invalid(
            "This model does not support assistant message prefill. "
            "The conversation must end with a user message."
        )
    if not family.sampling:
        for param in ("temperature", "top_p", "top_k"):
            if param in body and not (param == "temperature" and body[param] == 1):
                return _invalid(f"`{param}` is deprecated for this model.")
    kind = (body.get("thinking") or {}).get("type")
    if kind is not None and kind not in family.thinking:
        hint = (
            family.disabled_hint
            if kind == "disabled"
            else '"thinking.type.adaptive" and "output_config.effort" to control thinking behavior'
        )
        return _invalid(f'"thinking.type.{kind}" is not supported for this model. Use {hint}.')
    effort = (body.get("output_config") or {}).get("effort")
    if kind in ("disabled", "between_tools") and effort in ("xhigh", "max"):
        return _invalid(
            f'"thinking.type.{kind}" is only supported at effort "high" or lower; got "{effort}".'
        )
    choice = (body.get("tool_choice") or {}).get("type")
    if choice in ("tool", "any"):
        if not family.forced_tool:
            return _invalid('tool_choice: type "tool" and "any" are not supported for this model.')
        if thinks(body, family):
            return _invalid("Thinking may not be enabled when tool_choice forces tool use.")
    return None


def thinks(body: Mapping[str, Any], family: Family) -> bool:
    """Whether the model thinks before answering ``body``."""
    kind = (body.get("thinking") or {}).get("type")
    return kind in ("adaptive", "enabled") or (kind is None and family.thinks_by_default)


class PromptCache:
    """The API's prompt cache, emulated: prefixes up to ``cache_control`` breakpoints.

    A prefix is cached by the first request that contains it (at the model's minimum
    length or more); it can be read once that request's response has started, for
    :data:`CACHE_TTL` seconds after its last use.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def usage(self, body: Mapping[str, Any], arrived: float, ready: float) -> dict[str, int]:
        """``input_tokens`` / cache read / cache write of ``body`` arriving at ``arrived``
        whose response starts at ``ready``.

        As the API does, each breakpoint looks for a cached prefix at its own block
        boundary and up to :data:`LOOKBACK` boundaries before it; prefixes are written at
        breakpoints.
        """
        family = FAMILIES.get(str(body.get("model")))
        minimum = family.min_cache if family else 1024
        segments = _segments(body)
        total = sum(n for n, _, _ in segments)
        digest = hashlib.sha256()
        count = 0
        bounds: list[tuple[int, str]] = []
        marks: list[int] = []
        for n, piece, breakpoint in segments:
            digest.update(piece.encode())
            count += n
            bounds.append((count, digest.hexdigest()))
            if breakpoint:
                marks.append(len(bounds) - 1)
        model = str(body.get("model"))
        read = 0
        with self._lock:
            for b in marks:
                for j in range(b, max(b - LOOKBACK, -1), -1):
                    size, key = bounds[j]
                    entry = self._entries.get((model, key))
                    if (
                        size > read
                        and size >= minimum
                        and entry
                        and entry[0] <= arrived <= entry[1]
                    ):
                        read = size
                        self._entries[(model, key)] = (entry[0], arrived + CACHE_TTL)
                        break
            new = [bounds[b] for b in marks if bounds[b][0] > read and bounds[b][0] >= minimum]
            for _, key in new:
                if (model, key) not in self._entries:
                    self._entries[(model, key)] = (ready, ready + CACHE_TTL)
        write = new[-1][0] - read if new else 0
        return {
            "input_tokens": total - read - write,
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": write,
        }


def _segments(body: Mapping[str, Any]) -> list[tuple[int, str, bool]]:
    """The prompt in cache order (tools, system, messages): ``(tokens, text, breakpoint)``."""
    out: list[tuple[int, str, bool]] = []
    tools = body.get("tools") or []
    schema = ((body.get("output_config") or {}).get("format") or {}).get("schema")
    head = json.dumps(tools, sort_keys=True) + (
        json.dumps(schema, sort_keys=True) if schema else ""
    )
    choice = (body.get("tool_choice") or {}).get("type", "auto")
    extra = TOOL_PROMPT_TOKENS["forced" if choice in ("tool", "any") else "auto"] if tools else 0
    out.append((tokens(head) + extra, head, any("cache_control" in t for t in tools)))
    system = body.get("system") or []
    if isinstance(system, str):
        system = [{"type": "text", "text": system}]
    for block in system:
        out.append((tokens(block.get("text", "")), block.get("text", ""), "cache_control" in block))
    for m in body.get("messages") or []:
        content = m.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        for block in blocks:
            # A cache mark is not content: the same block marked or not is the same prefix.
            bare = {k: v for k, v in block.items() if k != "cache_control"}
            piece = m.get("role", "") + json.dumps(bare, sort_keys=True)
            out.append((tokens(piece), piece, "cache_control" in block))
    return out


MAX_HEADERS = 100
"""Header lines a request may have (http.client's limit too)."""


def parse_request_head(handler: BaseHTTPRequestHandler) -> bool:
    """Parse the request line (already read) and the headers of ``handler``'s request.

    What :meth:`BaseHTTPRequestHandler.parse_request` does for the requests the fakes
    serve (HTTP/1.x, no ``Expect``), without parsing the headers as an e-mail message: that
    parser took half of the fake's CPU per call, and the fake shares the machine with the
    client it measures. ``handler.headers`` maps lower-case names to values. Answers 400 /
    431 (and returns False) for a malformed request line or headers, as http.server does.
    """
    line = str(handler.raw_requestline, "iso-8859-1").rstrip("\r\n")
    handler.requestline = line
    handler.command = None  # type: ignore[assignment]
    handler.request_version = handler.default_request_version
    handler.close_connection = True
    words = line.split()
    if len(words) != 3 or not words[2].startswith("HTTP/1."):
        handler.send_error(400, f"Bad request line ({line[:80]!r})")
        return False
    handler.command, handler.path, handler.request_version = words
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        raw = handler.rfile.readline(65537)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, colon, value = str(raw, "iso-8859-1").partition(":")
        if len(raw) > 65536 or not colon:
            handler.send_error(431, "Bad header line")
            return False
        headers[name.strip().lower()] = value.strip()
    else:
        handler.send_error(431, "Too many headers")
        return False
    handler.headers = headers  # type: ignore[assignment]
    connection = headers.get("connection", "").lower()
    handler.close_connection = connection == "close" or (
        handler.request_version == "HTTP/1.0" and connection != "keep-alive"
    )
    return True


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops bursts of new connections, and a dropped SYN
    # is retried after a second: far more than the latency being measured.
    request_queue_size = 256
    daemon_threads = True


class FakeHTTPAPI:
    """A threaded HTTP server on 127.0.0.1 answering scripted replies (the shared base of
    the fake Messages and Chat Completions APIs).

    Args:
        latency: seconds added to every answer (to measure concurrency).
        script: replies for the first requests, in order.
        default: the responder once the script is used up.
        gather: hold every POST until this many are in flight at once (or
            :data:`GATHER_TIMEOUT` seconds pass): tests then check concurrency without
            depending on the machine's speed. 0: answer at once.

    Attributes:
        requests: every request body received, in arrival order.
        usage: totals of the ``usage`` reported in successful answers.
        peak_in_flight: the most POST requests being answered at the same time.
        gather_timeouts: requests released by the timeout instead of the gathering.
    """

    usage_keys: tuple[str, ...] = USAGE_KEYS

    def __init__(
        self,
        latency: float = 0.0,
        script: Iterable[Reply | Responder] = (),
        default: Responder | None = None,
        gather: int = 0,
    ) -> None:
        self.latency = latency
        self.gather = gather
        self.gather_timeouts = 0
        self._gathered = threading.Condition()
        self.script = list(script)
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self.usage = dict.fromkeys(self.usage_keys, 0)
        self.peak_in_flight = 0
        self._in_flight = 0
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

    def post(self, path: str, body: dict[str, Any], arrived: float, base: str) -> Reply:
        """The reply to ``POST path`` (subclasses route their endpoints here)."""
        return _not_found(path)

    def get(self, path: str, base: str) -> Reply:
        """The reply to ``GET path``."""
        return _not_found(path)

    def start(self) -> FakeHTTPAPI:
        """Serve on a free port of 127.0.0.1 in a daemon thread."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as separate small writes; with Nagle's algorithm on,
            # the body waits for the client's delayed ACK (~40 ms on Linux) on every call.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def parse_request(self) -> bool:
                # The request line has just been read: the request has arrived. Its
                # latency counts from here, not from after the headers are parsed.
                self.arrived = time.perf_counter()
                return parse_request_head(self)

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                arrived = self.arrived
                length = int(self.headers.get("content-length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._send(
                        {"status": 400, "json": _error_body("invalid_request_error", "bad JSON")}
                    )
                    return
                api.enter()
                try:
                    self._send(api.post(self.path.split("?")[0], body, arrived, self._base()))
                finally:
                    api.leave()

            def do_GET(self) -> None:  # noqa: N802
                self._send(api.get(self.path.split("?")[0], self._base()))

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

    def next_step(self, body: dict[str, Any]) -> tuple[int, Reply | Responder]:
        """Record ``body`` and take the next scripted reply (else the default)."""
        with self._lock:
            self.requests.append(body)
            n = len(self.requests)
            step = self.script.pop(0) if self.script else self.default
        return n, step

    def timed(self, arrived: float, reply: Reply) -> Reply:
        """``reply`` due ``latency`` (plus its own ``delay``) after ``arrived``."""
        due = arrived + self.latency + float(reply.get("delay", 0.0))
        return {**reply, "delay": due - time.perf_counter()}

    def add_usage(self, totals: dict[str, int], usage: Mapping[str, Any]) -> None:
        """Add ``usage`` to ``totals`` (under the lock)."""
        with self._lock:
            for k in self.usage_keys:
                totals[k] += int(usage.get(k) or 0)

    def enter(self) -> None:
        """A POST request starts being answered (held while gathering, see ``gather``)."""
        with self._lock:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            here = self._in_flight
        if self.gather:
            with self._gathered:
                if here >= self.gather:
                    self._gathered.notify_all()
                elif not self._gathered.wait_for(
                    lambda: self._in_flight >= self.gather or self.peak_in_flight >= self.gather,
                    GATHER_TIMEOUT,
                ):
                    self.gather_timeouts += 1

    def leave(self) -> None:
        """A request has been answered."""
        with self._lock:
            self._in_flight -= 1

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHTTPAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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


class FakeMessagesAPI(FakeHTTPAPI):
    """A fake of ``POST /v1/messages`` and the Message Batches endpoints (see the module doc).

    Args:
        latency: seconds added to every Messages answer (to measure concurrency).
        script: replies for the first requests, in order.
        default: the responder once the script is used up.
        batch_polls: status checks before a message batch ends.
        gather: see :class:`FakeHTTPAPI`.

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
        gather: int = 0,
    ) -> None:
        super().__init__(latency, script, default, gather)
        self.batch_polls = batch_polls
        self.batch_usage = dict.fromkeys(USAGE_KEYS, 0)
        self.batches: dict[str, list[dict[str, Any]]] = {}
        self.prompt_cache = PromptCache()
        self._polls: dict[str, int] = {}

    def post(self, path: str, body: dict[str, Any], arrived: float, base: str) -> Reply:
        if path == "/v1/messages":
            # The latency counts from the request's arrival, so the server's own work
            # (parsing, answering) does not add to it on a busy machine.
            return self.timed(arrived, self.answer(body, arrived))
        if path == "/v1/messages/batches":
            return self.create_batch(body, base)
        return _not_found(path)

    def get(self, path: str, base: str) -> Reply:
        parts = path.strip("/").split("/")
        if parts[:3] != ["v1", "messages", "batches"] or len(parts) not in (4, 5):
            return _not_found(path)
        if len(parts) == 5 and parts[4] == "results":
            return self.batch_results(parts[3])
        return self.batch_status(parts[3], base)

    def answer(self, body: dict[str, Any], arrived: float | None = None) -> Reply:
        """The reply to ``body`` (a refusal, the next scripted one, else the default);
        usage filled in and counted."""
        n, step = self.next_step(body)
        refused = refusal(body)
        if refused is not None:
            return refused
        reply = step(body, n) if callable(step) else step
        content = (reply.get("json") or {}) if reply.get("status", 200) == 200 else None
        if content is None or "content" not in content:
            return reply
        family = FAMILIES[str(body.get("model"))]
        thinking = thinks(body, family)
        blocks = list(content.get("content") or [])
        if thinking and not any(b.get("type") == "thinking" for b in blocks):
            blocks.insert(0, {"type": "thinking", "thinking": "", "signature": f"sig_fake_{n}"})
        usage = content.get("usage")
        if usage is None:
            now = time.perf_counter() if arrived is None else arrived
            usage = self.prompt_cache.usage(body, now, now + self.latency)
            answer_text = json.dumps([b for b in blocks if b.get("type") != "thinking"])
            usage["output_tokens"] = tokens(answer_text) + (THINKING_TOKENS if thinking else 0)
        reply = {**reply, "json": {**content, "content": blocks, "usage": usage}}
        self.add_usage(self.usage, usage)
        return reply

    # -- Message Batches ---------------------------------------------------------------
    def create_batch(self, body: Mapping[str, Any], base: str) -> Reply:
        """``POST /v1/messages/batches``: answer every item now, report it in progress."""
        items = body.get("requests") or []
        results = []
        for item in items:
            reply = self.answer(item["params"])
            if int(reply.get("status", 200)) == 200:
                result = {"type": "succeeded", "message": reply["json"]}
                self.add_usage(self.batch_usage, reply["json"]["usage"])
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
