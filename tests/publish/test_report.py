"""The provenance report: its golden file, its contents, self-containment and atomic writing.

The reference lives in ``tests/reference/report``. The only volatile line is the one naming
the Coauthor version (the time is passed in as ``generated_at``); a missing reference is
written and the test fails asking for a review; ``COAUTHOR_UPDATE_REFERENCE=1`` rewrites it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from golden import FIXED, assert_matches_reference, fixed_time_sample

from coauthor.core.book import BookMeta
from coauthor.core.generation import Generation, Outcome
from coauthor.core.origin import Origin
from coauthor.core.policy import Flag
from coauthor.core.project import Project
from coauthor.core.roles import book_stats
from coauthor.importers import apply, parse_source
from coauthor.publish.document import BookDocument, prepare_export
from coauthor.publish.markup import block_text, leaf_blocks
from coauthor.publish.report import (
    HEATMAP_SEGMENTS,
    export_report,
    render_report,
    report_context,
)

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference" / "report"
GENERATED_AT = "2026-01-02T03:04:05Z"
VOLATILE = re.compile(r'class="generated"')


@pytest.fixture(scope="module")
def tide_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = fixed_time_sample(tmp_path_factory.mktemp("sample"))
    project.generations["g2"].timing = {"first_token_ms": 120, "tokens_per_second": 41.5}
    return project


@pytest.fixture(scope="module")
def tide_document(tide_project: Project) -> BookDocument:
    return prepare_export(tide_project)


@pytest.fixture(scope="module")
def tide_report(tide_document: BookDocument) -> str:
    return render_report(tide_document, generated_at=GENERATED_AT)


_INLINE = {"span", "a", "strong", "em", "code", "b", "i"}


class _Page(HTMLParser):
    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.data: list[str] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append((tag, values))
        if "id" in values:
            self.ids.append(values["id"])
        if tag not in _INLINE:
            self.data.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag not in _INLINE:
            self.data.append(" ")

    def handle_data(self, data: str) -> None:
        self.data.append(data)

    @property
    def text(self) -> str:
        """The page's text, a space between blocks, whitespace runs as one space."""
        return " ".join("".join(self.data).split())

    def count(self, tag: str, **attrs: str) -> int:
        return sum(
            1
            for name, values in self.tags
            if name == tag and all(values.get(k) == v for k, v in attrs.items())
        )


def _words(text: str) -> str:
    return " ".join(text.split())


# -- the golden file ------------------------------------------------------------------------


def test_report_matches_the_reference(tide_document: BookDocument, tmp_path: Path) -> None:
    path = export_report(tide_document, tmp_path / "report.html", generated_at=GENERATED_AT)
    actual = path.read_text(encoding="utf-8")
    assert_matches_reference(actual, REFERENCE / "sample-report.html", VOLATILE)


def test_the_report_is_reproducible(tide_document: BookDocument) -> None:
    first = render_report(tide_document, generated_at=GENERATED_AT)
    assert render_report(tide_document, generated_at=GENERATED_AT) == first
    assert f"Generated {GENERATED_AT}" in first


