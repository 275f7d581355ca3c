"""The print PDF: trim sizes, page furniture, the contents, fonts, text, the manifest, verify.

A book with a long Markdown chapter (emphasis, strong text, a quotation, a scene break, a
passage drafted by a model) and a short plain-text chapter is typeset once (5.5 × 8.5 in) and
read back with poppler's tools, as a reader's software reads it: ``pdfinfo`` (page size),
``pdftotext`` (text, page by page), ``pdffonts`` (embedded fonts), ``pdftohtml -xml`` (the font
of each word), ``pdfdetach`` (the attached manifest) and ``pdftoppm`` (a picture of a page).
The extracted text is compared with ``tests/reference/pdf/storm.txt`` and a chapter's first
spread (a verso and the recto facing it) is drawn to
``tests/reference/pdf/spread.png`` for a person to look at
(``COAUTHOR_UPDATE_REFERENCE=1`` rewrites both after an intended change; review the diff).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from books import storm_book
from golden import assert_matches_reference

from coauthor.app.export import ExportFormat, ExportOptions, export_book
from coauthor.core.project import Project
from coauthor.publish.document import FOREWORD_TITLE, BookDocument, prepare_export
from coauthor.publish.pdf_export import TRIMS, PdfEngineMissing, check_engine, export_pdf
from coauthor.publish.read_export import pdf_manifest_span
from coauthor.publish.signing import AuthorKey
from coauthor.publish.verify_export import VerifyFailed, describe, verify_export
from coauthor.store import ProjectFile

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "pdf"
ADA = AuthorKey.generate("Ada Marlowe")

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils is not installed"
)

OPENING = (
    "It was a *dark* and **stormy** night. The harbour lamps swung on their chains, and "
    "the water in the basin rose against the quay with a sound like breathing."
)
FILLER = (
    "Mara counted the bells from the church and the slower bells from the buoy beyond the "
    "breakwater, and between them she listened for the clock, which went on ticking as if "
    "nothing in the world could disturb it. Unquestionably the townspeople considered her "
    "responsibilities extraordinarily burdensome, notwithstanding her characteristically "
    "uncomplaining disposition."
)
STORM = (
    OPENING
    + "\n\n> A quoted *line*\n> goes on.\n\n"
    + "\n\n".join([FILLER] * 9)
    + "\n\n* * *\n\n"
    + "\n\n".join([FILLER] * 9)
    + "\n"
)
MODEL = "\n\nThe storm *broke* at last.\n"
PLAIN = "Low water at noon.\nThe *stars* stay as typed.\n\nA second paragraph."


def storm_project(language: str = "en-GB") -> Project:
    return storm_book(STORM, MODEL, PLAIN, language=language)


@pytest.fixture(scope="module")
def storm() -> BookDocument:
    return replace(prepare_export(storm_project()), signer=ADA)


@pytest.fixture(scope="module")
def pdf(storm: BookDocument, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_pdf(storm, tmp_path_factory.mktemp("pdf") / "storm.pdf")


def run(*command: str | Path | int) -> str:
    done = subprocess.run([str(c) for c in command], capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def page_count(path: Path) -> int:
    match = re.search(r"^Pages:\s+(\d+)$", run("pdfinfo", path), re.MULTILINE)
    assert match is not None
    return int(match.group(1))


def page_text(path: Path, number: int) -> str:
    return run("pdftotext", "-f", str(number), "-l", str(number), "-layout", path, "-")


def page_lines(path: Path, number: int) -> list[str]:
    return [line.strip() for line in page_text(path, number).splitlines() if line.strip()]


def first_page_of(path: Path, heading: str) -> int:
    """The page whose first line is ``heading`` (a part's opening page)."""
    for number in range(1, page_count(path) + 1):
        lines = page_lines(path, number)
        if lines and lines[0] == heading:
            return number
    raise AssertionError(f"no page opens with {heading!r}")


# -- the page -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("trim", "points"),
    [("5x8", "360 x 576"), ("6x9", "432 x 648"), ("a5", "419.528 x 595.276")],
)
def test_the_page_size_is_the_chosen_trim(
    storm: BookDocument, trim: str, points: str, tmp_path: Path
) -> None:
    path = export_pdf(storm, tmp_path / f"{trim}.pdf", trim=trim)
    info = run("pdfinfo", "-l", "-1", path)
    sizes = set(re.findall(r"size:\s+([\d.]+ x [\d.]+) pts", info))
    assert sizes == {points}, info


def test_the_default_trim_is_5_5_by_8_5_inches(pdf: Path) -> None:
    sizes = set(re.findall(r"size:\s+([\d.]+ x [\d.]+) pts", run("pdfinfo", "-l", "-1", pdf)))
    assert sizes == {"396 x 612"}


