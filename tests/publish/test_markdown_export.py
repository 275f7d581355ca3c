"""Markdown export: the golden files, the front matter, the line escape and the round trip.

The round trip is the promise: ``coauthor import book.md`` of an export gives back the book's
chapters, titles and exact texts, and no chapter for the front matter or the foreword.

Reference files live in ``tests/reference/markdown``. A missing one is written and the test
fails asking for a review; ``COAUTHOR_UPDATE_REFERENCE=1`` rewrites them all.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from golden import assert_matches_reference, fixed_time_sample, load_project, reference_problem
from hypothesis import given
from hypothesis import strategies as st

from coauthor.core.book import BookMeta
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.importers.textfiles import (
    escape_export_line,
    parse_text_file,
    unescape_export_line,
)
from coauthor.publish.document import BookDocument, clean_markdown_text, prepare_export
from coauthor.publish.markdown_export import export_markdown, render_markdown, yaml_string

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference" / "markdown"


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tide_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return fixed_time_sample(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def tide_document(tide_project: Project) -> BookDocument:
    return prepare_export(tide_project)


def _run_cli(*args: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "coauthor.cli", *map(str, args)],
        capture_output=True,
        timeout=120,
        check=False,
    )


def _chapters(project: Project) -> list[tuple[str, str]]:
    return [(chapter.title, chapter.text.text) for chapter in project.chapters]


def _parsed(path: Path) -> list[tuple[str, str]]:
    return [(c.title, c.text) for c in parse_text_file(path).chapters]


def _book(chapters: list[tuple[str, str]], meta: BookMeta | None = None) -> Project:
    project = Project(meta or BookMeta(title="Hostile", author="Tester"))
    for title, text in chapters:
        chapter = project.add_chapter(title)
        if text:
            project.insert(chapter, 0, text, Origin.HUMAN)
    return project


# -- golden files ---------------------------------------------------------------------------


def test_one_file_matches_the_reference(tide_document: BookDocument, tmp_path: Path) -> None:
    path = export_markdown(tide_document, tmp_path / "book.md")
    assert_matches_reference(path.read_text(encoding="utf-8"), REFERENCE / "sample.md")


def test_annotated_file_matches_the_reference(tide_document: BookDocument, tmp_path: Path) -> None:
    path = export_markdown(tide_document, tmp_path / "book.md", annotate=True)
    text = path.read_text(encoding="utf-8")
    assert '<span data-origin="ai" data-generation="g1">' in text
    assert '<span data-origin="imported" data-import="i1">' in text
    assert '<span data-origin="pasted">' in text
    assert "annotated: true" in text
    assert_matches_reference(text, REFERENCE / "sample-annotated.md")


def test_folder_matches_the_reference(tide_document: BookDocument, tmp_path: Path) -> None:
    folder = export_markdown(tide_document, tmp_path / "book", folder=True)
    assert folder == tmp_path / "book"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["00-foreword.md", "01-the-keeper.md", "02-the-almanac.md", "03-the-storm.md"]
    problems = [
        reference_problem((folder / name).read_text(encoding="utf-8"), REFERENCE / "folder" / name)
        for name in names
    ]
    if any(problems):
        pytest.fail("\n".join(p for p in problems if p))


# -- front matter ---------------------------------------------------------------------------


def _front_matter(text: str) -> list[str]:
    assert text.startswith("---\n")
    return text[4:].split("\n---\n", 1)[0].split("\n")


def test_front_matter_states_the_disclosure(tide_document: BookDocument) -> None:
    lines = _front_matter(render_markdown(tide_document))
    values = {
        key: json.loads(value) if value.startswith('"') else value
        for key, value in (line.split(": ", 1) for line in lines if ": " in line and line[0] != " ")
    }
    assert values["coauthor_export"] == "1"
    assert values["generated_by"] == "Coauthor"
    assert values["title"] == "The Tide Clock"
    assert values["subtitle"] == "A sample book"
    assert values["ai_disclosure"] == tide_document.disclosure
    assert values["ai_category"] == "Some sections AI-generated, with minimal editing"
    assert values["foreword_title"] == "How this book was written"
    assert 0 < float(values["ai_share"]) < 1
    assert '  - "Ada Marlowe"' in lines
    assert '  - name: "SmolLM2-135M-Instruct"' in lines
    assert '    provider: "embedded"' in lines


HOSTILE_STRINGS = [
    "",
    "plain",
    "Tom & Jerry <b>\"quoted\"</b> 'single'",
    "line one\nline two\r\nthree\rfour",
    'back\\slash \\" \\n literal',
    "tab\there, nul\x00, bell\x07, escape\x1b, del\x7f, nel\x85",
    "line\u2028separator\u2029paragraph \ufeff bom",
    "key: value # not a comment - [not, a, list] {not: a map} *not an alias &anchor !tag",
    "---\n...\n%YAML",
    "emoji 👩‍👩‍👧 and CJK 春眠不觉晓 and RTL \u202eabc\u202c",
]


@pytest.mark.parametrize("value", HOSTILE_STRINGS)
def test_yaml_strings_are_json_and_round_trip(value: str) -> None:
    quoted = yaml_string(value)
    assert "\n" not in quoted
    assert "\r" not in quoted
    assert json.loads(quoted) == value


def test_front_matter_parses_as_yaml_when_a_yaml_reader_is_installed() -> None:
    yaml = pytest.importorskip("yaml")
    meta = BookMeta(title=HOSTILE_STRINGS[2], author=HOSTILE_STRINGS[3], company=HOSTILE_STRINGS[7])
    project = _book([(HOSTILE_STRINGS[4], "x")], meta)
    text = render_markdown(prepare_export(project))
    data = yaml.safe_load(text.split("\n---\n", 1)[0][4:])
    # The book's details and titles lost their control characters when they entered the book.
    assert data["authors"] == [project.meta.author]
    assert data["publisher"] == project.meta.company
    assert data["chapter_titles"] == [project.chapters[0].title]  # as the book holds it
    assert data["title"] == project.meta.title


# -- the line escape ------------------------------------------------------------------------

SPECIAL_LINES = [
    "# Not a chapter",
    "#",
    "#\ttab",
    "  # indented",
    "\\# already escaped",
    "\\\\# twice",
    "   \\# indented escaped",
    "===",
    "= ",
    "```",
    "```python",
    "~~~",
    "   ~~~ tilde",
    "\\```",
]
ORDINARY_LINES = [
    "## A scene",
    "#hashtag",
    "    # four spaces is code, not a heading",
    "\\ backslash space",
    "\\",
    "a # in the middle",
    "==x",
    "``inline``",
    "",
    "   ",
]


@pytest.mark.parametrize("line", SPECIAL_LINES)
def test_structural_lines_are_escaped_and_unescaped(line: str) -> None:
    escaped = escape_export_line(line)
    assert escaped != line
    assert escaped.lstrip(" ").startswith("\\")
    assert unescape_export_line(escaped) == line


@pytest.mark.parametrize("line", ORDINARY_LINES)
def test_ordinary_lines_are_left_alone(line: str) -> None:
    assert escape_export_line(line) == line
    assert unescape_export_line(line) == line


@given(st.text(alphabet=" \t#=`~\\ax\u00e9", max_size=12))
def test_the_escape_is_reversible(line: str) -> None:
    assert unescape_export_line(escape_export_line(line)) == line


# -- the round trip -------------------------------------------------------------------------


def test_sample_round_trips_through_coauthor_import(
    tide_project: Project, tide_document: BookDocument, tmp_path: Path
) -> None:
    exported = export_markdown(tide_document, tmp_path / "book.md")
    target = tmp_path / "again.coauthor"

    result = _run_cli("import", exported, "--into", target)

    assert result.returncode == 0, result.stderr.decode()
    again = load_project(target)
    assert _chapters(again) == _chapters(tide_project)
    assert "How this book was written" not in [c.title for c in again.chapters]
    (record,) = again.imports.values()
    assert record.details["coauthor_export"] == 1
    assert "ai_disclosure:" in str(record.details["front_matter"])
    assert "takes full and final responsibility" in str(record.details["foreword"])


def test_folder_round_trips_through_coauthor_import(
    tide_project: Project, tide_document: BookDocument, tmp_path: Path
) -> None:
    folder = export_markdown(tide_document, tmp_path / "book", folder=True)
    target = tmp_path / "again.coauthor"

    result = _run_cli("import", *sorted(folder.glob("*.md")), "--into", target)

    assert result.returncode == 0, result.stderr.decode()
    assert _chapters(load_project(target)) == _chapters(tide_project)


def test_each_chapter_is_read_as_it_was_after_a_round_trip(tmp_path: Path) -> None:
    """A plain chapter's asterisks stay characters after export and import; a Markdown
    chapter's stay markup: the front matter says which is which."""
    project = _book([("Written", "She was *seven*.")])
    plain = project.add_chapter("Imported notes", markup="plain")
    project.insert(plain, 0, "5 * 3 = 15, and *this* is literal.", Origin.HUMAN)
    exported = export_markdown(prepare_export(project), tmp_path / "book.md")
    assert 'chapter_markup:\n  - "markdown"\n  - "plain"' in exported.read_text(encoding="utf-8")
    target = tmp_path / "again.coauthor"

    result = _run_cli("import", exported, "--into", target)

    assert result.returncode == 0, result.stderr.decode()
    again = load_project(target)
    assert _chapters(again) == _chapters(project)
    assert [c.markup for c in again.chapters] == ["markdown", "plain"]
    folder = export_markdown(prepare_export(project), tmp_path / "folder", folder=True)
    target = tmp_path / "from-folder.coauthor"
    result = _run_cli("import", *sorted(folder.glob("*.md")), "--into", target)
    assert result.returncode == 0, result.stderr.decode()
    assert [c.markup for c in load_project(target).chapters] == ["markdown", "plain"]


