"""Rolling backups before an import, and no secrets in the project file."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from coauthor.store import ProjectFile


def _chapters(path: Path) -> list[tuple[str, str]]:
    project_file = ProjectFile.open(path, readonly=True)
    try:
        project = project_file.load()
    finally:
        project_file.close()
    return [(c.title, c.text.text) for c in project.chapters]


def _markdown(folder: Path, name: str, title: str, body: str) -> Path:
    path = folder / name
    path.write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
    return path


def test_import_into_an_existing_project_backs_it_up_first(tmp_path: Path, cli) -> None:
    project = tmp_path / "novel.coauthor"
    first = _markdown(tmp_path, "first.md", "Opening", "It begins.")
    assert cli("import", first, "--into", project).returncode == 0
    backups = tmp_path / "novel.coauthor.backups"
    assert not backups.exists()  # nothing to back up when the project is new

    second = _markdown(tmp_path, "second.md", "Middle", "It goes on.")
    result = cli("import", second, "--into", project)

    assert result.returncode == 0, result.stderr
    assert _chapters(project) == [("Opening", "It begins."), ("Middle", "It goes on.")]
    copies = sorted(backups.glob("*.coauthor"))
    assert len(copies) == 1
    assert _chapters(copies[0]) == [("Opening", "It begins.")]
    # The backup is a whole project on its own: it verifies, with no log beside it.
    assert cli("verify", copies[0]).returncode == 0
    assert sorted(p.name for p in backups.iterdir()) == [copies[0].name]
    conn = sqlite3.connect(f"{copies[0].as_uri()}?mode=ro", uri=True)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    conn.close()


def test_at_most_five_backups_are_kept_and_they_are_the_newest(tmp_path: Path, cli) -> None:
    project = tmp_path / "diary.coauthor"
    assert (
        cli("import", _markdown(tmp_path, "d0.md", "Day 0", "x"), "--into", project).returncode == 0
    )
    for day in range(1, 8):
        source = _markdown(tmp_path, f"d{day}.md", f"Day {day}", "x")
        result = cli("import", source, "--into", project)
        assert result.returncode == 0, result.stderr

    copies = list((tmp_path / "diary.coauthor.backups").glob("*.coauthor"))
    assert len(copies) == 5
    # Before import n the project had n chapters; the last five imports were 3..7.
    assert sorted(len(_chapters(c)) for c in copies) == [3, 4, 5, 6, 7]
    assert len(_chapters(project)) == 8


def test_the_project_never_holds_an_api_key(tmp_path: Path, cli, data_dir: Path) -> None:
    secret = "sk-test-7f3c9e1a-NEVER-STORE-THIS-KEY-5b2d"
    env = {
        **os.environ,
        "OPENAI_API_KEY": secret,
        "ANTHROPIC_API_KEY": secret + "-a",
        "COAUTHOR_API_KEY": secret + "-c",
    }
    project = tmp_path / "keys.coauthor"
    session = min((data_dir / "coauthor").glob("*.jsonl.gz"))
    for source in (_markdown(tmp_path, "k.md", "Keys", "Plain text."), session):
        result = cli("import", source, "--into", project, env=env)
        assert result.returncode == 0, result.stderr
    assert cli("stats", project, env=env).returncode == 0

    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".md"]
    assert project in written
    assert any(".backups" in str(p) for p in written)
    for path in written:
        assert b"sk-test-7f3c9e1a" not in path.read_bytes(), path
