"""Import Word documents (.docx): mammoth reads the document into HTML, and a small converter
here writes that HTML as Markdown chapters (``Chapter.markup`` "markdown").

The Markdown is canonical: ``*em*``, ``**strong**``, ``> quote``, ``- item``, ``1. item``,
``* * *`` for a scene break, a backslash at the end of a line for a line break inside a
paragraph, paragraphs separated by one blank line. Every character of the document's text that
CommonMark would read as markup is backslash-escaped, so the text means in Coauthor what it meant
in Word. Chapters are cut at the highest heading level present, as ``split_markdown`` does;
the headings below it count from there (under ``Heading 1`` chapters, ``Heading 2`` is ``#``,
as the export writes a chapter's ``#``).

The conventions shared with Coauthor's DOCX export (``coauthor.publish.docx_export``): chapter
titles are ``Heading 1``, scene breaks are paragraphs in the ``Scene Break`` style (a paragraph
whose whole text is ``#``, ``*``, ``* * *``, ``***`` or ``⁂`` is one too), quotations use
``Quote``, lists ``List Bullet`` / ``List Number`` (``… 2``, ``… 3`` nested, ``List Continue``
for an item's later paragraphs), code ``Source Code`` and ``Verbatim Char``; links to ``http``,
``https`` and ``mailto`` addresses become Markdown links. A document whose core property ``category``
is ``coauthor-export`` is one of Coauthor's exports: its title page (before the first
``Heading 1``) and its foreword (the section "How this book was written") are kept in the
import record instead of becoming chapters, so it re-imports to the chapters it was made from.
Not kept: underline, colours, images (counted in the record), a numbered list's first number
(lists count from 1), a footnote's place (its text follows the last chapter as a list).

A .docx is a zip archive, and a hostile one can claim anything: it is refused before mammoth
reads it when it is no zip, when an entry or the whole is over ``MAX_UNPACKED_BYTES``, when an
entry is compressed more than ``MAX_RATIO`` to one (a zip bomb), when its XML is over
``MAX_XML_BYTES`` (mammoth's DOM takes about 40 times the XML in memory: 5 MB of XML, a
480,000-word book, peaked at 210-270 MB and took 15-45 s, nearly all of it in mammoth) or
declares a DTD. Images are not read.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

from coauthor.core.exportformat import (
    DOCX_CATEGORY,
    DOCX_SCENE_BREAK_STYLE,
    ParsedChapter,
    TooManyChapters,
)
from coauthor.importers.errors import ImportFailed
from coauthor.importers.textfiles import MAX_CHAPTERS, ParsedText

__all__ = [
    "EXPORT_CATEGORY",
    "FOREWORD_TITLE",
    "MAX_RATIO",
    "MAX_UNPACKED_BYTES",
    "MAX_XML_BYTES",
    "check_zip",
    "file_sha256",
    "html_to_markdown",
    "parse_docx",
    "split_html",
]

EXPORT_CATEGORY = DOCX_CATEGORY
"""The core property ``category`` of a DOCX written by Coauthor's export."""

FOREWORD_TITLE = "How this book was written"
"""The export's foreword heading (``coauthor.publish.document.FOREWORD_TITLE``; the importers
may not import ``publish``, so it is repeated here and checked by the tests)."""

MAX_UNPACKED_BYTES = 256 * 2**20
"""The most one entry, and all entries together, may declare unpacked."""

MAX_XML_BYTES = 32 * 2**20
"""The most XML a document may hold: six times a 480,000-word book's (about 1.3 GB in mammoth)."""

MAX_RATIO = 250
"""The most an entry over a megabyte may be compressed (deflate's limit is about 1,030 to one;
real document XML is 5 to 90 to one)."""

MAX_ENTRIES = 10_000

MAX_MESSAGES = 100
"""The most of mammoth's warnings kept in the import record (duplicates are dropped first)."""

SCENE_BREAK = "* * *"
_SCENE_BREAK_TEXTS = frozenset({"#", "*", "* * *", "***", "⁂"})

