"""DOCX export: the book as a Word document, in standard manuscript format or as a book.

``export_docx`` renders a ``BookDocument`` (already through the gate, see ``prepare_export``)
with python-docx, from each chapter's rendered blocks (``publish.markup``):

- **manuscript** (``style="manuscript"``), standard manuscript format: Times New Roman 12 pt,
  double spaced, 1-inch margins, every paragraph's first line indented 0.5 in, no space between
  paragraphs; a title page with the author's name top left, the approximate word count top
  right (``word_count_text``) and the title and "by Author" centred halfway down; a running
  header ``Surname / Title / page`` (a ``PAGE`` field), right-aligned, on every page but the
  title page; scene breaks as a centred ``#``;
- **book** (``style="book"``): a serif 11 pt, 1.15 spacing, justified, the first paragraph
  after a heading or a scene break not indented (style ``First Paragraph``), large chapter
  titles, scene breaks as a centred ``* * *``, page numbers centred at the foot of every page
  but the title page.

Both: after the title page, first of all the foreword ("How this book was written") with the
table of roles per chapter; then each chapter on a new page, its title in ``Heading 1``.
Emphasis and strong emphasis are run formatting (``italic``, ``bold``), never asterisks;
code is in the character style ``Verbatim Char`` and code blocks in the paragraph style
``Source Code`` (Courier New); quotations are in ``Quote`` (indented), lists in
``List Bullet``/``List Number`` (``… 2``, ``… 3`` when nested; ``List Continue`` for an item's
later paragraphs; every ordered list numbered from its own start), headings inside a chapter
in ``Heading 2`` and below, scene breaks in the paragraph style ``Scene Break`` (centred). A
hard line break is a Word line break; a soft one (a single newline of Markdown) one space.
Links to ``http``, ``https`` and ``mailto`` addresses are hyperlinks; others are plain text.

With ``provenance_styling`` the model's text has a light yellow background (run shading
``PROVENANCE_FILL``) and a paragraph in the style ``Provenance Legend`` at the start of the
foreword explains the marking. Core properties: title, author (or the company), language,
``category = "coauthor-export"``, the disclosure in ``comments``; the dates are now, or
``SOURCE_DATE_EPOCH``, or the ``modified`` argument, and every entry of the archive carries
that date, so the same book exports to the same bytes.

The provenance manifest is the archive entry ``DOCX_ENTRY`` (a JSON part with its own content
type; Word, LibreOffice, pandoc and python-docx ignore it). Its ``export.files`` has the
SHA-256 of every other entry; its chapter hashes are of the texts ``chapter_texts`` returns:
the paragraphs as Word shows them, each stripped, separated by a blank line, a scene break as
the text it shows (``#`` or ``* * *``), which ``read_export`` reads back from ``Heading 1`` to
``Heading 1``. The file is written atomically (``atomic_write``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Inches, Pt

from coauthor.core.exportformat import (
    DOCX_CATEGORY,
    DOCX_LEGEND_STYLE,
    DOCX_SCENE_BREAK_STYLE,
    DOCX_STYLES,
)
from coauthor.core.origin import Origin
from coauthor.publish.document import (
    BookDocument,
    Progress,
    atomic_write,
    book_language,
    export_time,
    roles_table,
)
from coauthor.publish.docx_styles import (
    CODE_BLOCK_STYLE,
    CODE_CHAR_STYLE,
    FIRST_PARAGRAPH_STYLE,
    LINK_STYLE,
    LOOKS,
    TABLE_STYLE,
    Look,
    apply_styles,
    paragraph_style,
)
from coauthor.publish.manifest import (
    DOCX_ENTRY,
    build_manifest,
    display_title,
    manifest_text,
    markup_text,
    sha256_bytes,
)

if TYPE_CHECKING:
    from docx.document import Document
    from docx.text.paragraph import Paragraph as DocxParagraph

    from coauthor.publish.markup import Block, Piece

__all__ = [
    "DOCX_STYLES",
    "LEGEND",
    "PROVENANCE_FILL",
    "chapter_texts",
    "export_docx",
    "word_count",
    "word_count_text",
]

PROVENANCE_FILL = "FFF2B3"
"""The background of the model's text with provenance styling: a light yellow."""

