"""Print PDF export: the book typeset for paper by WeasyPrint (HTML and CSS paged media).

``export_pdf`` renders a ``BookDocument`` (already through the gate, see ``prepare_export``)
through ``print.html.j2`` and ``print.css`` (files of those names in a user templates folder
override them) and lays it out with WeasyPrint. Why WeasyPrint and not Qt's ``QPdfWriter`` is
in docs/architecture.md ("The print PDF"): CSS paged media gives mirrored margins, running
heads, a table of contents with page numbers and recto chapter openings; Qt's text document
printer gives none of these without laying out every page by hand.

- Trim sizes ``TRIMS`` (5×8 in, 5.5×8.5 in, 6×9 in, A5), each with mirrored margins (a wider
  inner margin, ``@page :left`` / ``:right``) and its body size;
- the title page, its verso (the disclosure), the contents (with page numbers,
  ``target-counter``), then first of all the foreword ("How this book was written") and each
  chapter, every one starting on a recto; running heads (the book's title on the verso, the
  part's title on the recto, none on opening pages) and page numbers at the foot;
- the chapters are rendered from their blocks (``html_export.blocks_html``): emphasis in the
  italic face, scene breaks as a centred dinkus (three bullets); hyphenation by the book's
  language (Pyphen's patterns, when it has that language), widows and orphans of at least two
  lines;
- the fonts are Gentium Book Plus, shipped in ``resources/fonts`` (SIL OFL), embedded as
  subsets, so the text can be copied and extracted (``pdftotext``) and the book looks the same
  on every machine;
- the provenance manifest (``manifest.py``) is an attached file, ``coauthor-manifest.json``
  (``pdfdetach -list`` shows it), stored uncompressed; its ``export.file_sha256`` is the
  SHA-256 of the PDF without the attachment's bytes (``read_export.pdf_manifest_span``): the
  PDF is written with spaces where the manifest goes, hashed without them, and the manifest
  is written over the spaces (padded with spaces, which JSON ignores);
- the file is written atomically (``atomic_write``).

Without WeasyPrint's libraries (Pango, HarfBuzz) ``check_engine`` raises ``PdfEngineMissing``,
an ``ExportWriteError`` whose message is one sentence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coauthor.core.resources import resources_dir
from coauthor.publish.document import (
    BookDocument,
    ChapterDoc,
    ExportWriteError,
    Progress,
    atomic_write,
    book_language,
    roles_table,
)
from coauthor.publish.html_export import Marking, blocks_html, environment, origin_marking
from coauthor.publish.manifest import build_manifest, display_title, manifest_text, sha256_bytes
from coauthor.publish.read_export import PDF_ATTACHMENT, PDF_MARKER, pdf_manifest_span

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from markupsafe import Markup

__all__ = [
    "DEFAULT_TRIM",
    "PRINT_TEMPLATE",
    "TRIMS",
    "PdfEngineMissing",
    "Trim",
    "check_engine",
    "export_pdf",
    "parts_for",
]

logger = logging.getLogger(__name__)

PRINT_TEMPLATE = "print.html.j2"
LEGEND = (
    "In this edition, text first drafted by a language model has a tinted background and a "
    "solid underline, pasted text a dashed underline and imported text a dotted underline."
)


@dataclass(frozen=True)
class Trim:
    """A page size with its mirrored margins and body size (CSS lengths)."""

    name: str
    width: str
    height: str
    top: str
    bottom: str
    inner: str
    outer: str
    font_size: str


TRIMS: dict[str, Trim] = {
    "5x8": Trim("5x8", "5in", "8in", "0.6in", "0.7in", "0.75in", "0.55in", "10.5pt"),
    "5.5x8.5": Trim("5.5x8.5", "5.5in", "8.5in", "0.65in", "0.75in", "0.8in", "0.6in", "11pt"),
    "6x9": Trim("6x9", "6in", "9in", "0.7in", "0.8in", "0.875in", "0.65in", "11.5pt"),
    "a5": Trim("a5", "148mm", "210mm", "16mm", "19mm", "20mm", "15mm", "11pt"),
}
DEFAULT_TRIM = "5.5x8.5"


class PdfEngineMissing(ExportWriteError):
    """WeasyPrint or the libraries it draws text with cannot be loaded; nothing was written."""


def check_engine() -> None:
    """Raise ``PdfEngineMissing`` (one sentence) when WeasyPrint cannot be loaded."""
    try:
        import weasyprint  # noqa: F401 - loading it is the check (it loads Pango)
    except (ImportError, OSError) as exc:
        # The loader's own message, cut to its first clause: the sentence stays one sentence.
        text = str(exc).strip()
        reason = text.splitlines()[0].split(". ")[0] if text else type(exc).__name__
        raise PdfEngineMissing(
            f"The PDF export needs WeasyPrint and the Pango and HarfBuzz libraries, which could "
            f"not be loaded ({reason.rstrip('.')}): install them with "
            "`scripts/system-deps.sh app`; nothing was changed."
        ) from exc


def _trim(name: str) -> Trim:
    try:
        return TRIMS[name.lower()]
    except KeyError:
        raise ValueError(
            f"{name!r} is not a trim size Coauthor knows; choose one of {', '.join(TRIMS)}"
        ) from None


def _chapter_body(chapter: ChapterDoc, marking: Marking | None) -> Markup:
    """The chapter's blocks as HTML (paragraphs, emphasis, quotes, lists, scene breaks); a
    chapter's ``#`` heading is an ``<h3>`` under the chapter's own ``<h2>``."""
    return blocks_html(chapter.blocks, marking, heading_offset=2)


def print_context(document: BookDocument, trim: Trim, provenance_styling: bool) -> dict[str, Any]:
    """What ``print.html.j2`` is rendered with."""
    meta = document.meta
    marking = (
        origin_marking(
            {g.id: g for g in document.generations}, {i.id: i.source for i in document.imports}
        )
        if provenance_styling
        else None
    )
    headers, rows, total = roles_table(document)
    chapters = [
        {
            "id": f"chapter-{chapter.number}",
            "title": display_title(chapter.title, chapter.number),
            "body": _chapter_body(chapter, marking),
        }
        for chapter in document.chapters
    ]
    return {
        "meta": meta,
        "lang": book_language(meta.language),
        "title": meta.title or "Untitled",
        "trim": trim,
        "disclosure": document.disclosure,
        "category": document.roles.category.label,
        "styling": provenance_styling,
        "legend": LEGEND,
        "foreword_title": document.foreword_title,
        "foreword": [p for p in document.foreword if p.strip()],
        "table": (
            {"headers": headers, "rows": rows, "total": total}
            if document.with_chapter_table and document.chapters
            else None
        ),
        "chapters": chapters,
        # The whole book in one document; pdf_parts.py lays a long one out in parts.
        "front": True,
        "bodies": chapters,
        "toc_pages": None,
    }


def _attach_placeholder(size: int) -> Any:
    """A WeasyPrint finisher that attaches ``size`` spaces as ``coauthor-manifest.json``,
    uncompressed, where the manifest is written once the rest of the PDF is hashed."""
    import pydyf

    def finish(_document: object, pdf: Any) -> None:
        stream = pydyf.Stream(
            [b" " * size],
            {"Type": "/EmbeddedFile", "Subtype": "/application#2Fjson", PDF_MARKER: 1},
            compress=False,
        )
        pdf.add_object(stream)
        spec = pydyf.Dictionary(
            {
                "Type": "/Filespec",
                "F": pydyf.String(PDF_ATTACHMENT),
                "UF": pydyf.String(PDF_ATTACHMENT),
                "EF": pydyf.Dictionary({"F": stream.reference, "UF": stream.reference}),
                "Desc": pydyf.String("Coauthor provenance manifest"),
                "AFRelationship": "/Data",
            }
        )
        pdf.add_object(spec)
        names = pydyf.Dictionary({"Names": pydyf.Array([pydyf.String(PDF_ATTACHMENT)])})
        names["Names"].append(spec.reference)
        pdf.add_object(names)
        if "Names" not in pdf.catalog:
            pdf.catalog["Names"] = pydyf.Dictionary()
        pdf.catalog["Names"]["EmbeddedFiles"] = names.reference
        pdf.catalog["AF"] = pydyf.Array([spec.reference])

    return finish


def _with_manifest(pdf: bytes, make: Callable[[str], Mapping[str, object]], size: int) -> bytes:
    """``pdf`` (written with ``size`` spaces for the manifest) with its manifest in place."""
    start, end = pdf_manifest_span(pdf)
    if end - start != size or pdf[start:end].strip(b" "):
        raise RuntimeError("the PDF's manifest attachment is not where it was written")
    text = manifest_text(make(sha256_bytes(pdf[:start] + pdf[end:]))).encode("ascii")
    if len(text) > size:
        raise RuntimeError("the manifest grew after its room in the PDF was measured")
    return pdf[:start] + text + b" " * (size - len(text)) + pdf[end:]


def _own_print_templates(template_dirs: list[Path] | None) -> bool:
    """Whether a user's templates folder has its own ``print.html.j2`` or ``print.css``."""
    return any(
        (Path(folder) / name).is_file()
        for folder in template_dirs or []
        for name in (PRINT_TEMPLATE, "print.css")
    )


