"""Importing Markdown and plain text with ``coauthor import``: chapters, origins, records."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from coauthor.store import ProjectFile


def _stats(cli, project: Path) -> dict:
    result = cli("stats", project, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _cat(cli, project: Path, chapter: object) -> str:
    result = cli("cat", project, "--chapter", chapter)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode("utf-8")


def _import(cli, *args: object) -> None:
    result = cli("import", *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr.decode()


def _load(path: Path):
    project_file = ProjectFile.open(path, readonly=True)
    try:
        return project_file.load()
    finally:
        project_file.close()


def test_markdown_splits_into_chapters_on_its_top_headings(tmp_path: Path, cli) -> None:
    source = tmp_path / "story.md"
    source.write_text(
        "A note before the story.\n\n"
        "# The Beginning\n\nOnce there was a *lighthouse*.\n\n## A scene\n\nWaves.\n\n"
        "# The End #\n\nAnd then it was over.\n",
        encoding="utf-8",
    )
    project = tmp_path / "story.coauthor"

    _import(cli, source, "--into", project)

    stats = _stats(cli, project)
    assert [c["title"] for c in stats["chapters"]] == ["story", "The Beginning", "The End"]
    assert _cat(cli, project, 1) == "A note before the story."
    assert _cat(cli, project, "The Beginning") == (
        "Once there was a *lighthouse*.\n\n## A scene\n\nWaves."
    )
    assert _cat(cli, project, 3) == "And then it was over."
    for chapter in stats["chapters"]:
        assert chapter["chars"]["imported"] == chapter["total_chars"] > 0
        assert chapter["chars"]["human"] == chapter["chars"]["ai"] == 0
    assert stats["book"]["process"]["inserted"]["imported"] == stats["book"]["total_chars"]


def test_markdown_with_only_second_level_headings_splits_on_them(tmp_path: Path, cli) -> None:
    source = tmp_path / "essay.md"
    source.write_text("## One\n\nFirst.\n\n### Detail\n\nMore.\n\n## Two\n\nSecond.\n")
    project = tmp_path / "essay.coauthor"

    _import(cli, source, "--into", project)

    assert [c["title"] for c in _stats(cli, project)["chapters"]] == ["One", "Two"]
    assert _cat(cli, project, "One") == "First.\n\n### Detail\n\nMore."


def test_setext_headings_split_markdown(tmp_path: Path, cli) -> None:
    source = tmp_path / "setext.md"
    source.write_text("Morning\n=======\n\nCoffee.\n\nEvening\n=======\n\nTea.\n")
    project = tmp_path / "setext.coauthor"

    _import(cli, source, "--into", project)

    assert [c["title"] for c in _stats(cli, project)["chapters"]] == ["Morning", "Evening"]
    assert _cat(cli, project, "Evening") == "Tea."


def test_headings_inside_fenced_code_do_not_split(tmp_path: Path, cli) -> None:
    body = (
        "Run this:\n\n```sh\n# not a chapter\necho hi\n```\n\n"
        "And this:\n\n~~~python\n# also not a chapter\n~~~\n\nDone."
    )
    source = tmp_path / "manual.md"
    source.write_text(f"# Setup\n\n{body}\n\n# Usage\n\nUse it.\n", encoding="utf-8")
    project = tmp_path / "manual.coauthor"

    _import(cli, source, "--into", project)

    assert [c["title"] for c in _stats(cli, project)["chapters"]] == ["Setup", "Usage"]
    assert _cat(cli, project, "Setup") == body


def test_plain_text_splits_on_chapter_lines(tmp_path: Path, cli) -> None:
    source = tmp_path / "tale.txt"
    source.write_text(
        "CHAPTER I\n\nThe first part.\nStill the first part.\n\n"
        "CHAPTER II\n\nThe second part, where the chapter is mentioned mid-line.\n",
        encoding="utf-8",
    )
    project = tmp_path / "tale.coauthor"

    _import(cli, source, "--into", project)

    assert [c["title"] for c in _stats(cli, project)["chapters"]] == ["CHAPTER I", "CHAPTER II"]
    assert _cat(cli, project, 1) == "The first part.\nStill the first part."


@pytest.mark.parametrize("own", [True, False], ids=["own-writing", "not-declared"])
def test_import_record_names_the_source_and_the_declaration(tmp_path: Path, cli, own: bool) -> None:
    source = tmp_path / "draft.md"
    source.write_text("# Draft\n\nMy old draft.\n", encoding="utf-8")
    project = tmp_path / "draft.coauthor"

    _import(cli, source, "--into", project, *(["--own-writing"] if own else []))

    records = list(_load(project).imports.values())
    assert len(records) == 1
    record = records[0]
    assert Path(record.source).name == "draft.md"
    assert record.own_writing is own
    assert record.kind == "markdown"
    assert record.encoding == "utf-8"
    assert record.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    chapter = _load(project).chapters[0]
    assert {ref for _, _, ref in chapter.text.runs()} == {record.id}


def test_invalid_utf8_names_the_byte_offset_and_latin1_imports_it(tmp_path: Path, cli) -> None:
    prefix = "Caf" + "e" * 1231  # the bad byte lands at offset 1234
    source = tmp_path / "old.txt"
    source.write_bytes(prefix.encode() + b"\xe9 au lait\n")
    project = tmp_path / "old.coauthor"

    failed = cli("import", source, "--into", project)

    stderr = failed.stderr.decode()
    assert failed.returncode == 1
    assert len(stderr.splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    assert "1234" in stderr
    assert "old.txt" in stderr
    assert not project.exists()
    assert list(tmp_path.iterdir()) == [source]  # no half-made project left behind

    _import(cli, source, "--into", project, "--encoding", "latin-1")
    assert _cat(cli, project, 1) == prefix + "é au lait"
    assert next(iter(_load(project).imports.values())).encoding == "latin-1"


def test_unknown_encoding_is_one_clear_line(tmp_path: Path, cli) -> None:
    source = tmp_path / "a.txt"
    source.write_text("text")
    result = cli("import", source, "--into", tmp_path / "a.coauthor", "--encoding", "klingon-8")
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert b"klingon-8" in result.stderr
    assert not (tmp_path / "a.coauthor").exists()


def test_invalid_utf8_into_an_existing_project_changes_nothing(tmp_path: Path, cli) -> None:
    good = tmp_path / "good.md"
    good.write_text("# Good\n\nFine.\n")
    project = tmp_path / "book.coauthor"
    _import(cli, good, "--into", project)
    before = project.read_bytes()
    bad = tmp_path / "bad.md"
    bad.write_bytes(b"# Bad\n\n\xff\xfe\n")

    result = cli("import", good, bad, "--into", project)

    assert result.returncode == 1
    assert b"offset 7" in result.stderr
    assert project.read_bytes() == before
    assert [c["title"] for c in _stats(cli, project)["chapters"]] == ["Good"]


@pytest.mark.parametrize("name", ["empty.md", "empty.txt"])
def test_empty_file_imports_as_one_empty_chapter(tmp_path: Path, cli, name: str) -> None:
    source = tmp_path / name
    source.write_bytes(b"")
    project = tmp_path / "empty.coauthor"

    _import(cli, source, "--into", project)

    stats = _stats(cli, project)
    assert len(stats["chapters"]) == 1
    assert stats["book"]["total_chars"] == 0
    assert cli("cat", project, "--chapter", 1).stdout == b""
    assert cli("verify", project).returncode == 0


def test_ten_megabyte_single_line_comes_back_exactly(tmp_path: Path, cli) -> None:
    rng = random.Random(7)
    words = ["ink", "paper", "naïve", "café", "—", "words", "日本", "🙂", "z"]
    line = " ".join(rng.choice(words) for _ in range(2_000_000))
    source = tmp_path / "line.txt"
    source.write_text(line, encoding="utf-8")
    assert source.stat().st_size > 10_000_000
    project = tmp_path / "line.coauthor"

    _import(cli, source, "--into", project)

    assert cli("cat", project, "--chapter", 1).stdout == source.read_bytes()
    assert _stats(cli, project)["book"]["chars"]["imported"] == len(line)


def test_crlf_line_ends_are_normalised(tmp_path: Path, cli) -> None:
    source = tmp_path / "windows.md"
    source.write_bytes(b"# One\r\n\r\nLine one.\r\nLine two.\r\n")
    project = tmp_path / "windows.coauthor"

    _import(cli, source, "--into", project)

    assert _cat(cli, project, "One") == "Line one.\nLine two."


def test_pride_and_prejudice_imports_as_61_chapters(tmp_path: Path, cli, data_dir: Path) -> None:
    project = tmp_path / "pride.coauthor"

    _import(cli, data_dir / "pride_and_prejudice.txt", "--into", project)

    stats = _stats(cli, project)
    assert [c["title"] for c in stats["chapters"]] == [f"Chapter {n}" for n in range(1, 62)]
    first = _cat(cli, project, "Chapter 1")
    assert first.startswith("It is a truth universally acknowledged, that a single man")
    assert "Project Gutenberg" not in first
    last = _cat(cli, project, 61)
    assert "Project Gutenberg" not in last
    assert last.rstrip().endswith("uniting them.")
    assert stats["book"]["chars"]["imported"] == stats["book"]["total_chars"] > 650_000
    project_obj = _load(project)
    assert project_obj.meta.title == "Pride and Prejudice"
    assert project_obj.meta.author == "Jane Austen"
    record = next(iter(project_obj.imports.values()))
    assert record.own_writing is False
    assert "PROJECT GUTENBERG" in str(record.details.get("gutenberg_header", ""))


def test_text_files_are_plain_and_markdown_files_markdown(tmp_path: Path, cli) -> None:
    """A text file's asterisks are characters unless the author says it is Markdown."""
    (tmp_path / "notes.txt").write_text("5 * 3 and *stars*\n", encoding="utf-8")
    (tmp_path / "draft.md").write_text("She was *seven*.\n", encoding="utf-8")
    _import(cli, tmp_path / "notes.txt", tmp_path / "draft.md", "--into", tmp_path / "a.coauthor")
    assert [c.markup for c in _load(tmp_path / "a.coauthor").chapters] == ["plain", "markdown"]
    _import(cli, tmp_path / "notes.txt", "--markup", "markdown", "--into", tmp_path / "b.coauthor")
    assert [c.markup for c in _load(tmp_path / "b.coauthor").chapters] == ["markdown"]
    result = cli("import", tmp_path / "notes.txt", "--markup", "html", "--into", tmp_path / "c")
    assert result.returncode == 2
    assert "invalid choice: 'html'" in result.stderr.decode()


def test_several_sources_in_one_import_keep_their_order(tmp_path: Path, cli) -> None:
    first = tmp_path / "a.md"
    first.write_text("# A\n\nalpha\n")
    second = tmp_path / "b.txt"
    second.write_text("Chapter 1\n\nbeta\n")
    project = tmp_path / "both.coauthor"

    _import(cli, first, second, "--into", project)

    assert [c["title"] for c in _stats(cli, project)["chapters"]] == ["A", "Chapter 1"]
    assert [Path(r.source).name for r in _load(project).imports.values()] == ["a.md", "b.txt"]


def test_missing_source_is_one_clear_line(tmp_path: Path, cli) -> None:
    result = cli("import", tmp_path / "ghost.md", "--into", tmp_path / "x.coauthor")
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert b"ghost.md" in result.stderr
    assert not (tmp_path / "x.coauthor").exists()
