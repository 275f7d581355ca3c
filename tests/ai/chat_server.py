"""A scripted OpenAI-compatible chat server on the loopback interface, for the provider tests.

``ChatServer`` is a real ``ThreadingHTTPServer`` on 127.0.0.1 (a free port), served from a
daemon thread. It answers ``GET /v1/models`` and ``POST /v1/chat/completions`` (streamed as
server-sent events, or as one JSON body) the way OpenAI does, and it plays one scripted
behaviour per completion request, in order, then ``"ok"`` once the script is used up:

``ok``          the reply text in several chunks, the last with ``finish_reason`` "stop"
``401``         an OpenAI-style ``invalid_api_key`` error
``429``         a rate-limit error with ``Retry-After`` (``Behaviour.retry_after``)
``500``/``503`` a server error
``timeout``     sleeps ``Behaviour.delay`` seconds (longer than the client waits), then ``ok``
``malformed``   a ``data: {not json`` line where the first chunk should be
``disconnect``  two chunks of a chunked body, then the socket is shut without the terminator
``truncate``    two chunks of a close-delimited body, then a clean close without ``[DONE]``
``context``     HTTP 400 ``context_length_exceeded``

Every request is recorded (``requests``: method, path, parsed JSON body) so a test can check
what the client sent. ``stop`` wakes any sleeping handler, so nothing outlives the fixture.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Behaviour", "ChatServer", "Recorded"]

DEFAULT_REPLY = "The rain kept falling on the quiet harbour town."


@dataclass(frozen=True)
class Behaviour:
    kind: str = "ok"
    text: str | None = None
    """The reply for ``ok`` (and what ``timeout`` sends late); the server's default if None."""
    retry_after: str | None = "0"
    """The ``Retry-After`` header of a ``429``; None sends none."""
    delay: float = 2.0
    """How long ``timeout`` sleeps before answering."""
    chunk_delay: float = 0.0
    """A pause between streamed chunks (to cancel mid-stream)."""


@dataclass
class Recorded:
    method: str
    path: str
    body: dict[str, Any] = field(default_factory=dict)
    behaviour: str = ""

    @property
    def user_message(self) -> str:
        messages = self.body.get("messages") or []
        users = [m.get("content", "") for m in messages if m.get("role") == "user"]
        return users[-1] if users else ""


