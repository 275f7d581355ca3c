"""The ``.coauthor`` project file: open, check, load, write changes, back up, close.

A project file is a SQLite database opened through ``sqlite-utils``. While open it runs in WAL
mode and every ``flush`` is one small transaction, so a killed process loses at most the work
since the last flush and never leaves a file that fails to open. Chapters keep a snapshot of
their text and runs; events after the snapshot are replayed on open. The writing statistics'
summary is kept alike (``store.activity.KeptSummary``). ``verify`` checks both against the
whole history.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from coauthor.core.book import BookMeta, ImportRecord
from coauthor.core.chain import ChainReplayer
from coauthor.core.generation import Generation
from coauthor.core.history import (
    GENESIS,
    EditEvent,
    History,
    ReplayError,
    apply_event,
    runs_from_json,
    runs_to_json,
)
from coauthor.core.project import Project
from coauthor.core.provenance import ProvenanceText
from coauthor.store import backups
from coauthor.store.activity import STATISTICS_KEY, KeptSummary
from coauthor.store.errors import LogLeftBeside, ProjectFileError
from coauthor.store.files import (
    _is_read_only,
    _remove_sidecars,
    _roll_back_hot_journal,
    _wal_unreadable_here,
    _write_error_sentence,
)
from coauthor.store.lock import ProjectLock
from coauthor.store.rows import (
    _EVENT_COLUMNS,
    _GENERATION_COLUMNS,
    _event_row,
    _generation_from_row,
    _generation_row,
    _process_from_json,
    _process_to_json,
    row_to_event,
)
from coauthor.store.schema import APPLICATION_ID, SCHEMA_VERSION, foreign_objects, migrate

if TYPE_CHECKING:
    import sqlite_utils

    from coauthor.core.daily import Tally


def _warn(message: str, *args: object) -> None:
    """Log a warning; ``logging`` loads on first use (``coauthor stats`` never needs it)."""
    import logging

    logging.getLogger(__name__).warning(message, *args)


__all__ = ["ProjectFile", "row_to_event"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_SNAPSHOT_EVERY_EVENTS = 2000
_SNAPSHOT_EVERY_MS = 10_000
_CLOSE_ATTEMPTS = 3
_CLOSE_WAIT_MS = 2000
"""How long closing waits for another program reading the project, per attempt."""


def check_file(path: Path) -> None:
    """Raise ``ProjectFileError`` if ``path`` is not a project this version can open.

    Reads only the file's header, so nothing is changed whatever the file holds.
    """
    if not path.exists():
        raise ProjectFileError(f"{path} does not exist.")
    if path.is_dir():
        raise ProjectFileError(f"{path} is a folder, not a Coauthor project file.")
    size = path.stat().st_size
    if size == 0:
        raise ProjectFileError(f"{path} is empty, so it is not a Coauthor project.")
    with path.open("rb") as handle:
        header = handle.read(100)
    if not header.startswith(_SQLITE_MAGIC):
        raise ProjectFileError(f"{path} is not a Coauthor project (it is not a SQLite database).")
    if len(header) < 100:
        raise ProjectFileError(f"{path} is damaged: the file is truncated.")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(header[28:32], "big")
    counter_valid = header[24:28] == header[92:96]
    # With a write-ahead log beside it, the header may already describe pages that are still
    # only in the log (a checkpoint interrupted, or in progress): SQLite reads them from there.
    wal = path.with_name(path.name + "-wal")
    in_wal = wal.exists() and wal.stat().st_size > 0
    if counter_valid and page_count and not in_wal and size < page_size * page_count:
        raise ProjectFileError(
            f"{path} is damaged: it is truncated ({size:,} of {page_size * page_count:,} bytes); "
            "restore it from a backup."
        )


class ProjectFile:
    """An open project file. Use ``create`` or ``open``; always ``close``."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, readonly: bool) -> None:
        self.path = path
        self.conn = conn
        self.readonly = readonly
        self._snapshot_seq: dict[int, int] = {}
        # Chapters whose stored snapshot is older than their last text event.
        self._stale: set[int] = set()
        self._snapshot_time: dict[int, float] = {}
        self._chapter_rows: dict[int, tuple[int, str, int]] = {}
        self._lock: ProjectLock | None = None
        # The file read: ``path`` itself, or a private copy of a project whose write-ahead log
        # could not be read where it is (read-only media); removed on close.
        self.data_path = path
        self._private_copy: Path | None = None
        # The writing statistics' summary, kept up to date as events are written (not read
        # only): ``store.activity.KeptSummary``.
        self._summary: KeptSummary | None = None

    @functools.cached_property
    def db(self) -> sqlite_utils.Database:
        """The file through ``sqlite-utils``, for code that reads its tables (research, SQL).
        Made on first use: opening a project does not load the library."""
        from sqlite_utils import Database

        return Database(self.conn)

    # -- opening ----------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path | str, meta: BookMeta, *, overwrite: bool = False) -> ProjectFile:
        path = Path(path)
        if path.exists() and not overwrite:
            raise ProjectFileError(f"{path} already exists; choose another name.")
        lock = ProjectLock(path)
        lock.acquire()
        if path.exists():
            path.unlink()
        _remove_sidecars(path)
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            lock.release()
            raise ProjectFileError(f"Cannot create {path}: {exc}.") from exc
        try:
            # Identity first, in rollback-journal mode, so the header always says what it is.
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("BEGIN")
            migrate(conn, 0)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)", ("book", json.dumps(meta.to_dict()))
            )
            conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            conn.close()
            lock.release()
            raise ProjectFileError(f"Cannot create {path}: {exc}.") from exc
        project_file = cls(path, conn, readonly=False)
        project_file._lock = lock
        project_file._configure()
        project_file._summary = KeptSummary.load(conn, 0, time.monotonic())
        return project_file

    @classmethod
    def open(cls, path: Path | str, *, readonly: bool = False) -> ProjectFile:
        """Open for writing (taking the project's lock) or read-only (never writing)."""
        path = Path(path)
        check_file(path)
        if readonly:
            _roll_back_hot_journal(path)
            try:
                return cls._open(path, readonly=True, lock=None)
            except ProjectFileError:
                if not _wal_unreadable_here(path):
                    raise
                return cls._open_private_copy(path)
        if _is_read_only(path):
            raise ProjectFileError(
                f"{path} is read-only; Coauthor needs to write to it (make it writable or "
                "open a copy)."
            )
        lock = ProjectLock(path)
        lock.acquire()
        try:
            return cls._open(path, readonly=False, lock=lock)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def _open(cls, path: Path, *, readonly: bool, lock: ProjectLock | None) -> ProjectFile:
        try:
            if readonly:
                conn = sqlite3.connect(
                    path.absolute().as_uri() + "?mode=ro",
                    uri=True,
                    isolation_level=None,
                    check_same_thread=False,
                )
            else:
                conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise ProjectFileError(f"{path} is damaged and cannot be read ({exc}).") from exc
        if app_id != APPLICATION_ID:
            conn.close()
            raise ProjectFileError(f"{path} is a SQLite database but not a Coauthor project.")
        if version > SCHEMA_VERSION:
            conn.close()
            raise ProjectFileError(
                f"{path} was saved by a newer version of Coauthor (format {version}; this "
                f"version reads up to {SCHEMA_VERSION}); update Coauthor to open it."
            )
        try:
            foreign = foreign_objects(conn, version)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ProjectFileError(f"{path} is damaged and cannot be read ({exc}).") from exc
        if foreign:
            conn.close()
            more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
            raise ProjectFileError(
                f"{path} holds {foreign[0]}{more} that Coauthor did not create, so it was not "
                "opened; nothing in it was changed."
            )
        project_file = cls(path, conn, readonly=readonly)
        project_file._lock = lock
        try:
            if not readonly:
                project_file._configure()
            if version < SCHEMA_VERSION:
                if readonly:
                    conn.close()
                    raise ProjectFileError(
                        f"{path} uses an older format ({version}); open it for writing once "
                        "to upgrade it."
                    )
                project_file.backup_rolling(reason=f"before-upgrade-from-{version}")
                conn.execute("BEGIN IMMEDIATE")
                migrate(project_file.conn, version)
                conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ProjectFileError(f"{path} is damaged and cannot be opened ({exc}).") from exc
        return project_file

    @classmethod
    def _open_private_copy(cls, path: Path) -> ProjectFile:
        """Read a project whose changes are still in its ``-wal`` on media Coauthor cannot
        write (SQLite must create a ``-shm`` file beside it to read the log): the file and its
        log are copied to a private folder, the log folded in there, and the copy read."""
        import shutil  # with tempfile: only for this rare case (not at every start)
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="coauthor-readonly-"))
        copy = folder / path.name
        try:
            shutil.copyfile(path, copy)
            shutil.copyfile(path.with_name(path.name + "-wal"), folder / (path.name + "-wal"))
            conn = sqlite3.connect(copy, isolation_level=None)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.execute("PRAGMA journal_mode = DELETE")
            finally:
                conn.close()
            project_file = cls._open(copy, readonly=True, lock=None)
        except (OSError, sqlite3.Error, ProjectFileError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise ProjectFileError(
                f"{path} is on media Coauthor cannot write and its latest changes are in "
                f"{path.name}-wal, which could not be read ({exc})."
            ) from exc
        project_file.path = path
        project_file.data_path = copy
        project_file._private_copy = folder
        return project_file

    def _configure(self) -> None:
        try:
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise ProjectFileError(f"{self.path} cannot be opened for writing ({exc}).") from exc

    # -- loading ----------------------------------------------------------------------------

    def load(self) -> Project:
        """Read the whole project into memory, as the hash chain says it is.

        Every fact comes from the chain's events: the book's details, chapters, generations,
        reviews, imports, overrides and keys. Chapter text starts from the stored snapshot and
        replays the chapter's events after it; ``verify`` (and every export) replays the whole
        history instead and checks the snapshots against it.
        """
        try:
            return self._load()
        except (sqlite3.DatabaseError, ValueError, KeyError, TypeError, ReplayError) as exc:
            raise ProjectFileError(f"{self.path} is damaged and cannot be loaded ({exc}).") from exc

    def _load(self) -> Project:
        conn = self.conn
        replayer = ChainReplayer()
        for row in conn.execute(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE kind = 'm' ORDER BY seq"
        ).fetchall():
            replayer.feed(row_to_event(row), text=False)
        project = replayer.finish()
        last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        project.history = History(last[0], bytes(last[1])) if last else History(0, GENESIS)
        snapshots = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT id, text, runs, process, snapshot_seq, position, title, removed "
                "FROM chapters"
            ).fetchall()
        }
        # Each chapter replays only its own events after its snapshot, found through the
        # (chapter, seq) index: a chapter untouched for a long time (or never since its import)
        # must not make the open read every later event of every other chapter. A chapter the
        # chain holds but the table does not is replayed from its start.
        replay = (
            f"SELECT {_EVENT_COLUMNS} FROM events "
            "WHERE chapter = ? AND seq > ? AND kind != 'm' ORDER BY seq"
        )
        for chapter in [*project.chapters, *project.removed_chapters]:
            cid = chapter.id
            snap = 0
            if cid in snapshots:
                text, runs, process, snap, position, title, removed = snapshots[cid]
                chapter.text = ProvenanceText.from_runs(text or "", runs_from_json(runs or "[]"))
                chapter.process = _process_from_json(process)
                snap = snap or 0
                self._snapshot_seq[cid] = snap
                self._snapshot_time[cid] = time.monotonic()
                self._chapter_rows[cid] = (position, title, removed)
            for row in conn.execute(replay, (cid, snap)):
                apply_event(chapter.text, row_to_event(row), chapter.process)
                self._stale.add(cid)
        project.dirty_chapters.update(
            c.id for c in [*project.chapters, *project.removed_chapters] if c.id not in snapshots
        )
        # When each generation's text first entered the book: its first AI edit event.
        for ref, first in conn.execute(
            "SELECT ref, MIN(time) FROM events WHERE kind = 'e' AND origin = 'a' GROUP BY ref"
        ):
            generation = project.generations.get(ref)
            if generation is not None:
                generation.inserted_at = first
        if replayer.partial_generations:
            self._fill_partial(project, replayer.partial_generations)
        project._id_counter = len(project.generations)
        if not self.readonly:
            self._summary = KeptSummary.load(conn, project.history.last_seq, time.monotonic())
        return project

    def _fill_partial(self, project: Project, partial: set[str]) -> None:
        """Descriptive fields an older Coauthor kept only in its tables (never review state)."""
        for record in self.conn.execute(
            f"SELECT {', '.join(_GENERATION_COLUMNS)} FROM generations"
        ):
            cached = _generation_from_row(record)
            generation = project.generations.get(cached.id)
            if generation is not None and cached.id in partial:
                for name in ("provider", "parameters", "messages", "output", "created",
                             "finished", "timing", "error"):  # fmt: skip
                    setattr(generation, name, getattr(cached, name))
        for iid, source, kind, own, encoding, digest, when, details in self.conn.execute(
            "SELECT id, source, kind, own_writing, encoding, sha256, time, details FROM imports"
        ):
            if f"import:{iid}" in partial and iid in project.imports:
                project.imports[iid] = ImportRecord(
                    iid, source, kind, bool(own), encoding, digest or "", when or 0,
                    json.loads(details or "{}"),
                )  # fmt: skip

    # -- writing ----------------------------------------------------------------------------

    def flush(self, project: Project, *, snapshot: bool = False) -> int:
        """Write what changed in one transaction; return the number of events written.

        On failure (disk full, file made read-only) nothing is lost: the events go back to
        the project's pending list and the error says what happened.
        """
        if self.readonly:
            raise ProjectFileError(f"{self.path} is open read-only.")
        history = project.history
        if not (
            history.pending
            or project.dirty_chapters
            or project.dirty_generations
            or project.dirty_imports
            or project.dirty_overrides
            or project.dirty_meta
            or snapshot
        ):
            return 0
        prev_hash = history.last_hash
        events = history.seal()
        conn = self.conn
        now = time.monotonic()
        snapshots: list[tuple[int, int]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            if events:
                conn.executemany(
                    f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (_event_row(e) for e in events),  # not a list: one row at a time
                )
                reviews = [
                    (e.seq, m["generation"], m["state"], m["reviewer"], e.time)
                    for e in events
                    if e.payload and (m := json.loads(e.payload)).get("op") == "review"
                ]
                if reviews:
                    conn.executemany(
                        "INSERT INTO reviews (seq, generation, state, reviewer, time) "
                        "VALUES (?,?,?,?,?)",
                        reviews,
                    )
            tail: dict[int, int] = {}
            for event in events:
                if event.kind != "m":
                    tail[event.chapter] = tail.get(event.chapter, 0) + 1
            positions = {c.id: (i, 0) for i, c in enumerate(project.chapters)}
            positions.update({c.id: (i, 1) for i, c in enumerate(project.removed_chapters)})
            everything = {c.id: c for c in [*project.chapters, *project.removed_chapters]}
            candidates = project.dirty_chapters | set(tail) | (self._stale if snapshot else set())
            for cid in sorted(candidates):
                chapter = everything.get(cid)
                if chapter is None:
                    continue
                position, removed = positions[cid]
                row = (position, chapter.title, removed)
                if cid not in self._snapshot_seq:
                    conn.execute(
                        "INSERT INTO chapters (id, position, title, removed, text, runs, "
                        "process, snapshot_seq) VALUES (?,?,?,?,?,?,?,?)",
                        (
                            cid,
                            position,
                            chapter.title,
                            removed,
                            chapter.text.text,
                            runs_to_json(chapter.text.runs()),
                            _process_to_json(chapter.process),
                            history.last_seq,
                        ),
                    )
                    snapshots.append((cid, history.last_seq))
                    self._chapter_rows[cid] = row
                    continue
                if self._chapter_rows.get(cid) != row:
                    conn.execute(
                        "UPDATE chapters SET position = ?, title = ?, removed = ? WHERE id = ?",
                        (*row, cid),
                    )
                    self._chapter_rows[cid] = row
                due = (
                    snapshot
                    or history.last_seq - self._snapshot_seq[cid] >= _SNAPSHOT_EVERY_EVENTS
                    or (now - self._snapshot_time[cid]) * 1000 >= _SNAPSHOT_EVERY_MS
                )
                if (due and cid in tail) or (snapshot and (cid in tail or cid in self._stale)):
                    conn.execute(
                        "UPDATE chapters SET text = ?, runs = ?, process = ?, snapshot_seq = ? "
                        "WHERE id = ?",
                        (
                            chapter.text.text,
                            runs_to_json(chapter.text.runs()),
                            _process_to_json(chapter.process),
                            history.last_seq,
                            cid,
                        ),
                    )
                    snapshots.append((cid, history.last_seq))
            for gid in sorted(project.dirty_generations):
                self._write_generation(project.generations[gid])
            for iid in sorted(project.dirty_imports):
                self._write_import(project.imports[iid])
            for key in sorted(project.dirty_overrides):
                o = project.overrides[key]
                conn.execute(
                    "INSERT OR REPLACE INTO overrides (text_hash, categories, reason, reviewer, "
                    "time) VALUES (?,?,?,?,?)",
                    (o.text_hash, json.dumps(list(o.categories)), o.reason, o.reviewer, o.time),
                )
            if project.dirty_meta:
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('book', ?)",
                    (json.dumps(project.meta.to_dict()),),
                )
            tally, record = self._statistics(events, history, now, snapshot)
            if record is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    (STATISTICS_KEY, record),
                )
            conn.execute("COMMIT")
        except BaseException as exc:
            # Whatever went wrong (the disk, SQLite, text it cannot encode, memory, an
            # interrupt), the transaction is undone and every event goes back to the pending
            # list: nothing is lost and the next flush writes it all again.
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            except sqlite3.Error as rollback_error:  # the next BEGIN will tell
                _warn("Could not roll back %s: %s", self.path, rollback_error)
            history.unseal(events, prev_hash)
            if not isinstance(exc, Exception):
                raise
            raise ProjectFileError(_write_error_sentence(self.path, exc)) from exc
        if self._summary is not None:
            self._summary.written(tally, record is not None, now)
        self._stale.update(tail)
        for cid, seq in snapshots:
            self._snapshot_seq[cid] = seq
            self._snapshot_time[cid] = now
            self._stale.discard(cid)
        project.dirty_chapters.clear()
        project.dirty_generations.clear()
        project.dirty_imports.clear()
        project.dirty_overrides.clear()
        project.dirty_meta = False
        return len(events)

    def _statistics(
        self, events: list[EditEvent], history: History, now: float, close: bool
    ) -> tuple[Tally | None, str | None]:
        """The statistics' summary once ``events`` are written, and its record if it is time
        to store it. A fault here never stops a save: the summary is dropped instead (the
        Statistics job computes it again)."""
        summary = self._summary
        if summary is None:
            return None, None
        try:
            tally = summary.after(events)
            record = summary.record(
                tally,
                (history.last_seq, history.last_hash),
                now=now,
                every_events=_SNAPSHOT_EVERY_EVENTS,
                every_ms=_SNAPSHOT_EVERY_MS,
                close=close,
            )
        except Exception:
            import logging

            logging.getLogger(__name__).exception("The statistics summary was dropped")
            return None, None
        return tally, record

    def adopt_statistics(self, tally: Tally) -> bool:
        """Keep ``tally`` (the statistics' summary of this file's history, computed from it by
        the Statistics job) up to date from now on, when the file had none; True if kept."""
        summary = self._summary
        if summary is None or self.readonly:
            return False
        try:
            return summary.adopt(self.conn, tally)
        except ProjectFileError as exc:
            _warn("The statistics summary of %s is not kept: %s", self.path, exc)
            return False

    def _write_generation(self, g: Generation) -> None:
        columns = ", ".join(_GENERATION_COLUMNS)
        marks = ",".join("?" * len(_GENERATION_COLUMNS))
        self.conn.execute(
            f"INSERT OR REPLACE INTO generations ({columns}) VALUES ({marks})",
            _generation_row(g),
        )

    def _write_import(self, r: ImportRecord) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO imports (id, source, kind, own_writing, encoding, sha256, "
            "time, details) VALUES (?,?,?,?,?,?,?,?)",
            (
                r.id,
                r.source,
                r.kind,
                int(r.own_writing),
                r.encoding,
                r.sha256,
                r.time,
                json.dumps(r.details),
            ),
        )

    def close(self, project: Project | None = None) -> None:
        """Write everything (with fresh snapshots) and leave a single self-contained file.

        If the final write fails, ``ProjectFileError`` is raised and the file stays open, so
        the caller can retry or save elsewhere: nothing is dropped on the floor.
        """
        if project is not None and not self.readonly:
            self.flush(project, snapshot=True)
        problem = None
        try:
            if not self.readonly:
                problem = self._fold_in_log()
        finally:
            self.conn.close()
            if self._lock is not None:
                self._lock.release()
                self._lock = None
            if self._private_copy is not None:
                import shutil

                shutil.rmtree(self._private_copy, ignore_errors=True)
                self._private_copy = None
        if problem:
            raise LogLeftBeside(
                f"{self.path} is saved, but its latest changes are still in "
                f"{self.path.name}-wal beside it ({problem}); keep that file beside the project "
                "(copy both), or open the project again to fold them in."
            )

    def _fold_in_log(self) -> str | None:
        """Write the write-ahead log into the file and leave WAL mode, so the closed project is
        one self-contained file; None, or why it could not be done (after waiting for readers
        and retrying)."""
        conn = self.conn
        problem = None
        for attempt in range(_CLOSE_ATTEMPTS):
            if attempt:
                time.sleep(0.2 * attempt)
            try:
                conn.execute(f"PRAGMA busy_timeout = {_CLOSE_WAIT_MS}")
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if busy:
                    problem = "another program was reading the project"
                    continue
                mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
                if str(mode).lower() != "delete":
                    problem = "another program has the project open"
                    continue
                return None
            except sqlite3.Error as exc:
                problem = _write_error_sentence(self.path, exc).split(": ", 1)[-1].split(";")[0]
                _warn("Could not checkpoint %s: %s", self.path, exc)
        return problem

    # -- reading the history ----------------------------------------------------------------

    def events(
        self,
        chapter: int | None = None,
        upto: int | None = None,
        *,
        kind: str | None = None,
        after: int | None = None,
    ) -> Iterator[EditEvent]:
        """Stored events in order, optionally of one chapter, one kind, after and up to a
        sequence number."""
        where: list[str] = []
        args: list[object] = []
        if after is not None:
            where.append("seq > ?")
            args.append(after)
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        if chapter is not None:
            where.append("chapter = ?")
            args.append(chapter)
        if upto is not None:
            where.append("seq <= ?")
            args.append(upto)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        try:
            for row in self.conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events{clause} ORDER BY seq", args
            ):
                try:
                    event = row_to_event(row)
                except (ValueError, KeyError, TypeError) as exc:
                    raise ProjectFileError(
                        f"{self.path} is damaged: event {row[0]} cannot be read ({exc})."
                    ) from exc
                yield event
        except sqlite3.DatabaseError as exc:
            raise ProjectFileError(f"{self.path} is damaged and cannot be read ({exc}).") from exc

    def reviews(self) -> list[tuple[int, str, str, str]]:
        """The review log: (time, generation, state, reviewer), oldest first."""
        try:
            return [
                (when, generation, state, reviewer)
                for when, generation, state, reviewer in self.conn.execute(
                    "SELECT time, generation, state, reviewer FROM reviews ORDER BY seq"
                )
            ]
        except sqlite3.DatabaseError as exc:
            raise ProjectFileError(
                f"{self.path} is damaged: its review log cannot be read ({exc})."
            ) from exc

    def snapshots(self) -> dict[int, tuple[str, str, str, int]]:
        """Each chapter's stored text, runs, process and the event its snapshot reflects."""
        try:
            return {
                cid: (text or "", runs or "[]", process or "{}", snap or 0)
                for cid, text, runs, process, snap in self.conn.execute(
                    "SELECT id, text, runs, process, snapshot_seq FROM chapters"
                )
            }
        except sqlite3.DatabaseError as exc:
            raise ProjectFileError(f"{self.path} is damaged and cannot be read ({exc}).") from exc

    # -- backups ----------------------------------------------------------------------------

    # -- backups (``store/backups.py``) ------------------------------------------------------

    def backup_to(self, target: Path | str) -> Path:
        """A consistent copy through SQLite's online backup API (``backups.backup_to``)."""
        return backups.backup_to(self.conn, self.path, Path(target))

    def backup_dir(self) -> Path:
        return backups.backup_dir(self.path)

    def backup_rolling(self, reason: str = "auto") -> Path:
        """A timestamped backup beside the project, the newest few kept (``backups``)."""
        return backups.backup_rolling(self.conn, self.path, reason)
