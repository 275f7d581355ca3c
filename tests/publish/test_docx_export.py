"""The DOCX export: manuscript and book styles, Word structures, provenance, the manifest.

A book with a Markdown chapter (emphasis, strong text, code, a quotation, two lists, a scene
break, a hard line break, a heading, a link and a passage drafted by a model) and a plain-text
chapter is exported in both styles and read back three ways: with python-docx (styles, runs,
header, margins, spacing, page breaks), with ``pandoc -f docx`` (its structure must be the one
``pandoc -f commonmark`` reads from the chapter's Markdown), and with ``coauthor verify``. The
manuscript's text structure is compared with ``tests/reference/docx/manuscript.txt``
(``COAUTHOR_UPDATE_REFERENCE=1`` rewrites it after an intended change; review the diff).
LibreOffice, when installed, must open the files.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import docx
import pytest
from books import storm_book
from docx.enum.section import WD_SECTION_START
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Inches, Pt
from docx.table import Table
from docx.text.hyperlink import Hyperlink
from docx.text.paragraph import Paragraph
from golden import assert_matches_reference

from coauthor.core.book import BookMeta
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.publish.document import FOREWORD_TITLE, BookDocument, ExportWriteError, prepare_export
from coauthor.publish.docx_export import (
    LEGEND,
    PROVENANCE_FILL,
    export_docx,
    word_count,
    word_count_text,
)
from coauthor.publish.manifest import DOCX_ENTRY
from coauthor.publish.signing import AuthorKey
from coauthor.publish.verify_export import VerifyFailed, verify_export
from coauthor.store import ProjectFile

if TYPE_CHECKING:
    from docx.document import Document
    from docx.shared import Length
    from docx.styles.style import CharacterStyle, ParagraphStyle

GOLDEN = Path(__file__).resolve().parents[1] / "reference" / "docx"
FIXED = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
ADA = AuthorKey.generate("Ada Marlowe")

STORM = """It was a *dark* and **stormy** night, with `ls -l` typed on the screen.
The wind rose.

> A quoted *line*
> goes on.

- one
- two **more**

3. three
4. four

* * *

Roses are red,\\
violets are blue.

## The harbour

