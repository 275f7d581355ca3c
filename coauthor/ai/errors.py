"""Provider failures, each with a sentence that says what happened and what to do."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["FailureKind", "ProviderError"]


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
