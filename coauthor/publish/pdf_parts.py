"""A long print PDF laid out in parts at once, one process per part, then joined.

WeasyPrint lays a document out in one thread, and a 400-page novel keeps one processor busy for
half a minute (``bench/export.py``). Each chapter opens on a recto and nothing in a chapter's
layout depends on the pages before it but the numbers at their feet, so runs of chapters can be
laid out side by side and joined:

1. The chapters are cut into runs of about equal length (``split_runs``), and each run is laid
   out as its own document, from the same template and stylesheet, in its own process
   (``multiprocessing``, "spawn": a child shares nothing with the window). Its first page is a
   recto, as in the whole book, and is numbered from a guess (``FRONT_PAGES``,
   ``CHARS_PER_PAGE``). Meanwhile this process lays out the front matter (title pages,
   contents, foreword) to learn its length.
2. Each part reports its page count and the pages its chapters open on. The true numbers
   follow: a part starts on the first recto after the pages before it, with a blank verso
   between when needed, as in the whole book. The front matter is laid out again with the
   contents' page numbers given as text (``data-page`` instead of ``target-counter``).
3. A part whose guess was wrong changes the numbers at its feet in place (``_renumber``): the
   number's text, and its box widened or narrowed about its centre. Then each part draws its
   PDF, in its own process.
4. The parts are joined (``pypdf``): the front matter, blank versos where needed, the parts;
   the name tree of destinations (which the contents' links use, and ``book.pdf#chapter-3``)
   and the outline are rebuilt over the whole book, as WeasyPrint nests it; the manifest's
   attachment is added.

The result looks the same as the book laid out in one piece, page for page and pixel for pixel
(``tests/publish/test_pdf_parts.py`` compares the two); the file is a little larger, because
each part embeds its own subsets of the fonts. It is used for a long book on a computer with
more than one processor, and only with the shipped ``print.html.j2`` and ``print.css``
(``pdf_export.parts_for``). Renumbering in place reads WeasyPrint's laid-out boxes, which are
not its public interface: a part that finds no foot it can renumber fails, and so does a part
whose process cannot start or dies; ``lay_out_in_parts`` then raises ``PartsFailed`` and the
book is laid out in one piece instead.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import multiprocessing
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from multiprocessing.connection import Connection
    from multiprocessing.context import SpawnContext

    import jinja2

__all__ = [
    "MIN_PARALLEL_CHARS",
    "PartsFailed",
    "available_processors",
    "lay_out_in_parts",
    "split_runs",
]

logger = logging.getLogger(__name__)

MIN_PARALLEL_CHARS = 200_000
"""A book whose chapters hold fewer characters than this (about 120 pages) is laid out in one
piece: starting the processes and joining the parts take about two seconds, which a short book
does not win back."""
MAX_PARTS = 4
PT_PER_PX = 0.75
CHARS_PER_PAGE = 1_800
"""About how many characters of a chapter's HTML a page holds, to guess where a part begins."""
FRONT_PAGES = 8
"""A guess at the front matter's length, to number the first part before it is known."""


class PartsFailed(Exception):
    """A part could not be laid out in its own process; the book is laid out in one piece."""


def available_processors() -> int:
    """The processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def split_runs(weights: Sequence[int], parts: int) -> list[range]:
    """Consecutive runs of indexes, ``parts`` of them at most, none empty, of about equal total
    weight (a chapter goes to the run its middle falls in)."""
    parts = max(1, min(parts, len(weights)))
    total = sum(weights) or 1
    bounds = [0]
    done = 0
    for index, weight in enumerate(weights):
        run = min(parts - 1, int((done + weight / 2) * parts / total))
        while len(bounds) <= run and index > bounds[-1]:
            bounds.append(index)
        done += weight
    bounds.append(len(weights))
    return [range(a, b) for a, b in itertools.pairwise(bounds) if b > a]


@dataclass(frozen=True)
class _Laid:
    """What a part reports once laid out: its page count, each anchor's page (from 0) and place,
    and its bookmarks as (level, label, page, x, y, open); places are in CSS pixels from the
    page's top left corner."""

    pages: int
    anchors: dict[str, tuple[int, float, float]]
    bookmarks: list[tuple[int, str, int, float, float, bool]]


def _facts(document: Any) -> _Laid:
    anchors: dict[str, tuple[int, float, float]] = {}
    bookmarks: list[tuple[int, str, int, float, float, bool]] = []
    for number, page in enumerate(document.pages):
        for name, place in page.anchors.items():  # (x, y), and in WeasyPrint 63+ (…, x2, y2)
            anchors.setdefault(name, (number, place[0], place[1]))
        for level, label, (x, y), state in page.bookmarks:
            bookmarks.append((level, label, number, x, y, state != "closed"))
    return _Laid(len(document.pages), anchors, bookmarks)


