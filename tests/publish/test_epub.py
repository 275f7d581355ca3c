"""The EPUB 3 export: container, metadata, navigation, pages, hostile input, atomicity.

Every book is built through the real API (the sample script, the Pride and Prejudice import,
or ``Project`` calls for the hostile book), passes ``prepare_export`` and is then read back with
``zipfile`` and ``xml.etree``. EPUBCheck must report 0 errors and 0 warnings for the sample,
Pride and Prejudice and the hostile book; it is not installed by the tests (CI installs the
Debian package ``epubcheck``).

``test_sample_matches_reference`` compares the sample's XHTML, OPF and NCX with
``tests/reference/epub``; when a reference file is missing it is written and the test fails,
asking for a review. Set ``COAUTHOR_UPDATE_REFERENCE=1`` to rewrite them after an intended
change.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import time
import zipfile
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from ebooklib import epub as ebooklib_epub
from golden import reference_problem

from coauthor.core.book import BookMeta
from coauthor.core.generation import Generation, Outcome, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.publish.document import FOREWORD_TITLE, BookDocument, ChapterDoc, prepare_export
from coauthor.publish.epub import (
    DIGITAL_SOURCE_TYPES,
    LEGEND,
    book_identifier,
    digital_source_type,
    export_epub,
    mimetype_is_first,
)
from coauthor.publish.markup import block_text, leaf_blocks
from coauthor.publish.roles import Roles

FIXED = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)
REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "epub"

EPUBCHECK_JAR = Path(os.environ.get("EPUBCHECK_JAR", "/usr/share/java/epubcheck.jar"))

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
}
_SUMMARY = re.compile(r"Messages:\s*(\d+) fatals?\s*/\s*(\d+) errors?\s*/\s*(\d+) warnings?")


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def xml(data: bytes) -> ET.Element:
    return ET.fromstring(data)


def text_of(element: ET.Element) -> str:
    return "".join(element.itertext())


class Epub:
    """An exported EPUB, opened for inspection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files = entries(path)
        container = xml(self.files["META-INF/container.xml"])
        rootfile = container.find(".//c:rootfile", NS)
        assert rootfile is not None
        self.opf_name = rootfile.attrib["full-path"]
        self.base = self.opf_name.rpartition("/")[0]
        self.opf = xml(self.files[self.opf_name])

    def file(self, href: str) -> bytes:
        return self.files[f"{self.base}/{href}" if self.base else href]

    @property
    def manifest(self) -> dict[str, ET.Element]:
        return {item.attrib["id"]: item for item in self.opf.iterfind("opf:manifest/opf:item", NS)}

    def href(self, idref: str) -> str:
        return self.manifest[idref].attrib["href"]

    @property
    def spine(self) -> list[str]:
        """The hrefs of the spine's reading order (its linear items: the contents page, there
        only for the landmarks, is left out)."""
        return [
            self.href(ref.attrib["idref"])
            for ref in self.opf.iterfind("opf:spine/opf:itemref", NS)
            if ref.get("linear") != "no"
        ]

    def dc(self, name: str) -> list[str]:
        return [e.text or "" for e in self.opf.iterfind(f"opf:metadata/dc:{name}", NS)]

    def meta(self, prop: str) -> list[str]:
        return [
            e.text or ""
            for e in self.opf.iterfind("opf:metadata/opf:meta", NS)
            if e.get("property") == prop
        ]

    def nav_item(self) -> ET.Element:
        (item,) = [i for i in self.manifest.values() if "nav" in i.get("properties", "").split()]
        return item

    def nav_toc(self) -> list[tuple[str, str]]:
        nav = xml(self.file(self.nav_item().attrib["href"]))
        (toc,) = [
            n for n in nav.iter(f"{{{NS['x']}}}nav") if n.get(f"{{{NS['epub']}}}type") == "toc"
        ]
        return [(a.attrib["href"], text_of(a)) for a in toc.iter(f"{{{NS['x']}}}a")]

    def ncx(self) -> ET.Element:
        toc_id = self.opf.find("opf:spine", NS).attrib["toc"]  # type: ignore[union-attr]
        item = self.manifest[toc_id]
        assert item.attrib["media-type"] == "application/x-dtbncx+xml"
        return xml(self.file(item.attrib["href"]))

    def ncx_toc(self) -> list[tuple[str, str]]:
        return [
            (
                point.find("ncx:content", NS).attrib["src"],  # type: ignore[union-attr]
                text_of(point.find("ncx:navLabel/ncx:text", NS)),  # type: ignore[arg-type]
            )
            for point in self.ncx().iterfind(".//ncx:navPoint", NS)
        ]

    def xhtml(self) -> dict[str, ET.Element]:
        """Every XHTML document of the book, parsed."""
        return {
            item.attrib["href"]: xml(self.file(item.attrib["href"]))
            for item in self.manifest.values()
            if item.attrib["media-type"] == "application/xhtml+xml"
        }

    def body(self, href: str) -> ET.Element:
        body = xml(self.file(href)).find("x:body", NS)
        assert body is not None
        return body


