"""Accessibility of the EPUB export: EPUB Accessibility 1.1 metadata, and what it claims.

Two checks on the same books (the sample, Pride and Prejudice, the hostile book, a book with a
cover, and a Markdown book with emphasis, quotations, lists, a link and scene breaks):

- our own reading of the files: the accessibility metadata, ``lang`` and ``xml:lang`` on the
  package and on every XHTML document, the landmarks, the cover's text alternative, headings
  that never skip a level and links that all have text;
- DAISY Ace (``scripts/ace.sh``, installed into ``.cache/ace`` on first use and run in the
  system's Chromium; marked ``slow``): its report must have no violation and find the
  conformance statement. Like EPUBCheck it is not installed by the tests' set-up: CI installs
  the Debian package ``chromium``, and Node.js 20 with npm.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from test_epub import NS, Epub, hostile_project, png, run_epubcheck, small_book, text_of

from coauthor.core.generation import Generation, Outcome, ReviewState
from coauthor.core.origin import Origin
from coauthor.publish.document import BookDocument, prepare_export
from coauthor.publish.epub import ACCESSIBILITY_SUMMARY, CONFORMANCE, export_epub

ACE = Path(__file__).resolve().parents[2] / "scripts" / "ace.sh"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EPUB_TYPE = f"{{{NS['epub']}}}type"
HEADINGS = {f"{{{NS['x']}}}h{level}": level for level in range(1, 7)}

MARKDOWN = (
    "She said *seven* words, **loud**, and `one` in code.\n\n"
    "> A quotation\n> on two lines.\n\n"
    "- one\n- two\n\n"
    "1. first\n2. second\n\n"
    "* * *\n\n"
    "# A section\n\n"
    "After the break, a [link](https://example.org).\n"
)
MODEL_MARKDOWN = "\n\n*Drafted* by the model.\n\n---\n\n> A quotation the model wrote."


def markdown_document() -> BookDocument:
    """A book whose chapter uses the Markdown a manuscript has, part of it from the model."""
    project = small_book(title="Marks")
    chapter = project.add_chapter("Two")
    project.insert(chapter, 0, MARKDOWN, Origin.HUMAN)
    generation = project.add_generation(
        Generation(
            project.new_generation_id(),
            "openai",
            "gpt-4o",
            {},
            [{"role": "user", "content": "Go on."}],
            MODEL_MARKDOWN,
            Outcome.COMPLETE,
            1,
            2,
            chapter.id,
        )
    )
    project.insert(chapter, len(chapter.text), MODEL_MARKDOWN, Origin.AI, generation.id)
    project.review(generation.id, ReviewState.APPROVED, "Ann Author", shown_ms=1000)
    return prepare_export(project)


@pytest.fixture(scope="module")
def books(
    tmp_path_factory: pytest.TempPathFactory,
    sample_document: BookDocument,
    pride_document: BookDocument,
) -> dict[str, Epub]:
    folder = tmp_path_factory.mktemp("a11y")
    cover = folder / "cover.png"
    cover.write_bytes(png())
    documents = {
        "sample": sample_document,
        "pride": pride_document,
        "hostile": prepare_export(hostile_project()),
        "cover": prepare_export(small_book(cover=str(cover), language="he")),
        "markdown": markdown_document(),
    }
    return {
        name: Epub(export_epub(document, folder / f"{name}.epub", provenance_styling=True))
        for name, document in documents.items()
    }


BOOKS = ["sample", "pride", "hostile", "cover", "markdown"]


# -- our own checks -----------------------------------------------------------------------------


def landmarks(book: Epub) -> list[tuple[str, str]]:
    """The (epub:type, href) of each landmark of the navigation document."""
    nav = ET.fromstring(book.file(book.nav_item().attrib["href"]))
    (found,) = [n for n in nav.iter(f"{{{NS['x']}}}nav") if n.get(EPUB_TYPE) == "landmarks"]
    return [(a.get(EPUB_TYPE, ""), a.get("href", "")) for a in found.iter(f"{{{NS['x']}}}a")]


def heading_problems(href: str, page: ET.Element) -> list[str]:
    """Headings that skip a level (h1 then h3), as axe's heading-order rule reads them."""
    levels = [HEADINGS[e.tag] for e in page.iter() if e.tag in HEADINGS]
    return [
        f"{href}: h{before} is followed by h{after}"
        for before, after in zip([0, *levels], levels, strict=False)
        if after > before + 1 and before
    ]