STYLE_MAP = f"""
p[style-name='{DOCX_SCENE_BREAK_STYLE}'] => hr:fresh
p[style-name='Quote'] => blockquote > p:fresh
p[style-name='Intense Quote'] => blockquote > p:fresh
p[style-name='Block Text'] => blockquote > p:fresh
p[style-name='List Bullet'] => ul > li:fresh
p[style-name='List Bullet 2'] => ul|ol > li > ul > li:fresh
p[style-name='List Bullet 3'] => ul|ol > li > ul|ol > li > ul > li:fresh
p[style-name='List Number'] => ol > li:fresh
p[style-name='List Number 2'] => ul|ol > li > ol > li:fresh
p[style-name='List Number 3'] => ul|ol > li > ul|ol > li > ol > li:fresh
p[style-name='Source Code'] => pre:fresh
r[style-name='Verbatim Char'] => code
p[style-name='List Continue'] => ul|ol > li > p:fresh
p[style-name='List Continue 2'] => ul|ol > li > ul|ol > li > p:fresh
p[style-name='List Continue 3'] => ul|ol > li > ul|ol > li > ul|ol > li > p:fresh
p[style-name='Title'] => p:fresh
p[style-name='Subtitle'] => p:fresh
p[style-name='Body Text'] => p:fresh
p[style-name='First Paragraph'] => p:fresh
p[style-name='Table Text'] => p:fresh
p[style-name='caption'] => p:fresh
p[style-name='Provenance Legend'] => p:fresh
"""
"""Word paragraph styles as HTML (before mammoth's own map, which knows ``Heading 1``-``6``)."""

