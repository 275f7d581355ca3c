"""The history as the writing statistics read it: only the columns they need, straight from
SQLite (building an ``EditEvent`` per row would take most of the time of a long history)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from coauthor.core.daily import Row
from coauthor.store.errors import ProjectFileError

__all__ = ["activity_batches", "event_hash_at", "last_seq", "read_connection"]

_BATCH = 20_000


def read_connection(path: Path) -> sqlite3.Connection:
    """A read-only connection of its own to a project file (for a thread other than the one
    that has the project open: SQLite's WAL lets it read while the app writes)."""
    try:
        return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise ProjectFileError(f"{path} cannot be read ({exc}).") from exc


def activity_batches(conn: sqlite3.Connection, after: int = 0) -> Iterator[list[Row]]:
    """The text events after event ``after``, oldest first, as ``core.daily.Row`` s, a few
    thousand at a time."""
    try:
        cursor = conn.execute(
            "SELECT seq, chapter, kind, pos, time, origin, inserted, length(deleted) "
            "FROM events WHERE seq > ? AND kind != 'm' ORDER BY seq",
            (after,),
        )
        while batch := cursor.fetchmany(_BATCH):
            yield batch
    except sqlite3.DatabaseError as exc:
        raise ProjectFileError(f"The project's history cannot be read ({exc}).") from exc


def event_hash_at(conn: sqlite3.Connection, seq: int) -> bytes | None:
    """The chain hash of event ``seq`` (None if there is no such event)."""
    try:
        row = conn.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
    except sqlite3.DatabaseError as exc:
        raise ProjectFileError(f"The project's history cannot be read ({exc}).") from exc
    return bytes(row[0]) if row is not None else None


def last_seq(conn: sqlite3.Connection) -> int:
    """The number of the newest stored event (0 for an empty history)."""
    try:
        row = conn.execute("SELECT max(seq) FROM events").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ProjectFileError(f"The project's history cannot be read ({exc}).") from exc
    return int(row[0] or 0)