def test_an_unknown_trim_is_refused_in_one_sentence(storm: BookDocument, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^'letter' is not a trim size Coauthor knows; choose"):
        export_pdf(storm, tmp_path / "book.pdf", trim="letter")
    assert not list(tmp_path.iterdir())


def test_the_title_page_the_contents_and_the_foreword_come_before_chapter_one(
    pdf: Path, storm: BookDocument
) -> None:
    assert page_lines(pdf, 1) == ["The Tide Clock", "Ada Marlowe"]
    assert storm.disclosure.split()[0] in page_lines(pdf, 2)[0]
    assert page_lines(pdf, 3)[0] == "Contents"
    text = run("pdftotext", pdf, "-")
    foreword = text.index(" ".join(storm.foreword[0].split()[:4]))
    chapter = text.index("It was a dark and stormy night")
    assert text.index("Contents") < foreword < chapter


def test_the_foreword_and_every_chapter_open_on_a_recto_without_a_running_head(
    pdf: Path, storm: BookDocument
) -> None:
    for heading in (FOREWORD_TITLE, "The Storm", "Low Tide"):
        number = first_page_of(pdf, heading)
        assert number % 2 == 1, f"{heading} opens on page {number}, a verso"


def test_pages_are_numbered_at_the_foot_except_the_title_pages_and_blanks(pdf: Path) -> None:
    chapter = first_page_of(pdf, "The Storm")
    for number in range(chapter, page_count(pdf) + 1):
        lines = page_lines(pdf, number)
        if lines:
            assert lines[-1] == str(number), f"page {number} ends with {lines[-1]!r}"
    assert not re.search(r"^\s*[12]\s*$", page_text(pdf, 1) + page_text(pdf, 2), re.MULTILINE)


def test_running_heads_are_the_book_on_the_verso_and_the_chapter_on_the_recto(
    pdf: Path,
) -> None:
    opening = first_page_of(pdf, "The Storm")
    assert page_lines(pdf, opening + 1)[0] == "The Tide Clock"  # a verso
    assert page_lines(pdf, opening + 2)[0] == "The Storm"  # a recto, not the opening
    assert "The Tide Clock" not in page_lines(pdf, opening)


def test_the_contents_list_every_part_with_the_page_it_starts_on(pdf: Path) -> None:
    entries = {}
    for line in page_lines(pdf, 3)[1:]:
        match = re.fullmatch(r"(.+?)[ .]*?\.[ .]*(\d+)", line)
        if match:
            entries[match.group(1).strip()] = int(match.group(2))
    assert list(entries) == [FOREWORD_TITLE, "The Storm", "Low Tide"]
    for title, number in entries.items():
        assert first_page_of(pdf, title) == number


# -- the text and the fonts ---------------------------------------------------------------------


def test_the_fonts_are_the_shipped_face_embedded_as_subsets(pdf: Path) -> None:
    rows = run("pdffonts", pdf).splitlines()[2:]
    fonts = {row.split()[0].split("+", 1)[1]: row.split()[-5:-2] for row in rows}
    assert set(fonts) == {
        "Gentium-Book-Plus",
        "Gentium-Book-Plus-Italic",
        "Gentium-Book-Plus-Bold",
    }
    assert all(flags == ["yes", "yes", "yes"] for flags in fonts.values()), rows  # emb sub uni


def test_code_blocks_are_set_in_the_shipped_face_too(tmp_path: Path) -> None:
    # An indented line reads as a code block in Markdown (Pride and Prejudice's "* * * * *"
    # between letters is one); WeasyPrint would set it in the machine's monospaced font.
    project = storm_book(
        "Before.\n\n        * * * * *\n\n```\nfenced\n```\n\nAfter.\n", MODEL, PLAIN
    )
    path = export_pdf(prepare_export(project), tmp_path / "code.pdf")
    text = "".join(run("pdftotext", path, "-").split())
    assert "Before.*****fenced" in text
    fonts = {row.split()[0].split("+", 1)[1] for row in run("pdffonts", path).splitlines()[2:]}
    assert fonts <= {"Gentium-Book-Plus", "Gentium-Book-Plus-Italic", "Gentium-Book-Plus-Bold"}


def word_fonts(path: Path) -> dict[str, set[str]]:
    """Every word of the PDF with the fonts it is set in (``pdftohtml -xml`` names a font by
    its subset tag and family; ``pdffonts`` gives the tag's full name)."""
    names = {
        row.split()[0].split("+")[0]: row.split()[0].split("+", 1)[1]
        for row in run("pdffonts", path).splitlines()[2:]
    }
    root = ET.fromstring(run("pdftohtml", "-xml", "-i", "-stdout", "-q", path))
    fonts = {f.get("id"): names[f.get("family", "").split("+")[0]] for f in root.iter("fontspec")}
    words: dict[str, set[str]] = {}
    for text in root.iter("text"):
        for word in "".join(text.itertext()).split():
            words.setdefault(word.strip(".,"), set()).add(fonts[text.get("font")])
    return words


def test_emphasis_is_in_the_italic_face_and_strong_text_in_the_bold(pdf: Path) -> None:
    words = word_fonts(pdf)
    assert words["dark"] == {"Gentium-Book-Plus-Italic"}
    assert words["stormy"] == {"Gentium-Book-Plus-Bold"}
    assert words["harbour"] == {"Gentium-Book-Plus"}
    assert words["broke"] == {"Gentium-Book-Plus-Italic"}  # the model's text, emphasised


def test_the_text_is_extractable_without_markdown_markers(pdf: Path) -> None:
    text = " ".join(run("pdftotext", pdf, "-").split())
    assert "It was a dark and stormy night." in text
    assert "A quoted line goes on." in text
    assert "The storm broke at last." in text
    assert "*" not in text.replace("The *stars* stay as typed.", "")  # plain text stays
    assert "\u2022 \u2022 \u2022" in text  # the scene break: a dinkus of three bullets


def test_the_extracted_text_matches_the_reference(pdf: Path) -> None:
    assert_matches_reference(run("pdftotext", "-layout", pdf, "-"), REFERENCE / "storm.txt")


def test_provenance_styling_tints_the_models_text_and_explains_it(
    storm: BookDocument, tmp_path: Path
) -> None:
    path = export_pdf(storm, tmp_path / "styled.pdf", provenance_styling=True)
    assert "text first drafted by a language model has a tinted background" in " ".join(
        page_lines(path, 2)
    )
    page = next(
        n
        for n in range(1, page_count(path) + 1)
        if "The storm broke at last." in page_lines(path, n)
    )
    run("pdftoppm", "-png", "-r", "50", "-f", page, "-l", page, path, tmp_path / "p")
    from PIL import Image

    (picture,) = (Image.open(p).convert("RGB") for p in tmp_path.glob("p-*.png"))
    tinted = [
        colour
        for _, colour in picture.getcolors(1 << 16) or []
        if isinstance(colour, tuple) and colour[2] > colour[0] + 8
    ]
    assert tinted, "no tinted (blue) background on the page"
    plain = export_pdf(storm, tmp_path / "plain.pdf")
    assert "tinted background" not in run("pdftotext", plain, "-")


def hyphenated_lines(path: Path) -> int:
    return sum(
        1
        for number in range(1, page_count(path) + 1)
        for line in page_lines(path, number)
        if re.search(r"[a-z]\u2010$", line)
    )


@pytest.mark.slow
def test_words_are_hyphenated_by_the_books_language_only_when_it_has_patterns(
    tmp_path: Path,
) -> None:
    english = export_pdf(prepare_export(storm_project("en-GB")), tmp_path / "en.pdf")
    assert hyphenated_lines(english) >= 3
    unknown = export_pdf(prepare_export(storm_project("zxx")), tmp_path / "zxx.pdf")
    assert hyphenated_lines(unknown) == 0


def test_a_spread_is_drawn_for_a_person_to_look_at(pdf: Path, tmp_path: Path) -> None:
    verso = first_page_of(pdf, "The Storm") + 1
    run("pdftoppm", "-png", "-r", "100", "-f", verso, "-l", verso + 1, pdf, tmp_path / "p")
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) == 2
    from PIL import Image

    left, right = (Image.open(p) for p in pages)  # the verso, then the recto
    assert left.size == right.size == (550, 850)  # 5.5 × 8.5 in at 100 dpi
    darkest, _ = left.convert("L").getextrema()
    assert isinstance(darkest, int)
    assert darkest < 64  # ink on the page
    spread = REFERENCE / "spread.png"
    if os.environ.get("COAUTHOR_UPDATE_REFERENCE") == "1" or not spread.exists():
        sheet = Image.new("L", (left.width * 2 + 8, left.height), 128)
        sheet.paste(left.convert("L"), (0, 0))
        sheet.paste(right.convert("L"), (left.width + 8, 0))
        spread.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(spread)


