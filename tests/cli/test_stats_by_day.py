"""``coauthor stats --by-day``: the Statistics view's figures in the terminal, as CSV and JSON,
the same with and without the cached summary."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from coauthor.core.book import BookMeta
from coauthor.core.daily import CSV_HEADER
from coauthor.core.generation import Generation
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.store import ProjectFile

MIN = 60_000
DAY1 = int(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC).timestamp() * 1000)
DAY2 = DAY1 + 24 * 60 * MIN


@pytest.fixture(scope="module")
def diary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days of writing: typing, a pasted line, an undo, model text, a long pause."""
    path = tmp_path_factory.mktemp("diary") / "diary.coauthor"
    meta = BookMeta(title="Diary")
    project_file = ProjectFile.create(path, meta)
    now = [DAY1]
    project = Project(meta, clock=lambda: now[0])
    project.history.coalesce = False
    chapter = project.add_chapter("March")

    def at(ms: int) -> None:
        now[0] = ms

    project.insert(chapter, 0, "It rained all ", Origin.HUMAN)
    at(DAY1 + 2 * MIN)
    project.insert(chapter, 14, "morning. ", Origin.HUMAN)  # 4 words typed
    at(DAY1 + 3 * MIN)
    project.insert(chapter, 23, "Quoted line here. ", Origin.PASTED)
    at(DAY1 + 4 * MIN)
    removed = project.delete(chapter, 23, 18)
    removal = project.last_removal
    assert removal is not None
    at(DAY1 + 40 * MIN)  # a long pause: a new session; then the deletion is undone
    project.insert_fragment(chapter, 23, removed, source=(removal,))
    at(DAY2)
    generation = project.add_generation(
        Generation(project.new_generation_id(), "test", "m", {}, [], "The sun came out.")
    )
    project.insert(chapter, 0, "The sun came out. ", Origin.AI, generation.id)
    project_file.close(project)
    return path


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "COAUTHOR_CACHE_DIR": str(cache)}


def test_stats_by_day_prints_each_day_by_origin(diary: Path, cli, tmp_path: Path) -> None:
    result = cli("stats", diary, "--by-day", "--utc", env=_env(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert lines[0] == "diary.coauthor: words written per day by origin (UTC)"
    assert lines[1].split() == [
        "date", "typed", "model", "pasted", "imported", "deleted", "restored", "sessions", "time",
    ]  # fmt: skip
    assert lines[3].split() == ["2026-03-02", "4", "0", "3", "0", "18", "18", "2", "0:04"]
    assert lines[4].split() == ["2026-03-03", "0", "4", "0", "0", "0", "0", "1", "0:00"]
    assert lines[6].split() == ["total", "4", "4", "3", "0", "18", "18", "3", "0:04"]
    assert "not proof of who typed" in result.stdout.decode()
    assert list((tmp_path / "statistics").iterdir()), "the summary is cached"
    again = cli("stats", diary, "--by-day", "--utc", env=_env(tmp_path))
    assert again.stdout == result.stdout


def test_stats_by_day_as_csv_and_json(diary: Path, cli, tmp_path: Path) -> None:
    result = cli("stats", diary, "--by-day", "--csv", "--utc", "--no-cache", env=_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == [
        ",".join(CSV_HEADER),
        "2026-03-02,4,0,3,0,23,0,18,0,18,18,2,4.0",
        "2026-03-03,0,4,0,0,0,18,0,0,0,0,1,0.0",
    ]
    assert not (tmp_path / "statistics").exists(), "--no-cache writes no cache"
    result = cli("stats", diary, "--by-day", "--json", "--utc", env=_env(tmp_path))
    days = json.loads(result.stdout)
    assert [d["date"] for d in days] == ["2026-03-02", "2026-03-03"]
    assert days[0]["words"] == {"human": 4, "ai": 0, "pasted": 3, "imported": 0}
    assert (days[0]["sessions"], days[0]["seconds"]) == (2, 240)


def test_stats_by_day_on_a_missing_file_fails_with_a_sentence(cli, tmp_path: Path) -> None:
    result = cli("stats", tmp_path / "none.coauthor", "--by-day", env=_env(tmp_path))
    assert result.returncode == 1
    assert b"none.coauthor" in result.stderr