def _feet(document: Any) -> list[Any]:
    """The text boxes that show a page's number: the only text of a margin box whose content is
    the page counter alone (``content: counter(page)``, print.css's foot)."""
    found = []
    for page in document.pages:
        for margin in page._page_box.children:
            if getattr(margin, "at_keyword", None) is None:
                continue
            if margin.style["content"] != (("counter()", ("page", "decimal")),):
                continue
            texts = [box for box in margin.descendants() if getattr(box, "pango_layout", None)]
            if len(texts) != 1 or not texts[0].text.isdigit():
                raise RuntimeError(f"a foot of {len(texts)} pieces of text")
            found.append((margin, texts[0]))
    return found


def _renumber(document: Any, shift: int) -> None:
    """Add ``shift`` to the number at each page's foot, in place: the part was laid out with
    its first page numbered as guessed. The number keeps its place: its margin box, line and
    text are widened or narrowed about their centre (or their left or right edge, as the box's
    text is aligned), as WeasyPrint would have laid it out."""
    from weasyprint.text.line_break import line_size

    for margin, text in _feet(document):
        number = str(int(text.text) + shift)
        layout = text.pango_layout  # WeasyPrint keeps the text, and draws it again from it
        layout.text = number
        layout.reactivate(text.style)
        line, _ = layout.get_first_line()
        width, _ = line_size(line, text.style)
        layout.deactivate()
        grow = width - text.width
        align = margin.style["text_align_all"]
        move = (
            0.0 if align in ("left", "start") else grow if align in ("right", "end") else grow / 2
        )
        for box in margin.descendants():  # the margin box, its line, the text
            box.position_x -= move
            box.width += grow
        text.text = number


def _numbered_from(html: str, first: int) -> str:
    """The part's HTML with its pages numbered from ``first``."""
    style = f"<style>@page :first {{ counter-reset: page {first}; }}</style>"
    return html.replace("</head>", style + "</head>", 1)


def _part_worker(connection: Connection) -> None:
    """In a child process: lay out the part it is sent, numbered from the page it is told;
    report it; then, for each page number it is sent for its first page, renumber the part when
    that differs and send its PDF, until the pipe closes. A failure is sent as a sentence."""
    try:
        import weasyprint

        html, base_url, first = connection.recv()
        clock = time.perf_counter()
        document = weasyprint.HTML(string=_numbered_from(html, first), base_url=base_url).render()
        if not _feet(document):
            raise RuntimeError("no page of the part shows its number")
        times = {"lay out": time.perf_counter() - clock}
        connection.send(("laid", _facts(document)))
        while True:
            try:
                wanted = connection.recv()
            except EOFError:
                break
            clock = time.perf_counter()
            if wanted != first:
                _renumber(document, wanted - first)
                first = wanted
                times["renumber"] = time.perf_counter() - clock
                clock = time.perf_counter()
            data = document.write_pdf()
            times["draw"] = time.perf_counter() - clock
            connection.send(("pdf", (data, {k: round(v, 2) for k, v in times.items()})))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which lays out whole
        with contextlib.suppress(OSError, ValueError):
            connection.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        connection.close()


class _Part:
    """A child process that lays out a part, and the pipe to it."""

    def __init__(self, context: SpawnContext) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_part_worker, args=(child,), daemon=True, name="coauthor-pdf-part"
        )
        self.process.start()
        child.close()

    def send(self, message: object) -> None:
        try:
            self.connection.send(message)
        except (OSError, ValueError) as exc:
            raise PartsFailed(f"a part's process ended early ({exc})") from exc

    def receive(self, kind: str) -> Any:
        try:
            message = self.connection.recv()
        except (EOFError, OSError) as exc:
            raise PartsFailed(f"a part's process ended early ({exc or 'no reply'})") from exc
        if message[0] != kind:
            raise PartsFailed(f"a part failed: {message[1]}")
        return message[1]

    def stop(self) -> None:
        self.connection.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _next_recto(after: int) -> int:
    """The first odd page number after page ``after`` (rectos are odd: page 1 is the title)."""
    return after + 1 if after % 2 == 0 else after + 2


def _numbering(front_pages: int, parts: Sequence[_Laid]) -> list[int]:
    """The number of each part's first page."""
    starts = []
    last = front_pages
    for part in parts:
        start = _next_recto(last)
        starts.append(start)
        last = start + part.pages - 1
    return starts