def test_export_without_md_suffix_is_still_recognised(
    tide_project: Project, tide_document: BookDocument, tmp_path: Path
) -> None:
    exported = export_markdown(tide_document, tmp_path / "book.txt")
    assert _parsed(exported) == _chapters(tide_project)


def test_pride_and_prejudice_round_trips(pride_project: Project, tmp_path: Path) -> None:
    exported = export_markdown(prepare_export(pride_project), tmp_path / "pride.md")
    parsed = _parsed(exported)
    assert len(parsed) == 61
    assert parsed == _chapters(pride_project)


def test_pride_and_prejudice_folder_round_trips(pride_project: Project, tmp_path: Path) -> None:
    folder = export_markdown(prepare_export(pride_project), tmp_path / "pride", folder=True)
    files = sorted(folder.glob("*.md"))
    assert len(files) == 62
    assert files[0].name == "00-foreword.md"
    assert files[1].name == "01-chapter-1.md"
    assert [c for f in files for c in _parsed(f)] == _chapters(pride_project)


HOSTILE_CHAPTERS = [
    ("# Looks like a heading", "# Not a chapter\n\nText after it."),
    ("Hash", "#\n#\tTab\n\\# escaped already\n\\\\# twice\n## a scene stays"),
    ("Setext", "A line\n===\n\n=\nB line\n---\n  ==="),
    ("Fences", "```\n# inside a fence\n```\n~~~\nunclosed fence\n   ```js"),
    ("Spaces", "   leading spaces\ntrailing spaces   \n\t\ttabs\t"),
    ("Blank ends", "\n\n\nblank lines at the start and end\n\n\n"),
    ("Only blank lines", "\n\n\n"),
    ("", "a chapter without a title"),
    ("Empty chapter", ""),
    ("  Title with spaces  ", "text"),
    ("C# and F# #", "title ends in hashes"),
    ("Title\nwith a line break", "text"),
    ("Title with <b>&amp;</b> \"quotes\" 'single' | pipe", "text"),
    ("How this book was written", "a chapter named like the foreword"),
    ("Controls", "nul\x00 bell\x07 esc\x1b del\x7f nel\x85 ff\x0c vt\x0b bom\ufeff"),
    ("Scripts", "emoji 👩‍👩‍👧 CJK 春眠不觉晓 RTL \u202eabc\u202c\u2066iso\u2069\u2028ls"),
    ("Front matter lookalike", "---\ncoauthor_export: 1\n---\n# x"),
    ("Last", "no newline at the end"),
]