def test_source_date_epoch_fixes_the_time(
    tide_document: BookDocument, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    assert "Generated 2026-01-01T00:00:00Z" in render_report(tide_document)


# -- what it holds --------------------------------------------------------------------------


def test_the_report_holds_the_figures(
    tide_project: Project, tide_document: BookDocument, tide_report: str
) -> None:
    page = _Page(tide_report)
    text = page.text
    assert "Some sections AI-generated, with minimal editing" in text
    assert _words(tide_document.disclosure) in text
    stats: Any = book_stats(tide_project.chapters, tide_project.generations)["book"]
    origins: Any = report_context(tide_document, generated_at=GENERATED_AT)["origins"]
    rows = {row["key"]: row for row in origins}
    for origin in Origin:
        assert rows[origin.value]["chars"] == stats["chars"][origin.value]
        assert rows[origin.value]["words"] == stats["words"][origin.value]
    assert "SmolLM2-135M-Instruct, through embedded (Coauthor's built-in local model)" in text
    for label in ("Requested", "Inserted into the book", "Approved", "Rejected"):
        assert label in text
    assert "at least 50% of the final text" in text
    assert "at least 80% of the chapters" in text
    assert "at least 25% of the model's drafts" in text
    assert "Share of the drafts the author changed" in text


def test_the_chart_labels_every_origin(tide_report: str) -> None:
    chart = re.search(r'<figure class="chart">(.*?)</figure>', tide_report, re.DOTALL)
    assert chart is not None
    svg = chart.group(1)
    for colour in ("#0072B2", "#E69F00", "#009E73", "#999999"):
        assert colour in svg
    for key in ("human", "ai", "pasted", "imported"):
        assert f'class="bar-{key}"' in svg
        assert f'fill="url(#pattern-{key})"' in svg  # a pattern as well as a colour
    for label in (
        "Written by the author: 52% of the characters",
        "Drafted by a language model: 32% of the characters",
        "Pasted from elsewhere: 6% of the characters",
        "Imported from files: 10% of the characters",
    ):
        assert label in svg


def test_the_report_holds_the_foreword(tide_document: BookDocument, tide_report: str) -> None:
    page = _Page(tide_report)
    assert "foreword" in page.ids
    for paragraph in tide_document.foreword:
        assert _words(paragraph) in page.text
    assert "Whole book" in page.text


def test_the_report_holds_the_heatmap(tide_document: BookDocument, tide_report: str) -> None:
    heatmap = re.search(r'<figure class="heatmap">(.*?)</figure>', tide_report, re.DOTALL)
    assert heatmap is not None
    page = _Page(heatmap.group(1))
    assert page.count("svg") == 1
    chapters = len(tide_document.chapters)
    legend = 5
    assert page.count("rect") == chapters * HEATMAP_SEGMENTS + legend
    assert page.count("g", **{"class": "heatmap-row"}) == chapters
    for chapter in tide_document.chapters:
        assert f"{chapter.number}. {chapter.title}" in page.text
    assert "Drafted by the model:" in page.text
    assert "100%" in page.text
    # The Storm ends with the model's passage; the Almanac has none.
    cells = re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})"', heatmap.group(1))
    assert cells[HEATMAP_SEGMENTS : 2 * HEATMAP_SEGMENTS] == ["#f2f2f2"] * HEATMAP_SEGMENTS
    assert cells[3 * HEATMAP_SEGMENTS - 1] == "#00487a"


def test_the_report_holds_every_chapter_in_origin_colours(
    tide_document: BookDocument, tide_report: str
) -> None:
    page = _Page(tide_report)
    for chapter in tide_document.chapters:
        assert f"chapter-{chapter.number}" in page.ids
        for text in map(block_text, leaf_blocks(chapter.blocks)):
            assert _words(text) in page.text  # as a reader sees it: *patient* in italics
    assert "<em>patient</em>" in tide_report
    assert tide_report.count('class="o-ai" title="Drafted by SmolLM2-135M-Instruct') == 3
    assert 'class="o-imported" title="Imported from almanac-notes.md (import i1)"' in tide_report
    assert 'class="o-pasted" title="Pasted from outside Coauthor"' in tide_report


def test_the_report_holds_the_generation_log(tide_document: BookDocument, tide_report: str) -> None:
    page = _Page(tide_report)
    for generation in tide_document.generations:
        assert f"generation-{generation.id}" in page.ids
        assert f"Generation {generation.id}" in page.text
        for message in generation.messages:
            assert _words(str(message["content"])) in page.text
    assert page.count("details") == 2 * len(tide_document.generations)
    assert "Requested 2026-01-01T00:00:00Z" in page.text
    assert "Finished 2026-01-01T00:00:01Z (1.5 s)" in page.text
    assert '{"max_tokens": 120, "seed": 7, "temperature": 0.7}' in page.text
    assert "first_token_ms: 120; tokens_per_second: 41.5" in page.text
    assert "335 characters, 305 still in the book" in page.text
    assert "approved by Ada Marlowe at 2026-01-01T00:00:30Z" in page.text
    assert "approved by Tester at 2026-01-01T00:00:00Z" in page.text


