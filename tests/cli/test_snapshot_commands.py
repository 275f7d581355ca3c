"""``coauthor snapshot``, ``snapshots`` and ``diff`` on the sample book, as a user runs them.

A snapshot is taken of one chapter and of the book; the chapter is then edited (a word typed
over model text, a pasted sentence); ``diff`` prints each change with the origin of every piece
on both sides, against the text now or against another snapshot, and ``verify`` still passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coauthor.app.sample import build_sample
from coauthor.core.origin import Origin
from coauthor.core.snapdiff import origin_label
from coauthor.store import ProjectFile


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return build_sample(tmp_path / "book.coauthor")


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def _edit_first_chapter(path: Path) -> tuple[str, str]:
    """Replace the chapter's first word (typed) and add a pasted sentence at its end; the
    word and the origin label of what it replaced."""
    project_file = ProjectFile.open(path)
    try:
        project = project_file.load()
        chapter = project.chapters[0]
        first = chapter.text.text.split()[0]
        origin, ref = chapter.text.origin_at(0)
        project.replace(chapter, 0, len(first), "Lately", Origin.HUMAN)
        project.insert(chapter, len(chapter.text), "\n\nA pasted line.", Origin.PASTED)
        project_file.close(project)
    except BaseException:
        project_file.close()
        raise
    return first, origin_label(origin, ref)


def test_snapshot_list_and_diff_with_origins(book: Path, cli) -> None:
    result = cli("snapshot", book, "--name", "First draft", "--chapter", "1")
    _ok(result)
    assert "Took the snapshot “First draft” of" in result.stderr.decode()
    _ok(cli("snapshot", book, "--name", "Whole book"))
    listing = _ok(cli("snapshots", book)).splitlines()
    assert len(listing) == 2
    assert listing[0].split()[0] == "1"
    assert "manual" in listing[0]
    assert "First draft" in listing[0]
    assert listing[1].endswith("Whole book  (the book)")

    assert "no differences" in _ok(cli("diff", book, "--from", "First draft"))
    first, label = _edit_first_chapter(book)

    out = _ok(cli("diff", book, "--from", "First draft"))
    lines = out.splitlines()
    assert lines[0] == "From the snapshot “First draft” to the text now:"
    assert lines[1].startswith("== ")
    assert lines[1].endswith(": 2 changes")
    assert "@ replaced at 0-" in out
    assert f'  - {label}: "{first}"' in out
    assert '  + typed: "Lately"' in out
    assert '  + pasted: "\\n\\nA pasted line."' in out

    # Two snapshots of the same state: nothing changed between them in chapter 1.
    _ok(cli("snapshot", book, "--name", "After"))
    between = _ok(cli("diff", book, "--from", "Whole book", "--to", "After"))
    assert "Lately" in between
    assert between.count("== ") == 1
    assert "no differences" in _ok(cli("diff", book, "--from", "3"))
    log = _ok(cli("log", book))
    assert "snapshot 'First draft' (manual) of the state after event" in log
    _ok(cli("verify", book))


def test_unknown_snapshot_and_chapter_fail_with_one_line(book: Path, cli) -> None:
    result = cli("diff", book, "--from", "Nope")
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert stderr.startswith("coauthor: no snapshot is named or numbered 'Nope'")
    assert len(stderr.strip().splitlines()) == 1
    result = cli("snapshot", book, "--name", "X", "--chapter", "99")
    assert result.returncode == 1
    assert "no chapter is titled or numbered" in result.stderr.decode()
    result = cli("snapshot", book, "--name", "  ")
    assert result.returncode == 1
    assert "a snapshot needs a name" in result.stderr.decode()
    assert _ok(cli("snapshots", book)) == ""