def _as_exported(project: Project) -> list[tuple[str, str]]:
    """Each chapter's title and text as the Markdown export carries it: characters a Markdown
    file cannot carry (NUL, C0 controls but tab and line breaks) as U+FFFD, one for one."""
    return [(c.title, clean_markdown_text(c.text.text)) for c in project.chapters]


def test_hostile_text_round_trips(tmp_path: Path) -> None:
    project = _book(HOSTILE_CHAPTERS)
    exported = export_markdown(prepare_export(project), tmp_path / "hostile.md")
    assert _parsed(exported) == _as_exported(project)
    assert "\x00" not in exported.read_text(encoding="utf-8")


def test_hostile_text_round_trips_through_the_cli(tmp_path: Path) -> None:
    project = _book(HOSTILE_CHAPTERS)
    exported = export_markdown(prepare_export(project), tmp_path / "hostile.md")
    target = tmp_path / "again.coauthor"
    result = _run_cli("import", exported, "--into", target)
    assert result.returncode == 0, result.stderr.decode()
    # Titles lost their control characters when the book was made (a line break became a
    # space); the texts are exact but for what Markdown cannot carry (NUL... as U+FFFD).
    assert _chapters(load_project(target)) == _as_exported(project)
    assert [t for _, t in _chapters(load_project(target))] == [
        clean_markdown_text(t) for _, t in HOSTILE_CHAPTERS
    ]