_DOCTYPE = (b"<!DOCTYPE", b"<!ENTITY")
_CORE_NS = {
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


# --- the container -------------------------------------------------------------------------


def check_zip(path: Path, kind: str, xml_suffixes: tuple[str, ...] = (".xml", ".rels")) -> None:
    """Refuse, in one sentence, a file that is not a zip archive or that would unpack into
    more than the bounds allow; read nothing but the zip directory and the XML parts."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ImportFailed(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not magic:
        raise ImportFailed(f"{path} is empty")
    if magic == _OLE_MAGIC:
        raise ImportFailed(
            f"{path} is an old Word 97-2003 document or a password-protected one, not a {kind} "
            "file; open it in Word or LibreOffice and save it as .docx without a password"
        )
    if magic != b"PK\x03\x04":
        raise ImportFailed(
            f"{path} is not a {kind} file: it is not a zip archive, as a {kind} file is "
            "(if it is text, give it the extension .txt or .md)"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_entries(path, infos)
            xml = [i for i in infos if i.filename.lower().endswith(xml_suffixes)]
            if sum(i.file_size for i in xml) > MAX_XML_BYTES:
                raise ImportFailed(
                    f"{path} holds more than {MAX_XML_BYTES // 2**20} MB of document text "
                    "(a long novel holds about 5 MB); split it into several files"
                )
            for info in xml:
                _check_no_doctype(path, archive, info)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise ImportFailed(
            f"{path} is damaged or incomplete: its zip archive cannot be read ({exc})"
        ) from None
    except NotImplementedError as exc:
        raise ImportFailed(f"{path} uses a zip feature that cannot be read ({exc})") from None


def _check_entries(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ENTRIES:
        raise ImportFailed(f"{path} holds more than {MAX_ENTRIES:,} files; it is not a document")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise ImportFailed(f"{path} is password-protected; save it without a password")
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_UNPACKED_BYTES or total > MAX_UNPACKED_BYTES:
            raise ImportFailed(
                f"{path} would unpack into more than {MAX_UNPACKED_BYTES // 2**20} MB; "
                "it is refused unread"
            )
        if info.file_size > 2**20 and ratio > MAX_RATIO:
            raise ImportFailed(
                f"{path} is compressed {ratio:,.0f} to one in {info.filename}, as a zip bomb "
                "is and no document is; it is refused unread"
            )


def _check_no_doctype(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Office XML never declares a DTD; one that does may define entities that expand."""
    tail = b""
    with archive.open(info) as part:  # reads at most the declared size, then checks the CRC
        while chunk := part.read(2**20):
            window = tail + chunk
            if any(marker in window for marker in _DOCTYPE):
                raise ImportFailed(
                    f"{path} declares a DTD in {info.filename}, which no document does; "
                    "it is refused"
                )
            tail = window[-16:]


def _core_properties(path: Path) -> dict[str, str]:
    """The document's title, author and category (``docProps/core.xml``), if any."""
    with zipfile.ZipFile(path) as archive:
        try:
            data = archive.read("docProps/core.xml")
        except KeyError:
            return {}
    try:
        root = ET.fromstring(data)  # checked: bounded, and no DTD  # noqa: S314
    except ET.ParseError:
        return {}
    found = {}
    for key, tag in (("title", "dc:title"), ("author", "dc:creator"), ("category", "cp:category")):
        element = root.find(tag, _CORE_NS)
        if element is not None and element.text and element.text.strip():
            found[key] = element.text.strip()
    return found


# --- reading a .docx -----------------------------------------------------------------------


def parse_docx(path: Path) -> ParsedText:
    """Read and split one Word document (nothing is written); ``ImportFailed`` if it cannot be."""
    check_zip(path, ".docx")
    properties = _core_properties(path)
    html, messages = _mammoth_html(path)
    exported = properties.get("category") == EXPORT_CATEGORY
    chapters, details = _split_checked(path, html, exported)
    if messages:
        details["messages"] = messages
    named = {key: value for key, value in properties.items() if key in ("title", "author")}
    if named:
        details["properties"] = named
    return ParsedText(path, "docx", "utf-8", file_sha256(path), chapters, details)


def _split_checked(
    path: Path, html: str, exported: bool
) -> tuple[list[ParsedChapter], dict[str, object]]:
    try:
        return split_html(html, path.stem, exported=exported, limit=MAX_CHAPTERS)
    except TooManyChapters as exc:
        raise ImportFailed(
            f"{path} would make more than {exc.limit:,} chapters (one per top-level heading), "
            "more than one import may make; split it into several files or use fewer headings"
        ) from None
    except RecursionError:
        raise ImportFailed(f"{path} is nested too deeply to be a document") from None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(2**20):
            digest.update(chunk)
    return digest.hexdigest()


def _mammoth_html(path: Path) -> tuple[str, list[str]]:
    import mammoth  # loaded only for a .docx import

    def no_image(_image: Any) -> dict[str, str]:
        return {}  # the image is not read; the converter counts the <img> left behind

    try:
        with path.open("rb") as handle:
            result = mammoth.convert_to_html(
                handle,
                style_map=STYLE_MAP,
                include_embedded_style_map=False,  # the document does not choose our mapping
                ignore_empty_paragraphs=False,  # an empty "Scene Break" paragraph still counts
                convert_image=mammoth.images.img_element(no_image),
            )
    except RecursionError:
        raise ImportFailed(f"{path} is nested too deeply to be a document") from None
    except OSError as exc:  # mammoth's word when the main document part is missing
        raise ImportFailed(
            f"{path} has no document part (word/document.xml): it is damaged, or not a "
            f"Word document ({exc})"
        ) from None
    except Exception as exc:  # noqa: BLE001 - mammoth on hostile XML raises anything
        raise ImportFailed(
            f"{path} is damaged: its document cannot be read ({type(exc).__name__}: {exc})"
        ) from None
    messages: list[str] = []
    for message in result.messages:
        text = f"{message.type}: {message.message}"
        if text not in messages and len(messages) < MAX_MESSAGES:
            messages.append(text)
    return str(result.value), messages


# --- HTML to Markdown ----------------------------------------------------------------------


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node | str] = field(default_factory=list)


_VOID = frozenset({"br", "img", "wbr", "input", "meta", "link", "col", "area", "source"})


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _parse_html(html: str) -> _Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


@dataclass
class _Heading:
    level: int
    title: str  # plain text
    markdown: str  # the inline Markdown of the heading, escaped


@dataclass
class _Block:
    text: str
    is_list: bool = False


_Item = _Heading | _Block

