"""Providers and one generation run: settings in, a ``Generation`` record out.

``ProviderConfig`` is what the settings store (never a key). ``Providers`` turns it into a
``ModelClient`` for OpenAI, a compatible server, or the embedded model. ``generate`` runs a
request (several for brainstorming), trims and retries once when the server says the context
is too long, and returns records that keep everything, whatever the outcome.

Continue goes to the server's plain completion endpoint (``/v1/completions``) where it has one:
the embedded model's server and most compatible servers do; OpenAI's chat models do not, so
OpenAI always gets chat, and a compatible server that answers 404 there gets chat from then on
(``Providers.offers_completions``). The record of a plain completion says so
(``parameters["endpoint"]``), and its prompt message is the exact text sent (role ``prompt``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from coauthor.ai import keys
from coauthor.ai.client import ModelClient, StreamResult, WaitCallback
from coauthor.ai.embedded import EmbeddedServer
from coauthor.ai.errors import FailureKind, ProviderError
from coauthor.ai.prompts import Request, shrink
from coauthor.core.generation import Generation, Outcome

__all__ = ["GenerationRun", "ProviderConfig", "ProviderKind", "Providers", "generate"]

OPENAI_URL = "https://api.openai.com/v1"


class ProviderKind(StrEnum):
    EMBEDDED = "embedded"
    OPENAI = "openai"
    COMPATIBLE = "compatible"


PROVIDER_LABELS = {
    ProviderKind.EMBEDDED: "Local model (embedded, works offline)",
    ProviderKind.OPENAI: "OpenAI",
    ProviderKind.COMPATIBLE: "OpenAI-compatible server (Ollama, llama.cpp, vLLM, LM Studio)",
}


@dataclass
class ProviderConfig:
    kind: ProviderKind = ProviderKind.EMBEDDED
    base_url: str = ""
    model: str = ""
    model_path: str = ""
    timeout: float = 60.0
    context_tokens: int = 2048

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ProviderConfig:
        config = cls()
        for name in ("base_url", "model", "model_path"):
            if isinstance(data.get(name), str):
                setattr(config, name, data[name])
        try:
            config.kind = ProviderKind(str(data.get("kind", "embedded")))
            config.timeout = float(data.get("timeout", 60.0))  # type: ignore[arg-type]
            config.context_tokens = int(data.get("context_tokens", 2048))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass
        return config

    @property
    def key_account(self) -> str:
        return "openai" if self.kind is ProviderKind.OPENAI else f"compatible:{self.base_url}"


class Providers:
    """Makes clients from the current settings; owns the embedded server."""

    def __init__(self, config: ProviderConfig, embedded: EmbeddedServer | None = None) -> None:
        self.config = config
        self.embedded = embedded or EmbeddedServer()
        self._cached: tuple[tuple[str, str | None, str, float], ModelClient] | None = None
        self._chat_only: set[tuple[str, str, str]] = set()

    def provider_name(self) -> str:
        return self.config.kind.value

    def model_name(self) -> str:
        if self.config.kind is ProviderKind.EMBEDDED:
            return self.embedded.model_name
        return self.config.model or "(default)"

    def offers_completions(self) -> bool:
        """Whether Continue should ask for a plain completion (``/v1/completions``)."""
        if self.config.kind is ProviderKind.OPENAI:
            return False  # its current models are chat models only
        # The embedded llama.cpp server has it; so do most compatible servers.
        return self._completions_key() not in self._chat_only

    def lacks_completions(self) -> None:
        """The current server said it has no plain completions: chat from now on."""
        self._chat_only.add(self._completions_key())

    def _completions_key(self) -> tuple[str, str, str]:
        config = self.config
        return (config.kind.value, config.base_url, config.model)

    def client(self) -> ModelClient:
        """A client for the current settings, kept while they stay the same.

        Making one costs tens of milliseconds (the SDK loads its certificate bundle even for
        plain HTTP to 127.0.0.1), which would otherwise add to every generation.
        """
        base_url, key, model = self._endpoint()
        wanted = (base_url, key, model, self.config.timeout)
        if self._cached is not None and self._cached[0] == wanted:
            return self._cached[1]
        self.close()
        client = ModelClient(base_url, key, model, timeout=self.config.timeout)
        self._cached = (wanted, client)
        return client

    def close(self) -> None:
        if self._cached is not None:
            self._cached[1].close()
            self._cached = None

    def _endpoint(self) -> tuple[str, str | None, str]:
        config = self.config
        if config.kind is ProviderKind.EMBEDDED:
            base_url = self.embedded.ensure_started()
            return base_url, self.embedded.api_key, self.embedded.model_name
        if config.kind is ProviderKind.OPENAI:
            key, _ = keys.get_key("openai")
            if not key:
                raise ProviderError(
                    FailureKind.NO_KEY,
                    "No OpenAI key is set: add one in the model settings (kept in the system "
                    f"keyring) or set {keys.ENV_VARIABLE}.",
                )
            return config.base_url or OPENAI_URL, key, config.model or "gpt-4o-mini"
        if not config.base_url:
            raise ProviderError(
                FailureKind.CONNECTION,
                "No server address is set: add its base URL in the model settings.",
            )
        key, _ = keys.get_key(config.key_account)
        return config.base_url, key, config.model


@dataclass
class GenerationRun:
    """Everything one request produced: a record per alternative, and notes for the author."""

    records: list[Generation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: ProviderError | None = None


def _record(
    gen_id: str,
    providers: Providers,
    request: Request,
    result: StreamResult | None,
    error: ProviderError | None,
    started_ms: int,
    clock: Callable[[], int],
    chapter_id: int | None,
    *,
    completion: bool = False,
) -> Generation:
    """The record of one request as sent: ``completion``, ``request.prompt`` to
    ``/v1/completions``; else ``request.messages`` to chat."""
    outcome = (
        result.outcome
        if result is not None
        else (
            Outcome.CANCELLED
            if error is not None and error.kind is FailureKind.CANCELLED
            else Outcome.FAILED
        )
    )
    timing: dict[str, object] = dict(result.timing()) if result is not None else {}
    if result is not None and result.retries:
        timing["retries"] = result.retries
    if result is not None:
        timing.update(result.shaping)
    parameters = request.parameters()
    messages: list[dict[str, str]] = request.messages
    if completion and request.prompt is not None:
        parameters["endpoint"] = "completions"
        messages = [{"role": "prompt", "content": request.prompt}]
    message = (
        str(error) if error is not None else (str(result.error) if result and result.error else "")
    )
    return Generation(
        gen_id,
        providers.provider_name(),
        providers.model_name(),
        parameters,
        messages,
        result.text if result is not None else "",
        outcome,
        started_ms,
        clock(),
        chapter_id,
        timing=timing,
        error=message,
    )


def generate(
    providers: Providers,
    request: Request,
    *,
    new_id: Callable[[], str],
    clock: Callable[[], int],
    chapter_id: int | None = None,
    on_delta: Callable[[int, str], None] | None = None,
    on_wait: WaitCallback | None = None,
    on_note: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> GenerationRun:
    """Run ``request`` (``request.alternatives`` times); never raises for provider failures."""
    cancel = cancel or threading.Event()
    run = GenerationRun(notes=list(request.notes))
    for note in request.notes:
        if on_note:
            on_note(note)
    try:
        client = providers.client()
    except ProviderError as exc:
        run.error = exc
        run.records.append(
            _record(new_id(), providers, request, None, exc, clock(), clock, chapter_id)
        )
        return run
    # The client belongs to ``providers``, which keeps it for the next generation.
    for index in range(request.alternatives):
        if cancel.is_set():
            break
        started = clock()
        current = request
        result: StreamResult | None = None
        error: ProviderError | None = None
        completion = False
        shrinks = 0
        while True:
            completion = current.prompt is not None and providers.offers_completions()
            deltas = (lambda text, i=index: on_delta(i, text)) if on_delta else None
            try:
                if completion and current.prompt is not None:
                    result = client.stream_completion(
                        current.prompt,
                        temperature=current.temperature,
                        max_tokens=current.max_tokens,
                        seed=current.seed,
                        after_space=current.after_space,
                        on_delta=deltas,
                        on_wait=on_wait,
                        cancel=cancel,
                    )
                else:
                    result = client.stream_chat(
                        current.messages,
                        temperature=current.temperature,
                        max_tokens=current.max_tokens,
                        seed=current.seed,
                        on_delta=deltas,
                        on_wait=on_wait,
                        cancel=cancel,
                    )
                error = result.error
                break
            except ProviderError as exc:
                error = exc
                if completion and _no_completions(exc):  # then completion is False: once
                    providers.lacks_completions()
                    note = (
                        f"{client.host} has no plain completions for this model "
                        f"(HTTP {exc.status} from /v1/completions): Continue asks through chat."
                    )
                    run.notes.append(note)
                    if on_note:
                        on_note(note)
                    continue
                if exc.kind is not FailureKind.CONTEXT_OVERFLOW or shrinks == 2:
                    break  # the record keeps the messages that were really sent
                shrinks += 1
                current = shrink(current)
                run.notes.append(current.notes[-1])
                if on_note:
                    on_note(current.notes[-1])
        run.records.append(
            _record(
                new_id(),
                providers,
                current,
                result,
                error,
                started,
                clock,
                chapter_id,
                completion=completion,
            )
        )
        if error is not None:
            run.error = error
            if result is None or result.outcome is not Outcome.COMPLETE:
                break
    return run


def _no_completions(error: ProviderError) -> bool:
    """Whether ``error`` says the server has no plain completions (for this model): no such
    route, or OpenAI's "This is a chat model and not supported in the v1/completions endpoint"."""
    if error.status in (404, 405, 501):
        return True
    return error.status == 400 and "chat model" in str(error).lower()


def now_ms() -> int:
    return int(time.time() * 1000)
