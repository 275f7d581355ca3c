"""A scripted OpenAI-compatible chat server on the loopback interface, for the provider tests.

``ChatServer`` is a ``loopback.LoopbackServer``: a real ``ThreadingHTTPServer`` on 127.0.0.1
(a free port), served from a daemon thread. It answers ``GET /v1/models``,
``POST /v1/chat/completions`` and ``POST /v1/completions`` (plain completions, unless made with
``plain_completions=False``: then that route is a 404, as on OpenAI's chat models), streamed as
server-sent events or as one JSON body, the way OpenAI does, and it plays one scripted
behaviour per completion request of either kind, in order, then ``"ok"`` once the script is
used up:

``ok``          the reply text in several chunks, the last with ``finish_reason`` "stop"
``401``         an OpenAI-style ``invalid_api_key`` error
``echo-key``    HTTP 400 whose message repeats the request's key (whole, in two halves, and
                its ``Authorization`` header)
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
import time
from dataclasses import dataclass
from typing import Any

from loopback import JSONHandler, LoopbackHTTPServer, LoopbackServer, RecordedRequest, free_port

__all__ = ["Behaviour", "ChatServer", "Recorded", "free_port"]

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
    pieces: tuple[str, ...] | None = None
    """The exact streamed chunks of ``ok`` (e.g. a surrogate pair split in two); else cut at
    spaces."""
    finish: str = "stop"
    """The ``finish_reason`` of the last chunk ("length": the token limit was reached)."""


class Recorded(RecordedRequest):
    """A request to the chat server (``behaviour`` is the kind played)."""

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


class _Handler(JSONHandler[Behaviour]):
    server: LoopbackHTTPServer[ChatServer]  # pyright: ignore[reportIncompatibleVariableOverride]
    route = "/v1/chat/completions"

    def _recorded(self, body: dict[str, Any], behaviour: Behaviour | None) -> Recorded:
        return Recorded("POST", self.path, body, behaviour.kind if behaviour else "")

    def _not_found(self) -> None:
        self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def _plain(self) -> bool:
        """Whether this request is a plain completion (``/v1/completions``)."""
        return self.path.rstrip("/") == "/v1/completions"

    def _chunk_object(self, model: str, delta: dict[str, str], finish: str | None) -> dict:
        if self._plain:
            return {
                "id": self.server.owner.completion_id.replace("chatcmpl", "cmpl"),
                "object": "text_completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "text": delta.get("content", ""),
                        "logprobs": None,
                        "finish_reason": finish,
                    },
                ],
            }
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

    def _sse_events(
        self, model: str, text: str, pieces: tuple[str, ...] | None = None, finish: str = "stop"
    ) -> list[bytes]:
        events = [self._chunk_object(model, {"role": "assistant", "content": ""}, None)]
        events += [
            self._chunk_object(model, {"content": piece}, None)
            for piece in (pieces if pieces is not None else _chunks(text))
        ]
        events.append(self._chunk_object(model, {}, finish))
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
            self._not_found()

    def do_POST(self) -> None:
        if not self._plain:
            super().do_POST()
            return
        owner = self.server.owner
        body = self._read_body()
        if not owner.plain_completions:
            owner.record(self._recorded(body, None))
            self._error(
                404,
                "This is a chat model and not supported in the v1/completions endpoint. Did "
                "you mean to use v1/chat/completions?",
                "invalid_request_error",
                None,
            )
            return
        behaviour = owner.next_behaviour()
        owner.record(self._recorded(body, behaviour))
        try:
            self._play(behaviour, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (a cancel, a timeout)

    def _play(self, behaviour: Behaviour, body: dict[str, Any]) -> None:
        owner = self.server.owner
        kind = behaviour.kind
        model = str(body.get("model") or owner.models[0])
        text = owner.reply if behaviour.text is None else behaviour.text
        if self._fault(
            kind, retry_after=behaviour.retry_after, server_errors=("500", "502", "503")
        ):
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
        if not body.get("stream") and self._plain:
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}
            self._json(
                200,
                {
                    "id": owner.completion_id,
                    "object": "text_completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [choice],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                },
            )
            return
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
        events = self._sse_events(model, text, behaviour.pieces, behaviour.finish)
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


class ChatServer(LoopbackServer[Behaviour, Recorded]):
    """The scripted server; ``url`` is its OpenAI base URL (ending in ``/v1``)."""

    def __init__(
        self,
        *,
        models: tuple[str, ...] = ("test-model", "other-model"),
        reply: str = DEFAULT_REPLY,
        plain_completions: bool = True,
    ) -> None:
        super().__init__(_Handler, idle=Behaviour())
        self.models = models
        self.reply = reply
        self.plain_completions = plain_completions

    @property
    def completion_id(self) -> str:
        return f"chatcmpl-test{self.count}"

    @property
    def completions(self) -> list[Recorded]:
        """The chat-completion requests, in the order they arrived."""
        return self._requests_to("/chat/completions")

    @property
    def plain(self) -> list[Recorded]:
        """The plain-completion requests (``/v1/completions``), in the order they arrived."""
        return self._requests_to("/v1/completions")

    def script(self, *behaviours: str | Behaviour) -> None:
        """Queue behaviours for the next completion requests (then ``ok``)."""
        super().script(*(b if isinstance(b, Behaviour) else Behaviour(b) for b in behaviours))
