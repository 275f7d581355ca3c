"""Importing Word documents (``coauthor.importers.docx``): the Markdown each construct becomes,
escaping, chapter splitting, Coauthor's own export read back, and hostile archives.

The documents are built here with python-docx; pandoc (scripts/system-deps.sh) checks that the
Markdown means what the document meant.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tracemalloc
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from markdown_it import MarkdownIt

from coauthor.core.book import BookMeta
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.importers import ImportFailed, apply, default_markup, parse_source
from coauthor.importers.docx import FOREWORD_TITLE, MAX_RATIO, html_to_markdown, parse_docx
from coauthor.importers.textfiles import ParsedText
from coauthor.store import ProjectFile

if TYPE_CHECKING:
    from docx.document import Document

needs_pandoc = pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc not installed")


def _document() -> Document:
    document = docx.Document()
    document.styles.add_style("Scene Break", WD_STYLE_TYPE.PARAGRAPH)
    return document


def _save(document: Document, path: Path) -> Path:
    document.save(str(path))
    return path


def _runs(document: Document, *runs: tuple[str, str], style: str | None = None) -> None:
    """A paragraph of runs, each ``(flags, text)``: ``i`` italic, ``b`` bold, ``n`` a line
    break after the run."""
    paragraph = document.add_paragraph(style=style)
    for flags, text in runs:
        run = paragraph.add_run(text)
        run.italic = "i" in flags or None
        run.bold = "b" in flags or None
        if "n" in flags:
            run.add_break()


def _harbour(path: Path) -> Path:
    """Every construct the importer converts, in two chapters."""
    document = _document()
    document.add_heading("The Harbour", level=1)
    _runs(
        document,
        ("", "She walked to the "),
        ("i", "harbour"),
        ("", " and "),
        ("b", "stopped"),
        ("", ". It was "),
        ("bi", "very"),
        ("b", " cold "),
        ("", "there."),
    )
    _runs(document, ("n", "The first line"), ("", "and the second."))
    document.add_paragraph("The sea, she wrote,", style="Quote")
    _runs(document, ("", "is "), ("i", "never"), ("", " still."), style="Quote")
    document.add_paragraph("salt", style="List Bullet")
    document.add_paragraph("rope", style="List Bullet")
    document.add_paragraph("first", style="List Number")
    document.add_paragraph("second", style="List Number")
    document.add_paragraph("#", style="Scene Break")
    document.add_paragraph("Later.")
    document.add_paragraph("⁂")
    document.add_paragraph("Much later.")
    document.add_heading("Night", level=1)
    document.add_paragraph("It was dark.")
    document.add_heading("A scene", level=2)
    document.add_paragraph("Stars.")
    return _save(document, path)


HARBOUR = (
    "She walked to the *harbour* and **stopped**. It was ***very* cold** there.\n\n"
    "The first line\\\nand the second.\n\n"
    "> The sea, she wrote,\n>\n> is *never* still.\n\n"
    "- salt\n- rope\n\n"
    "1. first\n2. second\n\n"
    "* * *\n\nLater.\n\n* * *\n\nMuch later."
)


def test_word_formatting_becomes_canonical_markdown(tmp_path: Path) -> None:
    parsed = parse_docx(_harbour(tmp_path / "harbour.docx"))

    assert parsed.kind == "docx"
    assert [c.title for c in parsed.chapters] == ["The Harbour", "Night"]
    assert parsed.chapters[0].text == HARBOUR
    assert parsed.chapters[1].text == "It was dark.\n\n# A scene\n\nStars."
    assert default_markup(parsed) == "markdown"


def _plain_text(markdown: str) -> str:
    """The text CommonMark reads in ``markdown``, failing on anything but paragraphs."""
    lines = []
    for token in MarkdownIt("commonmark").parse(markdown):
        assert token.type in ("paragraph_open", "paragraph_close", "inline"), token.type
        if token.type == "inline":
            for child in token.children or []:
                assert child.type in ("text", "hardbreak"), (child.type, markdown)
            lines.append(
                "".join(
                    "\n" if child.type == "hardbreak" else child.content
                    for child in token.children or []
                )
            )
    return "\n\n".join(lines)


LITERAL = [
    "# not a heading",
    "#hashtag stays",
    "> not a quotation",
    "- not a list",
    "+ nor this",
    "* nor this",
    "1984. A year, not a list.",
    "3) nor this",
    "---",
    "- - -",
    "===",
    "~~~",
    "```",
    "*stars*, **more**, _under_ and __twice__ and snake_case",
    "`ticks` and [brackets](link) and ![image](x.png)",
    "<b>tag</b>, <https://example.com> and &amp; &#42; but Smith & Sons",
    "a back\\slash\\",
    "    four spaces of indent",
    "-30 degrees, -- a dash",
]


def test_text_that_looks_like_markup_is_escaped_and_reads_back_as_written(
    tmp_path: Path,
) -> None:
    document = _document()
    for line in LITERAL:
        document.add_paragraph(line)
    _runs(document, ("n", "line one"), ("n", "# line two"), ("", "1. line three"))
    parsed = parse_docx(_save(document, tmp_path / "literal.docx"))

    [chapter] = parsed.chapters
    assert chapter.title == "literal"
    assert chapter.text.split("\n\n")[:8] == [
        "\\# not a heading",
        "#hashtag stays",
        "\\> not a quotation",
        "\\- not a list",
        "\\+ nor this",
        "\\* nor this",
        "1984\\. A year, not a list.",
        "3\\) nor this",
    ]
    expected = [line.strip() for line in LITERAL] + ["line one\n# line two\n1. line three"]
    assert _plain_text(chapter.text) == "\n\n".join(expected)


def test_an_empty_scene_break_paragraph_is_a_scene_break(tmp_path: Path) -> None:
    document = _document()
    document.add_paragraph("Before.")
    document.add_paragraph("", style="Scene Break")
    document.add_paragraph("After.")
    document.add_paragraph("")
    document.add_paragraph("***")
    parsed = parse_docx(_save(document, tmp_path / "breaks.docx"))
    assert parsed.chapters[0].text == "Before.\n\n* * *\n\nAfter.\n\n* * *"


def test_the_highest_heading_level_present_splits_and_text_before_it_is_a_chapter(
    tmp_path: Path,
) -> None:
    document = _document()
    document.add_paragraph("A note before the story.")
    document.add_heading("One", level=2)
    document.add_paragraph("First.")
    document.add_heading("Detail", level=3)
    document.add_paragraph("More.")
    document.add_heading("Two", level=2)
    document.add_paragraph("Second.")
    parsed = parse_docx(_save(document, tmp_path / "essay.docx"))

    assert [(c.title, c.text) for c in parsed.chapters] == [
        ("essay", "A note before the story."),
        ("One", "First.\n\n# Detail\n\nMore."),
        ("Two", "Second."),
    ]


def _pandoc_json(args: list[str], data: bytes) -> list[Any]:
    done = subprocess.run(
        ["pandoc", *args, "-t", "json"], input=data, capture_output=True, check=True
    )
    return json.loads(done.stdout)["blocks"]


def _shape(blocks: list[Any]) -> list[Any]:
    """The structure that matters: paragraphs (tight or loose), quotations, lists, rules and
    emphasis, with the text; a paragraph reading ``* * *``, ``#`` or ``⁂`` counts as a rule."""
    shaped: list[Any] = []
    for block in blocks:
        kind, content = block["t"], block.get("c")
        if kind in ("Para", "Plain"):
            inlines = _inlines(content)
            scene_break = inlines in (["* * *"], ["#"], ["⁂"])
            shaped.append(["rule"] if scene_break else ["para", *inlines])
        elif kind == "BlockQuote":
            shaped.append(["quote", *_shape(content)])
        elif kind == "BulletList":
            shaped.append(["bullets", *[_shape(item) for item in content]])
        elif kind == "OrderedList":
            shaped.append(["numbers", *[_shape(item) for item in content[1]]])
        elif kind == "HorizontalRule":
            shaped.append(["rule"])
        elif kind == "Header":
            shaped.append(["heading", content[0], *_inlines(content[2])])
        else:
            shaped.append([kind])
    return shaped


