"""A scripted OpenAI moderation endpoint on the loopback interface, for the screening tests.

``ModerationServer`` is a real ``ThreadingHTTPServer`` on 127.0.0.1 (a free port), served
from a daemon thread. It answers ``POST /v1/moderations`` the way OpenAI does
(``{"id", "model", "results": [{"flagged", "categories", "category_scores"}, ...]}``, one
result per input, in order) and plays one scripted behaviour per request, in order, then
``"ok"`` once the script is used up:

``ok``         one result per input; an input is flagged for the OpenAI categories of every
               ``verdicts`` entry whose marker it contains (case-insensitive)
``401``        an OpenAI-style ``invalid_api_key`` error
``429``        a rate-limit error with ``Retry-After: 0``
``500``        a server error
``timeout``    sleeps ``delay`` seconds (longer than the client waits), then answers ``ok``
``malformed``  HTTP 200 with ``Content-Type: application/json`` and a body that is not JSON
``short``      valid JSON with one result fewer than there were inputs
``noresults``  valid JSON without a ``results`` list

Every request is recorded (path, parsed body, ``Authorization`` header, the behaviour played)
so a test can check what the client sent. ``stop`` wakes a sleeping handler, so nothing
outlives the test.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["OPENAI_CATEGORIES", "ModerationServer", "Recorded", "free_port"]

OPENAI_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
"""The categories of ``omni-moderation-latest``, as its replies spell them."""


@dataclass
class Recorded:
    method: str
    path: str
    body: dict[str, Any] = field(default_factory=dict)
    authorization: str = ""
    behaviour: str = ""

    @property
    def inputs(self) -> list[str]:
        value = self.body.get("input")
        return [value] if isinstance(value, str) else list(value or [])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server  # pyright: ignore[reportIncompatibleVariableOverride]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass  # keep the test output clean

    def _read_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        return body if isinstance(body, dict) else {"_raw": body}

    def _send(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
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

    def do_POST(self) -> None:
        owner = self.server.owner
        body = self._read_body()
        auth = self.headers.get("Authorization") or ""
        if self.path.rstrip("/") != "/v1/moderations":
            owner.record(Recorded("POST", self.path, body, auth))
            self._error(404, f"no route {self.path}", "not_found", None)
            return
        kind = owner.next_behaviour()
        owner.record(Recorded("POST", self.path, body, auth, kind))
        try:
            self._answer(kind, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout): nothing to do

    def _answer(self, kind: str, body: dict[str, Any]) -> None:
        owner = self.server.owner
        if kind == "401":
            self._error(
                401,
                "Incorrect API key provided: sk-te**********1234. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
            )
            return
        if kind == "429":
            self._error(
                429,
                "Rate limit reached for requests. Please try again in 0s.",
                "requests",
                "rate_limit_exceeded",
                {"Retry-After": "0"},
            )
            return
        if kind == "500":
            self._error(
                500, "The server had an error while processing your request.", "server_error", None
            )
            return
        if kind == "timeout":
            if owner.stopping.wait(owner.delay):
                self.close_connection = True
                return
            kind = "ok"
        if kind == "malformed":
            self._send(200, b'{"id": "modr-broken", "results": [{"flagged": tru')
            return
        if kind not in ("ok", "short", "noresults"):
            raise ValueError(f"unknown behaviour {kind!r}")
        value = body.get("input")
        inputs = [value] if isinstance(value, str) else [str(v) for v in value or []]
        results = [owner.result_for(text) for text in inputs]
        if kind == "short":
            results = results[:-1]
        payload: dict[str, Any] = {
            "id": f"modr-test{owner.count}",
            "model": str(body.get("model") or "omni-moderation-latest"),
        }
        if kind != "noresults":
            payload["results"] = results
        self._json(200, payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ModerationServer

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            return  # a client closing its kept-alive connection, or giving up on a timeout
        self.owner.errors.append(f"{type(error).__name__}: {error}")
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class ModerationServer:
    """The scripted endpoint; ``url`` is its OpenAI base URL (ending in ``/v1``).

    ``verdicts`` maps a marker (found case-insensitively in an input) to the OpenAI
    categories that input is flagged for; ``delay`` is how long ``timeout`` sleeps.
    """

    def __init__(
        self, verdicts: dict[str, tuple[str, ...]] | None = None, *, delay: float = 2.0
    ) -> None:
        self.verdicts = dict(verdicts or {})
        self.delay = delay
        self.requests: list[Recorded] = []
        self.errors: list[str] = []
        """Unexpected exceptions in the handlers (a bug in this server)."""
        self.stopping = threading.Event()
        self.count = 0
        self._script: deque[str] = deque()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def moderations(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.rstrip("/").endswith("/moderations")]

    def script(self, *behaviours: str) -> None:
        """Queue behaviours for the next moderation requests (then ``ok``)."""
        with self._lock:
            self._script.extend(behaviours)

    def next_behaviour(self) -> str:
        with self._lock:
            self.count += 1
            return self._script.popleft() if self._script else "ok"

    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def result_for(self, text: str) -> dict[str, Any]:
        flagged = {
            category
            for marker, categories in self.verdicts.items()
            if marker.lower() in text.lower()
            for category in categories
        }
        unknown = flagged - set(OPENAI_CATEGORIES)
        names = list(OPENAI_CATEGORIES) + sorted(unknown)  # a category OpenAI may add one day
        return {
            "flagged": bool(flagged),
            "categories": {name: name in flagged for name in names},
            "category_scores": {name: 0.97 if name in flagged else 0.0012 for name in names},
            "category_applied_input_types": {name: ["text"] for name in names},
        }

    def start(self) -> ModerationServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ModerationServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    """A port nothing listens on (bound for a moment, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
