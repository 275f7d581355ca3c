"""The file on disk: racing imports, a project a reader keeps from folding in its log, backups
on a full disk and their bounds, and titles that carry control characters."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coauthor import cli as cli_module
from coauthor.core.book import BookMeta
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.store import ProjectFile, ProjectFileError
from coauthor.store import backups as backups_module
from coauthor.store import projectfile as projectfile_module
from coauthor.store.errors import LogLeftBeside
from coauthor.store.lock import ProjectLock


def _project(path: Path, text: str = "Some words.") -> None:
    project_file = ProjectFile.create(path, BookMeta(title="Disk"))
    project = Project(BookMeta(title="Disk"))
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, text, Origin.HUMAN)
    project_file.close(project)


def _content(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _source(tmp_path: Path) -> Path:
    source = tmp_path / "notes.md"
    source.write_text("# Notes\n\nImported words.\n", encoding="utf-8")
    return source


# -- two imports creating the same project --------------------------------------------------------


def test_a_second_import_of_a_project_being_created_is_told_who_is_making_it(
    tmp_path: Path, cli
) -> None:
    target = tmp_path / "new.coauthor"
    partial = tmp_path / "new.coauthor.importing"
    partial.write_bytes(b"the other import's work in progress")
    lock = ProjectLock(target)
    lock.acquire(creating=True)  # another import holds it, as this test process
    try:
        result = cli("import", _source(tmp_path), "--into", target)
    finally:
        lock.release()
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert f"already being created by another import (process {os.getpid()}" in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert partial.read_bytes() == b"the other import's work in progress"  # not deleted
    assert not target.exists()

    # The other import died: its `.importing` file is stale and the next import replaces it.
    result = cli("import", _source(tmp_path), "--into", target)
    assert result.returncode == 0, result.stderr
    assert not partial.exists()
    assert cli("verify", target).returncode == 0


# -- a reader keeps the log from being folded in ------------------------------------------------


def test_a_close_that_cannot_fold_in_the_log_says_so_and_keeps_the_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projectfile_module, "_CLOSE_WAIT_MS", 50)
    path = tmp_path / "read.coauthor"
    _project(path)
    project_file = ProjectFile.open(path)
    project = project_file.load()
    project.insert(project.chapters[0], 0, "Latest words. ", Origin.HUMAN)
    project_file.flush(project)
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM events").fetchone()  # holds an older snapshot
    try:
        project.insert(project.chapters[0], 0, "Newer. ", Origin.HUMAN)
        with pytest.raises(LogLeftBeside, match=r"read\.coauthor-wal beside it"):
            project_file.close(project)
        assert Path(f"{path}-wal").stat().st_size > 0  # the work is in the log, as it says
    finally:
        reader.rollback()
        reader.close()  # the last connection to close folds the log in
    reopened = ProjectFile.open(path)
    loaded = reopened.load()
    assert loaded.chapters[0].text.text == "Newer. Latest words. Some words."
    reopened.close(loaded)  # nobody reads now: one self-contained file again
    assert not Path(f"{path}-wal").exists() or not Path(f"{path}-wal").stat().st_size


def test_a_command_whose_project_is_not_self_contained_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(projectfile_module, "_CLOSE_WAIT_MS", 50)
    path = tmp_path / "book.coauthor"
    _project(path)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM events").fetchone()
    try:
        code = cli_module.main(["import", str(_source(tmp_path)), "--into", str(path)])
    finally:
        reader.rollback()
        reader.close()
    err = capsys.readouterr().err
    assert code == 1, err
    assert "-wal beside it" in err
    project_file = ProjectFile.open(path, readonly=True)
    try:
        titles = [c.title for c in project_file.load().chapters]
    finally:
        project_file.close()
    assert titles == ["One", "Notes"]  # the import is in, through the log


# -- backups ------------------------------------------------------------------------------------


def test_an_import_stops_with_a_sentence_when_the_backup_does_not_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "full.coauthor"
    _project(path)
    before = _content(path)

    class Usage:
        free = 1_000

    monkeypatch.setattr(shutil, "disk_usage", lambda _: Usage())
    code = cli_module.main(["import", str(_source(tmp_path)), "--into", str(path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "Could not back up full.coauthor" in err
    assert "nothing was changed" in err
    assert len(err.strip().splitlines()) == 1
    assert _content(path) == before
    assert not list((tmp_path / "full.coauthor.backups").glob("*"))


class _FailingBackup:
    """A connection whose online backup fails as a full disk does, halfway."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def backup(self, dest: sqlite3.Connection) -> None:
        dest.execute("CREATE TABLE half (x)")
        raise sqlite3.OperationalError("database or disk is full")

    def __getattr__(self, name: str):
        return getattr(self._conn, name)


