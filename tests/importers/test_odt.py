"""Importing OpenDocument text (``coauthor.importers.odt``) through pandoc: the Markdown it
becomes, the sentence when pandoc is missing, and files that are not text documents.

The .odt files are written by pandoc itself (scripts/system-deps.sh installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from coauthor.core.book import BookMeta
from coauthor.core.project import Project
from coauthor.importers import ImportFailed, apply, parse_source
from coauthor.importers.odt import NEEDS_PANDOC
from coauthor.importers.textfiles import ParsedText

pytestmark = pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc not installed")

SOURCE = """\
# The Harbour

She walked to the *harbour* and **stopped**.\\
Then she *turned*.

- salt
- rope

1. first
2. second

\\* \\* \\*

A \\# sign, a \\* star and 1984\\. A year.

## A scene

Waves.

# Night

It was dark.
"""


def _odt(path: Path, markdown: str = SOURCE, from_format: str = "commonmark") -> Path:
    subprocess.run(
        ["pandoc", "-f", from_format, "-t", "odt", "-o", str(path)],
        input=markdown.encode(),
        check=True,
    )
    return path


def test_an_odt_becomes_markdown_chapters(tmp_path: Path) -> None:
    source = _odt(tmp_path / "harbour.odt")

    parsed = parse_source(source)

    assert isinstance(parsed, ParsedText)
    assert [c.title for c in parsed.chapters] == ["The Harbour", "Night"]
    assert parsed.chapters[0].text == (
        "She walked to the *harbour* and **stopped**.\\\nThen she *turned*.\n\n"
        "- salt\n- rope\n\n1. first\n2. second\n\n* * *\n\n"
        "A # sign, a \\* star and 1984. A year.\n\n# A scene\n\nWaves."
    )
    assert parsed.chapters[1].text == "It was dark."
    project = Project(BookMeta(title="Book"))
    summary = apply(project, parsed, own_writing=True)
    assert [c.markup for c in summary.chapters] == ["markdown", "markdown"]
    [record] = project.imports.values()
    assert (record.kind, record.own_writing) == ("odt", True)


def test_a_footnote_follows_the_chapter_without_a_scene_break(tmp_path: Path) -> None:
    note = "# One\n\nText with a note.[^1]\n\n[^1]: The note.\n"
    source = _odt(tmp_path / "note.odt", note, from_format="markdown")  # notes: not CommonMark

    parsed = parse_source(source)

    assert isinstance(parsed, ParsedText)
    assert [(c.title, c.text) for c in parsed.chapters] == [
        ("One", "Text with a note.1\n\n1. The note.")
    ]


def test_without_pandoc_the_import_says_what_it_needs(tmp_path: Path, cli) -> None:
    source = _odt(tmp_path / "harbour.odt")
    no_pandoc = tmp_path / "bin"
    no_pandoc.mkdir()
    env = {**os.environ, "PATH": str(no_pandoc)}

    result = cli("import", source, "--into", tmp_path / "book.coauthor", env=env)

    assert result.returncode == 1
    assert result.stderr.decode() == f"coauthor: {NEEDS_PANDOC}\n"
    assert "pandoc" in NEEDS_PANDOC
    assert "save it as Word (.docx)" in NEEDS_PANDOC
    assert not (tmp_path / "book.coauthor").exists()


def test_a_spreadsheet_is_not_a_text_document(tmp_path: Path) -> None:
    source = tmp_path / "sums.odt"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")

    with pytest.raises(ImportFailed) as caught:
        parse_source(source)

    assert str(caught.value) == (
        f"{source} is not an OpenDocument text but "
        "'application/vnd.oasis.opendocument.spreadsheet'; only text documents import"
    )


def test_a_text_file_renamed_to_odt_is_refused_before_pandoc_runs(tmp_path: Path) -> None:
    source = tmp_path / "notes.odt"
    source.write_text("Just notes.\n", encoding="utf-8")

    with pytest.raises(ImportFailed) as caught:
        parse_source(source)

    assert str(caught.value).startswith(f"{source} is not a .odt file: it is not a zip archive")


def test_a_damaged_odt_is_refused_with_what_pandoc_said(tmp_path: Path) -> None:
    source = tmp_path / "hollow.odt"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<not-closed>")

    with pytest.raises(ImportFailed) as caught:
        parse_source(source)

    message = str(caught.value)
    assert message.startswith(f"{source} could not be read as an OpenDocument text (pandoc")
    assert "\n" not in message
