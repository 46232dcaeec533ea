"""The backend interface, and the failure mapping every backend shares.

A backend knows one provider's wire format and SDK; everything else (response cache,
validation and repair, accounting, concurrency, fallbacks) is the client's
(:mod:`simrec.llm.client`), so every provider behaves the same on failure:

* HTTP 400 / 401 / 403 / 404 / 413 / 422 (bad key, unknown model, malformed request) raise
  :class:`~simrec.errors.LLMConfigError` naming the call, the status and the API's message;
* 429, 529, other 5xx, timeouts and refused connections are retried by the SDK with
  exponential backoff honouring ``retry-after``; when the retries run out they become a
  :data:`Failure` (``kind``: ``rate_limit``, ``overloaded``, ``http_500``, ``timeout``,
  ``connection``, ``bad_response``) that the caller's fallback handles.

The API key lives only inside the SDK client: never in a request body, a cache entry, a
log line or an error message.
"""

from __future__ import annotations

import importlib
import ipaddress
import itertools
import json
import os
import threading
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from simrec.errors import LLMConfigError
from simrec.llm.request import Answer, LLMRequest, Usage

Failure = dict[str, Any]
"""``{"kind": str, "status": int | None, "message": str}`` of a call that got no answer."""

FATAL_STATUS = frozenset({400, 401, 403, 404, 413, 422})
"""HTTP statuses that mean the request or the configuration is wrong (never retried)."""

CLIENT_CONNECTIONS = 8
"""Concurrent calls per SDK client. The HTTP connection pool under an SDK client scans
every connection for every request it places, so its cost per call grows with the calls
in flight; a backend serving ``concurrency`` calls uses ``concurrency / 8`` clients."""

MAX_REPLY_BYTES = 200_000
"""A reply body larger than this is treated as a bad response, not parsed (a reaction
or a ranking is well under 10 kB; a runaway server must not exhaust memory)."""


class Backend(Protocol):
    """One provider behind the client layer.

    Attributes:
        name: ``anthropic`` or ``openai`` (the brain name in event logs).
        key_env: the environment variable its key is read from (for messages).
    """

    name: str
    key_env: str

    def wire(self, request: LLMRequest) -> dict[str, Any]:
        """The JSON body sent for ``request`` (also what the response cache hashes)."""
        ...

    def repair(self, wire: Mapping[str, Any], response: Mapping[str, Any], note: str) -> dict:
        """The follow-up body that shows the model its answer ``response`` and ``note``."""
        ...

    def send(
        self, wire: Mapping[str, Any], what: str, data: bytes | None = None
    ) -> tuple[dict | None, Failure | None, int]:
        """Send ``wire`` (``data``: its JSON, if already serialised): ``(response body,
        failure, retries)``, one of the first two None.

        Raises:
            LLMConfigError: the API refused the request or the key (see the module doc).
        """
        ...

    def answer(self, response: Mapping[str, Any], request: LLMRequest) -> Answer:
        """The structured answer and text in ``response``."""
        ...

    def usage(self, response: Mapping[str, Any]) -> Usage:
        """The token counts of ``response``."""
        ...

    def close(self) -> None:
        """Release the HTTP client (idempotent)."""
        ...


