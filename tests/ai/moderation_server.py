"""A scripted OpenAI moderation endpoint on the loopback interface, for the screening tests.

``ModerationServer`` is a ``loopback.LoopbackServer``: a real ``ThreadingHTTPServer`` on
127.0.0.1 (a free port), served from a daemon thread. It answers ``POST /v1/moderations``
the way OpenAI does (``{"id", "model", "results": [{"flagged", "categories",
"category_scores"}, ...]}``, one result per input, in order) and plays one scripted behaviour
per request, in order, then ``"ok"`` once the script is used up:

``ok``         one result per input; an input is flagged for the OpenAI categories of every
               ``verdicts`` entry whose marker it contains (case-insensitive)
``401``        an OpenAI-style ``invalid_api_key`` error
``echo-key``   HTTP 400 whose message repeats the request's key (whole, in two halves, and
               its ``Authorization`` header)
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

from dataclasses import dataclass
from typing import Any

from loopback import JSONHandler, LoopbackHTTPServer, LoopbackServer, RecordedRequest, free_port

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
class Recorded(RecordedRequest):
    """A request to the moderation server, with its ``Authorization`` header."""

    authorization: str = ""

    @property
    def inputs(self) -> list[str]:
        value = self.body.get("input")
        return [value] if isinstance(value, str) else list(value or [])


class _Handler(JSONHandler[str]):
    server: LoopbackHTTPServer[ModerationServer]  # pyright: ignore[reportIncompatibleVariableOverride]
    route = "/v1/moderations"

    def _recorded(self, body: dict[str, Any], behaviour: str | None) -> Recorded:
        auth = self.headers.get("Authorization") or ""
        return Recorded("POST", self.path, body, behaviour or "", authorization=auth)

    def _play(self, behaviour: str, body: dict[str, Any]) -> None:
        owner = self.server.owner
        kind = behaviour
        if self._fault(kind):
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


class ModerationServer(LoopbackServer[str, Recorded]):
    """The scripted endpoint; ``url`` is its OpenAI base URL (ending in ``/v1``).

    ``verdicts`` maps a marker (found case-insensitively in an input) to the OpenAI
    categories that input is flagged for; ``delay`` is how long ``timeout`` sleeps.
    """

    def __init__(
        self, verdicts: dict[str, tuple[str, ...]] | None = None, *, delay: float = 2.0
    ) -> None:
        super().__init__(_Handler, idle="ok")
        self.verdicts = dict(verdicts or {})
        self.delay = delay

    @property
    def moderations(self) -> list[Recorded]:
        return self._requests_to("/moderations")

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