# -- the manifest and verify --------------------------------------------------------------------


def test_the_manifest_is_an_attached_file(pdf: Path, tmp_path: Path) -> None:
    assert "1: coauthor-manifest.json" in run("pdfdetach", "-list", pdf)
    run("pdfdetach", "-save", "1", "-o", tmp_path / "m.json", pdf)
    manifest = json.loads((tmp_path / "m.json").read_text(encoding="ascii"))
    assert manifest["format"] == "pdf"
    assert manifest["text_form"] == "paragraphs"
    assert manifest["export"]["trim"] == "5.5x8.5"
    assert manifest["export"]["pages"] == page_count(pdf)
    assert [c["title"] for c in manifest["chapters"]] == ["The Storm", "Low Tide"]


def test_verify_accepts_the_pdf_and_says_what_it_checked(pdf: Path) -> None:
    check = verify_export(pdf, expect_key=ADA.fingerprint)
    assert check.signed
    report = describe(check)
    assert "every byte of the PDF but the manifest (SHA-256)" in report
    assert "A PDF's text is not read back" in report


def test_verify_fails_when_a_byte_of_the_page_content_changes(pdf: Path, tmp_path: Path) -> None:
    data = bytearray(pdf.read_bytes())
    start, _ = pdf_manifest_span(bytes(data))
    at = data.index(b"stream\n") + 40  # inside the first content stream, before the manifest
    assert at < start
    data[at] ^= 0x01
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(bytes(data))
    with pytest.raises(VerifyFailed, match=r"the PDF was changed after it was made"):
        verify_export(changed)


