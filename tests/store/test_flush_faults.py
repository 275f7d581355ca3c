"""A flush survives any exception at any write step: nothing is lost and saving resumes.

The connection is wrapped so that one of its calls raises, once: the disk full, the file made
read-only, SQLite's own error, text it cannot encode, memory. Every step of a flush gets each
fault in turn; the next flush must write everything, and the reopened file must verify.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from coauthor.core.book import BookMeta
from coauthor.core.generation import Generation
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.core.text import valid_unicode
from coauthor.store import ProjectFile, ProjectFileError
from coauthor.store.verify import verify

FAULTS = [
    lambda: OSError(errno.ENOSPC, "No space left on device"),
    lambda: OSError(errno.EROFS, "Read-only file system"),
    lambda: sqlite3.OperationalError("database or disk is full"),
    lambda: UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed"),
    MemoryError,
]


class FaultyConnection:
    """Delegates to a real connection; the call numbered ``fail_at`` raises ``fault``."""

    def __init__(self, conn: sqlite3.Connection, fail_at: int, fault: BaseException) -> None:
        self._conn = conn
        self.calls = 0
        self.fail_at = fail_at
        self.fault = fault

    def _tick(self) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise self.fault

    def execute(self, *args, **kwargs):
        self._tick()
        return self._conn.execute(*args, **kwargs)

    def executemany(self, *args, **kwargs):
        self._tick()
        return self._conn.executemany(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._conn, name)


def _edit(project: Project, round_: int) -> None:
    """One of everything a flush writes: text, a chapter, a generation, a review, details."""
    chapter = project.chapters[0]
    project.insert(chapter, len(chapter.text), f" Round {round_}.", Origin.HUMAN)
    gid = project.new_generation_id()
    project.add_generation(Generation(gid, "embedded", "m", output=f"Gen {round_}."))
    project.insert(chapter, len(chapter.text), f" Gen {round_}.", Origin.AI, gid)
    project.add_chapter(f"Chapter {round_}")
    project.set_meta(BookMeta(title=f"Book {round_}", author="Ann"))


def _steps(tmp_path: Path) -> int:
    """How many connection calls one flush of ``_edit`` makes."""
    path = tmp_path / "count.coauthor"
    project_file = ProjectFile.create(path, BookMeta(title="T"))
    project = Project(BookMeta(title="T"))
    project.add_chapter("One")
    project_file.flush(project)
    _edit(project, 1)
    counter = FaultyConnection(project_file.conn, 0, RuntimeError())
    project_file.conn = counter  # type: ignore[assignment]
    project_file.flush(project)
    project_file.conn = counter._conn
    project_file.close(project)
    return counter.calls


@pytest.mark.parametrize("fault", FAULTS, ids=["ENOSPC", "EROFS", "sqlite", "unicode", "memory"])
def test_every_write_step_survives_the_fault(tmp_path: Path, fault) -> None:
    steps = _steps(tmp_path)
    assert steps >= 5
    path = tmp_path / f"book-{fault().__class__.__name__}.coauthor"
    project_file = ProjectFile.create(path, BookMeta(title="T"))
    project = Project(BookMeta(title="T"))
    project.add_chapter("One")
    project_file.flush(project)
    real = project_file.conn
    for step in range(1, steps + 1):
        _edit(project, step)
        project_file.conn = FaultyConnection(real, step, fault())  # type: ignore[assignment]
        with pytest.raises(ProjectFileError, match="your work is kept"):
            project_file.flush(project)
        project_file.conn = real
        assert project.history.pending, f"step {step}: the events were dropped"
        project_file.flush(project)  # saving resumes
        assert not project.history.pending
    expected = [(c.title, c.text.text, list(c.text.runs())) for c in project.chapters]
    project_file.close(project)
    reopened = ProjectFile.open(path, readonly=True)
    try:
        assert verify(reopened).ok
        loaded = reopened.load()
    finally:
        reopened.close()
    assert [(c.title, c.text.text, list(c.text.runs())) for c in loaded.chapters] == expected
    assert loaded.meta.title == f"Book {steps}"


def test_a_lone_surrogate_in_a_generation_no_longer_loses_the_work(tmp_path: Path, cli) -> None:
    """Issue 10's reproduction: flush, insert, a generation whose output is a lone surrogate,
    three flushes; everything typed is on disk."""
    path = tmp_path / "s.coauthor"
    project_file = ProjectFile.create(path, BookMeta(title="S"))
    project = Project(BookMeta(title="S"))
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "First text.", Origin.HUMAN)
    project_file.flush(project)
    project.insert(chapter, len(chapter.text), " Second text.", Origin.HUMAN)
    project.add_generation(Generation("g1", "embedded", "m", output="\ud83d"))
    for _ in range(3):
        project_file.flush(project)
    project_file.close(project)
    result = cli("cat", path, "--chapter", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == "First text. Second text."
    assert cli("verify", path).returncode == 0


def test_valid_unicode_joins_pairs_and_replaces_lone_halves() -> None:
    assert valid_unicode("Smile \ud83d" + "\ude00 done") == "Smile \U0001f600 done"
    assert valid_unicode("a\ud83db") == "a\ufffdb"
    assert valid_unicode("\ude00") == "\ufffd"
    assert valid_unicode("plain ✓") == "plain ✓"