def test_the_conformance_claim_and_accessibility_metadata(books: dict[str, Epub]) -> None:
    for name, book in books.items():
        assert book.meta("dcterms:conformsTo") == [CONFORMANCE], name
        assert book.meta("schema:accessModeSufficient") == ["textual"], name
        assert book.meta("schema:accessibilityHazard") == ["none"], name
        assert book.meta("schema:accessibilitySummary") == [ACCESSIBILITY_SUMMARY], name
        # Nobody else evaluated the book: no certifier is named.
        assert not book.meta("a11y:certifiedBy"), name
        features = book.meta("schema:accessibilityFeature")
        for feature in (
            "structuralNavigation",
            "tableOfContents",
            "readingOrder",
            "displayTransformability",
        ):
            assert feature in features, (name, feature)
        # There are no print pages to mark.
        assert "pageBreakMarkers" not in features, name
        assert "printPageNumbers" not in features, name
    assert CONFORMANCE == "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"


def test_only_a_book_with_a_cover_declares_a_picture_and_its_text_alternative(
    books: dict[str, Epub],
) -> None:
    cover = books["cover"]
    assert sorted(cover.meta("schema:accessMode")) == ["textual", "visual"]
    assert "alternativeText" in cover.meta("schema:accessibilityFeature")
    images = [img for page in cover.xhtml().values() for img in page.iter(f"{{{NS['x']}}}img")]
    assert [img.get("alt") for img in images] == ["Cover of Small"]
    sample = books["sample"]
    assert sample.meta("schema:accessMode") == ["textual"]
    assert "alternativeText" not in sample.meta("schema:accessibilityFeature")


def test_the_language_is_on_the_package_and_every_document(books: dict[str, Epub]) -> None:
    for name, book in books.items():
        (language,) = book.dc("language")
        assert book.opf.get(XML_LANG) == language, name
        pages = book.xhtml()
        assert "nav.xhtml" in pages, name
        for href, page in pages.items():
            assert (page.get("lang"), page.get(XML_LANG)) == (language, language), (name, href)
    assert books["cover"].dc("language") == ["he"]
    assert "cover.xhtml" in books["cover"].xhtml()


def test_landmarks_lead_to_the_contents_the_foreword_and_the_text(
    books: dict[str, Epub],
) -> None:
    for name, book in books.items():
        first_chapter = next(href for href in book.spine if href.startswith("chapter-"))
        expected = [
            ("toc", "nav.xhtml"),
            ("foreword", "foreword.xhtml"),
            ("bodymatter", first_chapter),
        ]
        if name == "cover":
            expected.insert(0, ("cover", "cover.xhtml"))
        assert landmarks(book) == expected, name
        # Every landmark leads to a document of the spine; the contents page is there out of
        # the reading order, so that a reading system may open it.
        itemrefs = {
            book.href(ref.attrib["idref"]): ref.get("linear", "yes")
            for ref in book.opf.iterfind("opf:spine/opf:itemref", NS)
        }
        assert {href for _, href in landmarks(book)} <= set(itemrefs), name
        assert itemrefs["nav.xhtml"] == "no", name
        assert "nav.xhtml" not in book.spine, name


def test_headings_never_skip_a_level_and_links_have_text(books: dict[str, Epub]) -> None:
    for name, book in books.items():
        for href, page in book.xhtml().items():
            assert not heading_problems(href, page), name
            for link in page.iter(f"{{{NS['x']}}}a"):
                assert link.get("href"), (name, href)
                assert text_of(link).strip() or link.get("aria-label"), (name, href)
            if href.startswith(("chapter-", "foreword")):
                first = next(e for e in page.iter() if e.tag in HEADINGS)
                assert HEADINGS[first.tag] == 1, (name, href)