def run_epubcheck(path: Path) -> str:
    """Run EPUBCheck with its default settings; fail unless it reports 0 errors and 0 warnings.

    Installs nothing: CI installs the Debian package ``epubcheck``.
    """
    if not EPUBCHECK_JAR.is_file():
        pytest.fail(
            f"EPUBCheck is not installed: {EPUBCHECK_JAR} is missing. Install the Debian package "
            "'epubcheck' (apt-get install epubcheck) or set EPUBCHECK_JAR to its jar."
        )
    java = shutil.which("java")
    if java is None:
        pytest.fail(
            "EPUBCheck needs Java: no 'java' on PATH (apt-get install default-jre-headless)"
        )
    # The JVM options only shorten start-up; EPUBCheck's own settings are its defaults.
    result = subprocess.run(
        [
            java,
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-jar",
            str(EPUBCHECK_JAR),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = result.stdout + result.stderr
    summary = _SUMMARY.search(output)
    assert summary is not None, f"no EPUBCheck summary in its output:\n{output}"
    fatals, errors, warnings = map(int, summary.groups())
    assert (fatals, errors, warnings, result.returncode) == (0, 0, 0, 0), (
        f"EPUBCheck found {fatals} fatal errors, {errors} errors and {warnings} warnings "
        f"(exit status {result.returncode}) in {path.name}:\n{output}"
    )
    return output


# -- books --------------------------------------------------------------------------------------

HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(1)> [link](javascript:alert(1)) "
    '<a href="javascript:alert(2)">click</a> <b onclick="steal()">bold</b> '
    '<iframe src="javascript:alert(3)"></iframe> ]]> <![CDATA[x]]> &amp; &lt; &#60;'
)
MODEL_OUTPUT = HOSTILE + " <svg onload=alert(4)><a xlink:href='javascript:alert(5)'>y</a></svg>"
HOSTILE_MODEL = "gpt-<x> & \"y\" 'z'"
HOSTILE_TITLE = "Tom & Jerry <b>\"Bold\"</b> 'quoted'"
HOSTILE_AUTHOR = "A & B <x> \"Q\" 'S'"
HOSTILE_COMPANY = 'Acme & <Co> "Ltd"'
CONTROLS = "".join(chr(c) for c in range(32) if chr(c) not in "\n\t")
BIDI = "price \u202e987\u202c, \u2066isolated\u2069 \u2067rtl\u2069 \u2068first\u2069 end"
WORLD = "Emoji 😀 👩‍👩‍👧 🇫🇷, CJK 漢字 かな カナ 한국어, RTL עברית العربية"
LONG = " ".join(f"word{i % 97}" for i in range(5000))
HOSTILE_MARKDOWN = (
    "[a](javascript:alert(6)) [b](<javascript:alert(7)>) ![c](http://evil.example/x.png) "
    "[d](data:text/html,<script>alert(8)</script>) <javascript:alert(9)> [e][r]\n\n"
    "[r]: vbscript:msgbox(1)\n\n"
    '<div onclick="x()">raw *html*</div>\n\n'
    "```html\n<script>alert(10)</script>\n```"
)


def hostile_project() -> Project:
    """A book whose text, titles and names try to break out of the markup."""
    project = Project(
        BookMeta(
            title=HOSTILE_TITLE,
            author=HOSTILE_AUTHOR,
            company=HOSTILE_COMPANY,
            language="en",
            description="A <description> & more",
            rights="© 2024 <Owner> & co",
        )
    )
    # Text not written as Markdown: every character comes out as it is.
    first = project.add_chapter('<script>alert("title")</script> & <i>Title</i>', markup="plain")
    text = (
        "Typed by the author.\n\n"
        f"{HOSTILE}\n\n"
        "line one\nline two\n\n"
        f"before{CONTROLS}after\n\n"
        f"{BIDI}\n\n"
        f"{WORLD}\n\n"
    )
    project.insert(first, 0, text, Origin.HUMAN)
    generation = project.add_generation(
        Generation(
            project.new_generation_id(),
            "openai",
            HOSTILE_MODEL,
            {"temperature": 0.7},
            [{"role": "user", "content": "<script>"}],
            MODEL_OUTPUT,
            Outcome.COMPLETE,
            1,
            2,
            first.id,
        )
    )
    project.insert(first, len(first.text), MODEL_OUTPUT, Origin.AI, generation.id)
    project.review(generation.id, ReviewState.APPROVED, "Tester", shown_ms=1000)
    second = project.add_chapter("  ")  # no title: the export names it
    project.insert(second, 0, LONG, Origin.HUMAN)
    third = project.add_chapter("第三章 😀 \u202eevil")
    project.insert(third, 0, "\u202e\u202e\u202epasted text", Origin.PASTED)
    fourth = project.add_chapter("Markdown")  # the same, read as Markdown: still inert
    project.insert(fourth, 0, f"{HOSTILE_MARKDOWN}\n\n{HOSTILE}\n", Origin.HUMAN)
    return project


def png(width: int = 4, height: int = 6) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x20\x60\xa0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def small_book(**meta: str) -> Project:
    project = Project(BookMeta(**{"title": "Small", "author": "Ann Author", **meta}))
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "First paragraph.\n\nSecond paragraph.", Origin.HUMAN)
    return project


