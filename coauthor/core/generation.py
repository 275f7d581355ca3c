"""A generation: one request to a model, what came back, and its human review."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ReviewState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Outcome(StrEnum):
    COMPLETE = "complete"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass
class Generation:
    """Everything needed to show what the model was asked and what it answered.

    Inserted text of a generation carries its ``id`` as the run ref. A generation is
    ``pending`` until a person approves or rejects it; ``reviewer`` and ``reviewed_at``
    say who and when (milliseconds since the epoch).
    """

    id: str
    provider: str
    model: str
    parameters: dict[str, object] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""
    outcome: Outcome = Outcome.COMPLETE
    created: int = 0
    finished: int | None = None
    chapter_id: int | None = None
    review_state: ReviewState = ReviewState.PENDING
    reviewer: str = ""
    reviewed_at: int | None = None
    note: str = ""
    inserted_at: int | None = None
    """When its text was first put into the book; None for a generation only previewed."""
    timing: dict[str, object] = field(default_factory=dict)
    error: str = ""
