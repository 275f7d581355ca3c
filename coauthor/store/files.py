"""The project file on disk: read-only media, a log SQLite cannot read in place, a hot
journal, the files beside it, and the sentence for a failed write."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path


def _warn(message: str, *args: object) -> None:
    """Log a warning; ``logging`` loads on first use, not at every start."""
    import logging

    logging.getLogger("coauthor.store.projectfile").warning(message, *args)


def _is_read_only(path: Path) -> bool:
    mode = path.stat().st_mode
    return not (mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) or not os.access(path, os.W_OK)


def _wal_unreadable_here(path: Path) -> bool:
    """Whether ``path`` has a write-ahead log that SQLite cannot read in place: its folder
    cannot be written (read-only media), so the ``-shm`` index it needs cannot be made."""
    wal = path.with_name(path.name + "-wal")
    shm = path.with_name(path.name + "-shm")
    return (
        wal.exists()
        and wal.stat().st_size > 0
        and not shm.exists()
        and not os.access(path.parent, os.W_OK)
    )


def _roll_back_hot_journal(path: Path) -> None:
    """Undo a write interrupted in rollback-journal mode, which a read-only reader cannot do.

    A process killed while leaving WAL mode at close leaves a hot ``-journal``; SQLite restores
    the last committed state from it on the next read by a connection that may write.
    """
    journal = path.with_name(path.name + "-journal")
    if not journal.exists() or not journal.stat().st_size or _is_read_only(path):
        return
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA user_version").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        _warn("Could not recover %s from its journal: %s", path, exc)


def _remove_sidecars(path: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.exists():
            sidecar.unlink()


def _write_error_sentence(path: Path, exc: BaseException) -> str:
    text = str(exc).lower()
    kept = "your work is kept until it can be written"
    if "full" in text or getattr(exc, "errno", None) == 28:
        return f"Could not save to {path}: the disk is full; {kept}."
    if "readonly" in text or "read-only" in text or "permission" in text:
        return f"Could not save to {path}: the file is read-only; {kept}."
    return f"Could not save to {path} ({exc}); {kept}."