@pytest.fixture(scope="module")
def hostile_document() -> BookDocument:
    return prepare_export(hostile_project())


@pytest.fixture(scope="module")
def sample_epub(tmp_path_factory: pytest.TempPathFactory, sample_document: BookDocument) -> Epub:
    return Epub(export_epub(sample_document, tmp_path_factory.mktemp("epub") / "sample.epub"))


@pytest.fixture(scope="module")
def styled_sample_epub(
    tmp_path_factory: pytest.TempPathFactory, sample_document: BookDocument
) -> Epub:
    target = tmp_path_factory.mktemp("epub") / "sample-styled.epub"
    return Epub(export_epub(sample_document, target, provenance_styling=True))


@pytest.fixture(scope="module")
def hostile_epub(tmp_path_factory: pytest.TempPathFactory, hostile_document: BookDocument) -> Epub:
    target = tmp_path_factory.mktemp("epub") / "hostile.epub"
    return Epub(export_epub(hostile_document, target, provenance_styling=True))


@pytest.fixture(scope="module")
def pride_epub(tmp_path_factory: pytest.TempPathFactory, pride_document: BookDocument) -> Epub:
    return Epub(export_epub(pride_document, tmp_path_factory.mktemp("epub") / "pride.epub"))


def block_texts(chapter: ChapterDoc) -> list[str]:
    """What a reader sees of the chapter, block by block."""
    return [text for text in map(block_text, leaf_blocks(chapter.blocks)) if text]


def paragraphs(book: Epub, href: str) -> list[str]:
    return [text_of(p) for p in book.body(href).iter(f"{{{NS['x']}}}p")]


# -- container ----------------------------------------------------------------------------------


def test_mimetype_is_the_first_entry_stored_uncompressed(sample_epub: Epub) -> None:
    raw = sample_epub.path.read_bytes()
    signature, _version, _flags, method = struct.unpack("<4sHHH", raw[:10])
    compressed, size, name_length, extra_length = struct.unpack("<IIHH", raw[18:30])
    assert signature == b"PK\x03\x04"
    assert method == 0  # stored
    assert (name_length, extra_length) == (8, 0)
    assert raw[30:38] == b"mimetype"
    assert compressed == size == 20
    assert raw[38:58] == b"application/epub+zip"
    with zipfile.ZipFile(sample_epub.path) as archive:
        first = archive.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert archive.testzip() is None


def test_container_names_the_package_document(sample_epub: Epub) -> None:
    assert sample_epub.opf_name.endswith(".opf")
    assert sample_epub.opf.tag == f"{{{NS['opf']}}}package"
    assert sample_epub.opf.get("version") == "3.0"


# -- metadata -----------------------------------------------------------------------------------


def test_metadata_of_the_sample(sample_epub: Epub, sample_document: BookDocument) -> None:
    book = sample_epub
    assert book.dc("title")[0] == "The Tide Clock"
    assert "A sample book" in book.dc("title")  # the subtitle, refined as such
    assert book.dc("creator") == ["Ada Marlowe"]
    assert book.dc("publisher") == []  # the sample names no company
    assert book.dc("language") == ["en-GB"]
    (description,) = book.dc("description")
    assert sample_document.disclosure in description
    assert description.startswith(sample_document.meta.description)
    assert book.meta("schema:digitalSourceType") == [DIGITAL_SOURCE_TYPES["mixed"]]
    assert DIGITAL_SOURCE_TYPES["mixed"].startswith(
        "http://cv.iptc.org/newscodes/digitalsourcetype/"
    )
    (modified,) = book.meta("dcterms:modified")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", modified)
    (identifier,) = book.dc("identifier")
    unique = book.opf.get("unique-identifier")
    assert book.opf.find(f"opf:metadata/dc:identifier[@id='{unique}']", NS) is not None
    assert identifier == book_identifier(sample_document)
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", identifier)
    # The accessibility statement.
    assert book.meta("schema:accessMode") == ["textual"]
    assert book.meta("schema:accessModeSufficient") == ["textual"]
    assert "tableOfContents" in book.meta("schema:accessibilityFeature")
    assert book.meta("schema:accessibilityHazard") == ["none"]
    assert book.meta("schema:accessibilitySummary")[0]
    # The reserved "schema" prefix is not redeclared.
    assert "schema:" not in (book.opf.get("prefix") or "")