See [the tide tables](https://example.com/tides) tonight.
"""
MODEL = "\n\nThe storm *broke* at last.\n"
PLAIN = "Line one\nline two *not emphasis*\n\nA second paragraph."


def storm_project() -> Project:
    return storm_book(STORM, MODEL, PLAIN)


@pytest.fixture(scope="module")
def storm() -> BookDocument:
    return replace(prepare_export(storm_project()), signer=ADA)


@pytest.fixture(scope="module")
def exports(storm: BookDocument, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("docx")
    return {
        style: export_docx(storm, folder / f"{style}.docx", style=style, modified=FIXED)
        for style in ("manuscript", "book")
    }


def name_of(item: Any) -> str:
    """The name of a paragraph's or run's style."""
    style = item.style
    assert style is not None
    return str(style.name)


def pstyle(document: Document, name: str) -> ParagraphStyle:
    return cast("ParagraphStyle", document.styles[name])


def inches(length: Length | None) -> float:
    assert length is not None
    return length.inches


def opened(path: Path) -> Document:
    return docx.Document(str(path))


def body(document: Document) -> list[Paragraph]:
    return [p for p in document.iter_inner_content() if isinstance(p, Paragraph)]


def section(document: Document, title: str) -> list[Paragraph]:
    """The paragraphs after the ``Heading 1`` ``title``, up to the next ``Heading 1``."""
    paragraphs = body(document)
    start = next(
        n for n, p in enumerate(paragraphs) if name_of(p) == "Heading 1" and p.text == title
    )
    out = []
    for paragraph in paragraphs[start + 1 :]:
        if name_of(paragraph) == "Heading 1":
            break
        out.append(paragraph)
    return out


def runs(paragraph: Paragraph) -> list[Any]:
    found = []
    for item in paragraph.iter_inner_content():
        found.extend(item.runs if isinstance(item, Hyperlink) else [item])
    return found


def shaded(run: Any) -> bool:
    shading = run._r.find(f"{qn('w:rPr')}/{qn('w:shd')}")
    return shading is not None and shading.get(qn("w:fill")) == PROVENANCE_FILL


# -- the manuscript ---------------------------------------------------------------------------------


def test_the_manuscript_is_times_12_double_spaced_with_one_inch_margins(
    exports: dict[str, Path],
) -> None:
    document = opened(exports["manuscript"])
    page = document.sections[0]
    assert (page.page_width, page.page_height) == (Inches(8.5), Inches(11))
    for margin in (page.left_margin, page.right_margin, page.top_margin, page.bottom_margin):
        assert margin == Inches(1)
    normal = pstyle(document, "Normal")
    assert normal.font.name == "Times New Roman"
    assert normal.font.size == Pt(12)
    fmt = normal.paragraph_format
    assert fmt.line_spacing_rule is WD_LINE_SPACING.DOUBLE
    assert fmt.first_line_indent == Inches(0.5)
    assert (fmt.space_before, fmt.space_after) == (Pt(0), Pt(0))
    paragraphs = section(document, "The Storm")
    assert name_of(paragraphs[0]) == "Normal"  # the first paragraph is indented too
    assert all(p.paragraph_format.line_spacing is None for p in paragraphs)  # no overrides


def test_the_manuscript_title_page_and_running_header(
    storm: BookDocument, exports: dict[str, Path]
) -> None:
    document = opened(exports["manuscript"])
    title_page = body(document)[:3]
    words = word_count(storm)
    assert title_page[0].text == f"Ada Marlowe\t{word_count_text(words)}"
    assert title_page[1].text == "The Tide Clock"
    assert name_of(title_page[1]) == "Title"
    assert title_page[2].text == "by Ada Marlowe"
    for centred in title_page[1:]:
        assert WD_ALIGN_PARAGRAPH.CENTER in (
            centred.alignment,
            pstyle(document, name_of(centred)).paragraph_format.alignment,
        )
    assert inches(title_page[1].paragraph_format.space_before) >= 3  # about halfway down
    page = document.sections[0]
    assert page.different_first_page_header_footer  # no header on the title page
    assert all(not p.text for p in page.first_page_header.paragraphs)
    header = page.header.paragraphs[0]
    assert header.alignment is WD_ALIGN_PARAGRAPH.RIGHT
    assert header.text.startswith("Marlowe / The Tide Clock / ")
    codes = [e.text for e in header._p.iter(qn("w:instrText"))]
    assert [c.strip() for c in codes] == ["PAGE"]


def test_the_word_count_is_rounded_as_manuscripts_round_it(storm: BookDocument) -> None:
    assert word_count_text(1) == "1 word"
    assert word_count_text(64) == "64 words"
    assert word_count_text(12_349) == "about 12,300 words"
    assert word_count_text(12_350) == "about 12,400 words"
    assert word_count_text(121_533) == "about 122,000 words"
    # The words of the chapters as shown: not the titles, the foreword or the scene break.
    shown = "It was a dark and stormy night, with ls -l typed on the screen. The wind rose."
    assert word_count(storm) == (
        len(shown.split())
        + len(["A", "quoted", "line", "goes", "on.", "one", "two", "more", "three", "four"])
        + len(["Roses", "are", "red,", "violets", "are", "blue.", "The", "harbour"])
        + len(["See", "the", "tide", "tables", "tonight.", "The", "storm", "broke", "at", "last."])
        + len(PLAIN.split())
    )


def test_the_foreword_comes_first_and_every_chapter_starts_a_page(
    storm: BookDocument, exports: dict[str, Path]
) -> None:
    for path in exports.values():
        document = opened(path)
        headings = [p.text for p in body(document) if name_of(p) == "Heading 1"]
        assert headings == [FOREWORD_TITLE, "The Storm", "Low Tide"]
        assert pstyle(document, "Heading 1").paragraph_format.page_break_before
        foreword = [p.text for p in section(document, FOREWORD_TITLE) if name_of(p) != "Caption"]
        assert foreword == [p for p in storm.foreword if p.strip()]
        table = next(t for t in document.iter_inner_content() if isinstance(t, Table))
        assert [c.text for c in table.rows[1].cells][:1] == ["1. The Storm"]
        assert [c.text for c in table.rows[-1].cells][:1] == ["Whole book"]
        assert len(document.sections) == 1
        assert document.sections[0].start_type is WD_SECTION_START.NEW_PAGE


def test_emphasis_strong_and_code_are_run_formatting_not_markers(
    exports: dict[str, Path],
) -> None:
    for style, path in exports.items():
        paragraphs = section(opened(path), "The Storm")
        all_runs = [run for p in paragraphs for run in runs(p)]
        assert [r.text for r in all_runs if r.italic] == ["dark", "line", "broke"]
        assert [r.text for r in all_runs if r.bold] == ["stormy", "more"]
        code = [r for r in all_runs if name_of(r) == "Verbatim Char"]
        assert [r.text for r in code] == ["ls -l"]
        assert cast("CharacterStyle", code[0].style).font.name == "Courier New"
        text = "\n".join(p.text for p in paragraphs if name_of(p) != "Scene Break")
        for marker in "*_`":
            assert marker not in text, style
        assert paragraphs[0].text == (
            "It was a dark and stormy night, with ls -l typed on the screen. The wind rose."
        )  # the soft line break is a space


def test_quotes_lists_breaks_and_headings_are_word_structures(exports: dict[str, Path]) -> None:
    paragraphs = section(opened(exports["manuscript"]), "The Storm")
    styled = [(name_of(p), p.text) for p in paragraphs]
    assert styled[1:7] == [
        ("Quote", "A quoted line goes on."),
        ("List Bullet", "one"),
        ("List Bullet", "two more"),
        ("List Number", "three"),
        ("List Number", "four"),
        ("Scene Break", "#"),
    ]
    scene = pstyle(opened(exports["manuscript"]), name_of(paragraphs[6]))
    assert scene.paragraph_format.alignment is WD_ALIGN_PARAGRAPH.CENTER
    verse = paragraphs[7]
    assert verse.text == "Roses are red,\nviolets are blue."
    assert len(verse._p.findall(f".//{qn('w:br')}")) == 1  # a Word line break
    assert (name_of(paragraphs[8]), paragraphs[8].text) == ("Heading 2", "The harbour")
    quote = pstyle(opened(exports["manuscript"]), "Quote").paragraph_format
    assert quote.left_indent == Inches(0.5)
    link = [i for i in paragraphs[9].iter_inner_content() if isinstance(i, Hyperlink)]
    assert [(h.text, h.address) for h in link] == [("the tide tables", "https://example.com/tides")]


def test_a_plain_text_chapter_keeps_its_characters_and_line_breaks(
    exports: dict[str, Path],
) -> None:
    paragraphs = section(opened(exports["manuscript"]), "Low Tide")
    assert [p.text for p in paragraphs] == [
        "Line one\nline two *not emphasis*",
        "A second paragraph.",
    ]
    assert not any(r.italic for p in paragraphs for r in runs(p))


# -- the book style ---------------------------------------------------------------------------------


def test_the_book_style(exports: dict[str, Path]) -> None:
    document = opened(exports["book"])
    normal = pstyle(document, "Normal")
    assert normal.font.name == "Georgia"
    assert normal.font.size == Pt(11)
    assert normal.paragraph_format.line_spacing == pytest.approx(1.15)
    assert normal.paragraph_format.alignment is WD_ALIGN_PARAGRAPH.JUSTIFY
    assert inches(pstyle(document, "Heading 1").font.size) >= Pt(20).inches
    paragraphs = section(document, "The Storm")
    styles = [name_of(p) for p in paragraphs]
    assert styles[0] == "First Paragraph"  # after the chapter title: not indented
    assert pstyle(document, "First Paragraph").paragraph_format.first_line_indent == 0
    breaks = [p for p in paragraphs if name_of(p) == "Scene Break"]
    assert [p.text for p in breaks] == ["* * *"]
    after = paragraphs[paragraphs.index(breaks[0]) + 1]
    assert name_of(after) == "First Paragraph"
    assert [p.text for p in body(document)[:2]] == ["The Tide Clock", "Ada Marlowe"]
    page = document.sections[0]
    assert page.different_first_page_header_footer
    assert [e.text.strip() for e in page.footer.paragraphs[0]._p.iter(qn("w:instrText"))] == [
        "PAGE"
    ]


# -- pandoc reads the chapter as CommonMark does -------------------------------------------------------


def _pandoc_blocks(args: list[str], data: bytes) -> list[Any]:
    result = subprocess.run(
        ["pandoc", *args, "-t", "json"], input=data, capture_output=True, check=True, timeout=60
    )
    return json.loads(result.stdout)["blocks"]


def _normal(node: Any, scene: str, shift: int = 0) -> Any:
    """Blocks with the differences no reader can see ironed out: a soft break is a space,
    ``Plain`` is ``Para`` (pandoc cannot tell a tight list in a DOCX), a thematic break is the
    paragraph that shows the scene break, headings lose their generated ids."""
    if isinstance(node, list):
        return [_normal(item, scene, shift) for item in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("t")
    if kind == "SoftBreak":
        return {"t": "Space"}
    if kind == "Plain":
        return {"t": "Para", "c": _normal(node["c"], scene, shift)}
    if kind == "HorizontalRule":
        return scene
    if kind == "Header":
        level, (_, classes, attrs), inlines = node["c"]
        return {"t": "Header", "c": [level - shift, ["", classes, attrs], _normal(inlines, scene)]}
    return {key: _normal(value, scene, shift) for key, value in node.items()}


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed")
@pytest.mark.parametrize("style", ["manuscript", "book"])
def test_pandoc_reads_the_chapter_as_its_markdown(exports: dict[str, Path], style: str) -> None:
    blocks = _pandoc_blocks(["-f", "docx"], exports[style].read_bytes())
    starts = [
        n for n, b in enumerate(blocks) if b["t"] == "Header" and b["c"][0] == 1
    ]  # the foreword, The Storm, Low Tide
    chapter = blocks[starts[1] + 1 : starts[2]]
    mark = "#" if style == "manuscript" else "* * *"
    scene = _pandoc_blocks(["-f", "commonmark"], ("\\" + mark).encode())[0]
    expected = _pandoc_blocks(["-f", "commonmark"], (STORM + MODEL).encode())
    # Headings inside a chapter are placed in its outline (its highest level right below the
    # chapter title's Heading 1): "## The harbour" alone is a section, Heading 2.
    top = min(b["c"][0] for b in expected if b["t"] == "Header")
    assert _normal(chapter, scene, shift=1) == _normal(expected, scene, shift=top - 1)


# -- provenance ------------------------------------------------------------------------------------


def test_provenance_styling_marks_the_model_text_and_explains_it(
    storm: BookDocument, tmp_path: Path
) -> None:
    path = export_docx(storm, tmp_path / "marked.docx", provenance_styling=True)
    document = opened(path)
    foreword = section(document, FOREWORD_TITLE)
    assert name_of(foreword[0]) == "Provenance Legend"
    assert foreword[0].text == LEGEND
    assert [r.text for r in runs(foreword[0]) if shaded(r)] == ["a light yellow background"]
    chapter = [run for p in section(document, "The Storm") for run in runs(p)]
    assert "".join(r.text for r in chapter if shaded(r)) == "The storm broke at last."
    assert [r.text for r in chapter if shaded(r) and r.italic] == ["broke"]
    verify_export(path)  # the legend is not counted as the foreword's text


def test_without_provenance_styling_nothing_is_marked(exports: dict[str, Path]) -> None:
    document = opened(exports["manuscript"])
    assert not any(shaded(r) for p in body(document) for r in runs(p))
    assert "Provenance Legend" not in [name_of(p) for p in body(document)]


def test_the_core_properties_carry_the_disclosure(
    storm: BookDocument, exports: dict[str, Path]
) -> None:
    props = opened(exports["manuscript"]).core_properties
    assert props.title == "The Tide Clock"
    assert props.author == "Ada Marlowe"
    assert props.language == "en-GB"
    assert props.category == "coauthor-export"
    assert props.comments == storm.disclosure
    assert "language model" in props.comments
    assert props.modified == FIXED
    with zipfile.ZipFile(exports["manuscript"]) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2026, 1, 1, 9, 30, 0)}
        names = archive.namelist()
    assert "docProps/thumbnail.jpeg" not in names  # the template's picture of an empty page
    assert names[-1] == DOCX_ENTRY


# -- the golden file -------------------------------------------------------------------------------


def _structure(path: Path) -> str:
    """The document as text: its page set-up, header, then one line per paragraph (its style,
    its numbering, its runs with their formatting) and per table."""
    document = opened(path)
    page = document.sections[0]
    lines = [
        (
            f"page {inches(page.page_width)}x{inches(page.page_height)} in, margins "
            f"{inches(page.left_margin)}/{inches(page.right_margin)}/"
            f"{inches(page.top_margin)}/{inches(page.bottom_margin)} in"
        ),
        f"header: {page.header.paragraphs[0].text!r}",
    ]
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            lines.append(f"[table {len(item.rows)}x{len(item.columns)}]")
            lines.extend("  | " + " | ".join(c.text for c in row.cells) for row in item.rows)
            continue
        num = item._p.find(f"{qn('w:pPr')}/{qn('w:numPr')}/{qn('w:numId')}")
        label = name_of(item) + (f" #{num.get(qn('w:val'))}" if num is not None else "")
        text = []
        for run in runs(item):
            value = run.text.replace("\n", "<br>").replace("\t", "<tab>")
            for flag, mark in ((run.italic, "i"), (run.bold, "b"), (shaded(run), "ai")):
                if flag:
                    value = f"<{mark}>{value}</{mark}>"
            if name_of(run) != "Default Paragraph Font":
                value = f"<{name_of(run)}>{value}</>"
            text.append(value)
        lines.append(f"[{label}] {''.join(text)}")
    return "\n".join(lines) + "\n"


def test_the_manuscript_matches_its_golden_structure(storm: BookDocument, tmp_path: Path) -> None:
    path = export_docx(storm, tmp_path / "golden.docx", provenance_styling=True, modified=FIXED)
    assert_matches_reference(_structure(path), GOLDEN / "manuscript.txt")


# -- the manifest and coauthor verify -------------------------------------------------------------------


def rewrite_entry(path: Path, name: str, change: Callable[[bytes], bytes]) -> None:
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in entries:
            out.writestr(info, change(data) if info.filename == name else data)


@pytest.mark.parametrize("style", ["manuscript", "book"])
def test_verify_passes_and_fails_after_one_word_is_changed(
    storm: BookDocument, style: str, tmp_path: Path
) -> None:
    path = export_docx(storm, tmp_path / "book.docx", style=style, provenance_styling=True)
    check = verify_export(path, expect_key=ADA.fingerprint)
    assert check.signed
    assert check.manifest["format"] == "docx"
    assert check.manifest["export"]["style"] == style
    assert len(check.manifest["chapters"]) == 2
    rewrite_entry(path, "word/document.xml", lambda d: d.replace(b">violets", b">daisies", 1))
    with pytest.raises(VerifyFailed, match=r"chapter 1 \(The Storm\): its text is not the text"):
        verify_export(path)


def test_verify_fails_when_the_metadata_changes(storm: BookDocument, tmp_path: Path) -> None:
    path = export_docx(storm, tmp_path / "book.docx")
    rewrite_entry(path, "docProps/core.xml", lambda d: d.replace(b"coauthor-export", b"novel"))
    with pytest.raises(VerifyFailed, match=r"docProps/core.xml was changed after the export"):
        verify_export(path)


def test_verify_fails_when_the_foreword_changes(storm: BookDocument, tmp_path: Path) -> None:
    path = export_docx(storm, tmp_path / "book.docx")
    rewrite_entry(
        path, "word/document.xml", lambda d: d.replace(b"Ada Marlowe takes", b"Nobody takes", 1)
    )
    with pytest.raises(VerifyFailed, match="the foreword is not the foreword the manifest lists"):
        verify_export(path)


def test_an_export_without_its_manifest_is_refused(storm: BookDocument, tmp_path: Path) -> None:
    path = export_docx(storm, tmp_path / "book.docx")
    with zipfile.ZipFile(path) as archive:
        entries = [(i, archive.read(i)) for i in archive.infolist() if i.filename != DOCX_ENTRY]
    with zipfile.ZipFile(path, "w") as out:
        for info, data in entries:
            out.writestr(info, data)
    with pytest.raises(VerifyFailed, match="carries no provenance manifest"):
        verify_export(path)


# -- the file ------------------------------------------------------------------------------------------


def test_the_same_book_exports_to_the_same_bytes(
    storm: BookDocument, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    first = export_docx(storm, tmp_path / "a.docx").read_bytes()
    second = export_docx(storm, tmp_path / "b.docx").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a.docx") as archive:
        assert {i.date_time for i in archive.infolist()} == {(2026, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize(
    ("step", "code", "reason"),
    [
        ("fsync", errno.ENOSPC, "the disk is full"),
        ("replace", errno.EROFS, "the disk is read-only"),
    ],
)
def test_a_failed_export_leaves_the_earlier_file(
    storm: BookDocument,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
    code: int,
    reason: str,
) -> None:
    target = tmp_path / "book.docx"
    export_docx(storm, target, style="book")
    earlier = target.read_bytes()

    def fail(*_args: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, step, fail)
    with pytest.raises(ExportWriteError) as caught:
        export_docx(storm, target)
    monkeypatch.undo()
    assert str(caught.value) == f"Cannot write {target}: {reason}; nothing was changed."
    assert target.read_bytes() == earlier
    assert [p.name for p in tmp_path.iterdir()] == ["book.docx"]


def test_an_unknown_style_is_one_sentence(storm: BookDocument, tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"^'novel' is not a DOCX style: choose manuscript or book$"
    ):
        export_docx(storm, tmp_path / "book.docx", style="novel")
    assert list(tmp_path.iterdir()) == []


HOSTILE = (
    "  <script>alert(1)</script> & &amp; 👩‍👩‍👧 עברית \u202eevil\u202c\n"
    "bell\x07 del\x7f c1\x85 nonchar\ufffe lone\ud800 cr\r\nend\rof line\ttab  \n\n"
    "```\n  indented code\n\tand a tab\n```\n\n"
    "1. [javascript](javascript:alert(2)) and <https://example.com/a_b>\n"
)


@pytest.mark.parametrize("style", ["manuscript", "book"])
def test_hostile_text_exports_opens_and_verifies(style: str, tmp_path: Path) -> None:
    project = Project(BookMeta(title="A <b>hostile</b> & book\x07", author="\u202eEve \x00"))
    chapter = project.add_chapter('<w:t>"quoted"</w:t> & \x0b')
    project.insert(chapter, 0, HOSTILE, Origin.PASTED)
    empty = project.add_chapter("   ")
    project.insert(empty, 0, "\n\n  \n", Origin.HUMAN)
    document = replace(prepare_export(project), signer=ADA)
    path = export_docx(document, tmp_path / "hostile.docx", style=style, provenance_styling=True)
    check = verify_export(path)
    assert len(check.manifest["chapters"]) == 2
    read = opened(path)
    text = "\n".join(p.text for p in section(read, '<w:t>"quoted"</w:t> &'))
    assert "<script>alert(1)</script> & & 👩‍👩‍👧" in text  # an entity shows its character
    assert "bell\ufffd del\ufffd" in text
    assert "  indented code\n\tand a tab" in text
    assert section(read, "Chapter 2") == []


# -- the real books -----------------------------------------------------------------------------------


def test_pride_and_prejudice_exports_and_verifies(
    pride_document: BookDocument, tmp_path: Path
) -> None:
    path = export_docx(replace(pride_document, signer=ADA), tmp_path / "pride.docx")
    check = verify_export(path)
    assert len(check.manifest["chapters"]) == 61
    document = opened(path)
    headings = [p.text for p in body(document) if name_of(p) == "Heading 1"]
    assert len(headings) == 62
    first = body(document)[0].text
    assert re.fullmatch(r"Jane Austen\tabout 1\d\d,000 words", first), first


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_both_styles(exports: dict[str, Path], tmp_path: Path) -> None:
    for style, path in exports.items():
        result = subprocess.run(
            ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
             "--convert-to", "txt:Text", "--outdir", str(tmp_path), str(path)],
            capture_output=True, timeout=180, check=False,
        )  # fmt: skip
        text = (tmp_path / f"{style}.txt").read_text(encoding="utf-8-sig")
        assert "It was a dark and stormy night" in text, result.stderr
        assert "How this book was written" in text


# -- the command ---------------------------------------------------------------------------------------


def test_coauthor_export_writes_a_docx_that_coauthor_verify_accepts(cli, tmp_path: Path) -> None:
    book = tmp_path / "storm.coauthor"
    project = storm_project()
    project_file = ProjectFile.create(book, project.meta)
    project_file.close(project)
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    out = tmp_path / "storm.docx"
    result = cli("export", book, "--format", "docx", "--docx-style", "book", "--out", out, env=env)
    assert result.returncode == 0, result.stderr
    assert f"Exported docx to {out}".encode() in result.stderr
    assert pstyle(opened(out), "Normal").font.name == "Georgia"
    result = cli("verify", out, env=env)
    assert result.returncode == 0, result.stderr
    assert b"OK, the export matches its provenance manifest" in result.stdout
    assert b"NOT SIGNED" in result.stdout
    refused = cli("export", book, "--format", "epub", "--docx-style", "book", "--out", out, env=env)
    assert refused.returncode == 1
    assert refused.stderr.decode().strip().endswith("--docx-style applies to the DOCX export only")
