"""Provider failures, each with a sentence that says what happened and what to do.

Secrets never leave the keyring: every sentence here passes through ``redact`` before it is
raised, shown or logged, so a server that echoes the API key in its error body (or a
``Bearer`` header, or anything that looks like an ``sk-`` key) shows only the masked form.
``insecure_url`` refuses to send a key over plain ``http://`` to anything but this computer.

``translate`` is the one place that turns the ``openai`` SDK's exceptions into ``ProviderError``
sentences, for the model client and the moderation client alike (each with its own wording,
``SdkWording``). The SDK is imported only when there is an SDK exception to look at, so
importing this module does not load it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlparse

from coauthor.ai.keys import mask

__all__ = [
    "FailureKind",
    "ProviderError",
    "SdkWording",
    "insecure_url",
    "is_loopback",
    "redact",
    "retry_wait",
    "root_cause",
    "service_message",
    "status_of",
    "translate",
]

_SK_TOKEN = re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{8,}")
"""Anything that looks like an OpenAI-style key."""
_BEARER = re.compile(r"(?i)\b(bearer)(\s+|%20)([^\s\"',;&<>]+)")
"""An ``Authorization: Bearer ...`` value."""
_PIECE = 8
"""The shortest piece of a secret that ``redact`` hides wherever it appears."""
_HIDDEN = "•" * 8


def _masked(value: str) -> str:
    return value if "…" in value or "•" in value else mask(value)


def _hide_pieces(text: str, secret: str) -> str:
    """``text`` with every run of ``_PIECE`` or more characters that is part of ``secret``
    (a truncated or split echo of it) replaced by ``_HIDDEN``."""
    parts: list[str] = []
    start = i = 0
    while i <= len(text) - _PIECE:
        if text[i : i + _PIECE] not in secret:
            i += 1
            continue
        end = i + _PIECE
        while end < len(text) and text[i : end + 1] in secret:
            end += 1
        parts += [text[start:i], _HIDDEN]
        start = i = end
    return "".join(parts) + text[start:] if parts else text


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with each of ``secrets`` masked (``keys.mask``: at most its first three and
    last four characters), any other piece of one 8 characters or longer (a truncated echo)
    hidden, and any ``Bearer`` value and ``sk-...`` token masked too."""
    wanted = sorted({s for s in secrets if s and len(s) >= _PIECE}, key=len, reverse=True)
    for secret in wanted:
        text = text.replace(secret, mask(secret))
    for secret in wanted:
        text = _hide_pieces(text, secret)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{_masked(m.group(3))}", text)
    return _SK_TOKEN.sub(lambda m: mask(m.group()), text)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this computer: 127.0.0.0/8, ::1 or ``localhost``."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def insecure_url(url: str, key: str | None) -> str | None:
    """Why ``key`` must not be sent to ``url`` (plain ``http://`` to another computer, where
    anyone on the way could read it), or None when it may (no key, https, or this computer)."""
    if not key:
        return None
    parsed = urlparse(url.strip())
    if parsed.scheme.lower() != "http":
        return None
    host = parsed.hostname or ""
    if is_loopback(host):
        return None
    return (
        f"Coauthor will not send the API key to {host or url} over plain http://, where anyone "
        "on the network could read it; use its https:// address."
    )


class FailureKind(StrEnum):
    AUTH = "auth"
    RATE_LIMIT = "rate_limit"
    SERVER = "server"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    MALFORMED = "malformed"
    DISCONNECTED = "disconnected"
    CONTEXT_OVERFLOW = "context_overflow"
    BAD_REQUEST = "bad_request"
    CANCELLED = "cancelled"
    NO_KEY = "no_key"
    NOT_INSTALLED = "not_installed"
    INSECURE = "insecure"


class ProviderError(Exception):
    """A generation or connection that failed; ``str()`` is the message for the author.

    The message is ``redact``-ed of ``secrets`` (and of anything that looks like a key)."""

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        status: int | None = None,
        secrets: tuple[str | None, ...] = (),
    ) -> None:
        super().__init__(redact(message, *secrets))
        self.kind = kind
        self.status = status

    @property
    def opens_settings(self) -> bool:
        """Whether the fix is in the model settings (a refused or missing key, a bad URL)."""
        return self.kind in (
            FailureKind.AUTH,
            FailureKind.NO_KEY,
            FailureKind.CONNECTION,
            FailureKind.INSECURE,
        )


def root_cause(exc: BaseException) -> str:
    """The innermost cause of a network error, as a phrase ("connection refused", ...)."""
    cause: BaseException = exc
    while (nxt := cause.__cause__ or cause.__context__) is not None:
        cause = nxt
    text = str(cause) or type(cause).__name__
    return "connection refused" if "refused" in text.lower() else text


