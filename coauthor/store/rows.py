"""How events, generations and process counts are stored in the project file's rows."""

from __future__ import annotations

import json

from coauthor.core.generation import Generation, Outcome, ReviewState
from coauthor.core.history import EditEvent
from coauthor.core.origin import Origin

__all__ = ["row_to_event"]

_EVENT_COLUMNS = (
    "seq, chapter, kind, pos, deleted, inserted, origin, ref, runs, payload, time, hash"
)


def row_to_event(row: tuple) -> EditEvent:
    return EditEvent.from_row(row)


def _event_row(event: EditEvent) -> tuple:
    return event.to_row()


_GENERATION_COLUMNS = (
    "id", "chapter", "provider", "model", "parameters", "messages", "output", "outcome",
    "created", "finished", "review_state", "reviewer", "reviewed_at", "note", "inserted_at",
    "timing", "error",
)  # fmt: skip


def _generation_row(g: Generation) -> tuple:
    """The row of the generations table (its JSON with sorted keys, as in the chain's events:
    ``verify`` compares a row with the one the chain's generation gives, text for text)."""
    return (
        g.id, g.chapter_id, g.provider, g.model, json.dumps(g.parameters, sort_keys=True),
        json.dumps(g.messages, ensure_ascii=False, sort_keys=True), g.output, str(g.outcome),
        g.created, g.finished, str(g.review_state), g.reviewer, g.reviewed_at, g.note,
        g.inserted_at, json.dumps(g.timing, sort_keys=True), g.error,
    )  # fmt: skip


def _generation_from_row(row: tuple) -> Generation:
    (gid, chapter_id, provider, model, params, messages, output, outcome, created, finished,
     state, reviewer, reviewed_at, note, inserted_at, timing, error) = row  # fmt: skip
    return Generation(
        gid, provider, model, json.loads(params or "{}"), json.loads(messages or "[]"),
        output or "", Outcome(outcome), created or 0, finished, chapter_id, ReviewState(state),
        reviewer or "", reviewed_at, note or "", inserted_at, json.loads(timing or "{}"),
        error or "",
    )  # fmt: skip


def _process_to_json(process: dict[Origin, int]) -> str:
    return json.dumps({origin.value: n for origin, n in process.items()})


def _process_from_json(data: str | None) -> dict[Origin, int]:
    """The stored process counts; ``ValueError`` if they are not the expected JSON object."""
    counts = dict.fromkeys(Origin, 0)
    stored = json.loads(data or "{}")
    if not isinstance(stored, dict):
        raise ValueError("the process counts are not a JSON object")
    for key, value in stored.items():
        counts[Origin(key)] = int(value)
    return counts
