"""The HTML book: golden files of the sample, its structure, metadata and atomic writing.

Reference files live in ``tests/reference/html``. A missing one is written and the test fails
asking for a review; ``COAUTHOR_UPDATE_REFERENCE=1`` rewrites them.
"""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from golden import assert_matches_reference, fixed_time_sample

from coauthor.core.book import BookMeta
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.publish.document import BookDocument, prepare_export
from coauthor.publish.html_export import export_html, render_html

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference" / "html"


@pytest.fixture(scope="module")
def tide_document(tmp_path_factory: pytest.TempPathFactory) -> BookDocument:
    project = fixed_time_sample(tmp_path_factory.mktemp("sample"))
    return prepare_export(project)


class _Outline(HTMLParser):
    """Headings, section ids, links and meta elements of a page."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.sections: list[str] = []
        self.links: list[str] = []
        self.paragraphs = 0
        self.breaks = 0
        self.tags: set[str] = set()
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.add(tag)
        if tag == "meta" and "name" in values:
            self.meta[values["name"]] = values.get("content", "")
        if tag in ("section", "header", "nav") and "id" in values:
            self.sections.append(values["id"])
        if tag == "a":
            self.links.append(values.get("href", ""))
        if tag == "p":
            self.paragraphs += 1
        if tag == "br":
            self.breaks += 1


def test_book_matches_the_reference(tide_document: BookDocument, tmp_path: Path) -> None:
    path = export_html(tide_document, tmp_path / "book.html")
    assert_matches_reference(path.read_text(encoding="utf-8"), REFERENCE / "sample.html")


def test_styled_book_matches_the_reference(tide_document: BookDocument, tmp_path: Path) -> None:
    path = export_html(tide_document, tmp_path / "book.html", provenance_styling=True)
    text = path.read_text(encoding="utf-8")
    assert 'class="o-ai" title="Drafted by SmolLM2-135M-Instruct (generation g1)"' in text
    assert 'class="o-imported" title="Imported from almanac-notes.md (import i1)"' in text
    assert 'class="o-pasted"' in text
    assert_matches_reference(text, REFERENCE / "sample-styled.html")


def test_book_structure(tide_document: BookDocument) -> None:
    outline = _Outline(render_html(tide_document))
    assert outline.sections == [
        "title-page",
        "foreword",
        "contents",
        "chapter-1",
        "chapter-2",
        "chapter-3",
    ]
    assert outline.links == ["#foreword", "#chapter-1", "#chapter-2", "#chapter-3"]
    paragraphs = sum(len(c.paragraphs) for c in tide_document.chapters)
    # title page: subtitle, author, disclosure; the foreword's paragraphs; the chapters'
    assert outline.paragraphs == 3 + len(tide_document.foreword) + paragraphs
    assert outline.breaks == 1  # the pasted verse's single newline
    assert "table" in outline.tags
    assert "span" not in outline.tags  # no provenance marking unless asked for


def test_book_metadata(tide_document: BookDocument) -> None:
    outline = _Outline(render_html(tide_document))
    assert outline.meta["ai-disclosure"] == tide_document.disclosure
    assert outline.meta["ai-category"] == "Some sections AI-generated, with minimal editing"
    assert outline.meta["ai-share"] == f"{tide_document.roles.share(Origin.AI):.4f}"
    assert outline.meta["ai-models"] == "SmolLM2-135M-Instruct (embedded)"
    assert outline.meta["author"] == "Ada Marlowe"
    assert outline.meta["generator"] == "Coauthor"


def test_book_loads_nothing_from_the_network(tide_document: BookDocument) -> None:
    markup = render_html(tide_document, provenance_styling=True)
    assert "http://" not in markup
    assert "https://" not in markup
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", markup)
    assert "url(" not in markup
    assert "default-src 'none'" in markup.replace("&#39;", "'")


def test_the_foreword_table_follows_the_book_setting(tmp_path: Path) -> None:
    project = Project(BookMeta(title="T", author="A", foreword_table="no"))
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "Text.", Origin.HUMAN)
    assert "<table" not in render_html(prepare_export(project))
    project.meta.foreword_table = "yes"
    assert "<table" in render_html(prepare_export(project))


def test_a_user_template_overrides_the_book(tide_document: BookDocument, tmp_path: Path) -> None:
    (tmp_path / "book.html.j2").write_text("<p>{{ title }} & {{ disclosure }}</p>\n")
    document = replace(tide_document, meta=replace(tide_document.meta, title="<b>Mine</b>"))
    markup = render_html(document, template_dirs=[tmp_path])
    assert markup.startswith("<p>&lt;b&gt;Mine&lt;/b&gt; & Written by Ada Marlowe")


def test_a_failed_write_leaves_the_old_file(
    tide_document: BookDocument, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "book.html"
    export_html(tide_document, target)
    before = target.read_bytes()

    def half_then_fail(path: Path, text: str) -> None:
        path.write_text(text[: len(text) // 2], encoding="utf-8")
        raise OSError("disk full")

    monkeypatch.setattr("coauthor.publish.html_export.write_text", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        export_html(tide_document, target, provenance_styling=True)

    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["book.html"]


def test_a_failed_sync_leaves_the_old_file(
    tide_document: BookDocument, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "book.html"
    export_html(tide_document, target)
    before = target.read_bytes()

    def fail(_fd: int) -> None:
        raise OSError("I/O error")

    monkeypatch.setattr("coauthor.publish.document.os.fsync", fail)
    with pytest.raises(OSError, match="I/O error"):
        export_html(tide_document, target, provenance_styling=True)

    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["book.html"]


def test_progress_is_reported(tide_document: BookDocument, tmp_path: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    export_html(tide_document, tmp_path / "b.html", progress=lambda *a: calls.append(a))
    assert [(done, total) for done, total, _ in calls] == [(0, 2), (1, 2), (2, 2)]