def test_identifier_is_stable_and_modified_can_be_fixed(
    tmp_path: Path, sample_document: BookDocument, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Epub(export_epub(sample_document, tmp_path / "a.epub", modified=FIXED))
    second = Epub(export_epub(sample_document, tmp_path / "b.epub", modified=FIXED))
    assert first.dc("identifier") == second.dc("identifier")
    assert first.meta("dcterms:modified") == ["2024-05-17T09:30:00Z"]
    assert first.files == second.files  # byte for byte, entry by entry
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    third = Epub(export_epub(sample_document, tmp_path / "c.epub"))
    assert third.meta("dcterms:modified") == ["2023-11-14T22:13:20Z"]
    other = replace(sample_document, meta=replace(sample_document.meta, title="Another title"))
    fourth = Epub(export_epub(other, tmp_path / "d.epub"))
    assert fourth.dc("identifier") != first.dc("identifier")


@pytest.mark.parametrize(
    ("author", "company", "creator", "publisher"),
    [
        ("Ann Author", "Acme Press", ["Ann Author"], ["Acme Press"]),
        ("", "Acme Press", ["Acme Press"], ["Acme Press"]),
        ("Ann Author", "", ["Ann Author"], []),
    ],
)
def test_creator_and_publisher(
    tmp_path: Path, author: str, company: str, creator: list[str], publisher: list[str]
) -> None:
    project = small_book(author=author, company=company, rights="All rights reserved")
    book = Epub(export_epub(prepare_export(project), tmp_path / "book.epub"))
    assert book.dc("creator") == creator
    assert book.dc("publisher") == publisher
    assert book.dc("rights") == ["All rights reserved"]
    (role,) = book.meta("role")
    assert role == "aut"


def test_language_is_used_and_checked(tmp_path: Path) -> None:
    book = Epub(export_epub(prepare_export(small_book(language="fr-CA")), tmp_path / "fr.epub"))
    assert book.dc("language") == ["fr-CA"]
    for root in book.xhtml().values():
        assert root.get("lang") == "fr-CA"
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr-CA"
    bad = small_book(language='en" onload="alert(1)')
    book = Epub(export_epub(prepare_export(bad), tmp_path / "bad.epub"))
    assert book.dc("language") == ["und"]


def _roles(ai: int, human: int, *, drafted: int = 0, surviving: int = 0) -> Roles:
    chars = dict.fromkeys(Origin, 0)
    chars[Origin.AI], chars[Origin.HUMAN] = ai, human
    return Roles(chars, drafted, surviving, 0, [("m", "p")], 1, 1, 1, 0, 0)


@pytest.mark.parametrize(
    ("roles", "kind"),
    [
        (_roles(0, 100), "human"),
        (_roles(10, 90, drafted=10, surviving=10), "mixed"),
        (_roles(60, 40, drafted=60, surviving=60), "mixed"),  # entire work, but much human text
        (_roles(96, 4, drafted=96, surviving=96), "ai"),
        (_roles(96, 4, drafted=200, surviving=96), "ai"),  # entire, extensively edited
        (_roles(100, 0, drafted=100, surviving=100), "ai"),
    ],
)
def test_digital_source_type_mapping(roles: Roles, kind: str) -> None:
    assert digital_source_type(roles) == DIGITAL_SOURCE_TYPES[kind]


def test_a_book_without_model_text_is_declared_human_made(pride_epub: Epub) -> None:
    assert pride_epub.meta("schema:digitalSourceType") == [DIGITAL_SOURCE_TYPES["human"]]
    assert pride_epub.dc("creator") == ["Jane Austen"]


# -- navigation ---------------------------------------------------------------------------------


def test_spine_and_both_tables_of_contents_start_with_the_foreword(
    sample_epub: Epub, sample_document: BookDocument
) -> None:
    chapters = [c.title for c in sample_document.chapters]
    assert sample_epub.spine[0] == "foreword.xhtml"
    assert len(sample_epub.spine) == 1 + len(chapters)
    expected = [FOREWORD_TITLE, *chapters]
    nav = sample_epub.nav_toc()
    ncx = sample_epub.ncx_toc()
    assert [title for _, title in nav] == expected
    assert [title for _, title in ncx] == expected
    assert [href for href, _ in nav] == sample_epub.spine
    assert [href for href, _ in ncx] == sample_epub.spine
    assert sample_epub.nav_item().attrib["media-type"] == "application/xhtml+xml"
    assert (
        text_of(sample_epub.ncx().find("ncx:docTitle/ncx:text", NS))  # type: ignore[arg-type]
        == "The Tide Clock"
    )


def test_pride_and_prejudice_has_61_chapters_in_order(pride_epub: Epub) -> None:
    expected = [FOREWORD_TITLE, *(f"Chapter {n}" for n in range(1, 62))]
    assert [title for _, title in pride_epub.nav_toc()] == expected
    assert [title for _, title in pride_epub.ncx_toc()] == expected
    assert pride_epub.spine == ["foreword.xhtml", *(f"chapter-{n:03d}.xhtml" for n in range(1, 62))]
    first = paragraphs(pride_epub, "chapter-001.xhtml")
    assert first[0].startswith("It is a truth universally acknowledged")


# -- pages --------------------------------------------------------------------------------------


def test_foreword_page(sample_epub: Epub, sample_document: BookDocument) -> None:
    body = sample_epub.body("foreword.xhtml")
    (heading,) = body.iter(f"{{{NS['x']}}}h1")
    assert text_of(heading) == FOREWORD_TITLE
    assert paragraphs(sample_epub, "foreword.xhtml") == sample_document.foreword
    (table,) = body.iter(f"{{{NS['x']}}}table")
    header = [text_of(th) for th in table.iterfind("x:thead/x:tr/x:th", NS)]
    assert header == [
        "Chapter",
        "By the author",
        "By the model",
        "Pasted or imported",
        "Passages",
    ]
    assert all(th.get("scope") == "col" for th in table.iterfind("x:thead/x:tr/x:th", NS))
    rows = [[text_of(cell) for cell in row] for row in table.iterfind("x:tbody/x:tr", NS)]
    assert [row[0] for row in rows] == ["1. The Keeper", "2. The Almanac", "3. The Storm"]
    for row, chapter in zip(rows, sample_document.chapters, strict=True):
        roles = chapter.roles
        assert row[1] == f"{roles.percent(Origin.HUMAN)}%"
        assert row[2] == f"{roles.percent(Origin.AI)}%"
        assert row[4] == str(roles.passages) == str(len(roles.per_generation))
        assert sum(int(cell.rstrip("%")) for cell in row[1:4]) == 100  # of the characters
    assert rows[1][3] != "0%"  # the almanac chapter has imported and pasted text
    (total,) = [[text_of(c) for c in row] for row in table.iterfind("x:tfoot/x:tr", NS)]
    assert total[:3] == [
        "Whole book",
        f"{sample_document.roles.percent(Origin.HUMAN)}%",
        f"{sample_document.roles.percent(Origin.AI)}%",
    ]
    assert table.find("x:caption", NS) is not None


def test_foreword_without_the_chapter_table(tmp_path: Path) -> None:
    book = Epub(export_epub(prepare_export(small_book(foreword_table="no")), tmp_path / "b.epub"))
    assert next(book.body("foreword.xhtml").iter(f"{{{NS['x']}}}table"), None) is None


def test_chapter_paragraphs_and_line_breaks(
    sample_epub: Epub, sample_document: BookDocument
) -> None:
    for chapter in sample_document.chapters:
        href = f"chapter-{chapter.number:03d}.xhtml"
        body = sample_epub.body(href)
        assert text_of(next(body.iter(f"{{{NS['x']}}}h1"))) == chapter.title
        assert paragraphs(sample_epub, href) == block_texts(chapter)
    # The author's *emphasis* is rendered, its markers gone.
    (em,) = sample_epub.body("chapter-001.xhtml").iter(f"{{{NS['x']}}}em")
    assert text_of(em) == "patient"
    assert "*" not in "".join(paragraphs(sample_epub, "chapter-001.xhtml"))
    verse = [
        p
        for p in sample_epub.body("chapter-002.xhtml").iter(f"{{{NS['x']}}}p")
        if text_of(p).startswith("When the heron")
    ]
    assert len(verse) == 1
    assert len(verse[0].findall("x:br", NS)) == 1


def test_provenance_styling_is_off_by_default(sample_epub: Epub) -> None:
    for href, root in sample_epub.xhtml().items():
        assert root.find(".//x:span", NS) is None, href
        assert LEGEND not in text_of(root)


def test_provenance_styling_marks_the_models_text(
    styled_sample_epub: Epub, sample_document: BookDocument
) -> None:
    book = styled_sample_epub
    assert paragraphs(book, "foreword.xhtml")[0] == LEGEND
    spans = [
        span
        for href in book.spine
        for span in book.body(href).iter(f"{{{NS['x']}}}span")
        if span.get("class") == "ai"
    ]
    assert spans
    marked = "".join(text_of(span) for span in spans)
    ai_chars = sample_document.roles.chars[Origin.AI]
    assert len(marked) == ai_chars
    assert all("SmolLM2-135M-Instruct" in (span.get("title") or "") for span in spans)
    assert {re.search(r"generation (g\d+)", span.get("title") or "")[1] for span in spans} == {  # type: ignore[index]
        "g1",
        "g2",
    }
    assert b"span.ai" in book.file("style/epub.css")
    # Only the marking differs: the text is the same as without styling.
    for chapter in sample_document.chapters:
        href = f"chapter-{chapter.number:03d}.xhtml"
        assert paragraphs(book, href) == block_texts(chapter)


def test_cover_image(tmp_path: Path) -> None:
    cover = tmp_path / "cover.png"
    cover.write_bytes(png())
    project = small_book(cover=str(cover), author="", company="Acme", language="he")
    book = Epub(export_epub(prepare_export(project), tmp_path / "cover.epub"))
    (image,) = [i for i in book.manifest.values() if "cover-image" in i.get("properties", "")]
    assert image.attrib["media-type"] == "image/png"
    assert book.file(image.attrib["href"]) == cover.read_bytes()
    assert book.spine[:2] == ["cover.xhtml", "foreword.xhtml"]
    assert book.nav_toc()[0][1] == FOREWORD_TITLE
    (img,) = book.body("cover.xhtml").iter(f"{{{NS['x']}}}img")
    assert img.get("src") == image.attrib["href"]
    assert img.get("alt") == "Cover of Small"
    assert "visual" in book.meta("schema:accessMode")
    run_epubcheck(book.path)


@pytest.mark.parametrize("content", [None, b"GIF89a not a supported cover", b""])
def test_missing_or_unsupported_cover_is_left_out(tmp_path: Path, content: bytes | None) -> None:
    cover = tmp_path / "cover.gif"
    if content is not None:
        cover.write_bytes(content)
    book = Epub(export_epub(prepare_export(small_book(cover=str(cover))), tmp_path / "b.epub"))
    assert not any("cover-image" in i.get("properties", "") for i in book.manifest.values())
    assert book.spine[0] == "foreword.xhtml"


# -- hostile input ------------------------------------------------------------------------------

_ACTIVE_ELEMENTS = {"script", "iframe", "object", "embed", "form", "svg", "math", "style", "base"}


def test_hostile_text_comes_out_inert(hostile_epub: Epub) -> None:
    documents = hostile_epub.xhtml()
    assert documents  # every XHTML document parsed as XML
    for href, root in documents.items():
        for element in root.iter():
            local = element.tag.rpartition("}")[2]
            assert local not in _ACTIVE_ELEMENTS, f"<{local}> element in {href}"
            if local in ("img", "a"):
                assert (href, local) == ("nav.xhtml", "a"), f"<{local}> element in {href}"
            for name, value in element.attrib.items():
                attribute = name.rpartition("}")[2].lower()
                assert not attribute.startswith("on"), f"{attribute} attribute in {href}"
                squeezed = re.sub(r"\s", "", value).lower()
                assert "javascript:" not in squeezed, f"{attribute}={value!r} in {href}"
    texts = paragraphs(hostile_epub, "chapter-001.xhtml")
    assert HOSTILE in texts  # shown as text, character for character
    assert texts[-1] == MODEL_OUTPUT
    raw = b"".join(hostile_epub.files.values())
    for tag in (b"<script", b"<img", b"<iframe", b"<b ", b"<svg", b"<x>", b"<Co>"):
        assert tag not in raw


def test_hostile_markdown_comes_out_inert(hostile_epub: Epub) -> None:
    """Read as Markdown, links to scripts stay text, an image is its description, raw HTML
    is shown as text and a fenced block as code; entities mean what CommonMark says."""
    body = hostile_epub.body("chapter-004.xhtml")
    tags = {element.tag.rpartition("}")[2] for element in body.iter()}
    assert not tags & {"a", "img", "script", "iframe", "svg"}
    texts = paragraphs(hostile_epub, "chapter-004.xhtml")
    links = (
        "[a](javascript:alert(6)) [b](<javascript:alert(7)>) c "
        "[d](data:text/html,<script>alert(8)</script>) <javascript:alert(9)> [e][r]"
    )
    assert texts[:3] == [
        links,
        "[r]: vbscript:msgbox(1)",  # not a link definition: its target is a script
        '<div onclick="x()">raw html</div>',
    ]
    assert HOSTILE.replace("&amp; &lt; &#60;", "& < <") in texts
    (code,) = body.iter(f"{{{NS['x']}}}pre")
    assert text_of(code) == "<script>alert(10)</script>"


def test_model_text_is_marked_with_an_escaped_title(hostile_epub: Epub) -> None:
    (span,) = list(hostile_epub.body("chapter-001.xhtml").iter(f"{{{NS['x']}}}span"))
    assert span.get("class") == "ai"
    assert span.get("title") == f"Drafted by {HOSTILE_MODEL} (generation g1)"
    assert text_of(span) == MODEL_OUTPUT


def test_hostile_characters_come_out_as_valid_text(hostile_epub: Epub) -> None:
    texts = paragraphs(hostile_epub, "chapter-001.xhtml")
    expected = "".join("\n" if c == "\r" else "\ufffd" for c in CONTROLS)
    assert f"before{expected}after" in texts
    assert BIDI in texts
    assert WORLD in texts
    assert "line one\nline two" in texts
    assert paragraphs(hostile_epub, "chapter-002.xhtml") == [LONG]
    assert paragraphs(hostile_epub, "chapter-003.xhtml") == ["\u202e\u202e\u202epasted text"]
    for name, data in hostile_epub.files.items():
        text = data.decode("utf-8") if name != "mimetype" else ""
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text), name


