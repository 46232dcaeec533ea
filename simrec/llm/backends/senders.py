"""Sender processes: a backend's HTTP calls made through its SDK in a few child processes.

A Python process runs one thread at a time (the GIL). A call through an official SDK costs
about a millisecond of CPU in the SDK, httpx and h11 (building the request, the connection
pool, parsing the reply), all of it under that one lock: with 64 calls in flight against
an API answering in 200 ms, sending and reading them added 40% or more to each round.
Sender processes take that work off the process running the simulation (and, on a
machine with cores to spare, spread it over them). The parent ships each request's JSON bytes over a socket; a child posts them
through its own SDK clients, in its own threads, with the same retries, timeouts and
failure mapping (:meth:`~simrec.llm.backends.base.SDKTransport.send`), and ships back what
the call gave: the parsed reply and retry count, the failure, or the refusal error. The
bytes sent and the answers received are those of an in-process call, so the response
cache, replay and accounting cannot tell the difference.

The children run ``python -m simrec.llm.backends.senders`` (not :mod:`multiprocessing`,
whose spawned children import the user's ``__main__`` again) and receive their settings,
the API key among them, over the socket: never in their arguments or environment. A child
ends when the parent closes its socket, and when the parent dies.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from simrec.errors import LLMConfigError

START_TIMEOUT = 120.0
"""Seconds a sender process may take to import its SDK and say it is ready."""


def supported() -> bool:
    """Whether sender processes can run here (they inherit a socket: POSIX only)."""
    return os.name == "posix"


class SenderProcesses:
    """``processes`` children, each posting calls through an
    :class:`~simrec.llm.backends.base.SDKTransport` built from ``spec``.

    The children start in the background (importing an SDK takes a second or more): calls
    sent meanwhile wait in their socket. A child that cannot start fails its calls with
    the reason.

    Args:
        spec: the transport's arguments (``sdk``, ``path``, ``key_env``, ``options``,
            ``connections``: calls each child has in flight at once).
        processes: how many children.

    Raises:
        LLMConfigError: a child process could not be started.
    """

    def __init__(self, spec: dict[str, Any], processes: int) -> None:
        self._children: list[_Sender] = []
        self._ids = itertools.count()
        self._turns = itertools.count()
        self._mine = threading.local()
        try:
            for index in range(processes):
                self._children.append(_Sender(spec, index))
        except BaseException:
            self.close()
            raise

    def cpu_seconds(self) -> float:
        """CPU seconds (user and system) the children have used so far, read from Linux's
        ``/proc`` (0 elsewhere): benchmarks count the senders' work beside their own."""
        total = 0.0
        for child in self._children:
            try:
                with open(f"/proc/{child.process.pid}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def send(self, what: str, data: bytes) -> tuple[dict | None, dict | None, int]:
        """Post ``data`` in this thread's child; what the in-process call would return.

        Raises:
            LLMConfigError: the API refused the request, or the child ended.
        """
        index = getattr(self._mine, "index", None)
        if index is None:
            index = self._mine.index = next(self._turns) % len(self._children)
        ok, value = self._children[index].call(next(self._ids), what, data)
        if ok:
            return value
        raise value

    def close(self) -> None:
        """Stop the children (idempotent): each finishes its calls in flight and exits."""
        for child in self._children:
            child.stop()
        for child in self._children:
            child.join()


class _Sender:
    """One child: its process, its socket and the calls waiting for its answers."""

    def __init__(self, spec: dict[str, Any], index: int) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "simrec.llm.backends.senders", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=_child_environment(),
            )
        except OSError as exc:
            ours.close()
            raise LLMConfigError(f"could not start an LLM sender process: {exc}") from None
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.lock = threading.Lock()
        self.pending: dict[int, Future] = {}
        self.ended: LLMConfigError | None = None
        self.conn.send(spec)
        threading.Thread(target=self._read, name=f"simrec-llm-sender-{index}", daemon=True).start()

    def call(self, call_id: int, what: str, data: bytes) -> tuple[bool, Any]:
        """Send one call and wait for its outcome: ``(True, result)`` or ``(False, error)``."""
        future: Future = Future()
        self.pending[call_id] = future
        try:
            if self.ended is not None:
                raise OSError
            with self.lock:
                self.conn.send((call_id, what, data))
        except (OSError, ValueError):
            self.pending.pop(call_id, None)
            return False, self.ended or LLMConfigError(f"{what}: the LLM sender process ended")
        return future.result()

    def _read(self) -> None:
        """Wait for the child to be ready, then hand each answer to the call waiting for
        it; once the child ends, fail the calls still waiting (after marking it ended, so
        that no call waits on it again)."""
        ended = LLMConfigError("the LLM sender process ended before answering")
        try:
            if not self.conn.poll(START_TIMEOUT):
                ended = LLMConfigError(
                    f"an LLM sender process did not start in {START_TIMEOUT:.0f} s"
                )
                self.process.kill()
                raise EOFError
            ok, error = self.conn.recv()
            if not ok:
                ended = error
                raise EOFError
            while True:
                call_id, ok, value = self.conn.recv()
                future = self.pending.pop(call_id, None)
                if future is not None:
                    future.set_result((ok, value))
        except (EOFError, OSError):
            pass
        self.ended = ended
        for call_id in list(self.pending):
            future = self.pending.pop(call_id, None)
            if future is not None:
                future.set_result((False, ended))

    def stop(self) -> None:
        """Ask the child to finish its calls in flight and exit."""
        try:
            with self.lock:
                self.conn.send(None)
        except (OSError, ValueError):
            pass

    def join(self) -> None:
        """Wait for the child to exit (killing it after 10 s) and close the socket."""
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.conn.close()


def _child_environment() -> dict[str, str]:
    """This environment, with the directory this ``simrec`` was imported from first on
    ``PYTHONPATH``: the child runs the same code, whatever ``sys.path`` the parent was
    given."""
    import simrec

    root = os.path.dirname(os.path.dirname(os.path.abspath(simrec.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def serve(conn: Connection) -> None:
    """The child: build the transport ``spec`` describes, then post every call it is sent,
    up to ``connections`` at once, until the parent sends ``None`` or goes away."""
    from simrec.llm.backends.base import SDKTransport

    spec = conn.recv()
    try:
        transport = SDKTransport(**spec)
    except BaseException as exc:
        conn.send((False, exc))
        return
    conn.send((True, None))
    lock = threading.Lock()

    def post(call_id: int, what: str, data: bytes) -> None:
        try:
            answer: tuple[int, bool, Any] = (call_id, True, transport.send(None, what, data))
        except Exception as exc:  # noqa: BLE001 (every outcome goes back to the caller)
            answer = (call_id, False, exc)
        with lock:
            try:
                conn.send(answer)
            except (OSError, ValueError):
                pass  # the parent went away
            except Exception as exc:  # noqa: BLE001 (an error that does not pickle)
                conn.send((call_id, False, LLMConfigError(f"{what}: {type(exc).__name__}")))

    with ThreadPoolExecutor(spec["connections"], thread_name_prefix="simrec-llm") as pool:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            if message is None:
                break
            pool.submit(post, *message)
    transport.close()


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
