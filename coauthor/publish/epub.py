"""EPUB 3 export, packaged with EbookLib and checked against EPUBCheck.

``export_epub`` renders a ``BookDocument`` (already through the gate, see ``prepare_export``)
as an EPUB 3 that EPUBCheck passes without errors or warnings:

- the foreword ("How this book was written") is the first text document of the spine and the
  first entry of both tables of contents (the EPUB 3 navigation document and the EPUB 2 NCX);
  only a cover page, when the book has a cover image, comes before it in the spine;
- every XHTML page is rendered here (EbookLib would re-parse it with an HTML parser), and all
  book text is escaped (``html.escape``) after ``clean_xml_text``, so markup, scripts,
  ``javascript:`` links and event attributes in a chapter or in a model's output come out as
  inert, visible text. Chapters are rendered from their blocks (``markup.chapter_blocks``:
  Markdown as CommonMark, plain text literally) by ``html_export.blocks_html``: paragraphs,
  ``<em>``, ``<strong>``, block quotes, lists, headings below the chapter's ``<h1>``, and
  scene breaks as ``<hr class="scene-break"/>``;
- with ``provenance_styling`` the model's passages are wrapped in ``<span class="ai">`` with a
  ``title`` naming the model and generation, marked by a dotted underline, and a legend at the
  start of the foreword explains the marking; without it the text carries no trace of origin
  besides the foreword;
- the file is written atomically (``atomic_write``): a failed export leaves any earlier file
  untouched. The ``mimetype`` entry is checked to be the first, stored, extra-field-free entry
  of the archive, and the archive is rewritten if it is not.

Package metadata
----------------

``dc:title`` (and a refined subtitle), ``dc:creator`` (the author, or the company when there is
no author), ``dc:publisher`` (the company), ``dc:language``, ``dc:identifier`` (a UUID 5 of
title and author, stable across exports), ``dc:rights`` when given, ``dc:description`` (the
book's own description, then the disclosure of ``BookDocument.disclosure``),
``dcterms:modified`` (now, or the ``modified`` argument, or ``SOURCE_DATE_EPOCH``), the
schema.org accessibility properties, and ``schema:digitalSourceType``, a machine-readable
statement of AI involvement in the IPTC digital source type vocabulary
(http://cv.iptc.org/newscodes/digitalsourcetype/):

- no character of the text is ``ai`` (``Category.NONE``): ``digitalArt``, "media created by a
  human using non-generative tools" (the text was typed, pasted or imported);
- ``Category.ENTIRE_*`` with the model's share of the text at least 95 % (``AI_ONLY_SHARE``):
  ``trainedAlgorithmicMedia``, created by a trained model with almost no human text;
- any other book with model text: ``compositeWithTrainedAlgorithmicMedia``, human text combined
  with a trained model's output.

(``digitalCapture`` was not used for human text: it means captured from the real world by a
device, like a photograph.)

The ``schema`` prefix is reserved in EPUB 3 and is used without being declared.
"""

from __future__ import annotations

import html
import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ebooklib import epub

from coauthor.core.generation import Generation
from coauthor.core.models import model_identity
from coauthor.core.origin import Origin
from coauthor.core.resources import resources_dir
from coauthor.publish.document import (
    BookDocument,
    ChapterDoc,
    Progress,
    atomic_write,
    book_language,
    clean_xml_text,
    export_time,
)
from coauthor.publish.html_export import Marking, blocks_html
from coauthor.publish.labels import AI_DRAFTED
from coauthor.publish.manifest import EPUB_ENTRY, build_manifest, manifest_text, sha256_bytes
from coauthor.publish.roles import ROLE_HEADERS, Category, Roles, role_cells

__all__ = [
    "DIGITAL_SOURCE_TYPES",
    "EPUB_MIMETYPE",
    "add_manifest",
    "book_identifier",
    "digital_source_type",
    "export_epub",
    "mimetype_is_first",
    "repair_container",
]

EPUB_MIMETYPE = b"application/epub+zip"

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
DIGITAL_SOURCE_TYPES = {
    "human": IPTC + "digitalArt",
    "ai": IPTC + "trainedAlgorithmicMedia",
    "mixed": IPTC + "compositeWithTrainedAlgorithmicMedia",
}
AI_ONLY_SHARE = 0.95
"""The model's share of the text from which an "entire work" book counts as machine-made."""