LEGEND = (
    "In this edition, text first drafted by a language model has a light yellow background; "
    "the author's own, pasted and imported text is unmarked."
)

_LINK_SCHEMES = ("http://", "https://", "mailto:")


# -- the paragraphs of a chapter ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Segment:
    """A stretch of a paragraph as Word shows it, with its run formatting."""

    text: str  # " " for a soft break, "\n" for a hard one
    em: bool = False
    strong: bool = False
    code: bool = False
    link: str | None = None
    ai: bool = False
    br: bool = False


@dataclass(slots=True)
class _Para:
    style: str
    segments: list[_Segment]
    numbered: int | None = None
    """For an ordered list's items: the key of their list, which gets its own numbering."""
    start: int = 1

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


def _shown(text: str) -> str:
    """Text as the writer puts it (``markup_text``): characters XML forbids as U+FFFD,
    ``\\r\\n`` and ``\\r`` as ``\\n``."""
    return markup_text(text, newlines=True)


def _segments(pieces: Iterable[Piece]) -> list[_Segment]:
    """The pieces as segments, stripped of the whitespace around the paragraph."""
    segments: list[_Segment] = []
    for piece in pieces:
        ai = piece.origin is Origin.AI
        if piece.br:
            segments.append(_Segment("\n", br=True, ai=ai))
        elif piece.text == "\n":  # a soft break: one space
            segments.append(_Segment(" ", ai=ai))
        elif piece.text:
            segments.append(
                _Segment(_shown(piece.text), piece.em, piece.strong, piece.code, piece.link, ai)
            )
    return _strip(segments)


def _strip(segments: list[_Segment]) -> list[_Segment]:
    while segments and not segments[0].text.strip():
        segments.pop(0)
    while segments and not segments[-1].text.strip():
        segments.pop()
    if segments:
        first, last = segments[0], segments[-1]
        segments[0] = _replace_text(first, first.text.lstrip())
        last = segments[-1]
        segments[-1] = _replace_text(last, last.text.rstrip())
    return segments


def _replace_text(segment: _Segment, text: str) -> _Segment:
    return _Segment(
        text, segment.em, segment.strong, segment.code, segment.link, segment.ai, segment.br
    )