def test_the_review_log_falls_back_to_the_generations(tide_report: str) -> None:
    section = tide_report.split('id="reviews"', 1)[1].split("</section>", 1)[0]
    page = _Page(section)
    assert page.count("tr") == 3  # a header and two reviews
    assert "2026-01-01T00:00:00Z g2 approved Tester" in page.text
    assert "2026-01-01T00:00:30Z g1 approved Ada Marlowe" in page.text


def test_the_review_log_shows_the_recorded_reviews(tide_project: Project) -> None:
    reviews = [
        (FIXED + 5_000, "g1", "rejected", "Ada Marlowe"),
        (FIXED + 9_000, "g1", "approved", "Ada Marlowe"),
        (FIXED + 7_000, "g2", "approved", "Tester"),
    ]
    report = render_report(prepare_export(tide_project, reviews=reviews), generated_at="x")
    section = report.split('id="reviews"', 1)[1].split("</section>", 1)[0]
    text = _Page(section).text
    assert text.index("g1 rejected") < text.index("g2 approved") < text.index("g1 approved")
    assert "The latest review of each generation" not in text


def test_overrides_appear_in_the_report(tide_project: Project) -> None:
    keeper = tide_project.chapters[0]
    start = keeper.text.text.index("somebody drowned")
    flag = Flag(
        keeper.id,
        start,
        start + len("somebody drowned"),
        ("violence",),
        override="A death in a folk tale, not a description of violence.",
        source="offline",
        text_hash="deadbeef",
        override_by="Ada Marlowe",
        override_at=FIXED + 86_400_000,
    )
    document = prepare_export(tide_project, flags=[flag])
    text = _Page(render_report(document, generated_at=GENERATED_AT)).text
    assert "A death in a folk tale, not a description of violence." in text
    assert "1. The Keeper, characters" in text
    assert "“somebody drowned”" in text
    assert "violence (offline)" in text
    assert "Ada Marlowe 2026-01-02T00:00:00Z" in text


def test_no_override_is_stated_when_there_is_none(tide_report: str) -> None:
    assert "No flagged passage was published against content screening." in tide_report


def test_the_report_holds_the_imports(tide_report: str) -> None:
    text = _Page(tide_report).text
    assert "i1 almanac-notes.md markdown yes 2025-12-31T23:00:00Z" in text


# -- self-contained, printable --------------------------------------------------------------


def test_the_report_loads_nothing(tide_report: str) -> None:
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", tide_report)
    assert "http://" not in tide_report
    assert "https://" not in tide_report
    assert not re.search(r"<(script|link|img|iframe|object|embed|base)\b", tide_report)
    assert "@import" not in tide_report
    assert re.findall(r"url\(([^)]*)\)", tide_report) == [
        f"#pattern-{key}" for key in re.findall(r'fill="url\(#pattern-(\w+)\)"', tide_report)
    ]
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', tide_report))


def test_the_report_prints_well(tide_report: str) -> None:
    style = tide_report.split("<style>", 1)[1].split("</style>", 1)[0]
    print_rules = style.split("@media print", 1)[1]
    assert ".chapter { break-before: page; page-break-before: always; }" in print_rules
    assert "background: #fff" in print_rules
    for colour in re.findall(r"background:\s*(#[0-9a-fA-F]{3,6})", style):
        digits = colour[1:] if len(colour) == 7 else "".join(c * 2 for c in colour[1:])
        red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        assert min(red, green, blue) >= 0xD0, f"dark background {colour}"


