"""A long print PDF laid out in parts at once (coauthor/publish/pdf_parts.py).

A book of six chapters of different lengths is typeset in one piece and in three parts, each in
its own process, and the two PDFs are read back with poppler's tools as a reader's software
reads them: every page must carry the same text in the same place (``pdftotext -layout``), with
the same page numbers, running heads and contents, and look the same, pixel for pixel
(``pdftoppm``); the joined PDF must have the outline,
links, fonts and manifest of a PDF laid out whole. The parts' first page numbers are guessed
before they are laid out; the guesses are made wrong on purpose to show that a part is
renumbered. A part whose process dies leaves the book laid out in one piece.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coauthor.core.book import BookMeta
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.publish import pdf_parts
from coauthor.publish.document import BookDocument, prepare_export
from coauthor.publish.pdf_export import export_pdf, parts_for
from coauthor.publish.signing import AuthorKey
from coauthor.publish.verify_export import verify_export

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils is not installed"
)

ADA = AuthorKey.generate("Ada Marlowe")
PARAGRAPH = (
    "The ferry left at *seven*, and the harbour master counted the passengers twice, as he "
    "always did, because the **second** count was the one he wrote down. Nobody on the quay "
    "remembered a crossing that had not been counted twice."
)
# Paragraphs per chapter: openings on rectos then leave blank versos in some places and not
# in others, between the parts too.
LENGTHS = (3, 14, 9, 2, 20, 6)


def long_book() -> Project:
    project = Project(BookMeta(title="The Ferry", author="Ada Marlowe", language="en-GB"))
    for number, paragraphs in enumerate(LENGTHS, 1):
        chapter = project.add_chapter(f"Crossing {number}")
        text = "\n\n".join([PARAGRAPH] * paragraphs)
        if paragraphs > 5:
            text += "\n\n* * *\n\n" + PARAGRAPH
        project.insert(chapter, 0, text + "\n", Origin.HUMAN)
    return project


@pytest.fixture(scope="module")
def book() -> BookDocument:
    return replace(prepare_export(long_book()), signer=ADA)


@pytest.fixture(scope="module")
def whole(book: BookDocument, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_pdf(book, tmp_path_factory.mktemp("whole") / "whole.pdf", parts=1)


@pytest.fixture(scope="module")
def in_parts(book: BookDocument, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The export falls back to one piece, silently but for its log, and that would read the
    # same as the book laid out whole: the log must say that the parts were used.
    messages: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: messages.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("coauthor.publish")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        path = export_pdf(book, tmp_path_factory.mktemp("parts") / "parts.pdf", parts=3)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert any("pages laid out in 3 parts at once" in m for m in messages), messages
    return path


def run(*command: str | Path) -> str:
    done = subprocess.run([str(c) for c in command], capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def pages(path: Path) -> list[str]:
    """The text of every page, as ``pdftotext -layout`` places it."""
    return run("pdftotext", "-layout", path, "-").split("\f")[:-1]


def page_number(reader: Any, destination: Any) -> int:
    """The page (from 1) a destination of the PDF leads to."""
    number = reader.get_destination_page_number(destination)
    assert number is not None
    return number + 1


def outline(path: Path) -> list[tuple[int, str, int]]:
    """The outline as (depth, title, page number from 1)."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    found: list[tuple[int, str, int]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, page_number(reader, item)))

    walk(reader.outline, 0)
    return found


def test_a_book_laid_out_in_parts_reads_the_same_as_in_one_piece(
    whole: Path, in_parts: Path
) -> None:
    expected, actual = pages(whole), pages(in_parts)
    assert len(expected) > 20
    assert len(actual) == len(expected)
    for number, (want, got) in enumerate(zip(expected, actual, strict=True), 1):
        assert got == want, f"page {number} differs"
    # The pages compared carry what a reader would look for: heads, feet, blanks, contents.
    assert any(not page.strip() for page in expected[8:])  # a blank verso before an opening
    assert sum(bool(re.search(r"^\s+The Ferry\s*$", p, re.MULTILINE)) for p in expected) > 3
    feet = [n for n, page in enumerate(expected, 1) if page.split()[-1:] == [str(n)]]
    assert len(feet) > len(expected) // 2


def export_in_parts(book: BookDocument, target: Path, caplog: pytest.LogCaptureFixture) -> Path:
    """The book exported in three parts, what the export logs captured."""
    with caplog.at_level(logging.INFO, logger="coauthor.publish"):
        return export_pdf(book, target, parts=3)


def pictures(path: Path, folder: Path) -> list[bytes]:
    """Every page drawn at 72 dpi, in grey, as raw pixels."""
    from PIL import Image

    folder.mkdir()
    run("pdftoppm", "-gray", "-r", "72", path, folder / "p")
    return [Image.open(page).tobytes() for page in sorted(folder.glob("p-*.pgm"))]


def test_every_page_looks_the_same_pixel_for_pixel(
    whole: Path, in_parts: Path, tmp_path: Path
) -> None:
    expected, actual = pictures(whole, tmp_path / "whole"), pictures(in_parts, tmp_path / "parts")
    assert len(actual) == len(expected) > 20
    for number, (want, got) in enumerate(zip(expected, actual, strict=True), 1):
        assert got == want, f"page {number} looks different"