def test_hostile_folder_round_trips(tmp_path: Path) -> None:
    project = _book(HOSTILE_CHAPTERS)
    folder = export_markdown(prepare_export(project), tmp_path / "hostile", folder=True)
    files = sorted(folder.glob("*.md"))
    assert [c for f in files for c in _parsed(f)] == _as_exported(project)


def test_headings_in_the_export_are_only_the_foreword_and_the_chapters(tmp_path: Path) -> None:
    project = _book(HOSTILE_CHAPTERS)
    text = render_markdown(prepare_export(project))
    body = text.split("\n---\n", 1)[1]
    headings = [line for line in body.split("\n") if re.match(r"^ {0,3}#(\s|$)", line)]
    assert len(headings) == len(HOSTILE_CHAPTERS) + 1
    fences = [line for line in body.split("\n") if re.match(r"^ {0,3}(```|~~~)", line)]
    assert fences == []


def test_a_long_paragraph_round_trips(tmp_path: Path) -> None:
    paragraph = " ".join(f"word{n}" for n in range(5000))
    chapters = [("Long", paragraph + "\n\n" + paragraph)]
    exported = export_markdown(prepare_export(_book(chapters)), tmp_path / "long.md")
    assert _parsed(exported) == chapters


def test_a_book_without_chapters_imports_no_chapter(tmp_path: Path) -> None:
    exported = export_markdown(prepare_export(_book([])), tmp_path / "empty.md")
    assert parse_text_file(exported).chapters == []


_TEXT = st.text(alphabet=st.sampled_from(["#", "=", "`", "~", "\\", " ", "\t", "\n", "a", "-"]))