@dataclass
class _Flattener:
    """Turns a chapter's blocks into Word paragraphs."""

    look: Look
    paras: list[_Para] = field(default_factory=list)
    fresh: bool = True  # the next body paragraph follows a heading or a scene break
    lists: int = 0

    def add(self, para: _Para) -> None:
        if para.segments:
            self.paras.append(para)

    def body_style(self, quote: bool) -> str:
        if quote:
            return "Quote"
        if self.fresh and not self.look.first_paragraph_indented:
            return FIRST_PARAGRAPH_STYLE
        return "Normal"

    def blocks(self, blocks: Sequence[Block], *, quote: bool = False, depth: int = 0) -> None:
        for block in blocks:
            self.block(block, quote=quote, depth=depth)

    def block(self, block: Block, *, quote: bool, depth: int) -> None:
        kind = block.kind
        if kind == "paragraph":
            para = _Para(self.body_style(quote), _segments(block.pieces))
            if para.segments:
                self.add(para)
                self.fresh = False
        elif kind == "heading":
            self.add(_Para(f"Heading {min(block.level + 1, 9)}", _segments(block.pieces)))
            self.fresh = True
        elif kind == "break":
            self.add(_Para(DOCX_SCENE_BREAK_STYLE, [_Segment(self.look.scene_break)]))
            self.fresh = True
        elif kind == "code":
            # As ``markup.block_text``: only the newlines around a code block go; its
            # indentation is its text.
            text = _shown("".join(piece.text for piece in block.pieces))
            code = [_Segment(text.strip("\n"), code=True)] if text.strip() else []
            self.add(_Para(CODE_BLOCK_STYLE, code))
            self.fresh = False
        elif kind == "quote":
            self.blocks(block.children, quote=True, depth=depth)
            self.fresh = False
        elif kind == "list":
            self.list(block, quote=quote, depth=depth + 1)
            self.fresh = False
        elif kind == "item":  # an item outside a list: its blocks
            self.blocks(block.children, quote=quote, depth=depth)

    def list(self, block: Block, *, quote: bool, depth: int) -> None:
        level = min(depth, 3)
        suffix = f" {level}" if level > 1 else ""
        style = ("List Number" if block.ordered else "List Bullet") + suffix
        self.lists += 1
        key = self.lists if block.ordered else None
        for item in block.children:
            first = True
            for child in item.children if item.kind == "item" else [item]:
                if first and child.kind in ("paragraph", "heading", "code"):
                    pieces = child.pieces
                    para = _Para(style, _segments(pieces), key, block.start)
                    if para.segments:
                        self.add(para)
                        first = False
                        continue
                if child.kind == "paragraph":
                    self.add(_Para(f"List Continue{suffix}", _segments(child.pieces)))
                elif child.kind == "list":
                    self.list(child, quote=quote, depth=depth + 1)
                else:
                    self.block(child, quote=quote, depth=depth)
                first = False


def _chapter_paras(blocks: Sequence[Block], look: Look) -> list[_Para]:
    flattener = _Flattener(look)
    flattener.blocks(blocks)
    return flattener.paras


def chapter_texts(document: BookDocument, style: str = "manuscript") -> list[str]:
    """Each chapter's text as the export shows it (the manifest's ``paragraphs`` form)."""
    look = LOOKS[style]
    return [
        "\n\n".join(p.text for p in _chapter_paras(chapter.blocks, look))
        for chapter in document.chapters
    ]


# -- the word count -------------------------------------------------------------------------------


def word_count(document: BookDocument) -> int:
    """The words of the chapters' text as the export shows it: runs of characters between
    whitespace, in the paragraphs, headings, quotations, lists and code of every chapter;
    chapter titles, scene breaks, the title page and the foreword are not counted."""
    look = LOOKS["manuscript"]
    return sum(
        len(para.text.split())
        for chapter in document.chapters
        for para in _chapter_paras(chapter.blocks, look)
        if para.style != DOCX_SCENE_BREAK_STYLE
    )