class SDKClients:
    """A few SDK clients sharing one TLS context; each worker thread keeps to one of them.

    Args:
        make: ``make(http_client) -> SDK client`` (``http_client`` ``None``: the SDK's own).
        sdk: the SDK module (its ``DefaultHttpxClient`` keeps the SDK's HTTP defaults).
        connections: calls expected in flight at once.
        http_client: a caller's HTTP client (tests): then one SDK client uses it.
    """

    def __init__(self, make: Any, sdk: Any, connections: int, http_client: Any = None) -> None:
        if http_client is not None or connections <= CLIENT_CONNECTIONS:
            self.clients = [make(http_client)]
        else:
            import httpx2

            tls = httpx2.create_ssl_context()  # loading the CA bundle once, not per client
            n = -(-connections // CLIENT_CONNECTIONS)
            self.clients = [make(sdk.DefaultHttpxClient(verify=tls)) for _ in range(n)]
        self._mine = threading.local()
        self._turns = itertools.count()

    @property
    def first(self) -> Any:
        """The first client (Message Batches and other one-off calls use it)."""
        return self.clients[0]

    def pick(self) -> Any:
        """This thread's client (threads are spread over the clients in turn)."""
        index = getattr(self._mine, "index", None)
        if index is None:
            index = self._mine.index = next(self._turns) % len(self.clients)
        return self.clients[index]

    def close(self) -> None:
        """Close every client."""
        for client in self.clients:
            client.close()


SDKS = {"anthropic": ("Anthropic", "the Anthropic SDK"), "openai": ("OpenAI", "the OpenAI SDK")}
"""Each backend's SDK: its module name, client class and name in messages."""

SENDER_THRESHOLD = 16
"""Calls in flight above which a backend posts through sender processes by default (see
:func:`default_senders`)."""


def import_sdk(name: str) -> Any:
    """The SDK module ``name`` (``anthropic`` or ``openai``), or a clear error naming the
    extra that installs it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise LLMConfigError(
            f"the {name} backend needs {SDKS[name][1]}: pip install 'simrec[llm]'"
        ) from None


def default_senders(connections: int, http_client: Any = None) -> int:
    """Sender processes for ``connections`` calls in flight: none up to
    :data:`SENDER_THRESHOLD` (one process's threads keep up), with a caller's HTTP client,
    or where they cannot run; else one per core beyond two, at most 4.

    Two cores are left to the simulation's own process and to what else the machine runs
    (a local model server): on a two-core machine senders only move the SDK's work from
    one core to the other and add their own, so there are none unless asked for
    (measured in ``benchmarks/bench_llm_brain.py --senders N``).
    """
    from simrec.llm.backends.senders import supported

    if connections <= SENDER_THRESHOLD or http_client is not None or not supported():
        return 0
    return min(max((os.cpu_count() or 1) - 2, 0), 4)


class SDKTransport:
    """How a backend's calls reach its API: through the official SDK's clients, from this
    process's threads or (``senders`` > 0) from sender processes
    (:mod:`simrec.llm.backends.senders`), which post the same bytes through the same SDK.

    Args:
        sdk: ``anthropic`` or ``openai``.
        path: the endpoint every call posts to (``/v1/messages``, ``/chat/completions``).
        key_env: the key's environment variable (named in refusal messages).
        options: the SDK client's arguments (``api_key``, ``base_url``, ``max_retries``,
            ``timeout``).
        connections: calls expected in flight at once.
        http_client: a caller's HTTP client (tests); never shipped to a sender process.
        senders: sender processes (0: none, calls go out from this process).

    Raises:
        LLMConfigError: no SDK, or a sender process could not start.
    """

    def __init__(
        self,
        sdk: str,
        path: str,
        key_env: str,
        options: dict[str, Any],
        connections: int,
        http_client: Any = None,
        senders: int = 0,
    ) -> None:
        self.sdk = import_sdk(sdk)
        self.path = path
        self.key_env = key_env
        factory = getattr(self.sdk, SDKS[sdk][0])
        self.senders = None
        if senders > 0 and http_client is None:
            from simrec.llm.backends.senders import SenderProcesses

            spec = {"sdk": sdk, "path": path, "key_env": key_env, "options": options,
                    "connections": -(-connections // senders)}  # fmt: skip
            self.senders = SenderProcesses(spec, senders)
            connections = 1  # this process's own client serves one-off calls (batches)
        self.clients = SDKClients(
            lambda http: factory(**options, http_client=http), self.sdk, connections, http_client
        )

    @property
    def first(self) -> Any:
        """This process's first SDK client (Message Batches and other one-off calls)."""
        return self.clients.first

    def send(
        self, wire: Mapping[str, Any] | None, what: str, data: bytes | None = None
    ) -> tuple[dict | None, Failure | None, int]:
        """POST ``data`` (else ``wire``) to :attr:`path`: see :func:`post_json`."""
        if self.senders is not None:
            if data is None:
                data = json.dumps(wire).encode("utf-8")
            return self.senders.send(what, data)
        return post_json(self.sdk, self.clients.pick(), self.path, wire, what, self.key_env, data)

    def close(self) -> None:
        """Stop the sender processes and close the clients."""
        if self.senders is not None:
            self.senders.close()
        self.clients.close()


class SDKBackend:
    """What the backends share: their :class:`SDKTransport` (none in replay mode), sending
    and closing. A backend sets :attr:`path` and calls :meth:`connect`."""

    name: str
    key_env: str
    path: str
    transport: SDKTransport | None = None
    sdk: Any = None
    client: Any = None

    def connect(
        self,
        key: str,
        base_url: str | None,
        max_retries: int,
        timeout: float,
        http_client: Any,
        connections: int,
        senders: int | None,
    ) -> None:
        """Build the transport: SDK clients with ``key`` (kept only inside them and, with
        sender processes, sent to those over their socket)."""
        if senders is None:
            senders = default_senders(connections, http_client)
        self.transport = SDKTransport(
            self.name,
            self.path,
            self.key_env,
            {"api_key": key, "base_url": base_url, "max_retries": max_retries,
             "timeout": float(timeout)},
            connections,
            http_client,
            senders,
        )  # fmt: skip
        self.sdk = self.transport.sdk
        self.client = self.transport.first

    def send(
        self, wire: Mapping[str, Any], what: str, data: bytes | None = None
    ) -> tuple[dict | None, Failure | None, int]:
        """POST ``wire`` (``data``: its JSON, if already serialised) to the backend's
        endpoint (see :func:`post_json`).

        Raises:
            LLMConfigError: no client (replay mode), or a refused request.
        """
        if self.transport is None:
            raise LLMConfigError(f"{what}: no API client (replay mode has no key)")
        return self.transport.send(wire, what, data)

    def close(self) -> None:
        """Close the HTTP clients and sender processes (idempotent)."""
        if self.transport is not None:
            self.transport.close()
            self.transport = self.client = None


def is_loopback(url: str | None) -> bool:
    """Whether ``url`` points at this machine (a local server needs no API key)."""
    if not url:
        return False
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def post_json(
    sdk: Any,
    client: Any,
    path: str,
    wire: Mapping[str, Any],
    what: str,
    key_env: str,
    data: bytes | None = None,
) -> tuple[dict | None, Failure | None, int]:
    """POST ``wire`` (or ``data``, its JSON already serialised: the SDK then neither copies
    nor re-encodes the body) to ``path`` through the SDK ``client``; map the outcome.

    The SDK's public ``post`` (its route for undocumented parameters) sends the body as is,
    with the SDK's authentication, retries honouring ``retry-after``, timeouts and error
    types, and returns the raw HTTP response: the cache keeps exactly what the API said.
    ``sdk`` is the SDK module (``anthropic`` or ``openai``): both define the same
    exception classes, so both providers fail the same way.

    Raises:
        LLMConfigError: a refused request (see the module doc).
    """
    import httpx2

    try:
        raw = (
            client.post(path, content=data, cast_to=httpx2.Response)
            if data is not None
            else client.post(path, body=wire, cast_to=httpx2.Response)
        )
    except sdk.APIStatusError as exc:
        status = exc.status_code
        message = api_message(exc)
        if status in FATAL_STATUS:
            refused = LLMConfigError(
                f"the API refused the request for {what} with HTTP {status} ({message}); "
                f"check {key_env}, the model id and the options"
            )
            refused.status = status  # type: ignore[attr-defined]
            refused.api_message = message  # type: ignore[attr-defined]
            raise refused from None
        kind = {429: "rate_limit", 529: "overloaded"}.get(status, f"http_{status}")
        return None, {"kind": kind, "status": status, "message": message}, 0
    except sdk.APITimeoutError:
        return None, {"kind": "timeout", "status": None, "message": "no answer in time"}, 0
    except sdk.APIConnectionError as exc:
        return None, {"kind": "connection", "status": None, "message": _short(exc)}, 0
    retries = int(raw.request.headers.get("x-stainless-retry-count") or 0)
    body = raw.content
    if len(body) > MAX_REPLY_BYTES:
        return None, _bad(f"reply of {len(body):,} bytes (limit {MAX_REPLY_BYTES:,})"), retries
    try:
        data = json.loads(body)
    except ValueError as exc:
        return None, _bad(f"reply is not JSON: {exc}"), retries
    if not isinstance(data, dict):
        return None, _bad(f"expected a JSON object, got {type(data).__name__}"), retries
    return data, None, retries


def _bad(message: str) -> Failure:
    return {"kind": "bad_response", "status": None, "message": message[:200]}


def _short(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:200]


def api_message(exc: Any) -> str:
    """The API's own error message from an SDK status error (both providers' shapes)."""
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping) and err.get("message"):
            return str(err["message"])[:200]
        if isinstance(err, str):
            return err[:200]
    return str(getattr(exc, "message", exc))[:200]


def parse_json_object(text: str) -> tuple[dict | None, str | None]:
    """The JSON object in ``text`` (bare, in a code fence or amid prose), or why none.

    The last resort for servers that cannot constrain their output: the object found is
    validated like any other answer, never trusted.
    """
    stripped = text.strip()
    if not stripped:
        return None, "the answer is empty"
    decoder = json.JSONDecoder()
    try:
        value = json.loads(stripped)
    except ValueError:
        value = None
        for start in (i for i, ch in enumerate(stripped) if ch == "{"):
            try:
                value, _ = decoder.raw_decode(stripped, start)
                break
            except ValueError:
                continue
    if isinstance(value, dict):
        return value, None
    return None, f"no JSON object in the answer: {stripped[:120]!r}"