def test_hostile_title_and_names_are_escaped_everywhere(hostile_epub: Epub) -> None:
    book = hostile_epub
    assert book.dc("title") == [HOSTILE_TITLE]
    assert book.dc("creator") == [HOSTILE_AUTHOR]
    assert book.dc("publisher") == [HOSTILE_COMPANY]
    assert book.dc("rights") == ["© 2024 <Owner> & co"]
    assert book.dc("description")[0].startswith("A <description> & more ")
    assert HOSTILE_AUTHOR in book.dc("description")[0]
    assert text_of(book.ncx().find("ncx:docTitle/ncx:text", NS)) == HOSTILE_TITLE  # type: ignore[arg-type]
    chapter_titles = [
        '<script>alert("title")</script> & <i>Title</i>',
        "Chapter 2",
        "第三章 😀 \u202eevil",
        "Markdown",
    ]
    assert [t for _, t in book.nav_toc()] == [FOREWORD_TITLE, *chapter_titles]
    assert [t for _, t in book.ncx_toc()] == [FOREWORD_TITLE, *chapter_titles]
    first = xml(book.file("chapter-001.xhtml"))
    assert text_of(first.find("x:head/x:title", NS)) == chapter_titles[0]  # type: ignore[arg-type]
    foreword = " ".join(paragraphs(book, "foreword.xhtml"))
    assert HOSTILE_TITLE in foreword
    assert HOSTILE_AUTHOR in foreword
    assert HOSTILE_MODEL in foreword