_TITLE = st.text(alphabet=st.sampled_from(["#", "=", "`", "\\", " ", "\t", "\n", "\r", "a", '"']))


@given(st.lists(st.tuples(_TITLE, _TEXT), max_size=4))
def test_any_text_round_trips(chapters: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = _book(chapters)
        exported = export_markdown(prepare_export(project), Path(folder) / "b.md")
        assert _parsed(exported) == _chapters(project)
        assert [text for _, text in _parsed(exported)] == [text for _, text in chapters]


def test_annotations_are_off_by_default(tide_document: BookDocument) -> None:
    text = render_markdown(tide_document)
    assert "data-origin" not in text
    assert "annotated" not in text


def test_model_text_with_markup_is_exported_as_is_and_annotated_safely(tmp_path: Path) -> None:
    project = _book([("One", "Typed. ")])
    output = '<span data-origin="human">fake</span>\n# heading in model text'
    project.add_generation(Generation("g1", "embedded", "m", output=output, chapter_id=1))
    project.insert(project.chapters[0], 7, output, Origin.AI, "g1")
    project.review("g1", ReviewState.APPROVED, "Tester", shown_ms=1000)
    document = prepare_export(project)

    plain = export_markdown(document, tmp_path / "plain.md")
    assert _parsed(plain) == _chapters(project)

    annotated = render_markdown(document, annotate=True)
    assert (
        '<span data-origin="ai" data-generation="g1"><span data-origin="human">fake</span></span>'
        in annotated
    )
    assert '<span data-origin="ai" data-generation="g1"># heading in model text</span>' in annotated


# -- writing --------------------------------------------------------------------------------


def test_a_failed_write_leaves_the_old_file(
    tide_document: BookDocument, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "book.md"
    export_markdown(tide_document, target)
    before = target.read_bytes()

    def half_then_fail(path: Path, text: str) -> None:
        path.write_text(text[: len(text) // 2], encoding="utf-8")
        raise OSError("disk full")

    monkeypatch.setattr("coauthor.publish.markdown_export._write_text", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        export_markdown(_document_with_title("Another"), target)

    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.md"]


def test_a_failed_sync_leaves_the_old_file(
    tide_document: BookDocument, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "book.md"
    export_markdown(tide_document, target)
    before = target.read_bytes()

    def fail(_fd: int) -> None:
        raise OSError("I/O error")

    monkeypatch.setattr("coauthor.publish.document.os.fsync", fail)
    with pytest.raises(OSError, match="I/O error"):
        export_markdown(_document_with_title("Another"), target)

    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.md"]


def _document_with_title(title: str) -> BookDocument:
    return prepare_export(_book([("One", "Some text.")], BookMeta(title=title, author="A")))


def test_folder_export_removes_its_own_stale_files_only(tmp_path: Path) -> None:
    folder = tmp_path / "book"
    export_markdown(prepare_export(_book([("Old title", "x"), ("Two", "y")])), folder, folder=True)
    (folder / "notes.md").write_text("# My notes\n", encoding="utf-8")
    (folder / "cover.png").write_bytes(b"\x89PNG")

    export_markdown(prepare_export(_book([("New title", "x")])), folder, folder=True)

    assert sorted(p.name for p in folder.iterdir()) == [
        "00-foreword.md",
        "01-new-title.md",
        "cover.png",
        "notes.md",
    ]


def test_progress_is_reported(tide_document: BookDocument, tmp_path: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    export_markdown(tide_document, tmp_path / "b.md", progress=lambda *a: calls.append(a))
    assert calls[-1][0] == calls[-1][1] == 4
    assert [done for done, _, _ in calls] == sorted(done for done, _, _ in calls)


def test_prompts_do_not_leak_into_markdown(tide_document: BookDocument) -> None:
    """The export carries the book and its disclosure, not the generation records."""
    assert "You are a careful co-writer" not in render_markdown(tide_document)