def parts_for(document: BookDocument, template_dirs: list[Path] | None) -> int:
    """How many parts to lay the book out in at once: one for a short book, or with the user's
    own print templates; otherwise one per processor (at most ``pdf_parts.MAX_PARTS``)."""
    from coauthor.publish import pdf_parts

    size = sum(len(chapter.text) for chapter in document.chapters)
    if size < pdf_parts.MIN_PARALLEL_CHARS or _own_print_templates(template_dirs):
        return 1
    return min(pdf_parts.available_processors(), pdf_parts.MAX_PARTS, len(document.chapters))


def export_pdf(
    document: BookDocument,
    target: Path,
    *,
    trim: str = DEFAULT_TRIM,
    provenance_styling: bool = False,
    progress: Progress | None = None,
    template_dirs: list[Path] | None = None,
    parts: int | None = None,
) -> Path:
    """Typeset the book as a print PDF (atomically written) and return its path.

    A long book is laid out in ``parts`` parts at once (``pdf_parts.py``); by default, one per
    processor for a book of more than ``pdf_parts.MIN_PARALLEL_CHARS`` characters typeset with
    the shipped templates, else in one piece."""
    check_engine()
    import weasyprint

    chosen = _trim(trim)
    steps = 5
    if progress:
        progress(0, steps, "Preparing the pages")
    template = environment(template_dirs).get_template(PRINT_TEMPLATE)
    context = print_context(document, chosen, provenance_styling)
    base = str(resources_dir() / "templates") + "/"

    def make(digest: str, pages: int) -> Mapping[str, object]:
        export = {"file_sha256": digest, "trim": chosen.name, "pages": pages}
        return build_manifest(document, "pdf", export)

    def room(pages: int) -> int:
        # The manifest's length does not depend on the hash it holds: measured with a dummy one.
        return len(manifest_text(make("0" * 64, pages)))

    count = parts_for(document, template_dirs) if parts is None else parts
    laid_in = 1
    written: bytes | None = None
    pages = 0
    if count > 1 and len(document.chapters) > 1:
        from coauthor.publish import pdf_parts

        done = [1]

        def step(what: str) -> None:
            if progress:
                progress(done[0], steps, what)
            done[0] = min(done[0] + 1, steps - 1)

        try:
            written, pages, laid_in = pdf_parts.lay_out_in_parts(
                template, context, base, count, room=room, progress=step
            )
        except pdf_parts.PartsFailed as exc:
            logger.warning("PDF export: laying the book out in one piece, because %s", exc)
    if written is None:
        if progress:
            progress(1, steps, "Laying out the pages (this takes a few seconds)")
        laid_out = weasyprint.HTML(string=template.render(**context), base_url=base).render()
        pages = len(laid_out.pages)
        if progress:
            progress(3, steps, f"Drawing {pages} pages and embedding the fonts")
        written = laid_out.write_pdf(finisher=_attach_placeholder(room(pages)))
        assert written is not None  # no target: WeasyPrint returns the bytes
    data = _with_manifest(written, lambda digest: make(digest, pages), room(pages))
    if progress:
        progress(4, steps, "Writing the file")

    def write(temp: Path) -> None:
        temp.write_bytes(data)

    path = atomic_write(Path(target), write)
    if progress:
        progress(steps, steps, "Done")
    logger.info(
        "PDF export: %s pages laid out in %s, %s bytes, trim %s",
        pages,
        f"{laid_in} parts at once" if laid_in > 1 else "one piece",
        len(data),
        chosen.name,
    )
    return path