_BLOCK_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "blockquote", "ul", "ol", "li", "table"}
    | {"thead", "tbody", "tfoot", "tr", "td", "th", "div", "section", "article", "pre"}
    | {"header", "footer", "aside", "figure", "dl", "dt", "dd", "body", "html", "main"}
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BACK_LINKS = ("#footnote-ref-", "#endnote-ref-", "#comment-ref-", "#fnref")


class _Converter:
    def __init__(self) -> None:
        self.images = 0

    def container(self, children: list[_Node | str]) -> list[_Item]:
        items: list[_Item] = []
        inline: list[_Node | str] = []

        def flush() -> None:
            if inline:
                text = self.paragraph(inline)
                if text:
                    items.append(_Block(text))
                inline.clear()

        for child in children:
            if isinstance(child, str) or child.tag not in _BLOCK_TAGS:
                inline.append(child)
                continue
            flush()
            items.extend(self.block(child))
        flush()
        return items

    def block(self, node: _Node) -> list[_Item]:
        tag = node.tag
        if tag == "p":
            text = self.paragraph(node.children)
            return [_Block(text)] if text else []
        if tag in _HEADINGS:
            markdown, plain = self.inline(node.children, heading=True)
            return [_Heading(_HEADINGS[tag], plain, markdown)] if plain or markdown else []
        if tag == "hr":
            return [_Block(SCENE_BREAK)]
        if tag == "blockquote":
            inner = _join(self.container(node.children))
            if not inner:
                return []
            return [_Block("\n".join(f"> {line}" if line else ">" for line in inner.split("\n")))]
        if tag in ("ul", "ol"):
            return [self.list(node, ordered=tag == "ol")]
        if tag == "pre":
            return [self.code_block(node)]
        if "footnotes" in node.attrs.get("class", "").split():  # pandoc's notes: no rule
            children = [c for c in node.children if not isinstance(c, _Node) or c.tag != "hr"]
            return self.container(children)
        return self.container(node.children)  # tables, cells, divisions: their contents

    def list(self, node: _Node, *, ordered: bool) -> _Block:
        lines: list[str] = []
        number = 0
        for child in node.children:
            if isinstance(child, str):
                if child.strip():
                    child = _Node("li", {}, [child])
                else:
                    continue
            body = _join(
                self.container(child.children if child.tag == "li" else [child]), in_item=True
            )
            if not body:
                continue  # an empty item would read as a rule or a heading underline
            number += 1
            marker = f"{number}. " if ordered else "- "
            for n, line in enumerate(body.split("\n")):
                if n == 0:
                    lines.append((marker + line).rstrip())
                else:
                    lines.append(" " * len(marker) + line if line else "")
        return _Block("\n".join(lines), is_list=True)

    def paragraph(self, children: list[_Node | str]) -> str:
        markdown, plain = self.inline(children)
        if plain.strip() in _SCENE_BREAK_TEXTS:
            return SCENE_BREAK
        return markdown

    def code_block(self, node: _Node) -> _Block:
        text = _plain(node.children, "\n")
        fence = "`" * max(3, _longest_run(text, "`") + 1)
        return _Block(f"{fence}\n{text}\n{fence}")

    def inline(self, children: list[_Node | str], *, heading: bool = False) -> tuple[str, str]:
        """The children as one paragraph of Markdown, and their plain text."""
        segments = self.segments(children)
        plain = "".join("\n" if s is None else s.plain for s in segments)
        if heading:
            flat = [_Seg(frozenset(), " ") if s is None else s for s in segments]
            return _heading_escape(_emphasis(flat)), " ".join(plain.split())
        return _emphasis(segments), plain

    def segments(self, children: list[_Node | str]) -> list[_Seg | None]:
        out: list[_Seg | None] = []  # None: a line break
        self._segments(children, frozenset(), out)
        return out

    def _segments(
        self, children: list[_Node | str], formats: frozenset[str], out: list[_Seg | None]
    ) -> None:
        for child in children:
            if isinstance(child, str):
                text = child.replace("\r", " ").replace("\n", " ")
                last = out[-1] if out else None
                if last is not None and not last.raw and last.formats == formats:
                    out[-1] = _Seg(formats, last.text + text)
                elif text:
                    out.append(_Seg(formats, text))
                continue
            tag = child.tag
            href = child.attrs.get("href", "")
            if tag == "br":
                out.append(None)
            elif tag == "img":
                self.images += 1
            elif tag == "a" and href.startswith(_BACK_LINKS):
                continue  # the "↑" back to a footnote's reference
            elif tag in ("em", "i"):
                self._segments(child.children, formats | {"i"}, out)
            elif tag in ("strong", "b"):
                self._segments(child.children, formats | {"b"}, out)
            elif tag == "code":
                code = _plain(child.children, " ")
                if code:
                    out.append(_Seg(formats, _code_span(code), raw=True, plain=code))
            elif tag == "a" and href.startswith(_LINK_SCHEMES):
                inner = self.segments(child.children)
                plain = "".join(" " if s is None else s.plain for s in inner)
                label = _emphasis([_Seg(frozenset(), " ") if s is None else s for s in inner])
                if label.strip():
                    raw = f"[{label}]({_destination(href)})"
                    out.append(_Seg(formats, raw, raw=True, plain=plain))
            else:
                self._segments(child.children, formats, out)