def _chunks(text: str, count: int = 4) -> list[str]:
    """``text`` cut into about ``count`` pieces at spaces (each piece keeps its space)."""
    words = text.split(" ")
    size = max(1, -(-len(words) // count))
    pieces = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [piece + (" " if i < len(pieces) - 1 else "") for i, piece in enumerate(pieces)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass  # keep the test output clean

    # -- plumbing ---------------------------------------------------------------------------

    def _read_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        return body if isinstance(body, dict) else {"_raw": body}

    def _json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

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

    def _chunk_object(self, model: str, delta: dict[str, str], finish: str | None) -> dict:
        return {
            "id": self.server.owner.completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": None,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish},
            ],
        }

    def _sse_events(self, model: str, text: str) -> list[bytes]:
        events = [self._chunk_object(model, {"role": "assistant", "content": ""}, None)]
        events += [self._chunk_object(model, {"content": piece}, None) for piece in _chunks(text)]
        events.append(self._chunk_object(model, {}, "stop"))
        return [f"data: {json.dumps(event)}\n\n".encode() for event in events]

    def _start_stream(self, *, chunked: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")  # the body ends when the socket closes
            self.close_connection = True
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _hang_up(self) -> None:
        """Close the socket abruptly, mid-body."""
        self.close_connection = True
        self.wfile.flush()
        with contextlib.suppress(OSError):  # already gone
            self.connection.shutdown(socket.SHUT_RDWR)

    # -- endpoints --------------------------------------------------------------------------

    def do_GET(self) -> None:
        owner = self.server.owner
        owner.record(Recorded("GET", self.path))
        if self.path.rstrip("/") == "/v1/models":
            data = [
                {"id": name, "object": "model", "created": 1700000000, "owned_by": "tests"}
                for name in owner.models
            ]
            self._json(200, {"object": "list", "data": data})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        owner = self.server.owner
        body = self._read_body()
        if self.path.rstrip("/") != "/v1/chat/completions":
            owner.record(Recorded("POST", self.path, body))
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        behaviour = owner.next_behaviour()
        owner.record(Recorded("POST", self.path, body, behaviour.kind))
        try:
            self._complete(behaviour, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (a cancel): nothing to do

    def _complete(self, behaviour: Behaviour, body: dict[str, Any]) -> None:
        owner = self.server.owner
        kind = behaviour.kind
        model = str(body.get("model") or owner.models[0])
        text = owner.reply if behaviour.text is None else behaviour.text
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
            retry = behaviour.retry_after
            self._error(
                429,
                "Rate limit reached for requests. Please try again in 0s.",
                "requests",
                "rate_limit_exceeded",
                {"Retry-After": retry} if retry is not None else None,
            )
            return
        if kind in ("500", "502", "503"):
            self._error(
                int(kind),
                "The server had an error while processing your request.",
                "server_error",
                None,
            )
            return
        if kind == "context":
            self._error(
                400,
                "This model's maximum context length is 2048 tokens. However, your messages "
                "resulted in 4000 tokens. Please reduce the length of the messages.",
                "invalid_request_error",
                "context_length_exceeded",
            )
            return
        if kind == "timeout":
            if owner.stopping.wait(behaviour.delay):
                self._hang_up()
                return
            kind = "ok"
        if not body.get("stream"):
            self._json(
                200,
                {
                    "id": owner.completion_id,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "logprobs": None,
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                },
            )
            return
        events = self._sse_events(model, text)
        if kind == "ok":
            self._start_stream(chunked=True)
            for event in events:
                self._write_chunk(event)
                if behaviour.chunk_delay and owner.stopping.wait(behaviour.chunk_delay):
                    self._hang_up()
                    return
            self._write_chunk(b"data: [DONE]\n\n")
            self._end_chunks()
        elif kind == "malformed":
            self._start_stream(chunked=True)
            self._write_chunk(b"data: {not json\n\n")
            self._write_chunk(b"data: [DONE]\n\n")
            self._end_chunks()
        elif kind == "disconnect":
            self._start_stream(chunked=True)
            for event in events[:3]:  # the role chunk and two chunks of text
                self._write_chunk(event)
            self._hang_up()  # no "0\r\n\r\n": the body is cut off mid-stream
        elif kind == "truncate":
            self._start_stream(chunked=False)
            for event in events[:3]:
                self.wfile.write(event)
            self._hang_up()
        else:
            raise ValueError(f"unknown behaviour {kind!r}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ChatServer

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            return  # a client closing its kept-alive connection, or hanging up on a cancel
        self.owner.errors.append(f"{type(error).__name__}: {error}")
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class ChatServer:
    """The scripted server; ``url`` is its OpenAI base URL (ending in ``/v1``)."""

    def __init__(
        self, *, models: tuple[str, ...] = ("test-model", "other-model"), reply: str = DEFAULT_REPLY
    ) -> None:
        self.models = models
        self.reply = reply
        self.requests: list[Recorded] = []
        self.errors: list[str] = []
        """Unexpected exceptions in the handlers (a bug in this server)."""
        self.stopping = threading.Event()
        self._script: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._counter = 0
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def completion_id(self) -> str:
        return f"chatcmpl-test{self._counter}"

    @property
    def completions(self) -> list[Recorded]:
        """The chat-completion requests, in the order they arrived."""
        with self._lock:
            return [r for r in self.requests if r.path.rstrip("/").endswith("/chat/completions")]

    def script(self, *behaviours: str | Behaviour) -> None:
        """Queue behaviours for the next completion requests (then ``ok``)."""
        with self._lock:
            for behaviour in behaviours:
                self._script.append(
                    behaviour if isinstance(behaviour, Behaviour) else Behaviour(behaviour)
                )

    def next_behaviour(self) -> Behaviour:
        with self._lock:
            self._counter += 1
            return self._script.popleft() if self._script else Behaviour()

    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def start(self) -> ChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def free_port() -> int:
    """A port nothing listens on (bound for a moment by us, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
