"""The two looks of the DOCX export (``manuscript`` and ``book``) as Word styles.

``LOOKS`` holds the measures of each; ``apply_styles`` sets python-docx's default template's
styles to them and adds the ones the export uses that the template lacks (``First Paragraph``,
``Scene Break``, ``Source Code``, ``Verbatim Char``, ``Hyperlink``, ``Provenance Legend``,
``Table Text``). Every font is set for all scripts, and the template's theme fonts and blue
heading colours are removed, so that the document looks the same in Word, LibreOffice and
anything else that honours explicit formatting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Length, Pt, RGBColor

from coauthor.core.exportformat import DOCX_LEGEND_STYLE, DOCX_SCENE_BREAK_STYLE

if TYPE_CHECKING:
    from docx.document import Document
    from docx.oxml.xmlchemy import BaseOxmlElement
    from docx.styles.style import CharacterStyle, ParagraphStyle

__all__ = [
    "CODE_BLOCK_STYLE",
    "CODE_CHAR_STYLE",
    "FIRST_PARAGRAPH_STYLE",
    "LINK_STYLE",
    "LOOKS",
    "MONOSPACE",
    "TABLE_STYLE",
    "Look",
    "apply_styles",
    "paragraph_style",
]

MONOSPACE = "Courier New"
CODE_CHAR_STYLE = "Verbatim Char"
CODE_BLOCK_STYLE = "Source Code"
FIRST_PARAGRAPH_STYLE = "First Paragraph"
TABLE_STYLE = "Table Text"
LINK_STYLE = "Hyperlink"
_THEME_FONT_ATTRIBUTES = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
_TWIPS = 635  # EMU in a twentieth of a point


@dataclass(frozen=True)
class Look:
    """The measures of one style."""

    font: str
    size: float  # points
    line_spacing: float
    justify: bool
    indent: Length
    scene_break: str
    chapter_size: float
    chapter_space: Length  # space above a chapter title
    first_paragraph_indented: bool
    running_header: bool  # the manuscript's header; otherwise page numbers at the foot

    @property
    def after_break(self) -> str:
        """The style of the paragraph after a heading or a scene break."""
        return "Normal" if self.first_paragraph_indented else FIRST_PARAGRAPH_STYLE


LOOKS = {
    "manuscript": Look(
        font="Times New Roman",
        size=12,
        line_spacing=2.0,
        justify=False,
        indent=Inches(0.5),
        scene_break="#",
        chapter_size=12,
        chapter_space=Inches(2),
        first_paragraph_indented=True,
        running_header=True,
    ),
    "book": Look(
        font="Georgia",
        size=11,
        line_spacing=1.15,
        justify=True,
        indent=Inches(0.3),
        scene_break="* * *",
        chapter_size=22,
        chapter_space=Inches(1.5),
        first_paragraph_indented=False,
        running_header=False,
    ),
}


def _set_font(element: BaseOxmlElement, name: str) -> None:
    """Set every script's font of a style to ``name``; theme fonts (which would win over an
    explicit font) are removed."""
    rpr = element.get_or_add_rPr()  # pyright: ignore[reportAttributeAccessIssue]
    fonts = rpr.get_or_add_rFonts()
    for attribute in _THEME_FONT_ATTRIBUTES:
        fonts.attrib.pop(qn(attribute), None)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), name)


def paragraph_style(
    document: Document, name: str, base: str = "Normal", *, next_style: str | None = None
) -> ParagraphStyle:
    """The paragraph style ``name``, added (based on ``base``) if the template lacks it."""
    styles = document.styles
    try:
        return cast("ParagraphStyle", styles[name])
    except KeyError:
        style = cast("ParagraphStyle", styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH))
        style.base_style = cast("ParagraphStyle", styles[base])
        if next_style:
            style.next_paragraph_style = cast("ParagraphStyle", styles[next_style])
        style.quick_style = True
        return style


def _character_style(document: Document, name: str) -> CharacterStyle:
    styles = document.styles
    try:
        return cast("CharacterStyle", styles[name])
    except KeyError:
        style = cast("CharacterStyle", styles.add_style(name, WD_STYLE_TYPE.CHARACTER))
        style.base_style = cast("CharacterStyle", styles["Default Paragraph Font"])
        return style


def _plain(style: ParagraphStyle, look: Look, size: float | None = None) -> None:
    """Black text in the look's font, no border (the template's headings are blue)."""
    _set_font(style.element, look.font)
    style.font.color.rgb = RGBColor(0, 0, 0)
    style.font.size = Pt(size or look.size)
    ppr = style.element.find(qn("w:pPr"))
    border = ppr.find(qn("w:pBdr")) if ppr is not None else None
    if ppr is not None and border is not None:
        ppr.remove(border)


def _list_indent(document: Document, style: ParagraphStyle) -> None:
    """Give a list style the indent of its numbering, so that the body's first-line indent it
    would inherit does not move the number."""
    ppr = style.element.pPr
    num_pr = ppr.numPr if ppr is not None else None
    if num_pr is None or num_pr.numId is None:
        return
    numbering = document.part.numbering_part.element
    abstract = numbering.num_having_numId(num_pr.numId.val).abstractNumId.val
    for ind in numbering.xpath(
        f"./w:abstractNum[@w:abstractNumId='{abstract}']/w:lvl[@w:ilvl='0']/w:pPr/w:ind"
    ):
        fmt = style.paragraph_format
        fmt.left_indent = Length(int(ind.get(qn("w:left"), "0")) * _TWIPS)
        fmt.first_line_indent = Length(-int(ind.get(qn("w:hanging"), "0")) * _TWIPS)


def _set_language(style: ParagraphStyle, language: str) -> None:
    rpr = style.element.get_or_add_rPr()
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), language)


def _body(document: Document, look: Look, language: str) -> None:
    normal = paragraph_style(document, "Normal")
    _plain(normal, look)
    _set_language(normal, language)
    body = normal.paragraph_format
    body.space_before = Pt(0)
    body.space_after = Pt(0)
    body.line_spacing = look.line_spacing
    body.line_spacing_rule = (
        WD_LINE_SPACING.DOUBLE if look.line_spacing == 2.0 else WD_LINE_SPACING.MULTIPLE
    )
    body.first_line_indent = look.indent
    body.widow_control = True
    if look.justify:
        body.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    first = paragraph_style(document, FIRST_PARAGRAPH_STYLE, next_style="Normal")
    first.paragraph_format.first_line_indent = Pt(0)


def _headings(document: Document, look: Look) -> None:
    for level in range(1, 10):
        heading = paragraph_style(document, f"Heading {level}")
        size = look.chapter_size if level == 1 else look.size + (2 if level == 2 else 0)
        _plain(heading, look, size)
        fmt = heading.paragraph_format
        fmt.first_line_indent = Pt(0)
        fmt.keep_with_next = True
        fmt.space_before = Pt(look.size)
        fmt.space_after = Pt(look.size if look.line_spacing < 2 else 0)
        heading.font.bold = level > 1
        heading.font.italic = False
        heading.next_paragraph_style = paragraph_style(document, look.after_break)
    chapter = paragraph_style(document, "Heading 1").paragraph_format
    chapter.page_break_before = True
    chapter.alignment = WD_ALIGN_PARAGRAPH.CENTER
    chapter.space_before = look.chapter_space
    chapter.space_after = Pt(look.size * 2)
    for name in ("Title", "Subtitle"):
        style = paragraph_style(document, name)
        _plain(style, look, look.chapter_size * 1.4 if name == "Title" else look.size + 2)
        fmt = style.paragraph_format
        fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fmt.first_line_indent = Pt(0)
        fmt.space_after = Pt(look.size)
        style.font.italic = False
        style.font.bold = False


def _blocks(document: Document, look: Look) -> None:
    quote = paragraph_style(document, "Quote")
    quote.font.italic = False
    quote.font.color.rgb = RGBColor(0, 0, 0)
    quote.paragraph_format.left_indent = Inches(0.5)
    quote.paragraph_format.right_indent = Inches(0.5)
    quote.paragraph_format.first_line_indent = Pt(0)

    scene = paragraph_style(document, DOCX_SCENE_BREAK_STYLE, next_style=look.after_break)
    scene.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    scene.paragraph_format.first_line_indent = Pt(0)
    scene.paragraph_format.keep_with_next = True

    for name in ("List Bullet", "List Number"):
        for suffix in ("", " 2", " 3"):
            _list_indent(document, paragraph_style(document, name + suffix))
    for n, suffix in enumerate(("", " 2", " 3"), 1):
        cont = paragraph_style(document, f"List Continue{suffix}").paragraph_format
        cont.first_line_indent = Pt(0)
        cont.left_indent = Inches(0.25 * n)

    code = paragraph_style(document, CODE_BLOCK_STYLE)
    _set_font(code.element, MONOSPACE)
    code.paragraph_format.first_line_indent = Pt(0)
    code.paragraph_format.left_indent = Inches(0.5)
    code.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    _set_font(_character_style(document, CODE_CHAR_STYLE).element, MONOSPACE)
    link = _character_style(document, LINK_STYLE)
    link.font.underline = True
    link.font.color.rgb = RGBColor(0x1F, 0x4E, 0x9A)


def _furniture(document: Document, look: Look) -> None:
    legend = paragraph_style(document, DOCX_LEGEND_STYLE)
    legend.font.italic = True
    legend.paragraph_format.first_line_indent = Pt(0)
    legend.paragraph_format.space_after = Pt(look.size)

    table = paragraph_style(document, TABLE_STYLE)
    table.paragraph_format.first_line_indent = Pt(0)
    table.paragraph_format.line_spacing = 1.0
    table.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    table.font.size = Pt(look.size - 2)

    caption = paragraph_style(document, "Caption")
    _plain(caption, look, look.size - 1)
    caption.paragraph_format.first_line_indent = Pt(0)
    caption.paragraph_format.keep_with_next = True

    for name in ("Header", "Footer"):
        style = paragraph_style(document, name)
        _plain(style, look)
        style.paragraph_format.first_line_indent = Pt(0)
        style.paragraph_format.line_spacing = 1.0
        style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT


def apply_styles(document: Document, look: Look, language: str) -> None:
    """Set the document's styles to ``look``; ``language`` (a BCP 47 tag) is the text's, for
    spelling and hyphenation."""
    _body(document, look, language)
    _headings(document, look)
    _blocks(document, look)
    _furniture(document, look)
