"""The history as the writing statistics read it: only the columns they need, straight from
SQLite (building an ``EditEvent`` per row would take most of the time of a long history)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from coauthor.core.daily import Row, Tally, read_tally_record, tally_record
from coauthor.core.history import EditEvent
from coauthor.store.errors import ProjectFileError

__all__ = [
    "STATISTICS_KEY",
    "KeptSummary",
    "activity_batches",
    "event_hash_at",
    "last_seq",
    "read_connection",
    "stored_tally",
]

_BATCH = 20_000
STATISTICS_KEY = "statistics"
"""The ``meta`` row holding the summary the project file keeps (``ProjectFile.flush``)."""
_MAX_STORED = 32 * 1024 * 1024
"""A stored summary longer than this is not read (years of writing take well under 1 MB)."""
_CATCH_UP_LIMIT = 50_000
"""On open, a stored summary further behind than this many events is left to the Statistics
job (an older Coauthor wrote the events after it): the open stays quick."""


def read_connection(path: Path) -> sqlite3.Connection:
    """A read-only connection of its own to a project file (for a thread other than the one
    that has the project open: SQLite's WAL lets it read while the app writes)."""
    try:
        return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise ProjectFileError(f"{path} cannot be read ({exc}).") from exc


def activity_batches(
    conn: sqlite3.Connection, after: int = 0, upto: int | None = None
) -> Iterator[list[Row]]:
    """The text events after event ``after`` (up to event ``upto``, if given), oldest first,
    as ``core.daily.Row`` s, a few thousand at a time."""
    try:
        cursor = conn.execute(
            "SELECT seq, chapter, kind, pos, time, origin, inserted, length(deleted) "
            "FROM events WHERE seq > ? AND seq <= ? AND kind != 'm' ORDER BY seq",
            (after, (1 << 63) - 1 if upto is None else upto),
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


def stored_tally(conn: sqlite3.Connection) -> Tally | None:
    """The summary the project file keeps, if there is one this version reads and the event it
    ends with still has the chain hash it was stored with (else None: it is recomputed).

    The check says the history was not rewritten up to that event; whether the figures are
    the history's is what ``verify`` checks, as it does for the chapter snapshots.
    """
    try:
        row = conn.execute(
            "SELECT CASE WHEN length(value) <= ? THEN value END FROM meta WHERE key = ?",
            (_MAX_STORED, STATISTICS_KEY),
        ).fetchone()
        if row is None or not isinstance(row[0], str):
            return None
        record = read_tally_record(row[0])
        if record is None:
            return None
        tally, digest = record
        return tally if tally.seq and event_hash_at(conn, tally.seq) == digest else None
    except (sqlite3.DatabaseError, ProjectFileError):
        return None


def caught_up(conn: sqlite3.Connection, tally: Tally, last: int) -> Tally:
    """A copy of ``tally`` fed the stored events after it, up to event ``last``."""
    fed = tally.copy()
    for batch in activity_batches(conn, fed.seq, last):
        fed.feed(batch)
    fed.seq = max(fed.seq, last)  # the events after the last text event are facts: not counted
    return fed


class KeptSummary:
    """The summary a project file open for writing keeps up to date (``ProjectFile.flush``):
    fed the events as they are written, and stored in the file's ``meta`` table with them
    when ``every_events`` events or ``every_ms`` have passed since it was last stored, and at
    close. ``tally`` None: not known yet (a file written before Coauthor kept one, until the
    Statistics job hands one over with ``adopt``)."""

    def __init__(self, tally: Tally | None, stored: int, now: float) -> None:
        self.tally = tally
        self.stored = stored
        """The event the stored summary ends with."""
        self.stored_at = now

    @classmethod
    def load(cls, conn: sqlite3.Connection, last: int, now: float) -> KeptSummary:
        """The summary the file stores, brought up to event ``last`` (its newest)."""
        if last == 0:
            return cls(Tally(), 0, now)
        stored = stored_tally(conn)
        if stored is None or last - stored.seq > _CATCH_UP_LIMIT:
            return cls(None, 0, now)
        try:
            return cls(caught_up(conn, stored, last), stored.seq, now)
        except ProjectFileError:
            return cls(None, 0, now)

    def adopt(self, conn: sqlite3.Connection, tally: Tally) -> bool:
        """Take a summary computed elsewhere (from this file) when none is known; True if
        taken. It is brought up to the newest event stored."""
        if self.tally is not None:
            return False
        last = last_seq(conn)
        if tally.seq > last:
            return False
        self.tally = caught_up(conn, tally, last)
        return True

    def after(self, events: Sequence[EditEvent]) -> Tally | None:
        """The summary once ``events`` (the next ones, in order) are written: a copy, so that
        this one stays as it is if writing them fails. None when not known."""
        tally = self.tally
        if tally is None or not events:
            return tally
        if events[0].seq != tally.seq + 1:
            return None  # they do not follow on: unknown from now on (the job gives it again)
        fed = tally.copy()
        fed.feed_events(events)
        return fed

    def record(
        self,
        fed: Tally | None,
        last: tuple[int, bytes],
        *,
        now: float,
        every_events: int,
        every_ms: int,
        close: bool = False,
    ) -> str | None:
        """The ``meta`` value to store with the events just written (``last``: the newest
        event and its chain hash), or None when it is not yet time to."""
        seq, digest = last
        if fed is None or fed.seq != seq or seq <= self.stored:
            return None
        if close or seq - self.stored >= every_events or (now - self.stored_at) * 1000 >= every_ms:
            return tally_record(fed, digest)
        return None

    def written(self, fed: Tally | None, stored: bool, now: float) -> None:
        """The events (and the summary, if ``stored``) are in the file."""
        self.tally = fed
        if stored and fed is not None:
            self.stored = fed.seq
            self.stored_at = now