# -- EPUBCheck ----------------------------------------------------------------------------------


def test_epubcheck_passes_the_sample(sample_epub: Epub) -> None:
    run_epubcheck(sample_epub.path)


def test_epubcheck_passes_the_styled_hostile_book(hostile_epub: Epub) -> None:
    run_epubcheck(hostile_epub.path)


def test_epubcheck_passes_pride_and_prejudice(pride_epub: Epub) -> None:
    run_epubcheck(pride_epub.path)


def test_pride_and_prejudice_shows_its_italics(pride_epub: Epub) -> None:
    """Project Gutenberg's ``_italics_`` are emphasis, with no underscore left around them."""
    emphasised = [
        text_of(em)
        for href in pride_epub.spine
        if href.startswith("chapter-")
        for em in pride_epub.body(href).iter(f"{{{NS['x']}}}em")
    ]
    assert len(emphasised) > 300
    first = paragraphs(pride_epub, "chapter-001.xhtml")
    assert '"You want to tell me, and I have no objection to hearing it."' in first
    shown = "".join(
        "".join(paragraphs(pride_epub, href))
        for href in pride_epub.spine
        if href.startswith("chapter-")
    )
    assert re.search(r"\b_[A-Za-z]+_\b", shown) is None


# -- writing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [OSError("disk full"), RuntimeError("disk full")])
def test_a_failed_write_leaves_the_previous_file(
    tmp_path: Path,
    sample_document: BookDocument,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
) -> None:
    target = tmp_path / "book.epub"
    target.write_bytes(b"the previous export")

    def half_write(self: ebooklib_epub.EpubWriter) -> None:
        Path(self.file_name).write_bytes(b"PK\x03\x04 half an archive")
        raise error

    monkeypatch.setattr(ebooklib_epub.EpubWriter, "write", half_write)
    with pytest.raises(type(error), match="disk full"):
        export_epub(sample_document, target)
    assert target.read_bytes() == b"the previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["book.epub"]