def _inlines(inlines: list[Any]) -> list[Any]:
    out: list[Any] = []
    for inline in inlines:
        kind, content = inline["t"], inline.get("c")
        if kind in ("Str", "Space", "SoftBreak", "LineBreak"):
            text = {"Space": " ", "SoftBreak": " ", "LineBreak": "\n"}.get(kind, str(content))
            if out and isinstance(out[-1], str):
                out[-1] += text
            else:
                out.append(text)
        elif kind in ("Emph", "Strong"):
            out.append([kind, *_inlines(content)])
        else:
            out.append([kind])
    return out


@needs_pandoc
def test_pandoc_reads_the_markdown_as_it_reads_the_word_document(tmp_path: Path) -> None:
    source = _harbour(tmp_path / "harbour.docx")
    parsed = parse_docx(source)
    markdown = "\n\n".join(f"# {c.title}\n\n{c.text}" for c in parsed.chapters)

    from_markdown = _shape(_pandoc_json(["-f", "commonmark"], markdown.encode()))
    from_word = _shape(_pandoc_json(["-f", "docx"], source.read_bytes()))

    # pandoc reads each chapter's own headings one level down from the chapter's
    for block in from_markdown:
        if block[0] == "heading" and block[2] == "A scene":
            block[1] = 2
    assert from_markdown == from_word
    assert ["Emph", "harbour"] in from_word[1]
    assert [
        "quote",
        ["para", "The sea, she wrote,"],
        ["para", "is ", ["Emph", "never"], " still."],
    ] in from_word


