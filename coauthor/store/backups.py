"""Backups of a project file: a consistent copy through SQLite's online backup API, and the
rolling backups beside the project (``NAME.coauthor.backups/``), before every import into an
existing project and in the app every ten minutes.

Bounded: at most ``_BACKUPS_KEPT`` backups and ``_BACKUPS_MAX_BYTES`` in all (the newest is
always kept). A backup that does not fit (checked against the free space first) or fails raises
``ProjectFileError`` with a sentence and leaves no partial copy.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from coauthor.store.errors import ProjectFileError
from coauthor.store.files import _write_error_sentence

__all__ = ["backup_dir", "backup_rolling", "backup_to"]

_BACKUPS_KEPT = 5
_BACKUPS_MAX_BYTES = 2 * 1024**3
"""Backups beside a project: at most five, and at most 2 GiB together (the newest is kept)."""
_BACKUP_SPARE_BYTES = 16 * 1024**2


def backup_to(conn: sqlite3.Connection, path: Path, target: Path) -> Path:
    """A consistent copy through SQLite's online backup API, written atomically.

    Refused before anything is written when the disk lacks room for it; on any failure the
    partial copy is removed and ``ProjectFileError`` says why.
    """
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    size = path.stat().st_size
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        size += wal.stat().st_size
    import shutil  # loads lzma and bz2: only when backing up

    free = shutil.disk_usage(target.parent).free
    if free < size + _BACKUP_SPARE_BYTES:
        raise ProjectFileError(
            f"Could not back up {path.name}: the disk has {free / 1e6:,.0f} MB free and "
            f"the backup needs {size / 1e6:,.0f} MB; nothing was changed (free some space "
            "and try again)."
        )
    try:
        dest = sqlite3.connect(partial)
        try:
            conn.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        partial.replace(target)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        reason = _write_error_sentence(target, exc).split(": ", 1)[-1].split(";")[0]
        raise ProjectFileError(
            f"Could not back up {path.name} to {target.parent}: {reason}; nothing was changed."
        ) from exc
    return target


def backup_dir(path: Path) -> Path:
    return path.with_name(path.name + ".backups")


def backup_rolling(conn: sqlite3.Connection, path: Path, reason: str = "auto") -> Path:
    """Add a timestamped backup beside the project and keep the newest few.

    Bounded: at most ``_BACKUPS_KEPT`` backups and ``_BACKUPS_MAX_BYTES`` in all (the newest
    is always kept); stale partial copies of a killed backup are removed.
    """
    folder = backup_dir(path)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise ProjectFileError(
            f"Could not make the backup folder {folder}: {exc.strerror or exc}; nothing was "
            "changed."
        ) from exc
    for stale in folder.glob("*.coauthor.part"):
        stale.unlink(missing_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = folder / f"{path.stem}-{stamp}-{reason}.coauthor"
    counter = 1
    while target.exists():
        counter += 1
        target = folder / f"{path.stem}-{stamp}-{reason}-{counter}.coauthor"
    backup_to(conn, path, target)
    others = sorted(
        (p for p in folder.glob("*.coauthor") if p != target),
        key=lambda p: (p.stat().st_mtime_ns, p.name),
        reverse=True,
    )
    total = 0
    for index, old in enumerate([target, *others]):
        total += old.stat().st_size
        if index and (index >= _BACKUPS_KEPT or total > _BACKUPS_MAX_BYTES):
            old.unlink(missing_ok=True)
    return target