def test_pending_text_is_shown_apart() -> None:
    project = Project(BookMeta(title="T", author="A"), clock=lambda: FIXED)
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "Typed. ", Origin.HUMAN)
    project.add_generation(Generation("g1", "openai", "gpt", output="Drafted.", chapter_id=1))
    project.insert(chapter, 7, "Drafted.", Origin.AI, "g1")
    from coauthor.publish.document import build_document  # no gate: a preview

    report = render_report(build_document(project), generated_at=GENERATED_AT)
    assert 'class="o-ai o-pending"' in report
    assert "Drafted by a language model, pending review" in report
    assert 'stroke="#D55E00"' in report
    assert "counted with the model's words" in report
    assert 'class="bar-pending"' in report


def test_a_book_without_generations_or_chapters(tmp_path: Path) -> None:
    empty = prepare_export(Project(BookMeta(title="Nothing yet")))
    text = _Page(render_report(empty, generated_at=GENERATED_AT)).text
    assert "The book has no text yet" in text
    assert "No generation was requested for this book." in text
    assert "No review was recorded." in text
    assert "Nothing was imported." in text


def test_a_failed_generation_shows_its_error(tide_project: Project) -> None:
    project = Project(BookMeta(title="T", author="A"), clock=lambda: FIXED)
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "Typed.", Origin.HUMAN)
    project.add_generation(
        Generation(
            "g1", "compatible", "local-model", outcome=Outcome.FAILED, created=FIXED,
            chapter_id=1, error="connection refused",
        )
    )  # fmt: skip
    text = _Page(render_report(prepare_export(project), generated_at=GENERATED_AT)).text
    assert "Outcome failed" in text
    assert "Error connection refused" in text
    assert "Inserted never inserted" in text


def test_pride_and_prejudice(tmp_path: Path) -> None:
    project = Project(BookMeta(title="Pride and Prejudice", author="Jane Austen"))
    apply(project, parse_source(ROOT / "data" / "pride_and_prejudice.txt"))
    document = prepare_export(project)
    path = export_report(document, tmp_path / "pride.html", generated_at=GENERATED_AT)
    page = _Page(path.read_text(encoding="utf-8"))
    assert page.count("article", **{"class": "chapter"}) == 61
    assert page.count("g", **{"class": "heatmap-row"}) == 61
    assert "No text generated by a language model remains in this book" in page.text


# -- templates and writing ------------------------------------------------------------------


def test_a_user_template_overrides_the_report(tide_document: BookDocument, tmp_path: Path) -> None:
    (tmp_path / "report.html.j2").write_text("<h1>{{ title }}</h1>{{ '<b>' }}\n")
    report = render_report(tide_document, template_dirs=[tmp_path], generated_at="x")
    page, manifest = report.split('<pre id="coauthor-manifest" hidden>')
    assert page == "<h1>The Tide Clock</h1>&lt;b&gt;\n"  # then the manifest's line
    assert manifest.endswith("</pre>\n")


def test_a_failed_write_leaves_the_old_file(
    tide_document: BookDocument, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.html"
    export_report(tide_document, target, generated_at=GENERATED_AT)
    before = target.read_bytes()

    def half_then_fail(path: Path, text: str) -> None:
        path.write_text(text[: len(text) // 2], encoding="utf-8")
        raise OSError("disk full")

    monkeypatch.setattr("coauthor.publish.html_export.write_text", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        export_report(tide_document, target, generated_at="2030-01-01T00:00:00Z")

    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_failed_rename_leaves_the_old_file(
    tide_document: BookDocument, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.html"
    export_report(tide_document, target, generated_at=GENERATED_AT)
    before = target.read_bytes()

    def fail(_fd: int) -> None:
        raise OSError("I/O error")

    monkeypatch.setattr("coauthor.publish.document.os.fsync", fail)
    with pytest.raises(OSError, match="I/O error"):
        export_report(tide_document, target, generated_at="2030-01-01T00:00:00Z")

    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_progress_is_reported(tide_document: BookDocument, tmp_path: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    export_report(tide_document, tmp_path / "r.html", progress=lambda *a: calls.append(a))
    assert [(done, total) for done, total, _ in calls] == [(0, 2), (1, 2), (2, 2)]
