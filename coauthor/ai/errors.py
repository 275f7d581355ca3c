"""Provider failures, each with a sentence that says what happened and what to do."""

from __future__ import annotations

from enum import StrEnum

import openai

__all__ = ["FailureKind", "ProviderError", "retry_wait", "root_cause", "service_message"]


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


class ProviderError(Exception):
    """A generation or connection that failed; ``str()`` is the message for the author."""

    def __init__(self, kind: FailureKind, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status

    @property
    def opens_settings(self) -> bool:
        """Whether the fix is in the model settings (a refused or missing key, a bad URL)."""
        return self.kind in (FailureKind.AUTH, FailureKind.NO_KEY, FailureKind.CONNECTION)


def root_cause(exc: BaseException) -> str:
    """The innermost cause of a network error, as a phrase ("connection refused", ...)."""
    cause: BaseException = exc
    while (nxt := cause.__cause__ or cause.__context__) is not None:
        cause = nxt
    text = str(cause) or type(cause).__name__
    return "connection refused" if "refused" in text.lower() else text


def service_message(exc: BaseException) -> str:
    """What the service said in its error body, else the exception's text (200 characters)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        if isinstance(message, dict):
            message = message.get("message")
        if message:
            return str(message)[:200]
    return str(exc)[:200]


def retry_wait(
    exc: BaseException, attempt: int, *, max_attempts: int, backoff: float, max_wait: float = 60.0
) -> float | None:
    """Seconds to wait before retrying ``exc`` (429: its Retry-After, else exponential backoff;
    5xx: backoff), or None when it must not be retried or the attempts are used up."""
    if attempt >= max_attempts:
        return None
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
