"""The summary of a stored history (``app.statistics`` over ``store.activity``): the same from
the cache as from every event, used only while the chain still ends the same way, and the
CSV file written whole."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import closing
from pathlib import Path

from coauthor.app.statistics import cache_file, summarise, write_csv
from coauthor.core.book import BookMeta
from coauthor.core.daily import CSV_HEADER, Tally, by_day, event_row
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.store import ProjectFile
from coauthor.store.activity import read_connection

T0 = 1_772_442_000_000  # 2026-03-02 09:00 UTC
UTC = dt.UTC


def _book(path: Path, words: list[str]) -> tuple[ProjectFile, Project, list[int]]:
    now = [T0]

    def clock() -> int:
        now[0] += 30_000
        return now[0]

    project_file = ProjectFile.create(path, BookMeta(title="Days"))
    project = Project(BookMeta(title="Days"), clock=clock)
    chapter = project.add_chapter("One")
    for word in words:
        project.insert(chapter, len(chapter.text), word + " ", Origin.HUMAN)
    project_file.flush(project)
    return project_file, project, now


def test_the_cached_summary_equals_reading_every_event(tmp_path: Path) -> None:
    path = tmp_path / "days.coauthor"
    project_file, project, _ = _book(path, ["alpha", "beta", "gamma"])
    cache = tmp_path / "cache"
    first = summarise(project_file.conn, path, cache)
    assert cache_file(cache, path).exists()
    chapter = project.chapters[0]
    project.insert(chapter, len(chapter.text), "delta epsilon ", Origin.PASTED)
    project_file.flush(project)
    second = summarise(project_file.conn, path, cache)
    assert second.seq > first.seq
    fresh = summarise(project_file.conn, path, None)
    assert second == fresh
    (day,) = by_day(second, UTC)
    assert (day.words[Origin.HUMAN], day.words[Origin.PASTED]) == (3, 2)
    everything = Tally()
    everything.feed(event_row(e) for e in project_file.events())
    assert everything == fresh
    project_file.close(project)


def test_a_cache_of_another_history_at_that_path_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "days.coauthor"
    project_file, project, _ = _book(path, ["one", "two", "three", "four"])
    cache = tmp_path / "cache"
    summarise(project_file.conn, path, cache)
    project_file.close(project)
    path.unlink()
    # A different book under the same name: same number of events, other hashes.
    project_file, project, _ = _book(path, ["uno", "dos", "tres", "cuatro", "cinco"])
    summary = summarise(project_file.conn, path, cache)
    assert summary == summarise(project_file.conn, path, None)
    assert by_day(summary, UTC)[0].words[Origin.HUMAN] == 5
    stored = json.loads(cache_file(cache, path).read_text(encoding="utf-8"))
    assert Tally.from_json(stored["tally"]) == summary
    project_file.close(project)


def test_a_damaged_cache_is_ignored_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "days.coauthor"
    project_file, project, _ = _book(path, ["one", "two"])
    cache = tmp_path / "cache"
    target = cache_file(cache, path)
    target.parent.mkdir(parents=True)
    target.write_text("{not json", encoding="utf-8")
    summary = summarise(project_file.conn, path, cache)
    assert by_day(summary, UTC)[0].words[Origin.HUMAN] == 2
    assert json.loads(target.read_text(encoding="utf-8"))["hash"]
    project_file.close(project)


def test_a_second_connection_reads_while_the_project_is_open(tmp_path: Path) -> None:
    path = tmp_path / "days.coauthor"
    project_file, project, _ = _book(path, ["one", "two"])
    conn = read_connection(path)
    try:
        assert summarise(conn, path, None) == summarise(project_file.conn, path, None)
    finally:
        conn.close()
    project_file.close(project)


def test_the_csv_file_is_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "days.coauthor"
    project_file, project, _ = _book(path, ["one", "two"])
    days = by_day(summarise(project_file.conn, path, None), UTC)
    out = write_csv(tmp_path / "stats.csv", days)
    assert (
        out.read_bytes()
        == (",".join(CSV_HEADER) + "\r\n2026-03-02,2,0,0,0,8,0,0,0,0,0,1,0.5\r\n").encode()
    )
    project_file.close(project)


def test_the_first_summary_starts_from_the_later_of_the_files_and_the_cache(
    tmp_path: Path,
) -> None:
    path = tmp_path / "days.coauthor"
    project_file, project, _ = _book(path, ["one", "two", "three"])
    project_file.close(project)  # the file keeps its summary, to the last event
    cache = tmp_path / "cache"
    with closing(read_connection(path)) as conn:
        kept_only = summarise(conn, path, cache)
    # An older Coauthor writes more (the file's summary stays behind) ...
    project_file = ProjectFile.open(path)
    project = project_file.load()
    project_file._summary = None
    chapter = project.chapters[0]
    project.insert(chapter, len(chapter.text), "four five ", Origin.HUMAN)
    project_file.close(project)
    # ... then the cache on this machine is the later one; without it, the file's summary.
    with closing(read_connection(path)) as conn:
        with_cache = summarise(conn, path, cache)
        without = summarise(conn, path, None)
    every_event = Tally()
    reread = ProjectFile.open(path, readonly=True)
    try:
        every_event.feed(event_row(e) for e in reread.events())
    finally:
        reread.close()
    assert with_cache.seq > kept_only.seq
    assert with_cache.same_figures(every_event)
    assert without.same_figures(every_event)
    assert sum(d.words[Origin.HUMAN] for d in by_day(with_cache, UTC)) == 5
