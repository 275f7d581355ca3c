"""The writing statistics' summary a project file keeps (``store.activity``): brought up to
date as events are written, stored every 2,000 events or 10 seconds and at close, so that the
first summary of a long book on a machine reads a few events instead of all of them. It is
used only while the chain still ends as it did, never costs a save, and is taken over from
the Statistics job for a file that had none. ``verify`` checks it against the history
(``test_store_verify_tamper.py``, ``test_verify_parallel.py``)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from coauthor.app.statistics import summarise
from coauthor.core.book import BookMeta
from coauthor.core.daily import Tally, by_day, event_row, tally_record
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.store import ProjectFile, ProjectFileError
from coauthor.store import projectfile as projectfile_module
from coauthor.store.activity import STATISTICS_KEY, stored_tally
from coauthor.store.verify import verify

T0 = 1_772_442_000_000  # 2026-03-02 09:00 UTC


def _clock():
    now = [T0]

    def tick() -> int:
        now[0] += 20_000
        return now[0]

    return tick


def _write(project: Project, words: list[str], origin: Origin = Origin.HUMAN) -> None:
    chapter = project.chapters[0]
    for word in words:
        project.insert(chapter, len(chapter.text), word + " ", origin)
    project.delete(chapter, 0, 2)


def _new(path: Path) -> tuple[ProjectFile, Project]:
    project = Project(BookMeta(title="Kept"), clock=_clock())
    project.add_chapter("One")
    return ProjectFile.create(path, project.meta), project


def _reopen(path: Path) -> tuple[ProjectFile, Project]:
    project_file = ProjectFile.open(path)
    project = project_file.load()
    project.clock = _clock()
    return project_file, project


def _from_every_event(project_file: ProjectFile) -> Tally:
    tally = Tally()
    tally.feed(event_row(e) for e in project_file.events())
    return tally


def _kept(path: Path) -> Tally | None:
    conn = sqlite3.connect(path)
    try:
        return stored_tally(conn)
    finally:
        conn.close()


def _last_seq(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT max(seq) FROM events").fetchone()[0]
    finally:
        conn.close()


def _kept_to_the_end(path: Path) -> Tally:
    """The summary the file keeps, which must be that of its whole history."""
    kept = _kept(path)
    assert kept is not None
    assert kept.seq == _last_seq(path)
    reread = ProjectFile.open(path, readonly=True)
    try:
        assert kept.same_figures(_from_every_event(reread))
    finally:
        reread.close()
    return kept


def test_the_file_keeps_the_summary_of_its_whole_history(tmp_path: Path) -> None:
    path = tmp_path / "kept.coauthor"
    project_file, project = _new(path)
    for round_ in range(3):
        _write(project, [f"word{round_}-{i}" for i in range(30)])
        project_file.flush(project)
    _write(project, ["pasted", "text"], Origin.PASTED)
    project_file.close(project)
    kept = _kept_to_the_end(path)
    (day,) = by_day(kept)
    assert (day.words[Origin.HUMAN], day.words[Origin.PASTED]) == (90, 2)


def test_it_is_stored_every_2000_events_or_10_seconds_and_at_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kept.coauthor"
    project_file, project = _new(path)
    _write(project, ["a", "b", "c"])
    project_file.flush(project)
    assert _kept(path) is None  # a few events, a moment: not yet
    monkeypatch.setattr(projectfile_module, "_SNAPSHOT_EVERY_EVENTS", 5)
    _write(project, ["d", "e", "f", "g", "h", "i"])
    project_file.flush(project)
    kept = _kept_to_the_end(path)
    monkeypatch.setattr(projectfile_module, "_SNAPSHOT_EVERY_EVENTS", 2000)
    monkeypatch.setattr(projectfile_module, "_SNAPSHOT_EVERY_MS", 0)
    _write(project, ["j"])
    project_file.flush(project)
    kept = _kept_to_the_end(path)
    monkeypatch.setattr(projectfile_module, "_SNAPSHOT_EVERY_MS", 10_000)
    _write(project, ["k"])
    project_file.flush(project)
    assert kept.seq < _last_seq(path)
    assert _kept(path) == kept
    project_file.close(project)
    _kept_to_the_end(path)


def test_reopened_the_file_goes_on_from_where_its_summary_ended(tmp_path: Path) -> None:
    path = tmp_path / "kept.coauthor"
    project_file, project = _new(path)
    _write(project, ["one", "two", "three"])
    project_file.close(project)
    # An older Coauthor (which kept no summary) writes more; this one goes on from the summary.
    project_file, project = _reopen(path)
    project_file._summary = None
    _write(project, ["four", "five"])
    project_file.close(project)
    assert _kept(path) is not None
    assert _kept(path).seq < _last_seq(path)
    project_file, project = _reopen(path)
    _write(project, ["six"], Origin.PASTED)
    project_file.close(project)
    _kept_to_the_end(path)


def test_a_file_without_one_is_handed_the_statistics_jobs_summary(tmp_path: Path) -> None:
    path = tmp_path / "older.coauthor"
    project_file, project = _new(path)
    _write(project, ["one", "two", "three"])
    project_file.close(project)
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM meta WHERE key = ?", (STATISTICS_KEY,))
    conn.commit()
    conn.close()
    project_file, project = _reopen(path)
    _write(project, ["four"])
    project_file.close(project)
    assert _kept(path) is None  # not known: nothing is stored
    project_file, project = _reopen(path)
    job = summarise(project_file.conn, path, None)  # what the Statistics job computes
    _write(project, ["five", "six"])
    project_file.flush(project)  # written after the job read the file
    assert project_file.adopt_statistics(job)
    assert not project_file.adopt_statistics(job)  # one is kept already
    _write(project, ["seven"])
    project_file.close(project)
    _kept_to_the_end(path)
    reread = ProjectFile.open(path, readonly=True)
    try:
        assert not reread.adopt_statistics(job)  # read-only: nothing is kept
    finally:
        reread.close()


def test_a_summary_is_used_only_while_the_chain_ends_as_it_did(tmp_path: Path) -> None:
    path = tmp_path / "kept.coauthor"
    project_file, project = _new(path)
    _write(project, ["one", "two"])
    project_file.close(project)
    conn = sqlite3.connect(path)
    (value,) = conn.execute("SELECT value FROM meta WHERE key = ?", (STATISTICS_KEY,)).fetchone()
    record = json.loads(value)
    record["hash"] = "00" * 32
    conn.execute("UPDATE meta SET value = ? WHERE key = ?", (json.dumps(record), STATISTICS_KEY))
    conn.commit()
    assert stored_tally(conn) is None
    conn.close()
    project_file, project = _reopen(path)
    assert project_file._summary is not None
    assert project_file._summary.tally is None


@pytest.mark.parametrize(
    "value",
    [
        "{not json",
        '{"hash": "zz", "tally": "{}"}',
        "[]",
        "x" * 100,
        None,
        b"\x00\xff binary",
    ],
    ids=["broken", "bad-hash", "a-list", "text", "null", "blob"],
)
def test_a_damaged_or_hostile_summary_is_ignored_and_rewritten(
    tmp_path: Path, value: object
) -> None:
    path = tmp_path / "hostile.coauthor"
    project_file, project = _new(path)
    _write(project, ["one", "two"])
    project_file.close(project)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = ? WHERE key = ?", (value, STATISTICS_KEY))
    conn.commit()
    assert stored_tally(conn) is None
    conn.close()
    project_file, project = _reopen(path)
    cold = summarise(project_file.conn, path, None)
    assert by_day(cold)[0].words[Origin.HUMAN] == 2
    assert project_file.adopt_statistics(cold)
    _write(project, ["three"])
    project_file.close(project)
    assert _kept(path) is not None
    assert verify(ProjectFile.open(path, readonly=True)).ok


def test_negative_counts_or_a_huge_summary_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "hostile.coauthor"
    project_file, project = _new(path)
    _write(project, ["one", "two"])
    project_file.close(project)
    conn = sqlite3.connect(path)
    kept = stored_tally(conn)
    assert kept is not None
    digest = conn.execute("SELECT hash FROM events WHERE seq = ?", (kept.seq,)).fetchone()[0]
    negative = kept.copy()
    negative.segments[0][3] = -5
    conn.execute(
        "UPDATE meta SET value = ? WHERE key = ?", (tally_record(negative, digest), STATISTICS_KEY)
    )
    assert stored_tally(conn) is None
    conn.execute(
        "UPDATE meta SET value = ? WHERE key = ?", (tally_record(kept, digest), STATISTICS_KEY)
    )
    assert stored_tally(conn) == kept
    monkeypatch.setattr("coauthor.store.activity._MAX_STORED", 10)
    assert stored_tally(conn) is None  # not even read into memory
    conn.close()


def test_a_fault_in_the_statistics_never_costs_a_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kept.coauthor"
    project_file, project = _new(path)
    _write(project, ["one", "two"])
    project_file.flush(project)

    def broken(self, events) -> None:
        raise RuntimeError("a bug in the statistics")

    monkeypatch.setattr(Tally, "feed_events", broken)
    _write(project, ["three", "four"])
    assert project_file.flush(project) > 0
    monkeypatch.undo()
    _write(project, ["five"])
    project_file.close(project)
    assert _kept(path) is None  # dropped, not wrong
    project_file = ProjectFile.open(path, readonly=True)
    try:
        assert verify(project_file).ok
        assert project_file.load().chapters[0].text.text.endswith("four five ")
    finally:
        project_file.close()


class _FailingStatisticsWrite:
    """A connection whose first write of the statistics' summary fails (a full disk)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.failed = False

    def execute(self, sql: str, *args):
        if not self.failed and args and STATISTICS_KEY in args[0]:
            self.failed = True
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._conn, name)


def test_a_failed_write_leaves_the_summary_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kept.coauthor"
    project_file, project = _new(path)
    monkeypatch.setattr(projectfile_module, "_SNAPSHOT_EVERY_EVENTS", 1)
    _write(project, ["one", "two"])
    project_file.flush(project)
    real = project_file.conn
    failing = _FailingStatisticsWrite(real)
    project_file.conn = failing  # type: ignore[assignment]
    _write(project, ["three", "four"])
    with pytest.raises(ProjectFileError):
        project_file.flush(project)
    assert failing.failed
    project_file.conn = real
    project_file.flush(project)  # the same events again, and the summary with them
    project_file.close(project)
    assert by_day(_kept_to_the_end(path))[0].words[Origin.HUMAN] == 4