def test_verify_fails_when_the_manifest_is_rewritten(pdf: Path, tmp_path: Path) -> None:
    data = pdf.read_bytes()
    start, end = pdf_manifest_span(data)
    manifest = data[start:end].replace(b'"trim":"5.5x8.5"', b'"trim":"6x9xxxx"')
    assert manifest != data[start:end]
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(data[:start] + manifest + data[end:])
    with pytest.raises(VerifyFailed, match=r"signature"):
        verify_export(changed)


def test_verify_refuses_a_pdf_without_a_manifest(tmp_path: Path) -> None:
    path = tmp_path / "other.pdf"
    path.write_bytes(b"%PDF-1.7\n%%EOF\n")
    with pytest.raises(VerifyFailed, match=r"no coauthor-manifest.json attachment"):
        verify_export(path)


# -- without WeasyPrint, and the command --------------------------------------------------------


def test_without_weasyprint_the_export_says_so_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    book = tmp_path / "storm.coauthor"
    project = storm_project()
    ProjectFile.create(book, project.meta).close(project)
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as when Pango cannot be loaded
    with pytest.raises(PdfEngineMissing) as raised:
        check_engine()
    message = str(raised.value)
    assert message.startswith("The PDF export needs WeasyPrint and the Pango and HarfBuzz")
    assert message.endswith("`scripts/system-deps.sh app`; nothing was changed.")
    assert message.count(". ") == 0
    with pytest.raises(PdfEngineMissing):
        export_book(book, ExportFormat.PDF, tmp_path / "out.pdf", options=ExportOptions())
    assert not (tmp_path / "out.pdf").exists()


def test_coauthor_export_writes_a_pdf_that_coauthor_verify_accepts(cli, tmp_path: Path) -> None:
    book = tmp_path / "storm.coauthor"
    project = storm_project()
    ProjectFile.create(book, project.meta).close(project)
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    out = tmp_path / "storm.pdf"
    result = cli("export", book, "--format", "pdf", "--trim", "6x9", "--out", out, env=env)
    assert result.returncode == 0, result.stderr
    assert f"Exported pdf to {out}".encode() in result.stderr
    assert "432 x 648 pts" in run("pdfinfo", out)
    result = cli("verify", out, "--project", book, env=env)
    assert result.returncode == 0, result.stderr
    assert b"OK, the export matches its provenance manifest" in result.stdout
    assert b"NOT SIGNED" in result.stdout
    refused = cli("export", book, "--format", "epub", "--trim", "6x9", "--out", out, env=env)
    assert refused.returncode == 1
    assert refused.stderr.decode().strip().endswith("--trim applies to the PDF export only")


def left_edge(path: Path, number: int) -> float:
    """Where the text of a page starts, in points from the paper's left edge."""
    root = ET.fromstring(run("pdftotext", "-bbox", "-f", str(number), "-l", str(number), path, "-"))
    return min(float(w.get("xMin", "0")) for w in root.iter("{http://www.w3.org/1999/xhtml}word"))


def test_the_margins_are_mirrored_with_the_wider_one_at_the_spine(pdf: Path) -> None:
    recto = first_page_of(pdf, "The Storm") + 2
    trim = TRIMS["5.5x8.5"]
    assert left_edge(pdf, recto) == pytest.approx(float(trim.inner[:-2]) * 72, abs=0.5)
    assert left_edge(pdf, recto - 1) == pytest.approx(float(trim.outer[:-2]) * 72, abs=0.5)