def word_count_text(words: int) -> str:
    """The title page's word count, rounded as manuscripts round it: to the nearest hundred
    below 40,000 words (a short story or a novella), to the nearest thousand from there (a
    novel); under 100 words, the exact count."""
    if words < 100:
        return f"{words} word{'s' if words != 1 else ''}"
    unit = 100 if words < 40_000 else 1_000
    rounded = (words + unit // 2) // unit * unit
    return f"about {rounded:,} words"


# -- writing ----------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _content_xml(text: str) -> str:
    """A run's content: tabs as ``w:tab``, newlines as ``w:br``, every space kept."""
    lines = []
    for line in text.split("\n"):
        parts = (
            f'<w:t xml:space="preserve">{_escape(part)}</w:t>' if part else ""
            for part in line.split("\t")
        )
        lines.append("<w:tab/>".join(parts))
    return "<w:br/>".join(lines)


_SHADING = f'<w:shd w:val="clear" w:color="auto" w:fill="{PROVENANCE_FILL}"/>'


class _Writer:
    """Paragraphs and runs. The chapters' paragraphs are written as WordprocessingML text
    and parsed once per chapter: python-docx's element-by-element calls took most of the
    export's time."""

    def __init__(self, document: Document, look: Look, styling: bool) -> None:
        self.document = document
        self.look = look
        self.styling = styling
        self.ids: dict[str, str] = {}
        self.body = document.element.body
        self.numbers: dict[int, int] = {}  # an ordered list's key -> its numbering id
        self.links: dict[str, str] = {}  # address -> relationship id

    def style_id(self, name: str, kind: WD_STYLE_TYPE = WD_STYLE_TYPE.PARAGRAPH) -> str:
        found = self.ids.get(name)
        if found is None:
            style = self.document.styles[name]
            if style.type != kind:
                raise KeyError(name)
            found = self.ids[name] = style.style_id
        return found

    def insert(self, xml: str) -> None:
        """Append body elements given as WordprocessingML (before the section properties)."""
        fragment = parse_xml(f"<w:body {nsdecls('w', 'r')}>{xml}</w:body>")
        sect_pr = self.body.sectPr
        for child in list(fragment):
            if sect_pr is not None:
                sect_pr.addprevious(child)
            else:
                self.body.append(child)

    def paragraph(self, style: str) -> DocxParagraph:
        from docx.text.paragraph import Paragraph

        self.insert(f'<w:p><w:pPr><w:pStyle w:val="{self.style_id(style)}"/></w:pPr></w:p>')
        return Paragraph(self.body.xpath("./w:p")[-1], self.document._body)  # type: ignore[arg-type]

    def text(self, style: str, text: str) -> DocxParagraph:
        paragraph = self.paragraph(style)
        if text:
            paragraph.add_run(_shown(text))
        return paragraph

    def paras(self, paras: Iterable[_Para]) -> None:
        self.insert("".join(map(self.para_xml, paras)))

    def para_xml(self, para: _Para) -> str:
        numbering = ""
        if para.numbered is not None:
            numbering = (
                f'<w:numPr><w:ilvl w:val="0"/><w:numId w:val="{self.number(para)}"/></w:numPr>'
            )
        runs = "".join(map(self.run_xml, para.segments))
        style = self.style_id(para.style)
        return f'<w:p><w:pPr><w:pStyle w:val="{style}"/>{numbering}</w:pPr>{runs}</w:p>'

    def number(self, para: _Para) -> int:
        """Each ordered list's numbering of its own, starting at the list's first number."""
        key = para.numbered
        assert key is not None
        num_id = self.numbers.get(key)
        if num_id is None:
            numbering = self.document.part.numbering_part.element
            style = self.document.styles[para.style].element
            base = style.pPr.numPr.numId.val  # type: ignore[union-attr]
            abstract = numbering.num_having_numId(base).abstractNumId.val
            num = numbering.add_num(abstract)
            num.add_lvlOverride(ilvl=0).add_startOverride(max(para.start, 0))
            num_id = self.numbers[key] = num.numId
        return num_id

    def run_xml(self, segment: _Segment) -> str:
        link = segment.link if segment.link and segment.link.startswith(_LINK_SCHEMES) else None
        props = []
        if segment.code:
            props.append(f'<w:rStyle w:val="{self.character_style(CODE_CHAR_STYLE)}"/>')
        elif link is not None:
            props.append(f'<w:rStyle w:val="{self.character_style(LINK_STYLE)}"/>')
        if segment.strong:
            props.append("<w:b/>")
        if segment.em:
            props.append("<w:i/>")
        if segment.ai and self.styling:
            props.append(_SHADING)
        properties = f"<w:rPr>{''.join(props)}</w:rPr>" if props else ""
        content = "<w:br/>" if segment.br else _content_xml(segment.text)
        run = f"<w:r>{properties}{content}</w:r>"
        if link is None:
            return run
        return f'<w:hyperlink r:id="{self.link(link)}" w:history="1">{run}</w:hyperlink>'

    def character_style(self, name: str) -> str:
        return self.style_id(name, WD_STYLE_TYPE.CHARACTER)

    def link(self, address: str) -> str:
        rid = self.links.get(address)
        if rid is None:
            rid = self.links[address] = self.document.part.relate_to(
                address, RT.HYPERLINK, is_external=True
            )
        return rid


def _shade(rpr: object) -> None:
    rpr.append(parse_xml(f"<w:shd {nsdecls('w')} {_SHADING[6:]}"))  # type: ignore[attr-defined]


def _field(paragraph: DocxParagraph, instruction: str, shown: str) -> None:
    """A field (``PAGE``) showing ``shown`` until Word updates it."""
    for kind, text in (("begin", None), (None, f" {instruction} "), ("separate", None)):
        r = paragraph.add_run()._r
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            r.append(char)
        else:
            code = OxmlElement("w:instrText")
            code.set(qn("xml:space"), "preserve")
            code.text = text
            r.append(code)
    paragraph.add_run(shown)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    paragraph.add_run()._r.append(end)


def _surname(author: str) -> str:
    words = author.split()
    return words[-1] if words else ""


def _running_header(document: Document, book: BookDocument, look: Look) -> None:
    section = document.sections[0]
    section.different_first_page_header_footer = True
    meta = book.meta
    title = " ".join(meta.title.split()) or "Untitled"
    if look.running_header:
        paragraph = section.header.paragraphs[0]
        paragraph.style = paragraph_style(document, "Header")
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        surname = _surname(meta.author or meta.company)
        paragraph.add_run(_shown(f"{surname} / {title} / " if surname else f"{title} / "))
        _field(paragraph, "PAGE", "2")
    else:
        paragraph = section.footer.paragraphs[0]
        paragraph.style = paragraph_style(document, "Footer")
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _field(paragraph, "PAGE", "2")
    section.first_page_header.is_linked_to_previous = False
    section.first_page_footer.is_linked_to_previous = False


def _title_page(writer: _Writer, book: BookDocument, look: Look, words: int) -> None:
    meta = book.meta
    author = " ".join((meta.author or meta.company).split())
    title = " ".join(meta.title.split()) or "Untitled"
    if look.running_header:
        top = writer.text("Normal", f"{author}\t{word_count_text(words)}")
        fmt = top.paragraph_format
        fmt.first_line_indent = Pt(0)
        fmt.line_spacing = 1.0
        width = Inches(6.5)
        fmt.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
        if meta.company and meta.author:
            company = writer.text("Normal", " ".join(meta.company.split()))
            company.paragraph_format.first_line_indent = Pt(0)
            company.paragraph_format.line_spacing = 1.0
        space = Inches(3.5)
    else:
        space = Inches(2.5)
    heading = writer.text("Title", title)
    heading.paragraph_format.space_before = space
    subtitle = " ".join(meta.subtitle.split())
    if subtitle:
        writer.text("Subtitle", subtitle)
    if author:
        byline = writer.text("Normal", f"by {author}" if look.running_header else author)
        byline.alignment = WD_ALIGN_PARAGRAPH.CENTER
        byline.paragraph_format.first_line_indent = Pt(0)
        if not look.running_header:
            byline.paragraph_format.space_before = Pt(look.size * 2)
            for run in byline.runs:
                run.font.size = Pt(look.size + 3)
    if meta.company and not look.running_header and meta.author:
        company = writer.text("Normal", " ".join(meta.company.split()))
        company.alignment = WD_ALIGN_PARAGRAPH.CENTER
        company.paragraph_format.first_line_indent = Pt(0)
        company.paragraph_format.space_before = Inches(2)


def _foreword(writer: _Writer, book: BookDocument, look: Look) -> None:
    writer.text("Heading 1", book.foreword_title)
    if writer.styling:
        legend = writer.paragraph(DOCX_LEGEND_STYLE)
        before, marked = (
            LEGEND.split("a light yellow background", 1)[0],
            "a light yellow background",
        )
        legend.add_run(before)
        sample = legend.add_run(marked)
        _shade(sample._r.get_or_add_rPr())
        legend.add_run(LEGEND[len(before) + len(marked) :])
    fresh = True
    for text in book.foreword:
        if text.strip():
            style = FIRST_PARAGRAPH_STYLE if fresh and not look.first_paragraph_indented else ""
            writer.text(style or "Normal", text)
            fresh = False
    if book.with_chapter_table and book.chapters:
        _roles(writer, book)


def _roles(writer: _Writer, book: BookDocument) -> None:
    """The table of roles per chapter (headers repeated on every page it spans)."""
    headers, rows, total = roles_table(book)
    writer.text(
        "Caption",
        "Who wrote each chapter, as a share of its characters, and how many of the model's "
        "passages remain in it",
    )
    text_style = writer.style_id(TABLE_STYLE)
    widths = [9360 - 1755 * (len(headers) - 1)] + [1755] * (len(headers) - 1)  # twips

    def row(values: list[str], *, bold: bool, header: bool = False) -> str:
        cells = []
        for n, (value, width) in enumerate(zip(values, widths, strict=True)):
            align = '<w:jc w:val="right"/>' if n else ""
            props = "<w:rPr><w:b/></w:rPr>" if bold else ""
            cells.append(
                f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>'
                f'<w:p><w:pPr><w:pStyle w:val="{text_style}"/>{align}</w:pPr>'
                f"<w:r>{props}{_content_xml(_shown(value))}</w:r></w:p></w:tc>"
            )
        head = "<w:trPr><w:tblHeader/></w:trPr>" if header else ""
        return f"<w:tr>{head}{''.join(cells)}</w:tr>"

    grid = "".join(f'<w:gridCol w:w="{width}"/>' for width in widths)
    writer.insert(
        f'<w:tbl><w:tblPr><w:tblStyle w:val="{writer.style_id("Table Grid", WD_STYLE_TYPE.TABLE)}"/>'
        '<w:tblW w:w="0" w:type="auto"/><w:jc w:val="center"/>'
        '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="1" w:firstColumn="1"'
        ' w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>"
        + row(headers, bold=True, header=True)
        + "".join(row(values, bold=False) for values in rows)
        + row(total, bold=True)
        + "</w:tbl>"
    )


def _properties(document: Document, book: BookDocument, language: str, when: datetime) -> None:
    meta = book.meta
    props = document.core_properties
    # Set on the elements: python-docx refuses strings over 255 characters, which the format
    # allows and a disclosure can need.
    element = props._element
    for name, value in (
        ("title", " ".join(meta.title.split())),
        ("creator", " ".join((meta.author or meta.company).split())),
        ("language", language),
        ("category", DOCX_CATEGORY),
        ("description", book.disclosure),
        ("subject", " ".join(meta.subtitle.split())),
        ("keywords", ""),
    ):
        element._get_or_add(name).text = _shown(value)
    props.last_modified_by = "Coauthor"
    props.revision = 1
    naive = when.astimezone(UTC).replace(tzinfo=None)
    props.created = naive
    props.modified = naive


def _settings(document: Document) -> None:
    """The template's settings, less its claim that spelling was checked, and with the lines
    ending in a line break not stretched in a justified paragraph (verse, addresses)."""
    settings = document.settings.element
    for proof in settings.findall(qn("w:proofState")):
        settings.remove(proof)
    compat = settings.find(qn("w:compat"))
    if compat is None:
        compat = OxmlElement("w:compat")
        settings.append(compat)
    if compat.find(qn("w:doNotExpandShiftReturn")) is None:
        compat.insert(0, OxmlElement("w:doNotExpandShiftReturn"))


def _build(
    book: BookDocument, look: Look, styling: bool, progress: Progress | None, when: datetime
) -> tuple[Document, list[str], int]:
    document = docx.Document()
    package = document.part.package
    assert package is not None  # a document made from the template has its package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:  # the template's picture of an empty page
            package.rels.pop(rid)
    for rid, rel in list(document.part.rels.items()):
        # Word 2010's copy of the styles: Word 2013 and later and other readers ignore it,
        # and it was a third of the archive's size (and of the time to compress it).
        if rel.reltype.endswith("/stylesWithEffects"):
            document.part.rels.pop(rid)
    _settings(document)
    language = book_language(book.meta.language)
    apply_styles(document, look, language)
    section = document.sections[0]
    section.page_width, section.page_height = Inches(8.5), Inches(11)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Inches(1))
    section.header_distance = Inches(0.5)
    section.footer_distance = Inches(0.5)
    _properties(document, book, language, when)
    _running_header(document, book, look)

    writer = _Writer(document, look, styling)
    chapters = [_chapter_paras(chapter.blocks, look) for chapter in book.chapters]
    words = sum(
        len(p.text.split()) for paras in chapters for p in paras if p.style != "Scene Break"
    )
    total = len(book.chapters) + 2
    _title_page(writer, book, look, words)
    _foreword(writer, book, look)
    if progress:
        progress(1, total, "foreword")
    texts = []
    for chapter, paras in zip(book.chapters, chapters, strict=True):
        title = _Para("Heading 1", [_Segment(_shown(display_title(chapter.title, chapter.number)))])
        writer.paras([title, *paras])
        texts.append("\n\n".join(p.text for p in paras))
        if progress:
            progress(1 + chapter.number, total, f"chapter {chapter.number}")
    return document, texts, total