def test_a_failed_backup_leaves_no_partial_copy(tmp_path: Path) -> None:
    path = tmp_path / "book.coauthor"
    _project(path)
    project_file = ProjectFile.open(path)
    real = project_file.conn
    project_file.conn = _FailingBackup(real)  # type: ignore[assignment]
    try:
        with pytest.raises(ProjectFileError, match="the disk is full; nothing was changed"):
            project_file.backup_rolling(reason="before-import")
    finally:
        project_file.conn = real
        project_file.close()
    assert not list((tmp_path / "book.coauthor.backups").iterdir())


def test_backups_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "book.coauthor"
    _project(path)
    project_file = ProjectFile.open(path)
    try:
        made = []
        for i in range(8):
            made.append(project_file.backup_rolling(reason=f"n{i}"))
            os.utime(made[-1], (time.time() + i, time.time() + i))  # newer each time
        kept = sorted((tmp_path / "book.coauthor.backups").glob("*.coauthor"))
        assert len(kept) == backups_module._BACKUPS_KEPT
        assert made[-1] in kept
        # By size too: with room for one, only the newest stays.
        monkeypatch.setattr(backups_module, "_BACKUPS_MAX_BYTES", 1)
        newest = project_file.backup_rolling(reason="last")
        assert list((tmp_path / "book.coauthor.backups").glob("*.coauthor")) == [newest]
    finally:
        project_file.close()


# -- titles and details -------------------------------------------------------------------------


def test_titles_and_details_lose_nul_and_terminal_escapes(tmp_path: Path) -> None:
    project = Project(BookMeta(title="Bad\x1b[31m title\x00", author="A\nuthor"))
    chapter = project.add_chapter("Chapter\x1b]0;owned\x07 one")
    project.rename_chapter(chapter, "Chapter\x00 \x1b[2Jtwo")
    project.set_meta(BookMeta(title="T\x1b", synopsis="Line one\nLine\x00 two"))
    assert chapter.title == "Chapter [2Jtwo"
    assert project.meta.title == "T"
    assert project.meta.synopsis == "Line one\nLine two"
    path = tmp_path / "t.coauthor"
    project_file = ProjectFile.create(path, project.meta)
    project_file.close(project)
    listing = subprocess.run(
        [sys.executable, "-m", "coauthor.cli", "log", str(path)], capture_output=True, check=False
    )
    assert listing.returncode == 0
    assert b"\x1b" not in listing.stdout
    assert b"\x00" not in listing.stdout


def test_the_tables_can_be_read_with_sqlite_utils_for_research(tmp_path: Path) -> None:
    """``ProjectFile.db`` gives the file's tables through sqlite-utils (research, SQL), read-only
    here: the events there are the ones the chain replays."""
    path = tmp_path / "research.coauthor"
    _project(path, "Typed for a study.")
    project_file = ProjectFile.open(path, readonly=True)
    try:
        events = list(project_file.db["events"].rows)
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert "Typed for a study." in [e["inserted"] for e in events]
        assert project_file.db["chapters"].count == 1
    finally:
        project_file.close()
