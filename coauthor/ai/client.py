"""One client path for every provider: the ``openai`` SDK pointed at a base URL.

``ModelClient.stream_chat`` streams a chat completion (``stream_completion`` a plain completion,
shaped as a continuation of prose by ``continuation.Continuation``), retrying with backoff on 429 and 5xx
before the first token (reporting each wait), and turns every failure into a
``ProviderError`` with a sentence for the author. Once text has arrived, a failure is not
retried: what arrived is returned as a cancelled result, never silently inserted.

The key never leaves in an error: every sentence is ``redact``-ed of it (a server may echo it
in its error body), translated errors do not chain the SDK's exception (whose text holds that
body) into tracebacks, and no request is sent with a key over plain ``http://`` to another
computer (``insecure_url``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from coauthor.ai.continuation import Continuation
from coauthor.ai.errors import (
    FailureKind,
    ProviderError,
    SdkWording,
    insecure_url,
    retry_wait,
    root_cause,
    translate,
)
from coauthor.core.generation import Outcome
from coauthor.core.text import valid_unicode

logger = logging.getLogger(__name__)

__all__ = ["ModelClient", "StreamResult", "Verdict"]

WaitCallback = Callable[[float, int, str], None]
"""Called before each retry with the wait in seconds, the attempt number and the reason."""


@dataclass
class StreamResult:
    text: str
    outcome: Outcome
    error: ProviderError | None = None
    first_token_s: float | None = None
    total_s: float = 0.0
    chunks: int = 0
    finish_reason: str | None = None
    retries: list[str] = field(default_factory=list)
    shaping: dict[str, object] = field(default_factory=dict)
    """What ``Continuation`` did to a plain completion (``Continuation.facts``)."""

    def timing(self) -> dict[str, float | int | None]:
        return {
            "first_token_s": self.first_token_s,
            "total_s": round(self.total_s, 4),
            "chunks": self.chunks,
        }


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str
    models: tuple[str, ...] = ()


_WORDING = SdkWording(
    auth="The key was refused by {host} (HTTP {status}); check it in the model settings.",
    rate_limit="{host} is limiting requests (HTTP 429) and still refused after {tries}; wait a "
    "minute and try again.",
    timeout="{host} did not answer within {timeout} seconds; try again, or raise the timeout in "
    "the model settings.",
    connection="Cannot connect to {base_url}: {cause}. Is the server running, and is the address "
    "right?",
    server="{host} failed with HTTP {status} after {tries}; the service may be down, try again "
    "later.",
    context_overflow="The request is longer than the model's context ({host} said: {message}).",
    bad_request="{host} refused the request (HTTP {status}): {message}.",
    malformed="{host} sent a reply Coauthor cannot read (a malformed stream); nothing was "
    "inserted.",
    stream_error="{host} sent an error in the stream: {message}.",
    disconnected="The connection to {host} broke: {exc}.",
    unexpected="Unexpected reply from {host}: {exc}.",
)
"""What the model client says for each failure of the SDK (``errors.translate``)."""


class ModelClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        model: str,
        *,
        timeout: float = 60.0,
        max_attempts: int = 4,
        backoff: float = 1.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._key = api_key
        # The SDK takes half a second to import: loaded with the first client, not with the
        # app (the window paints before anyone asks the model anything).
        import openai

        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or "not-needed",
            timeout=openai.Timeout(timeout, connect=min(10.0, timeout)),
            max_retries=0,  # retries are ours, so the author sees each wait
        )

    @property
    def host(self) -> str:
        return urlparse(self.base_url).netloc or self.base_url

    # -- errors -----------------------------------------------------------------------------

    def _error(
        self, kind: FailureKind, message: str, *, status: int | None = None
    ) -> ProviderError:
        """A ``ProviderError`` whose sentence is redacted of this client's key."""
        return ProviderError(kind, message, status=status, secrets=(self._key,))

    def _refuse_insecure(self) -> None:
        """Raise before anything is sent when the key would cross the network in plain text."""
        refusal = insecure_url(self.base_url, self._key)
        if refusal is not None:
            raise self._error(FailureKind.INSECURE, refusal)

    def _translate(self, exc: Exception) -> ProviderError:
        return translate(
            exc,
            _WORDING,
            host=self.host,
            base_url=self.base_url,
            tries=f"{self.max_attempts} tries",
            timeout=self.timeout,
            key=self._key,
        )

    def _retry_wait(self, exc: Exception, attempt: int) -> float | None:
        return retry_wait(exc, attempt, max_attempts=self.max_attempts, backoff=self.backoff)

    # -- calls ------------------------------------------------------------------------------

    def stream_chat(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float = 0.7,
        max_tokens: int = 200,
        seed: int | None = None,
        on_delta: Callable[[str], None] | None = None,
        on_wait: WaitCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> StreamResult:
        """Stream one chat completion. Raises ``ProviderError`` when nothing usable arrived."""
        extra = {} if seed is None else {"seed": seed}
        return self._stream(
            lambda: self._client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                temperature=temperature,
                max_tokens=max_tokens,
                stream=True,
                **extra,  # type: ignore[arg-type]
            ),
            lambda choice: choice.delta.content if choice.delta is not None else None,
            on_delta=on_delta,
            on_wait=on_wait,
            cancel=cancel,
        )

    def stream_completion(
        self,
        prompt: str,
        *,
        temperature: float = 0.7,
        max_tokens: int = 200,
        seed: int | None = None,
        after_space: bool = False,
        on_delta: Callable[[str], None] | None = None,
        on_wait: WaitCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> StreamResult:
        """Stream a plain completion of ``prompt`` (``/v1/completions``), shaped as a
        continuation of prose (``continuation.Continuation``: it ends at a paragraph end, and
        echoes of the prompt are removed). Failures as ``stream_chat``."""
        extra = {} if seed is None else {"seed": seed}
        return self._stream(
            lambda: self._client.completions.create(
                model=self.model,
                prompt=prompt,
                temperature=temperature,
                max_tokens=max_tokens,
                stream=True,
                **extra,  # type: ignore[arg-type]
            ),
            lambda choice: choice.text,
            on_delta=on_delta,
            on_wait=on_wait,
            cancel=cancel,
            shape=Continuation(prompt, after_space=after_space),
        )

    def _open(
        self,
        create: Callable[[], Any],
        retries: list[str],
        on_wait: WaitCallback | None,
        cancel: threading.Event,
    ) -> Any:
        """The stream ``create`` opens, retried with backoff on 429 and 5xx."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return create()
            except Exception as exc:  # noqa: BLE001 - every failure becomes a ProviderError
                wait = self._retry_wait(exc, attempt)
                if wait is None or cancel.is_set():
                    raise self._translate(exc) from None
                reason = self._translate(exc).kind.value
                retries.append(f"attempt {attempt}: {reason}, waited {wait:g} s")
                if on_wait is not None:
                    on_wait(wait, attempt, reason)
                if cancel.wait(wait):
                    raise self._error(
                        FailureKind.CANCELLED, "Cancelled while waiting to retry."
                    ) from None

    def _stream(
        self,
        create: Callable[[], Any],
        piece_of: Callable[[Any], str | None],
        *,
        on_delta: Callable[[str], None] | None,
        on_wait: WaitCallback | None,
        cancel: threading.Event | None,
        shape: Continuation | None = None,
    ) -> StreamResult:
        """Open the stream ``create`` makes and read it; ``piece_of`` takes the text out of a
        chunk's first choice. With ``shape``, the text is the continuation it keeps, and the
        stream is closed as soon as that has ended."""
        self._refuse_insecure()
        cancel = cancel or threading.Event()
        started = time.perf_counter()
        retries: list[str] = []
        stream = self._open(create, retries, on_wait, cancel)
        parts: list[str] = []
        result = StreamResult("", Outcome.COMPLETE, retries=retries)

        def hand_on(text: str) -> None:
            if text and on_delta is not None:
                on_delta(text)

        try:
            with stream:
                for chunk in stream:
                    if cancel.is_set():
                        result.outcome = Outcome.CANCELLED
                        break
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    delta = piece_of(choice)
                    if delta:
                        if result.first_token_s is None:
                            result.first_token_s = time.perf_counter() - started
                        parts.append(delta)
                        result.chunks += 1
                        hand_on(shape.feed(delta) if shape is not None else delta)
                    if choice.finish_reason:
                        result.finish_reason = choice.finish_reason
                    if shape is not None and shape.done:
                        # The continuation has ended: closing the stream stops the server.
                        result.finish_reason = "stop"
                        break
        except Exception as exc:  # noqa: BLE001 - every failure becomes a ProviderError
            error = self._translate(exc)
            if error.kind is FailureKind.CONNECTION:
                # The server answered, then the connection broke (openai 3 reports this as a
                # connection error): not a wrong address, so no "cannot connect" advice.
                error = self._error(
                    FailureKind.DISCONNECTED,
                    f"The connection to {self.host} broke: {root_cause(exc)}.",
                )
            if parts:
                error = self._error(
                    FailureKind.DISCONNECTED,
                    f"The stream from {self.host} broke after {sum(map(len, parts)):,} "
                    f"characters ({error}); what arrived is kept in the record as a cancelled "
                    "generation and was not inserted.",
                )
                result.outcome = Outcome.CANCELLED
                result.error = error
            else:
                raise error from None
        if shape is not None:
            complete = result.outcome is Outcome.COMPLETE and result.error is None
            shape.close(token_limit=complete and result.finish_reason == "length")
            hand_on(shape.rest())
            result.shaping = shape.facts()
            text = shape.text
        else:
            text = "".join(parts)
        # A pair of surrogates split across two chunks is joined here; a lone half is U+FFFD.
        result.text = valid_unicode(text)
        result.total_s = time.perf_counter() - started
        if (
            result.outcome is Outcome.COMPLETE
            and result.finish_reason is None
            and not cancel.is_set()
        ):
            # The stream ended without saying it was finished: the server went away mid-reply.
            result.outcome = Outcome.CANCELLED
            result.error = self._error(
                FailureKind.DISCONNECTED,
                f"The stream from {self.host} ended early after {len(result.text):,} characters; "
                "what arrived is kept in the record as a cancelled generation and was not inserted.",
            )
        return result

    def list_models(self) -> list[str]:
        self._refuse_insecure()
        try:
            return sorted(model.id for model in self._client.models.list())
        except Exception as exc:  # noqa: BLE001 - every failure becomes a ProviderError
            raise self._translate(exc) from None

    def test_connection(self) -> Verdict:
        """A plain-language verdict: can Coauthor generate with these settings?"""
        try:
            models = self.list_models()
        except ProviderError as exc:
            return Verdict(False, str(exc))
        if self.model and models and self.model not in models:
            return Verdict(
                False,
                f"Connected to {self.host}, but it has no model called “{self.model}”; it offers "
                + ", ".join(models[:8])
                + ("…" if len(models) > 8 else "")
                + ".",
                tuple(models),
            )
        return Verdict(
            True,
            f"Connected to {self.host}: {len(models)} model{'s' if len(models) != 1 else ''} "
            "available, ready to generate.",
            tuple(models),
        )

    def close(self) -> None:
        self._client.close()
