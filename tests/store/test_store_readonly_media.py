"""A project whose latest changes are still in its write-ahead log, on media no one can write
(a read-only mount): reading commands open it read-only and see everything; nothing is written
there. Needs a tmpfs mount (root); skipped where mounting is not allowed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from coauthor.core.book import BookMeta
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.store import ProjectFile


def _mount(point: Path, *options: str) -> bool:
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(("size=16m", *options)), "tmpfs", str(point)],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


@pytest.fixture
def read_only_copy(tmp_path: Path) -> Iterator[Path]:
    """A project copied while open (its text only in the -wal), on a read-only mount."""
    source = tmp_path / "src" / "book.coauthor"
    source.parent.mkdir()
    project_file = ProjectFile.create(source, BookMeta(title="Media"))
    project = Project(BookMeta(title="Media"))
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "Only in the log.", Origin.HUMAN)
    project_file.flush(project)
    staged = tmp_path / "staged"
    staged.mkdir()
    shutil.copyfile(source, staged / "book.coauthor")
    shutil.copyfile(f"{source}-wal", staged / "book.coauthor-wal")
    project_file.close(project)
    point = tmp_path / "media"
    point.mkdir()
    if not _mount(point):
        pytest.skip("mounting a tmpfs is not allowed here")
    try:
        for name in ("book.coauthor", "book.coauthor-wal"):
            shutil.copyfile(staged / name, point / name)
        remount = subprocess.run(
            ["mount", "-o", "remount,ro", str(point)], capture_output=True, check=False
        )
        if remount.returncode != 0:
            pytest.skip("remounting read-only is not allowed here")
        yield point / "book.coauthor"
    finally:
        subprocess.run(["umount", str(point)], capture_output=True, check=False)


def _cli(*args: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "coauthor.cli", *map(str, args)], capture_output=True, check=False
    )


def test_reading_commands_open_it_read_only_and_see_the_log(read_only_copy: Path) -> None:
    before = {p.name: p.read_bytes() for p in read_only_copy.parent.iterdir()}
    cat = _cli("cat", read_only_copy, "--chapter", "1")
    assert cat.returncode == 0, cat.stderr
    assert cat.stdout.decode() == "Only in the log."
    verify = _cli("verify", read_only_copy)
    assert verify.returncode == 0, verify.stderr
    assert b"OK" in verify.stdout
    after = {p.name: p.read_bytes() for p in read_only_copy.parent.iterdir()}
    assert after == before  # nothing written there (it could not be)


def test_writing_to_it_is_refused_in_one_sentence(read_only_copy: Path, tmp_path: Path) -> None:
    notes = tmp_path / "n.md"
    notes.write_text("# N\n\nx\n", encoding="utf-8")
    result = _cli("import", notes, "--into", read_only_copy)
    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert "read-only" in stderr
    assert len(stderr.strip().splitlines()) == 1