def test_export_replaces_an_earlier_file_and_leaves_no_temporary_file(
    tmp_path: Path, sample_document: BookDocument
) -> None:
    target = tmp_path / "out" / "book.epub"
    target.parent.mkdir()
    target.write_bytes(b"old")
    assert export_epub(sample_document, target) == target
    assert zipfile.is_zipfile(target)
    assert [p.name for p in target.parent.iterdir()] == ["book.epub"]


def test_progress_is_reported(tmp_path: Path, sample_document: BookDocument) -> None:
    calls: list[tuple[int, int, str]] = []
    export_epub(sample_document, tmp_path / "b.epub", progress=lambda *a: calls.append(a))
    total = len(sample_document.chapters) + 2
    assert {t for _, t, _ in calls} == {total}
    done = [d for d, _, _ in calls]
    assert done == sorted(done)
    assert calls[-1][0] == total


def test_pride_and_prejudice_exports_quickly(tmp_path: Path, pride_document: BookDocument) -> None:
    """Not a timing test: the figure is printed (``-s``) for the record."""
    start = time.perf_counter()
    export_epub(pride_document, tmp_path / "pride.epub")
    print(f"EPUB export of Pride and Prejudice: {time.perf_counter() - start:.3f} s")


# -- reference files ----------------------------------------------------------------------------

_VOLATILE = re.compile(r"dcterms:modified|dc:identifier|dtb:uid")


def test_sample_matches_reference(tmp_path: Path, sample_document: BookDocument) -> None:
    book = Epub(export_epub(sample_document, tmp_path / "sample.epub", modified=FIXED))
    produced = {
        Path(name).name: data.decode("utf-8")
        for name, data in book.files.items()
        if name.endswith((".xhtml", ".opf", ".ncx"))
    }
    problems = [
        problem
        for name, text in sorted(produced.items())
        if (problem := reference_problem(text, REFERENCE / name, _VOLATILE))
    ]
    stale = sorted(p.name for p in REFERENCE.iterdir() if p.name not in produced)
    assert not stale, f"reference files the export no longer produces: {stale}"
    assert not problems, "\n".join(problems)