# -- the archive ------------------------------------------------------------------------------------

_JSON_TYPE = b'<Default Extension="json" ContentType="application/json"/>'


def _app_properties(book: BookDocument) -> bytes:
    company = _shown(" ".join(book.meta.company.split()))
    escaped = company.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties">'
        f"<Application>Coauthor</Application><Company>{escaped}</Company>"
        "</Properties>\n"
    ).encode()


def _package(
    saved: bytes,
    book: BookDocument,
    style: str,
    texts: list[str],
    when: datetime,
) -> bytes:
    """The archive python-docx saved, made reproducible (every entry dated ``when``, the
    extended properties Coauthor's) and given the manifest as its last entry."""
    stamp = max(tuple(when.timetuple()[:6]), (1980, 1, 1, 0, 0, 0))
    entries: list[tuple[str, bytes]] = []
    with zipfile.ZipFile(io.BytesIO(saved)) as source:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml" and _JSON_TYPE not in data:
                data = data.replace(b"<Default ", _JSON_TYPE + b"<Default ", 1)
            elif info.filename == "docProps/app.xml":
                data = _app_properties(book)
            entries.append((info.filename, data))
    files = {name: sha256_bytes(data) for name, data in entries}
    manifest = build_manifest(book, "docx", {"files": files, "style": style}, chapter_texts=texts)
    entries.append((DOCX_ENTRY, manifest_text(manifest).encode("ascii")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


def export_docx(
    document: BookDocument,
    path: Path,
    *,
    style: str = "manuscript",
    provenance_styling: bool = False,
    progress: Progress | None = None,
    modified: datetime | None = None,
) -> Path:
    """Write ``document`` as a Word document to ``path`` (atomically) and return the path.

    ``style`` is ``manuscript`` or ``book`` (see the module docstring). ``modified`` fixes the
    document's dates (for reproducible output); without it ``SOURCE_DATE_EPOCH``, then the
    current time, is used.
    """
    look = LOOKS.get(style)
    if look is None:
        raise ValueError(f"{style!r} is not a DOCX style: choose {' or '.join(DOCX_STYLES)}")
    when = export_time(modified)
    built, texts, total = _build(document, look, provenance_styling, progress, when)
    saved = io.BytesIO()
    built.save(saved)
    data = _package(saved.getvalue(), document, style, texts, when)

    def write(temp: Path) -> None:
        temp.write_bytes(data)

    written = atomic_write(Path(path), write)
    if progress:
        progress(total, total, "written")
    return written
