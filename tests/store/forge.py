"""What a forger with a SQLite tool and this source code can do to a project file: change
events and recompute every hash after them, so the chain itself still checks out. The tests
show that what the events then claim is caught all the same."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from coauthor.core.history import GENESIS, EditEvent, event_hash

_COLUMNS = "seq, chapter, kind, pos, deleted, inserted, origin, ref, runs, payload, time, hash"


def rewrite_chain(path: Path, change: Callable[[EditEvent], None]) -> None:
    """Apply ``change`` to every event in order and store each with a recomputed hash."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM events ORDER BY seq").fetchall()
        prev = GENESIS
        for row in rows:
            event = EditEvent.from_row(row)
            change(event)
            event.hash = prev = event_hash(prev, event)
            stored = event.to_row()
            conn.execute(
                "UPDATE events SET chapter = ?, kind = ?, pos = ?, deleted = ?, inserted = ?, "
                "origin = ?, ref = ?, runs = ?, payload = ?, time = ?, hash = ? WHERE seq = ?",
                (*stored[1:], event.seq),
            )
        conn.commit()
    finally:
        conn.close()