def _foreword_document(path: Path, category: str) -> Path:
    """A document laid out as Coauthor's export lays one out."""
    document = _document()
    document.core_properties.category = category
    document.core_properties.title = "Harbour Lights"
    document.add_paragraph("Ann Author")
    document.add_paragraph("Harbour Lights")
    document.add_heading(FOREWORD_TITLE, level=1)
    document.add_paragraph("This book was written with a language model.")
    document.add_heading("One", level=1)
    document.add_paragraph("The *first* chapter.")
    document.add_heading("Two", level=1)
    document.add_paragraph("The second.")
    return _save(document, path)


def test_a_coauthor_export_keeps_its_title_page_and_foreword_out_of_the_chapters(
    tmp_path: Path,
) -> None:
    parsed = parse_docx(_foreword_document(tmp_path / "export.docx", "coauthor-export"))

    assert [(c.title, c.text) for c in parsed.chapters] == [
        ("One", "The \\*first\\* chapter."),
        ("Two", "The second."),
    ]
    assert parsed.details["title_page"] == "Ann Author\n\nHarbour Lights"
    assert parsed.details["foreword"] == "This book was written with a language model."
    assert parsed.details["properties"] == {"title": "Harbour Lights", "author": "python-docx"}


def test_any_other_document_keeps_its_first_pages_and_that_heading_as_chapters(
    tmp_path: Path,
) -> None:
    parsed = parse_docx(_foreword_document(tmp_path / "mine.docx", "memoir"))

    assert [c.title for c in parsed.chapters] == ["mine", FOREWORD_TITLE, "One", "Two"]
    assert "foreword" not in parsed.details


def test_the_foreword_title_is_the_exports(tmp_path: Path) -> None:
    from coauthor.publish.document import FOREWORD_TITLE as EXPORTED

    assert FOREWORD_TITLE == EXPORTED


CANONICAL = {
    "The Harbour": (
        "She walked to the *harbour* and **stopped**. It was ***very* cold** there.\n\n"
        "> The sea, she wrote, is *never* still.\n>\n> Second quoted paragraph.\n\n"
        "- salt\n- rope\n- *tar*\n\n1. first\n2. second\n\n* * *\n\n"
        "A line\\\nbroken here. And \\*stars\\*.\n\n1984\\. A year."
    ),
    "Night": (
        "It was dark, the `code` and [a link](https://example.com).\n\n"
        "- outer\n  - inner\n- back\n\n# A sub heading\n\n```\ncode *x*\n  indented\n```\n\nDone."
    ),
    "Empty": "",
}


