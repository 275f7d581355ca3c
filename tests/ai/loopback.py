"""The scaffolding the loopback test servers share (``chat_server``, ``moderation_server``).

``LoopbackServer`` is a real ``ThreadingHTTPServer`` on 127.0.0.1 (a free port), served from
a daemon thread. It keeps a script of behaviours, one per scripted request, in order, then an
idle behaviour once the script is used up; it records every request and every unexpected
exception in a handler (``errors``), and ``stop`` wakes any sleeping handler, so nothing
outlives the test.

``JSONHandler`` is the base of its request handler: it stays quiet, reads a JSON body, writes
JSON answers and OpenAI-style errors (``_fault`` answers the faults both servers play:
``401``, ``429``, server errors and ``echo-key``, a 400 whose body repeats the request's key),
and its ``do_POST`` plays the next behaviour of the
script on ``route`` and answers 404 elsewhere. A server says what a behaviour does in
``_play`` and what it records of a request in ``_recorded``.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, Self, TypeVar

__all__ = ["JSONHandler", "LoopbackHTTPServer", "LoopbackServer", "RecordedRequest", "free_port"]

B = TypeVar("B")
"""A scripted behaviour."""
OwnerT = TypeVar("OwnerT", bound="LoopbackServer[Any, Any]")
"""The server that owns an HTTP server."""


@dataclass
class RecordedRequest:
    """One request as the server saw it: method, path, parsed JSON body, behaviour played."""

    method: str
    path: str
    body: dict[str, Any] = field(default_factory=dict)
    behaviour: str = ""


R = TypeVar("R", bound=RecordedRequest)
"""What a server records of a request."""


class JSONHandler(BaseHTTPRequestHandler, Generic[B]):
    """A quiet handler that speaks JSON and plays the script on ``route``."""

    protocol_version = "HTTP/1.1"
    server: LoopbackHTTPServer[Any]  # pyright: ignore[reportIncompatibleVariableOverride]
    route: ClassVar[str] = ""
    """The path (without a trailing slash) whose POST requests play the script."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass  # keep the test output clean

    # -- what a server says -----------------------------------------------------------------

    def _recorded(self, body: dict[str, Any], behaviour: B | None) -> RecordedRequest:
        """What to record of this POST request; ``behaviour`` is None off ``route``."""
        raise NotImplementedError

    def _play(self, behaviour: B, body: dict[str, Any]) -> None:
        """Answer this POST request on ``route`` the way ``behaviour`` says."""
        raise NotImplementedError

    def _not_found(self) -> None:
        """Answer a request for a path this server does not serve."""
        self._error(404, f"no route {self.path}", "not_found", None)

    # -- plumbing ---------------------------------------------------------------------------

    def _read_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        return body if isinstance(body, dict) else {"_raw": body}

    def _send(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        """Answer ``data`` as ``application/json`` (whether or not it is JSON)."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers)

    def _error(
        self,
        status: int,
        message: str,
        kind: str,
        code: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        error = {"message": message, "type": kind, "param": None, "code": code}
        self._json(status, {"error": error}, headers)

    def _fault(
        self,
        kind: str,
        *,
        retry_after: str | None = "0",
        server_errors: tuple[str, ...] = ("500",),
    ) -> bool:
        """Answer OpenAI's error for ``kind`` and say True if it is ``401`` (a wrong key),
        ``429`` (a rate limit, with ``Retry-After: retry_after`` unless that is None),
        ``echo-key`` (HTTP 400 whose message repeats the request's key, whole, cut short and
        as its ``Authorization`` header, as careless servers do) or one of ``server_errors``
        (its status); else answer nothing and say False."""
        if kind == "echo-key":
            auth = self.headers.get("Authorization") or ""
            key = auth.removeprefix("Bearer ")
            self._error(
                400,
                f"Invalid value for 'model'. Request made with API key {key} (prefix "
                f"{key[:12]}, the rest {key[12:]}); headers: Authorization: {auth}",
                "invalid_request_error",
                "invalid_value",
            )
        elif kind == "401":
            self._error(
                401,
                "Incorrect API key provided: sk-te**********1234. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
            )
        elif kind == "429":
            self._error(
                429,
                "Rate limit reached for requests. Please try again in 0s.",
                "requests",
                "rate_limit_exceeded",
                {"Retry-After": retry_after} if retry_after is not None else None,
            )
        elif kind in server_errors:
            self._error(
                int(kind),
                "The server had an error while processing your request.",
                "server_error",
                None,
            )
        else:
            return False
        return True

    # -- endpoints --------------------------------------------------------------------------

    def do_POST(self) -> None:
        owner = self.server.owner
        body = self._read_body()
        if self.path.rstrip("/") != self.route:
            owner.record(self._recorded(body, None))
            self._not_found()
            return
        behaviour = owner.next_behaviour()
        owner.record(self._recorded(body, behaviour))
        try:
            self._play(behaviour, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (a cancel, a timeout)


class LoopbackHTTPServer(ThreadingHTTPServer, Generic[OwnerT]):
    """The HTTP server on a free port of 127.0.0.1; handler errors go to ``owner.errors``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, owner: OwnerT, handler: type[BaseHTTPRequestHandler]) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), handler)

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            return  # a client closing its kept-alive connection, or hanging up (a cancel, a timeout)
        self.owner.errors.append(f"{type(error).__name__}: {error}")
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class LoopbackServer(Generic[B, R]):
    """A scripted server; ``url`` is its OpenAI base URL (ending in ``/v1``).

    ``handler`` answers its requests; ``idle`` is the behaviour once the script is used up.
    """

    def __init__(self, handler: type[JSONHandler[B]], *, idle: B) -> None:
        self.requests: list[R] = []
        self.errors: list[str] = []
        """Unexpected exceptions in the handlers (a bug in this server)."""
        self.stopping = threading.Event()
        self.count = 0
        """How many scripted requests have come."""
        self._idle = idle
        self._script: deque[B] = deque()
        self._lock = threading.Lock()
        self._httpd = LoopbackHTTPServer(self, handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *behaviours: B) -> None:
        """Queue behaviours for the next scripted requests (then the idle one)."""
        with self._lock:
            self._script.extend(behaviours)

    def next_behaviour(self) -> B:
        with self._lock:
            self.count += 1
            return self._script.popleft() if self._script else self._idle

    def record(self, request: R) -> None:
        with self._lock:
            self.requests.append(request)

    def _requests_to(self, route: str) -> list[R]:
        """The requests whose path ends in ``route``, in the order they arrived."""
        with self._lock:
            return [r for r in self.requests if r.path.rstrip("/").endswith(route)]

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    """A port nothing listens on (bound for a moment by us, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