def test_an_archive_with_mimetype_out_of_place_is_repaired(
    tmp_path: Path, sample_document: BookDocument, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should EbookLib ever misplace ``mimetype``, the export rewrites the archive."""
    original = ebooklib_epub.EpubWriter.write

    def misordered(self: ebooklib_epub.EpubWriter) -> None:
        original(self)
        path = Path(self.file_name)
        with zipfile.ZipFile(path) as archive:
            items = [(info.filename, archive.read(info)) for info in archive.infolist()]
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in reversed(items):
                archive.writestr(name, data)

    monkeypatch.setattr(ebooklib_epub.EpubWriter, "write", misordered)
    path = export_epub(sample_document, tmp_path / "book.epub", modified=FIXED)
    assert mimetype_is_first(path)
    monkeypatch.undo()
    reference = export_epub(sample_document, tmp_path / "reference.epub", modified=FIXED)
    assert entries(path) == entries(reference)


def test_epubcheck_helper_fails_clearly_without_epubcheck(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(f"{__name__}.EPUBCHECK_JAR", tmp_path / "missing.jar")
    with pytest.raises(pytest.fail.Exception, match="apt-get install epubcheck"):
        run_epubcheck(tmp_path / "book.epub")


# -- Markdown, rendered as pandoc's CommonMark reader reads it ------------------------------------

MANUSCRIPT = (
    "She was *seven*, and **greatly** surprised; ***both*** at once, and `code`.\n\n"
    "## A scene\n\n"
    "> A quotation with *emphasis*\n> over two lines.\n\n"
    "* * *\n\n"
    "- one\n- two **bold**\n\n"
    "3. third\n4. fourth\n\n"
    "The heron sleeps,\\\nthe shells are dumb.\n\n"
    "---\n\n"
    "Not \\*emphasis\\*, snake_case and a [link](https://example.org)."
)


def _xhtml_inlines(node: ET.Element, em=False, strong=False, code=False, link=None) -> list:
    flat: list = []
    if node.text:
        flat.append((node.text, em, strong, code, link))
    for child in node:
        tag = child.tag.rpartition("}")[2]
        if tag == "br":
            flat.append(("\u23ce", False, False, False, None))
        else:
            flat += _xhtml_inlines(
                child,
                em or tag == "em",
                strong or tag == "strong",
                code or tag == "code",
                child.get("href") if tag == "a" else link,
            )
        if child.tail:
            tail = child.tail[1:] if tag == "br" and child.tail.startswith("\n") else child.tail
            if tail:
                flat.append((tail, em, strong, code, link))
    return flat


def _xhtml_shape(node: ET.Element) -> list:
    from test_markup import _merge

    out: list = []
    for child in node:
        tag = child.tag.rpartition("}")[2]
        if tag == "p":
            out.append(("para", _merge(_xhtml_inlines(child))))
        elif tag in ("h2", "h3", "h4", "h5", "h6"):
            out.append(("heading", int(tag[1]) - 1, _merge(_xhtml_inlines(child))))
        elif tag == "hr":
            out.append(("break",))
        elif tag == "blockquote":
            out.append(("quote", _xhtml_shape(child)))
        elif tag in ("ul", "ol"):
            start = int(child.get("start", "1")) if tag == "ol" else 1
            items = [_xhtml_shape(li) for li in child]
            out.append(("list", tag == "ol", start, items))
        elif tag == "pre":
            out.append(("code", text_of(child)))
    return out


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is installed by `make test`")
def test_markdown_renders_as_pandocs_commonmark_reader_reads_it(tmp_path: Path) -> None:
    """Emphasis, strong text, breaks, quotes and lists in the EPUB are those pandoc reads in
    the chapter's Markdown, and no marker is left in the text."""
    import json as json_module

    from test_markup import _outline, _strip_edges, pandoc_shape

    project = small_book()
    chapter = project.add_chapter("Manuscript")
    project.insert(chapter, 0, MANUSCRIPT, Origin.HUMAN)
    book = Epub(export_epub(prepare_export(project), tmp_path / "manuscript.epub"))
    text = next(
        div
        for div in book.body("chapter-002.xhtml").iter(f"{{{NS['x']}}}div")
        if div.get("class") == "text"
    )
    ours = _outline(json_module.loads(json_module.dumps(_strip_edges(_xhtml_shape(text)))))
    assert ours == pandoc_shape(MANUSCRIPT)
    shown = "\n".join(paragraphs(book, "chapter-002.xhtml"))
    assert "*seven*" not in shown
    assert "**" not in shown
    assert "Not *emphasis*, snake_case" in shown
    run_epubcheck(book.path)