def _estimated_pages(chars: int) -> int:
    return max(1, round(chars / CHARS_PER_PAGE))


def lay_out_in_parts(
    template: jinja2.Template,
    context: dict[str, Any],
    base_url: str,
    parts: int,
    *,
    room: Callable[[int], int],
    progress: Callable[[str], None] | None = None,
) -> tuple[bytes, int, int]:
    """The book's PDF, laid out in up to ``parts`` parts at once, its page count and the number
    of parts (fewer than ``parts`` when the book has fewer chapters). The PDF
    has ``room(pages)`` spaces where the manifest goes (``pdf_export._with_manifest``).

    ``template`` and ``context`` are ``print.html.j2`` and what it is rendered with for the
    whole book. Raises ``PartsFailed`` when a part cannot be laid out in its own process."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    try:
        import pypdf  # noqa: F401 - joins the parts
    except ImportError as exc:
        raise PartsFailed(f"pypdf, which joins the parts, cannot be loaded ({exc})") from exc
    chapters = context["chapters"]
    sizes = [len(str(c["body"])) for c in chapters]
    runs = split_runs(sizes, parts)
    spawn = multiprocessing.get_context("spawn")
    started: list[_Part] = []
    fonts = FontConfiguration()

    def front(toc_pages: dict[str, int]) -> Any:
        html = template.render(**{**context, "bodies": [], "toc_pages": toc_pages})
        return weasyprint.HTML(string=html, base_url=base_url).render(font_config=fonts)

    try:
        started = [_Part(spawn) for _ in runs]  # they load WeasyPrint meanwhile
        if progress:
            progress(f"Laying out the pages in {len(runs)} parts at once")
        # Each part is numbered from a guess (renumbering is cheap), so that none waits.
        guesses = []
        last = FRONT_PAGES
        for run in runs:
            guesses.append(_next_recto(last))
            last = guesses[-1] + _estimated_pages(sum(sizes[i] for i in run)) - 1
        for part, run, guess in zip(started, runs, guesses, strict=True):
            html = template.render(
                **{**context, "front": False, "bodies": [chapters[i] for i in run]}
            )
            part.send((html, base_url, guess))
        # Meanwhile, the front matter's length. The contents' numbers are not known yet:
        # numbers as wide lay out the same.
        front_pages = len(front({c["id"]: 999 for c in chapters}).pages)
        laid: list[_Laid] = [part.receive("laid") for part in started]
        starts = _numbering(front_pages, laid)
        for _attempt in range(3):
            for part, start in zip(started, starts, strict=True):
                part.send(start)
            if progress:
                progress(f"Drawing {starts[-1] + laid[-1].pages - 1} pages")
            toc_pages = {
                chapters[i]["id"]: start + found.anchors[chapters[i]["id"]][0]
                for run, start, found in zip(runs, starts, laid, strict=True)
                for i in run
            }
            matter = front(toc_pages)
            front_pdf = matter.write_pdf()
            pdfs = []
            for number, part in enumerate(started, 1):
                pdf, times = part.receive("pdf")
                logger.info("PDF export: part %s of %s, seconds: %s", number, len(started), times)
                pdfs.append(pdf)
            settled = _numbering(len(matter.pages), laid)
            if settled == starts:
                break
            starts = settled  # the contents took a page more or less: number again
        else:
            raise PartsFailed("the contents did not settle on a page count")
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise PartsFailed(f"a part could not be laid out in its own process ({exc!r})") from exc
    finally:
        for part in started:
            part.stop()
    total = starts[-1] + laid[-1].pages - 1
    if progress:
        progress(f"Joining the {len(runs)} parts")
    try:
        data = _join(
            _facts(matter), front_pdf, list(zip(laid, pdfs, strict=True)), starts, room(total)
        )
    except Exception as exc:  # whatever pypdf raises, the book is laid out in one piece
        raise PartsFailed(f"the parts could not be joined ({exc!r})") from exc
    return data, total, len(runs)


def _join(
    front: _Laid,
    front_pdf: bytes,
    parts: list[tuple[_Laid, bytes]],
    starts: list[int],
    room: int,
) -> bytes:
    """The front matter and the parts as one PDF (blank versos between where the numbering
    needs them), with the chapters' named destinations, the book's outline and an attachment
    of ``room`` spaces for the manifest."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter(clone_from=io.BytesIO(front_pdf))
    first = writer.pages[0]
    width, height = float(first.mediabox.width), float(first.mediabox.height)
    anchors = dict(front.anchors)
    bookmarks = list(front.bookmarks)
    for (laid, pdf), start in zip(parts, starts, strict=True):
        while len(writer.pages) < start - 1:  # a blank verso, with the trim of the others
            blank = writer.add_blank_page(width, height)
            for box in ("/TrimBox", "/BleedBox"):
                if box in first:
                    blank[NameObject(box)] = first[box]
        offset = len(writer.pages)
        writer.append(PdfReader(io.BytesIO(pdf)), import_outline=False)
        for name, (page, x, y) in laid.anchors.items():
            anchors[name] = (offset + page, x, y)
        bookmarks += [(lvl, lb, offset + p, x, y, op) for lvl, lb, p, x, y, op in laid.bookmarks]
    _named_destinations(writer, anchors, height=height)
    _outline(writer, bookmarks, height=height)
    _attach_room(writer, room)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _named_destinations(
    writer: Any, anchors: dict[str, tuple[int, float, float]], *, height: float
) -> None:
    """The name tree of destinations, over the whole book: each anchor's page and place, as
    WeasyPrint writes them (the contents' links name them; so can ``book.pdf#chapter-3``). The
    front matter's stand-ins for the chapters give way to the chapters themselves."""
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    array = ArrayObject()
    for name in sorted(anchors):
        page, x, y = anchors[name]
        array.append(TextStringObject(name))
        array.append(
            ArrayObject(
                [
                    writer.pages[page].indirect_reference,
                    NameObject("/XYZ"),
                    FloatObject(round(x * PT_PER_PX, 6)),
                    FloatObject(round(height - y * PT_PER_PX, 6)),
                    NumberObject(0),
                ]
            )
        )
    _names(writer)[NameObject("/Dests")] = writer._add_object(
        DictionaryObject({NameObject("/Names"): array})
    )