def service_message(exc: BaseException, *secrets: str | None) -> str:
    """What the service said in its error body, else the exception's text, redacted of
    ``secrets`` before it is cut to 200 characters."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        if isinstance(message, dict):
            message = message.get("message")
        if message:
            return redact(str(message)[:2000], *secrets)[:200]
    return redact(str(exc)[:2000], *secrets)[:200]


def retry_wait(
    exc: BaseException, attempt: int, *, max_attempts: int, backoff: float, max_wait: float = 60.0
) -> float | None:
    """Seconds to wait before retrying ``exc`` (429: its Retry-After, else exponential backoff;
    5xx: backoff), or None when it must not be retried or the attempts are used up."""
    if attempt >= max_attempts:
        return None
    import openai  # an SDK exception is in hand, so the SDK is loaded already

    doubling = min(max_wait, backoff * 2 ** (attempt - 1))
    if isinstance(exc, openai.RateLimitError):
        header = exc.response.headers.get("retry-after") if exc.response is not None else None
        try:
            return max(0.0, min(max_wait, float(header))) if header else doubling
        except ValueError:
            return doubling
    if isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
        return doubling
    return None


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of an SDK status error, else None."""
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _is_transport_error(exc: BaseException) -> bool:
    """A network error raised by the SDK's HTTP library (httpx, or httpx2 with openai 3)."""
    return type(exc).__module__.split(".")[0] in ("httpx", "httpx2", "httpcore", "httpcore2")


def _is_context_overflow(exc: BaseException, status: int) -> bool:
    text = str(exc).lower()
    return status in (400, 413) and (
        "context" in text or "too long" in text or ("maximum" in text and "token" in text)
    )


@dataclass(frozen=True)
class SdkWording:
    """The sentences one client says for each kind of SDK failure.

    Each is a ``str.format`` template over ``host``, ``base_url``, ``status``, ``tries`` (such
    as "3 tries"), ``timeout``, ``cause`` (``root_cause``), ``message`` (``service_message``)
    and ``exc``. A failure whose template is None falls to the next that applies."""

    auth: str
    rate_limit: str
    timeout: str
    connection: str
    server: str
    bad_request: str
    malformed: str
    unexpected: str
    not_found: str | None = None
    context_overflow: str | None = None
    stream_error: str | None = None
    disconnected: str | None = None


def translate(
    exc: Exception,
    wording: SdkWording,
    *,
    host: str,
    base_url: str,
    tries: str,
    timeout: float,
    key: str | None,
) -> ProviderError:
    """``exc`` (raised by the ``openai`` SDK or while reading its reply) as a ``ProviderError``
    whose sentence is ``wording``'s for its kind, redacted of ``key``."""
    if isinstance(exc, ProviderError):
        return exc
    import openai  # an SDK call raised, so the SDK is loaded already

    fields: dict[str, object] = {
        "host": host,
        "base_url": base_url,
        "tries": tries,
        "timeout": f"{timeout:g}",
        "status": status_of(exc),
        "exc": exc,
    }

    def error(kind: FailureKind, template: str, *, status: int | None = None) -> ProviderError:
        if "{cause}" in template:
            fields["cause"] = root_cause(exc)
        if "{message}" in template:
            fields["message"] = service_message(exc, key)
        return ProviderError(kind, template.format(**fields), status=status, secrets=(key,))

    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return error(FailureKind.AUTH, wording.auth, status=exc.status_code)
    if isinstance(exc, openai.RateLimitError):
        return error(FailureKind.RATE_LIMIT, wording.rate_limit, status=429)
    if isinstance(exc, openai.APITimeoutError):
        return error(FailureKind.TIMEOUT, wording.timeout)
    if isinstance(exc, openai.APIConnectionError):
        return error(FailureKind.CONNECTION, wording.connection)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status >= 500:
            return error(FailureKind.SERVER, wording.server, status=status)
        if wording.not_found is not None and status == 404:
            return error(FailureKind.BAD_REQUEST, wording.not_found, status=status)
        if wording.context_overflow is not None and _is_context_overflow(exc, status):
            return error(FailureKind.CONTEXT_OVERFLOW, wording.context_overflow, status=status)
        return error(FailureKind.BAD_REQUEST, wording.bad_request, status=status)
    if isinstance(exc, ValueError | KeyError | openai.APIResponseValidationError):
        return error(FailureKind.MALFORMED, wording.malformed)  # JSON, Unicode, a missing field
    if wording.stream_error is not None and isinstance(exc, openai.APIError):
        return error(FailureKind.MALFORMED, wording.stream_error)
    if wording.disconnected is not None and _is_transport_error(exc):
        return error(FailureKind.DISCONNECTED, wording.disconnected)
    return error(FailureKind.MALFORMED, wording.unexpected)