def test_heading_check_catches_a_skipped_level() -> None:
    page = ET.fromstring(
        '<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>A</h1><h2>B</h2><h4>C</h4>'
        "<h2>D</h2></body></html>"
    )
    assert heading_problems("x.xhtml", page) == ["x.xhtml: h2 is followed by h4"]


def test_a_chapter_whose_sections_start_at_level_two_skips_no_heading(tmp_path: Path) -> None:
    project = small_book()
    chapter = project.add_chapter("Two")
    project.insert(chapter, 0, "## A section\n\nText.\n\n### A subsection\n\nMore.", Origin.HUMAN)
    book = Epub(export_epub(prepare_export(project), tmp_path / "sections.epub"))
    page = ET.fromstring(book.file("chapter-002.xhtml"))
    assert not heading_problems("chapter-002.xhtml", page)
    levels = [e.tag.rpartition("}")[2] for e in page.iter() if e.tag.endswith(("h1", "h2", "h3"))]
    assert levels == ["h1", "h2", "h3"]  # the chapter's title, its section, its subsection


def test_the_markdown_book_renders_its_marks_and_passes_epubcheck(books: dict[str, Epub]) -> None:
    book = books["markdown"]
    body = book.body("chapter-002.xhtml")
    tags = {element.tag.rpartition("}")[2] for element in body.iter()}
    assert {"em", "strong", "blockquote", "ul", "ol", "hr", "code", "a"} <= tags
    run_epubcheck(book.path)


# -- DAISY Ace ----------------------------------------------------------------------------------


def run_ace(epub: Path, outdir: Path) -> dict[str, Any]:
    """Run DAISY Ace through scripts/ace.sh and return its JSON report."""
    result = subprocess.run(
        [str(ACE), str(epub), str(outdir)],
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    report = outdir / "report.json"
    if result.returncode != 0 or not report.is_file():
        pytest.fail(
            f"DAISY Ace did not check {epub.name} (exit status {result.returncode}):\n"
            f"{result.stderr[-3000:]}{result.stdout[-3000:]}"
        )
    return json.loads(report.read_text(encoding="utf-8"))


def violations(report: dict[str, Any]) -> list[str]:
    """Every failed assertion of an Ace report, as "document: rule (impact): description"."""
    return [
        f"{document['earl:testSubject']['url']}: {check['earl:test']['dct:title']} "
        f"({check['earl:test'].get('earl:impact')}): {check['earl:result'].get('dct:description')}"
        for document in report.get("assertions", [])
        for check in document.get("assertions", [])
        if check["earl:result"]["earl:outcome"] != "pass"
    ]


@pytest.mark.slow
@pytest.mark.timeout(600)  # Ace takes about 100 s on Pride and Prejudice
@pytest.mark.parametrize("name", BOOKS)
def test_daisy_ace_finds_no_violation(books: dict[str, Epub], name: str, tmp_path: Path) -> None:
    report = run_ace(books[name].path, tmp_path / "ace")
    assert not violations(report), "\n".join(violations(report))
    assert report["earl:result"]["earl:outcome"] == "pass"
    metadata = report["a11y-metadata"]
    assert "dcterms:conformsTo" in metadata["present"]
    assert "schema:accessibilitySummary" in metadata["present"]
    # Only the certifier's fields are missing: nobody else evaluated the book.
    assert set(metadata["missing"]) <= {
        "a11y:certifiedBy",
        "a11y:certifierCredential",
        "a11y:certifierReport",
    }
    assert not metadata["empty"]


@pytest.mark.slow
def test_daisy_ace_reports_a_book_without_its_language(tmp_path: Path) -> None:
    """The check can fail: a package without xml:lang is a violation Ace reports."""
    source = export_epub(prepare_export(small_book()), tmp_path / "small.epub")
    broken = tmp_path / "broken.epub"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(broken, "w") as out:
        for info in original.infolist():
            data = original.read(info)
            if info.filename.endswith(".opf"):
                data = data.replace(b' xml:lang="en"', b"")
            out.writestr(info, data)
    found = violations(run_ace(broken, tmp_path / "ace"))
    assert any("epub-lang" in line for line in found), found