def _names(writer: Any) -> Any:
    """The catalog's ``/Names`` dictionary, made when it has none."""
    from pypdf.generic import DictionaryObject, NameObject

    root = writer.root_object
    if "/Names" not in root:
        root[NameObject("/Names")] = DictionaryObject()
    return root["/Names"].get_object()


def _outline(
    writer: Any, bookmarks: list[tuple[int, str, int, float, float, bool]], *, height: float
) -> None:
    """The outline over the whole book, nested by level as WeasyPrint nests it."""
    from pypdf.generic import Fit, NameObject

    writer.root_object.pop(NameObject("/Outlines"), None)
    stack: list[tuple[int, Any]] = []
    for level, label, page, x, y, is_open in bookmarks:
        while stack and stack[-1][0] >= level:
            stack.pop()
        parent = stack[-1][1] if stack else None
        item = writer.add_outline_item(
            title=label,
            page_number=page,
            parent=parent,
            fit=Fit.xyz(x * PT_PER_PX, height - y * PT_PER_PX, 0),
            is_open=is_open,
        )
        stack.append((level, item))


def _attach_room(writer: Any, room: int) -> None:
    """Attach ``room`` spaces, uncompressed, as ``coauthor-manifest.json``, where the manifest
    is written once the rest of the file is hashed (as ``pdf_export._attach_placeholder``)."""
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    from coauthor.publish.read_export import PDF_ATTACHMENT, PDF_MARKER

    stream = DecodedStreamObject()
    stream.set_data(b" " * room)
    stream[NameObject("/Type")] = NameObject("/EmbeddedFile")
    stream[NameObject("/Subtype")] = NameObject("/application/json")
    stream[NameObject("/" + PDF_MARKER)] = NumberObject(1)
    stream_ref = writer._add_object(stream)
    spec = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Filespec"),
            NameObject("/F"): TextStringObject(PDF_ATTACHMENT),
            NameObject("/UF"): TextStringObject(PDF_ATTACHMENT),
            NameObject("/EF"): DictionaryObject(
                {NameObject("/F"): stream_ref, NameObject("/UF"): stream_ref}
            ),
            NameObject("/Desc"): TextStringObject("Coauthor provenance manifest"),
            NameObject("/AFRelationship"): NameObject("/Data"),
        }
    )
    spec_ref = writer._add_object(spec)
    _names(writer)[NameObject("/EmbeddedFiles")] = writer._add_object(
        DictionaryObject(
            {NameObject("/Names"): ArrayObject([TextStringObject(PDF_ATTACHMENT), spec_ref])}
        )
    )
    writer.root_object[NameObject("/AF")] = ArrayObject([spec_ref])
