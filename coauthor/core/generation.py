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


_RECORD_FIELDS = (
    "provider", "model", "parameters", "messages", "output", "created", "finished", "timing",
    "error",
)  # fmt: skip


def generation_record(generation: Generation) -> dict[str, Any]:
    """What the chain records when a generation is added: everything an export may show.

    The review state is not part of it: reviews are events of their own.
    """
    record: dict[str, Any] = {name: getattr(generation, name) for name in _RECORD_FIELDS}
    record["id"] = generation.id
    record["outcome"] = str(generation.outcome)
    record["chapter"] = generation.chapter_id
    return record


def generation_from_record(record: dict[str, Any]) -> Generation:
    """The generation a chain record describes, pending review (raises on a malformed record)."""
    chapter = record.get("chapter")
    return Generation(
        id=str(record["id"]),
        provider=str(record.get("provider", "")),
        model=str(record.get("model", "")),
        parameters=dict(record.get("parameters") or {}),
        messages=list(record.get("messages") or []),
        output=str(record.get("output", "")),
        outcome=Outcome(record.get("outcome", Outcome.COMPLETE)),
        created=int(record.get("created") or 0),
        finished=None if record.get("finished") is None else int(record["finished"]),
        chapter_id=None if chapter is None else int(chapter),
        timing=dict(record.get("timing") or {}),
        error=str(record.get("error", "")),
    )
