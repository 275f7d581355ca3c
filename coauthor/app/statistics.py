"""Writing statistics by day, written once for both front ends: the Statistics view and
``coauthor stats --by-day``.

Reading a long history takes seconds (500,000 events: SQLite hands Python one row at a time),
so the summary (``core.daily.Tally``) is never computed from the start twice:

- the project file keeps one, brought up to date as events are written (``ProjectFile.flush``,
  like the chapter snapshots) and checked against the whole history by ``verify``;
- a cache file outside the project, keyed by the project's path, keeps the last one computed
  on this machine (for files written before the project kept one, or opened read-only).

Each is used only if the event it ends with still has the chain hash it was kept with, which
holds only if no earlier event changed; then only the newer events are read. Both are
conveniences: when they are missing, stale or cannot be written, the figures are the same,
only slower.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from pathlib import Path

from coauthor.core.daily import DayFigures, Tally, daily_csv, read_tally_record, tally_record
from coauthor.store.activity import activity_batches, event_hash_at, stored_tally

logger = logging.getLogger(__name__)

__all__ = ["Cancelled", "cache_file", "default_cache_dir", "summarise", "write_csv"]


class Cancelled(Exception):
    """The summary was asked to stop."""


def default_cache_dir() -> Path:
    """``$COAUTHOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/coauthor`` (``~/.cache/coauthor``)."""
    explicit = os.environ.get("COAUTHOR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "coauthor"


def cache_file(cache_dir: Path, project_path: Path) -> Path:
    """Where the summary of the project at ``project_path`` is cached."""
    key = hashlib.sha256(str(Path(project_path).resolve()).encode("utf-8", "surrogatepass"))
    return cache_dir / "statistics" / f"{key.hexdigest()[:32]}.json"


def summarise(
    conn: sqlite3.Connection,
    project_path: Path,
    cache_dir: Path | None,
    cancel: threading.Event | None = None,
    *,
    kept: bool = True,
) -> Tally:
    """The summary of the project's whole history (``conn``: a connection to its file).

    Starts from the later of the summary the project file keeps (unless ``kept`` is False)
    and the one cached for it (``cache_dir``; None: no cache), each used only if the chain
    still ends the same way, and reads the events after it. Raises ``ProjectFileError`` when
    the history cannot be read, ``Cancelled`` when ``cancel`` is set.
    """
    path = cache_file(cache_dir, project_path) if cache_dir is not None else None
    cached = _cached(conn, path) if path is not None else None
    tally = max(
        (t for t in (stored_tally(conn) if kept else None, cached) if t is not None),
        key=lambda t: t.seq,
        default=None,
    )
    if tally is None:
        tally = Tally()
    for batch in activity_batches(conn, tally.seq):
        if cancel is not None and cancel.is_set():
            raise Cancelled
        tally.feed(batch)
    if path is not None and (cached is None or tally.seq != cached.seq):
        _store(conn, path, tally)
    return tally


def _cached(conn: sqlite3.Connection, path: Path) -> Tally | None:
    try:
        record = read_tally_record(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.info("Statistics cache %s not used: %s", path, exc)
        return None
    if record is None:
        logger.info("Statistics cache %s not used: damaged or of another version", path)
        return None
    tally, digest = record
    if not tally.seq or event_hash_at(conn, tally.seq) != digest:
        return None  # another history, or this one rewritten: start again
    return tally


def _store(conn: sqlite3.Connection, path: Path, tally: Tally) -> None:
    digest = event_hash_at(conn, tally.seq)
    if digest is None:
        return
    temp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(tally_record(tally, digest), encoding="utf-8")
        os.replace(temp, path)
    except OSError as exc:
        logger.warning("Statistics cache %s not written: %s", path, exc)


def write_csv(target: Path, days: list[DayFigures]) -> Path:
    """The days as a CSV file, written whole or not at all."""
    from coauthor.publish.document import atomic_write  # the publishing layer, only for this

    text = daily_csv(days)

    def write(temp: Path) -> None:
        temp.write_text(text, encoding="utf-8", newline="")

    return atomic_write(Path(target), write)