@pytest.mark.parametrize("style", ["manuscript", "book"])
def test_a_docx_exported_by_coauthor_reimports_to_the_same_chapters(
    tmp_path: Path, style: str
) -> None:
    from coauthor.publish.document import prepare_export
    from coauthor.publish.docx_export import export_docx

    project = Project(BookMeta(title="Harbour Lights", author="Ann Author"))
    for title, text in CANONICAL.items():
        chapter = project.add_chapter(title, markup="markdown")
        project.insert(chapter, 0, text, Origin.HUMAN)
    target = export_docx(prepare_export(project), tmp_path / "book.docx", style=style)

    parsed = parse_source(target)

    assert isinstance(parsed, ParsedText)
    assert {c.title: c.text for c in parsed.chapters} == CANONICAL
    assert [c.title for c in parsed.chapters] == list(CANONICAL)
    assert "Harbour Lights" in str(parsed.details["title_page"])
    assert "language model" in str(parsed.details["foreword"])
    assert "messages" not in parsed.details  # every style of the export is understood


def test_an_import_is_markdown_imported_text_with_a_record(tmp_path: Path) -> None:
    source = _harbour(tmp_path / "harbour.docx")
    document = docx.Document(str(source))
    document.styles.add_style("Fancy", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("Odd.", style="Fancy")
    document.save(str(source))
    project = Project(BookMeta(title="Book"))

    summary = apply(project, parse_source(source), own_writing=True)

    chapters = summary.chapters
    assert [c.markup for c in chapters] == ["markdown", "markdown"]
    assert chapters[0].text.text == HARBOUR
    for chapter in chapters:
        assert {o: n for o, n in chapter.text.counts().items() if n} == {
            Origin.IMPORTED: len(chapter.text.text)
        }
    [record] = project.imports.values()
    assert record.kind == "docx"
    assert record.own_writing is True
    assert record.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert record.details["messages"] == [
        "warning: Unrecognised paragraph style: Fancy (Style ID: Fancy)"
    ]
    assert "Unrecognised" not in "".join(c.text.text for c in chapters)


def test_the_import_command_reads_a_docx(tmp_path: Path, cli) -> None:
    source = _harbour(tmp_path / "harbour.docx")
    target = tmp_path / "harbour.coauthor"

    result = cli("import", source, "--into", target, "--own-writing")

    assert result.returncode == 0, result.stderr
    assert result.stderr.decode().startswith(f"Imported {source} as 2 chapters")
    project_file = ProjectFile.open(target, readonly=True)
    try:
        project = project_file.load()
    finally:
        project_file.close()
    assert [(c.title, c.markup) for c in project.chapters] == [
        ("The Harbour", "markdown"),
        ("Night", "markdown"),
    ]
    assert project.chapters[0].text.text == HARBOUR
    assert [r.own_writing for r in project.imports.values()] == [True]


def test_headings_lists_and_footnote_links_from_other_writers(tmp_path: Path) -> None:
    """HTML that mammoth writes for things python-docx cannot easily make."""
    html = (
        '<p>Text<sup><a href="#footnote-1" id="footnote-ref-1">[1]</a></sup> '
        '<a href="#anchor">inside</a> <img src="" /></p>'
        "<ol><li>one<p>more of one</p></li><li>two<ol><li>two a</li></ol></li></ol>"
        '<ol><li id="footnote-1"><p>A note. <a href="#footnote-ref-1">↑</a></p></li></ol>'
        "<h2>Issue #</h2><pre>code *here*<br />```</pre>"
        "<p><strong>bold </strong>then<em> spaced </em>end <em>a</em><em>b</em></p>"
    )
    assert html_to_markdown(html) == (
        "Text\\[1] inside\n\n"
        "1. one\n\n   more of one\n2. two\n   1. two a\n\n"
        "1. A note.\n\n"
        "## Issue \\#\n\n"
        "````\ncode *here*\n```\n````\n\n"
        "**bold** then *spaced* end *ab*"
    )


# -- hostile files ---------------------------------------------------------------------------


def _refused(path: Path) -> str:
    with pytest.raises(ImportFailed) as caught:
        parse_source(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def _rebuilt(source: Path, target: Path, **replace: bytes | None) -> Path:
    """``source`` with entries replaced (``None``: left out); keys use ``__`` for ``/``."""
    changes = {k.replace("__", "/").replace("_DOT_", "."): v for k, v in replace.items()}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for name in old.namelist():
            data = changes[name] if name in changes else old.read(name)
            if data is not None:
                new.writestr(name, data)
    return target


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as entry:
            chunk = b"\0" * 2**20
            for _ in range(64):
                entry.write(chunk)
    assert bomb.stat().st_size < 200_000

    tracemalloc.start()
    try:
        message = _refused(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert "as a zip bomb is and no document is; it is refused unread" in message
    ratio = int(message.split(" is compressed ")[1].split(" to one")[0].replace(",", ""))
    assert ratio > MAX_RATIO
    assert peak < 5 * 2**20  # the 64 MB were never unpacked


def _declaring(path: Path, size: int) -> Path:
    """A small zip whose directory claims ``size`` unpacked bytes for its document."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
    data = bytearray(path.read_bytes())
    directory = data.rindex(b"PK\x01\x02")
    data[directory + 24 : directory + 28] = size.to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def test_an_entry_claiming_more_than_the_bound_is_refused_unread(tmp_path: Path) -> None:
    message = _refused(_declaring(tmp_path / "huge.docx", 300 * 2**20))
    assert "would unpack into more than 256 MB" in message


def test_a_text_file_renamed_to_docx_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "notes.docx"
    source.write_text("Just some notes.\n", encoding="utf-8")
    assert _refused(source) == (
        f"{source} is not a .docx file: it is not a zip archive, as a .docx file is "
        "(if it is text, give it the extension .txt or .md)"
    )


def test_an_old_word_document_is_named_as_such(tmp_path: Path) -> None:
    source = tmp_path / "old.docx"
    source.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    assert "old Word 97-2003 document" in _refused(source)


def test_a_truncated_document_is_refused(tmp_path: Path) -> None:
    whole = _harbour(tmp_path / "whole.docx").read_bytes()
    source = tmp_path / "cut.docx"
    source.write_bytes(whole[: len(whole) // 2])
    assert "is damaged or incomplete" in _refused(source)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "empty.docx"
    source.write_bytes(b"")
    assert _refused(source) == f"{source} is empty"


def test_invalid_xml_is_refused(tmp_path: Path) -> None:
    good = _harbour(tmp_path / "good.docx")
    bad = _rebuilt(good, tmp_path / "bad.docx", word__document_DOT_xml=b"<w:document><oops")
    assert "is damaged: its document cannot be read" in _refused(bad)


def test_a_missing_document_part_is_refused(tmp_path: Path) -> None:
    good = _harbour(tmp_path / "good.docx")
    bad = _rebuilt(good, tmp_path / "hollow.docx", word__document_DOT_xml=None)
    assert "has no document part (word/document.xml)" in _refused(bad)


def test_entities_in_a_dtd_are_refused(tmp_path: Path) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<w:document>&lol2;</w:document>"
    )
    good = _harbour(tmp_path / "good.docx")
    bad = _rebuilt(good, tmp_path / "laughs.docx", word__document_DOT_xml=laughs)
    assert "declares a DTD in word/document.xml" in _refused(bad)


def test_a_refused_import_leaves_the_project_as_it_was(tmp_path: Path, cli) -> None:
    project = tmp_path / "book.coauthor"
    assert cli("import", _harbour(tmp_path / "harbour.docx"), "--into", project).returncode == 0
    before = project.read_bytes()
    renamed = tmp_path / "renamed.docx"
    renamed.write_text("plain text", encoding="utf-8")

    result = cli("import", renamed, "--into", project)

    assert result.returncode == 1
    assert result.stderr.decode().startswith(f"coauthor: {renamed} is not a .docx file")
    assert result.stderr.decode().count("\n") == 1
    assert project.read_bytes() == before