@pytest.mark.parametrize("per_page", [10, 10**9], ids=["too many pages", "too few pages"])
def test_parts_whose_first_page_was_guessed_wrong_are_renumbered(
    book: BookDocument,
    whole: Path,
    per_page: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(pdf_parts, "CHARS_PER_PAGE", per_page)
    path = export_in_parts(book, tmp_path / "guessed.pdf", caplog)
    assert "renumber" in caplog.text  # the parts' own account of their work
    assert pages(path) == pages(whole)
    assert pictures(path, tmp_path / "guessed") == pictures(whole, tmp_path / "whole")


def test_the_contents_link_to_the_chapters_and_the_outline_nests_them(
    whole: Path, in_parts: Path
) -> None:
    from pypdf import PdfReader

    assert outline(in_parts) == outline(whole)
    assert [title for _, title, _ in outline(in_parts)][-6:] == [
        f"Crossing {n}" for n in range(1, 7)
    ]
    reader = PdfReader(in_parts)
    texts = pages(in_parts)
    destinations = reader.named_destinations
    contents = next(n for n, page in enumerate(reader.pages) if "Contents" in texts[n])
    targets = []
    annotations: list[Any] = reader.pages[contents]["/Annots"]  # type: ignore[assignment]
    for annotation in annotations:
        name = str(annotation.get_object()["/Dest"])
        number = page_number(reader, destinations[name])
        targets.append((name, number))
        if name.startswith("chapter-"):
            title = f"Crossing {name.removeprefix('chapter-')}"
            assert texts[number - 1].strip().startswith(title), f"{name} leads to page {number}"
    assert {name for name, _ in targets} == {"foreword"} | {f"chapter-{n}" for n in range(1, 7)}


def test_the_joined_pdf_embeds_its_fonts_and_verify_accepts_it(in_parts: Path, whole: Path) -> None:
    rows = run("pdffonts", in_parts).splitlines()[2:]
    assert rows
    assert all(row.split()[-5:-2] == ["yes", "yes", "yes"] for row in rows), rows
    assert {r.split()[0].split("+")[1] for r in rows} == {
        r.split()[0].split("+")[1] for r in run("pdffonts", whole).splitlines()[2:]
    }
    check = verify_export(in_parts, expect_key=ADA.fingerprint)
    assert check.signed
    assert "1: coauthor-manifest.json" in run("pdfdetach", "-list", in_parts)
    info = run("pdfinfo", in_parts)
    assert "Title:           The Ferry" in info
    assert "Author:          Ada Marlowe" in info
    assert re.search(r"Page size:\s+396 x 612 pts", info)


def _dies(connection: Any) -> None:
    """A part's process that ends at once, as one killed by the system would."""
    os._exit(3)


def test_a_part_whose_process_dies_leaves_the_book_laid_out_in_one_piece(
    book: BookDocument,
    whole: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(pdf_parts, "_part_worker", _dies)
    path = export_in_parts(book, tmp_path / "fallback.pdf", caplog)
    assert "laying the book out in one piece, because a part's process ended early" in caplog.text
    assert "laid out in one piece" in caplog.text
    assert pages(path) == pages(whole)
    verify_export(path, expect_key=ADA.fingerprint)


def test_without_pypdf_the_book_is_laid_out_in_one_piece(
    book: BookDocument,
    whole: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setitem(sys.modules, "pypdf", None)  # as in an installation without it
    path = export_in_parts(book, tmp_path / "no-pypdf.pdf", caplog)
    assert "because pypdf, which joins the parts, cannot be loaded" in caplog.text
    assert pages(path) == pages(whole)


def test_only_a_long_book_with_the_shipped_templates_is_laid_out_in_parts(
    book: BookDocument, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf_parts, "available_processors", lambda: 8)
    assert parts_for(book, None) == 1  # a short book
    monkeypatch.setattr(pdf_parts, "MIN_PARALLEL_CHARS", 1_000)
    assert parts_for(book, None) == pdf_parts.MAX_PARTS
    (tmp_path / "print.css").write_text("body { }", encoding="utf-8")
    assert parts_for(book, [tmp_path]) == 1  # the user's own stylesheet
    monkeypatch.setattr(pdf_parts, "available_processors", lambda: 1)
    assert parts_for(book, None) == 1


@given(
    weights=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=80),
    parts=st.integers(min_value=1, max_value=6),
)
def test_runs_cover_every_chapter_in_order_none_empty(weights: list[int], parts: int) -> None:
    runs = pdf_parts.split_runs(weights, parts)
    assert [i for run in runs for i in run] == list(range(len(weights)))
    assert all(len(run) > 0 for run in runs)
    assert len(runs) <= min(parts, len(weights))
    if len(set(weights)) == 1 and weights[0] > 0:  # chapters of one length: as many runs as asked
        assert len(runs) == min(parts, len(weights))
        assert max(map(len, runs)) - min(map(len, runs)) <= 1