@dataclass(frozen=True)
class _Seg:
    """A stretch of inline text with its formatting (``i``, ``b``); a raw one is Markdown
    already (a code span, a link), written as it is."""

    formats: frozenset[str]
    text: str
    raw: bool = False
    plain: str = ""

    def __post_init__(self) -> None:
        if not self.raw:
            object.__setattr__(self, "plain", self.text)


_MARKERS = {"i": "*", "b": "**"}
_LINK_SCHEMES = ("http://", "https://", "mailto:")


def _plain(children: list[_Node | str], line_break: str) -> str:
    """The text of the children, every element's included, line breaks as ``line_break``."""
    parts: list[str] = []
    for child in children:
        if isinstance(child, str):
            parts.append(child)
        elif child.tag == "br":
            parts.append(line_break)
        else:
            parts.append(_plain(child.children, line_break))
    return "".join(parts)


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(f"{re.escape(char)}+", text)
    return max((len(run) for run in runs), default=0)


def _code_span(code: str) -> str:
    ticks = "`" * (_longest_run(code, "`") + 1)
    padded = code.startswith("`") or code.endswith("`") or (code[0] == code[-1] == " ")
    return f"{ticks} {code} {ticks}" if padded else f"{ticks}{code}{ticks}"


def _destination(href: str) -> str:
    """A link's address as Markdown writes it: characters that would end it percent-encoded."""
    if re.search(r"[\s()<>\\]", href):
        return quote(href, safe=":/?#[]@!$&'*+,;=%~")
    return href


def _emphasis(segments: Sequence[_Seg | None]) -> str:
    """Inline Markdown with ``*``/``**`` opened and closed where the formatting changes;
    spaces and line breaks at a change go outside the markers, where CommonMark needs them."""
    out: list[str] = []
    stack: list[str] = []
    pending = ""  # spaces and line breaks ("\n") not yet written
    line_start = True
    for segment in segments:
        if segment is None:
            pending += "\n"
            continue
        text = segment.text
        core = text if segment.raw else text.strip(" \t")
        if not core:
            pending += text
            continue
        pending += text[: len(text) - len(text.lstrip(" \t"))] if not segment.raw else ""
        trail = "" if segment.raw else text[len(text.rstrip(" \t")) :]
        while stack and any(f not in segment.formats for f in stack):
            out.append(_MARKERS[stack.pop()])
        if out:
            breaks = pending.count("\n")
            if breaks:
                out.append("\\\n" * breaks)
                line_start = True
            else:
                out.append(pending)
        opens = [f for f in ("b", "i") if f in segment.formats and f not in stack]
        for f in opens:
            out.append(_MARKERS[f])
            stack.append(f)
        if segment.raw:
            out.append(core)
        else:
            escaped = _escape_inline(core)
            out.append(_escape_line_start(escaped) if line_start and not opens else escaped)
        line_start = False
        pending = trail
    while stack:
        out.append(_MARKERS[stack.pop()])
    return "".join(out)