STYLESHEET = "epub.css"
_CSS_HREF = "style/epub.css"
_NAV_HREF = "nav.xhtml"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Fixed for good: changing it would change the identifier of every book already exported.
_IDENTIFIER_NAMESPACE = uuid.UUID("6f0c3f4e-2a8e-5b7a-9c1d-3e0b6a1f2c44")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_RTL = frozenset({"ar", "arc", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"})
# Characters XML allows but HTML forbids as text (DEL, C1 controls, noncharacters); like
# clean_xml_text, they become U+FFFD rather than vanish.
_NOT_HTML = re.compile("[\x7f-\x9f\ufdd0-\ufdef]")

LEGEND = (
    "In this edition, text first drafted by a language model is marked with a dotted "
    "underline; where the reading system shows tooltips, a marked passage names the model and "
    "the generation it came from."
)
CONFORMANCE = "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"
"""The ``dcterms:conformsTo`` claim, in the exact wording EPUB Accessibility 1.1 defines."""
ACCESSIBILITY_SUMMARY = (
    "This publication is text only, with a table of contents and headings for structural "
    "navigation; it has no images besides an optional cover, and no audio, video or "
    "animation. The foreword states how the text was written: what the author wrote and what "
    "a language model drafted."
)
_FOREWORD_OPEN = (
    '<section class="foreword" epub:type="foreword" role="doc-foreword"'
    ' aria-labelledby="foreword">\n'
)

_XHTML_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    "<!DOCTYPE html>\n"
    '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"'
    ' lang="{lang}" xml:lang="{lang}"{dir}>\n'
    "<head>\n"
    '<meta charset="utf-8"/>\n'
    "<title>{title}</title>\n"
    '<link rel="stylesheet" type="text/css" href="{css}"/>\n'
    "</head>\n"
)


def _text(value: str) -> str:
    """Element text: XML-safe, HTML-safe characters, escaped."""
    return html.escape(_NOT_HTML.sub("\ufffd", clean_xml_text(value)), quote=False)


def _attr(value: str) -> str:
    """An attribute value, quotes escaped too."""
    return html.escape(_NOT_HTML.sub("\ufffd", clean_xml_text(value)), quote=True)


def _plain(value: str) -> str:
    """Text handed to EbookLib (which escapes it itself): only the characters are cleaned."""
    return _NOT_HTML.sub("\ufffd", clean_xml_text(value))


def _lines(value: str) -> str:
    """Escaped text with each newline as a line break."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "<br/>\n".join(_text(line) for line in value.split("\n"))


def _direction(language: str) -> str | None:
    return "rtl" if language.split("-", maxsplit=1)[0].lower() in _RTL else None


def book_identifier(document: BookDocument) -> str:
    """A ``urn:uuid`` that stays the same for the same title and author."""
    meta = document.meta
    name = f"{meta.title.strip()}\n{(meta.author or meta.company).strip()}"
    return f"urn:uuid:{uuid.uuid5(_IDENTIFIER_NAMESPACE, name)}"


def digital_source_type(roles: Roles) -> str:
    """The IPTC digital source type for the book's measured roles (see the module docstring)."""
    category = roles.category
    if category is Category.NONE:
        return DIGITAL_SOURCE_TYPES["human"]
    entire = category in (Category.ENTIRE_MINIMAL, Category.ENTIRE_EXTENSIVE)
    if entire and roles.share(Origin.AI) >= AI_ONLY_SHARE:
        return DIGITAL_SOURCE_TYPES["ai"]
    return DIGITAL_SOURCE_TYPES["mixed"]


# -- pages ------------------------------------------------------------------------------------


class _Page(epub.EpubHtml):
    """An XHTML page rendered here; EbookLib would re-parse its content with an HTML parser."""

    def __init__(self, uid: str, file_name: str, title: str, content: bytes, lang: str) -> None:
        super().__init__(uid=uid, file_name=file_name, title=title, lang=lang)
        self.content = content

    def get_content(self, default: bytes | None = None) -> bytes:
        return self.content


@dataclass(frozen=True)
class _Context:
    lang: str
    direction: str | None
    styling: bool
    generations: dict[str, Generation]


def _page(ctx: _Context, title: str, body: str, body_class: str = "") -> bytes:
    head = _XHTML_HEAD.format(
        lang=_attr(ctx.lang),
        dir=f' dir="{ctx.direction}"' if ctx.direction else "",
        title=_text(title),
        css=_CSS_HREF,
    )
    opening = f'<body class="{body_class}">\n' if body_class else "<body>\n"
    return (head + opening + body + "</body>\n</html>\n").encode("utf-8")


def _ai_title(ctx: _Context, ref: str | None) -> str:
    generation = ctx.generations.get(ref or "")
    if generation is None:
        return AI_DRAFTED
    return f"Drafted by {model_identity(generation.model)} (generation {generation.id})"


def _marking(ctx: _Context) -> Marking | None:
    """With provenance styling, the model's text as ``<span class="ai">`` naming the model
    and the generation; nothing else is marked."""
    if not ctx.styling:
        return None

    def mark(origin: Origin, ref: str | None) -> tuple[str, str] | None:
        return ("ai", _ai_title(ctx, ref)) if origin is Origin.AI else None

    return mark


def _chapter_title(chapter: ChapterDoc) -> str:
    title = " ".join(chapter.title.split())
    return title or f"Chapter {chapter.number}"


def _chapter_page(ctx: _Context, chapter: ChapterDoc) -> bytes:
    title = _chapter_title(chapter)
    body = [
        f'<section epub:type="chapter" role="doc-chapter" aria-labelledby="ch{chapter.number}">\n',
        f'<h1 id="ch{chapter.number}">{_text(title)}</h1>\n',
        '<div class="text">\n',
        str(blocks_html(chapter.blocks, _marking(ctx), heading_offset=1)),
        "</div>\n",
        "</section>\n",
    ]
    return _page(ctx, title, "".join(body))


def _roles_row(label: str, roles: Roles, cell: str) -> str:
    cells = "".join(f"<td>{value}</td>" for value in role_cells(roles))
    return f'<tr><{cell} scope="row">{_text(label)}</{cell}>{cells}</tr>\n'


def _roles_table(document: BookDocument) -> str:
    head = "".join(f'<th scope="col">{name}</th>' for name in ROLE_HEADERS)
    rows = [
        _roles_row(f"{c.number}. {_chapter_title(c)}", c.roles, "th") for c in document.chapters
    ]
    return (
        '<table class="roles">\n'
        "<caption>Who wrote each chapter, as a share of its characters, and how many of the "
        "model's passages remain in it</caption>\n"
        f"<thead>\n<tr>{head}</tr>\n</thead>\n"
        f"<tbody>\n{''.join(rows)}</tbody>\n"
        f"<tfoot>\n{_roles_row('Whole book', document.roles, 'th')}</tfoot>\n"
        "</table>\n"
    )


def _foreword_page(ctx: _Context, document: BookDocument) -> bytes:
    title = document.foreword_title
    body = [
        _FOREWORD_OPEN,
        f'<h1 id="foreword">{_text(title)}</h1>\n',
    ]
    if ctx.styling:
        body.append(f'<p class="legend">{_text(LEGEND)}</p>\n')
    body.extend(f"<p>{_lines(text)}</p>\n" for text in document.foreword if text.strip())
    if document.with_chapter_table and document.chapters:
        body.append(_roles_table(document))
    body.append("</section>\n")
    return _page(ctx, title, "".join(body))


def _cover(path_text: str) -> tuple[str, bytes] | None:
    """(file name in the book, image bytes) for a PNG or JPEG cover that exists, else None."""
    if not path_text.strip():
        return None
    path = Path(path_text).expanduser()
    if not path.is_file():
        return None
    data = path.read_bytes()
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "images/cover.png", data
    if data.startswith(b"\xff\xd8\xff"):
        return "images/cover.jpg", data
    return None


def _cover_page(ctx: _Context, image: str, title: str) -> bytes:
    body = (
        '<section epub:type="cover">\n'
        f'<img src="{image}" alt="{_attr("Cover of " + title)}"/>\n'
        "</section>\n"
    )
    return _page(ctx, "Cover", body, "cover")


# -- package ----------------------------------------------------------------------------------


def _meta(book: epub.EpubBook, prop: str, value: str, **others: str) -> None:
    book.add_metadata(None, "meta", _plain(value), {"property": prop, **others})


def _metadata(book: epub.EpubBook, document: BookDocument, lang: str, has_cover: bool) -> None:
    meta = document.meta
    title = _plain(" ".join(meta.title.split())) or "Untitled"
    author = _plain(" ".join(meta.author.split()))
    company = _plain(" ".join(meta.company.split()))
    book.set_unique_metadata("OPF", "generator", "", {"name": "generator", "content": "Coauthor"})
    book.set_identifier(book_identifier(document))
    book.title = title
    book.add_metadata("DC", "title", title, {"id": "title"})
    subtitle = _plain(" ".join(meta.subtitle.split()))
    if subtitle:
        book.add_metadata("DC", "title", subtitle, {"id": "subtitle"})
        _meta(book, "title-type", "main", refines="#title")
        _meta(book, "title-type", "subtitle", refines="#subtitle")
    book.set_language(lang)
    if author or company:
        book.add_author(author or company, role="aut", uid="creator")
    if company:
        book.add_metadata("DC", "publisher", company)
    description = " ".join(meta.description.split())
    disclosure = document.disclosure
    book.add_metadata(
        "DC", "description", _plain(f"{description} {disclosure}" if description else disclosure)
    )
    if meta.rights.strip():
        book.add_metadata("DC", "rights", _plain(meta.rights.strip()))
    _meta(book, "schema:digitalSourceType", digital_source_type(document.roles))
    _meta(book, "schema:accessMode", "textual")
    if has_cover:
        _meta(book, "schema:accessMode", "visual")
    _meta(book, "schema:accessModeSufficient", "textual")
    # displayTransformability: reflowable text whose stylesheet sets sizes in em and no
    # colours, so the reader's font, size and colours apply. No printPageNumbers or
    # pageBreakMarkers: the book has no print edition whose pages could be marked.
    features = ["structuralNavigation", "tableOfContents", "readingOrder"]
    features += ["alternativeText"] if has_cover else []
    features += ["displayTransformability"]
    for feature in features:
        _meta(book, "schema:accessibilityFeature", feature)
    _meta(book, "schema:accessibilityHazard", "none")
    _meta(book, "schema:accessibilitySummary", ACCESSIBILITY_SUMMARY)
    # A self-declared claim: no a11y:certifiedBy, since nobody else has evaluated the book.
    _meta(book, "dcterms:conformsTo", CONFORMANCE)


def _build(
    document: BookDocument, *, provenance_styling: bool, progress: Progress | None
) -> tuple[epub.EpubBook, int]:
    lang = book_language(document.meta.language)
    direction = _direction(lang)
    ctx = _Context(lang, direction, provenance_styling, {g.id: g for g in document.generations})
    total = len(document.chapters) + 2
    book = epub.EpubBook()
    cover = _cover(document.meta.cover)
    _metadata(book, document, lang, cover is not None)
    if direction:
        book.set_direction(direction)

    css = (resources_dir() / "templates" / STYLESHEET).read_bytes()
    book.add_item(
        epub.EpubItem(uid="style", file_name=_CSS_HREF, media_type="text/css", content=css)
    )

    spine: list[epub.EpubHtml] = []
    if cover is not None:
        image, data = cover
        book.set_cover(image, data, create_page=False)
        cover_page = _Page(
            "cover", "cover.xhtml", "Cover", _cover_page(ctx, image, book.title), lang
        )
        book.add_item(cover_page)
        spine.append(cover_page)
        book.guide.append({"type": "cover", "href": cover_page.file_name, "title": "Cover"})

    foreword = _Page(
        "foreword",
        "foreword.xhtml",
        _plain(document.foreword_title),
        _foreword_page(ctx, document),
        lang,
    )
    book.add_item(foreword)
    spine.append(foreword)
    # Landmarks (the EPUB 3 navigation document) and the EPUB 2 guide: cover, contents,
    # foreword, then the start of the text ("text" becomes epub:type="bodymatter").
    book.guide.append({"type": "toc", "href": _NAV_HREF, "title": "Contents"})
    book.guide.append({"type": "foreword", "href": foreword.file_name, "title": foreword.title})
    if progress:
        progress(1, total, "foreword")

    chapters = []
    for chapter in document.chapters:
        page = _Page(
            f"chapter-{chapter.number:03d}",
            f"chapter-{chapter.number:03d}.xhtml",
            _plain(_chapter_title(chapter)),
            _chapter_page(ctx, chapter),
            lang,
        )
        book.add_item(page)
        chapters.append(page)
        if progress:
            progress(1 + chapter.number, total, f"chapter {chapter.number}")
    spine.extend(chapters)

    start = chapters[0] if chapters else foreword
    book.guide.append({"type": "text", "href": start.file_name, "title": "Start of the book"})
    book.toc = [foreword, *chapters]
    nav = epub.EpubNav(file_name=_NAV_HREF, title="Contents")
    nav.add_link(href=_CSS_HREF, rel="stylesheet", type="text/css")
    book.add_item(nav)
    # The contents page is in the spine, out of the reading order (linear="no"), only so that
    # the "toc" landmark may point to it (EPUBCheck refuses links to documents not in the spine).
    book.spine = [*spine, (nav, "no")]
    book.add_item(epub.EpubNcx())
    return book, total


class _Writer(epub.EpubWriter):
    """EbookLib's writer, adding the book's language to the package element (``xml:lang``),
    which EbookLib leaves out and accessibility checkers (DAISY Ace) require."""

    def _write_opf_file(self, root: Any) -> None:  # an lxml element; lxml has no type stubs
        root.set(_XML_LANG, self.book.language)
        super()._write_opf_file(root)


# -- container --------------------------------------------------------------------------------


def mimetype_is_first(path: Path) -> bool:
    """Whether the archive opens with the ``mimetype`` entry, stored, with no extra field."""
    with path.open("rb") as stream:
        header = stream.read(30 + 8 + len(EPUB_MIMETYPE))
    name = b"mimetype"
    return (
        header[:4] == b"PK\x03\x04"
        and int.from_bytes(header[8:10], "little") == zipfile.ZIP_STORED
        and int.from_bytes(header[26:28], "little") == len(name)
        and int.from_bytes(header[28:30], "little") == 0
        and header[30:38] == name
        and header[38:] == EPUB_MIMETYPE
    )


def repair_container(path: Path) -> None:
    """Rewrite the archive with ``mimetype`` first and stored (the OCF rule)."""
    with zipfile.ZipFile(path) as source:
        entries = [
            (info, source.read(info)) for info in source.infolist() if info.filename != "mimetype"
        ]
    with zipfile.ZipFile(path, "w") as out:
        out.writestr(zipfile.ZipInfo("mimetype"), EPUB_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        for info, data in entries:
            out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)


def add_manifest(path: Path, document: BookDocument, modified: datetime) -> None:
    """Append the provenance manifest (``META-INF/coauthor-manifest.json``), which holds the
    SHA-256 of every other entry of the archive."""
    with zipfile.ZipFile(path) as archive:
        files = {
            info.filename: sha256_bytes(archive.read(info))
            for info in archive.infolist()
            if info.filename != EPUB_ENTRY
        }
    manifest = build_manifest(document, "epub", {"files": files})
    stamp = max(tuple(modified.timetuple()[:6]), (1980, 1, 1, 0, 0, 0))
    entry = zipfile.ZipInfo(EPUB_ENTRY, date_time=stamp)  # type: ignore[arg-type]
    entry.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(entry, manifest_text(manifest).encode("ascii"))


def export_epub(
    document: BookDocument,
    target: Path,
    *,
    provenance_styling: bool = False,
    progress: Progress | None = None,
    modified: datetime | None = None,
) -> Path:
    """Write ``document`` as an EPUB 3 to ``target`` (atomically) and return the path.

    ``modified`` fixes ``dcterms:modified`` (for reproducible output); without it the
    ``SOURCE_DATE_EPOCH`` environment variable, then the current time, is used.
    """
    book, total = _build(document, provenance_styling=provenance_styling, progress=progress)
    options = {"mtime": export_time(modified), "epub3_pages": False}

    def write(temp: Path) -> None:
        # EpubWriter rather than write_epub, which turns an OSError into a warning and False.
        writer = _Writer(str(temp), book, options)
        writer.process()
        writer.write()
        if not mimetype_is_first(temp):
            repair_container(temp)
        add_manifest(temp, document, options["mtime"])

    path = atomic_write(Path(target), write)
    if progress:
        progress(total, total, "written")
    return path
