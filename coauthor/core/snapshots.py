"""Named snapshots: a name for the state of a chapter or of the book at one event of the chain.

A snapshot is a fact event (``op: snapshot``) naming the chapters it covers and the event
``as_of`` whose state it keeps; its text is that state, rebuilt by replaying the chapter's
events up to ``as_of``. Nothing is copied, so a snapshot cannot be rewritten without breaking
the chain. (These are not the store's chapter snapshots, a cache that speeds up loading.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from coauthor.core.history import EditEvent, apply_event
from coauthor.core.provenance import Fragment, ProvenanceText

__all__ = [
    "NamedSnapshot",
    "SnapshotKind",
    "SnapshotNotFound",
    "daily_name",
    "find_snapshot",
    "local_day",
    "replay_text",
]


class SnapshotKind(StrEnum):
    """Who took a snapshot: the author, the once-a-day guard, or a bulk operation's guard."""

    MANUAL = "manual"
    DAILY = "daily"
    BULK = "bulk"


@dataclass(frozen=True)
class NamedSnapshot:
    """A snapshot as the chain records it: event ``seq`` names the state after ``as_of``."""

    seq: int
    time: int
    name: str
    chapters: tuple[int, ...]
    as_of: int
    kind: SnapshotKind
    whole_book: bool

    @property
    def scope(self) -> str:
        return "book" if self.whole_book else "chapter"


class SnapshotNotFound(LookupError):
    """No snapshot has the name or number asked for (the message says which exist)."""


def find_snapshot(snapshots: Sequence[NamedSnapshot], key: str) -> NamedSnapshot:
    """A snapshot by its name (the latest of that name) or its number in the list (from 1)."""
    text = key.strip()
    for snapshot in reversed(snapshots):
        if snapshot.name == text:
            return snapshot
    if text.isdigit() and 1 <= int(text) <= len(snapshots):
        return snapshots[int(text) - 1]
    count = len(snapshots)
    raise SnapshotNotFound(
        f"no snapshot is named or numbered {text!r} (the book has {count} snapshot"
        f"{'' if count == 1 else 's'}; `coauthor snapshots` lists them)"
    )


def replay_text(events: Iterable[EditEvent]) -> Fragment:
    """The text and runs a chapter's events build (its events only, in order)."""
    text = ProvenanceText()
    for event in events:
        apply_event(text, event)
    return text.slice(0, len(text))


def local_day(time_ms: int) -> dt.date:
    """The calendar day, in local time, of a time in milliseconds since the epoch."""
    return dt.datetime.fromtimestamp(time_ms / 1000).date()


def daily_name(day: dt.date) -> str:
    return f"Start of {day.isoformat()}"