_INLINE_SPECIAL = re.compile(r"[\\*_`\[<]|&(?=#?[A-Za-z0-9]+;)")
_LINE_START_SPECIAL = re.compile(
    r"^(?:#{1,6}(?=[ \t]|$)|>|[-+](?=[ \t]|$)|-(?=[- \t]*$)|=(?=[= \t]*$)|~~~|~(?=~~))"
)
_ORDERED_START = re.compile(r"^(\d{1,9})([.)])(?=[ \t]|$)")


def _escape_inline(text: str) -> str:
    return _INLINE_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def _escape_line_start(text: str) -> str:
    """Escape what would make a line a heading, a quotation, a list item, a rule or a fence."""
    ordered = _ORDERED_START.match(text)
    if ordered:
        return f"{ordered.group(1)}\\{text[ordered.end(1) :]}"
    if _LINE_START_SPECIAL.match(text):
        return "\\" + text
    return text


def _heading_escape(markdown: str) -> str:
    """An ATX heading's text: a closing run of ``#`` would be dropped, so it is escaped."""
    match = re.search(r"(?<![\\])#+$", markdown)
    if match and (match.start() == 0 or markdown[match.start() - 1] in " \t"):
        return markdown[: match.start()] + "\\" + markdown[match.start() :]
    return markdown


def _join(items: list[_Item], *, in_item: bool = False) -> str:
    """Blocks separated by a blank line; inside a list item, a list by a line break only, which
    keeps the list tight."""
    parts: list[str] = []
    for item in items:
        text = item.text if isinstance(item, _Block) else _heading_line(item)
        if parts:
            tight = in_item and isinstance(item, _Block) and item.is_list
            parts.append("\n" if tight else "\n\n")
        parts.append(text)
    return "".join(parts)


def _heading_line(heading: _Heading) -> str:
    return f"{'#' * heading.level} {heading.markdown}".rstrip()


def html_to_markdown(html: str) -> str:
    """The HTML as one Markdown text (headings as ATX lines); for the tests and for callers
    that do not split."""
    return _join(_Converter().container(_parse_html(html).children))


def split_html(
    html: str, fallback_title: str, *, exported: bool = False, limit: int | None = None
) -> tuple[list[ParsedChapter], dict[str, object]]:
    """Chapters of the HTML, cut at the highest heading level (at ``h1`` for Coauthor's own
    export, whose title page and foreword go into the details); more than ``limit`` raises
    ``TooManyChapters``."""
    converter = _Converter()
    items = converter.container(_parse_html(html).children)
    details: dict[str, object] = {}
    levels = [item.level for item in items if isinstance(item, _Heading)]
    top = 1 if exported else min(levels, default=0)
    cuts = [n for n, item in enumerate(items) if isinstance(item, _Heading) and item.level == top]
    for item in items:
        if isinstance(item, _Heading) and item.level > top:
            item.level = max(1, item.level - top)  # a chapter's own headings start at "#"
    if limit is not None and len(cuts) > limit + (1 if exported else 0):
        raise TooManyChapters(limit)
    chapters: list[ParsedChapter] = []
    preamble = _join(items[: cuts[0] if cuts else len(items)])
    if exported:
        if preamble:
            details["title_page"] = preamble
    elif preamble:
        chapters.append(ParsedChapter(fallback_title, preamble))
    for n, start in enumerate(cuts):
        heading = items[start]
        assert isinstance(heading, _Heading)
        body = _join(items[start + 1 : cuts[n + 1] if n + 1 < len(cuts) else len(items)])
        if exported and heading.title == FOREWORD_TITLE and "foreword" not in details:
            details["foreword"] = body
            continue
        chapters.append(ParsedChapter(heading.title or f"Chapter {len(chapters) + 1}", body))
    if limit is not None and len(chapters) > limit:
        raise TooManyChapters(limit)
    if converter.images:
        details["images_left_out"] = converter.images
    if not chapters and not exported:  # an empty document still arrives, as one empty chapter
        chapters = [ParsedChapter(fallback_title, "")]
    return chapters, details
