"""A chapter as a reader sees it: blocks and inline pieces, each piece with its origin.

``chapter_blocks`` reads a chapter's text by its markup (``Chapter.markup``):

- ``markdown``: CommonMark, parsed by markdown-it-py with its ``commonmark`` preset and raw
  HTML off, so that ``<script>`` or ``<b>`` typed in a chapter or written by a model is shown
  as text, never passed through. Emphasis, strong text, code, links, headings, block quotes,
  lists, scene breaks (thematic breaks: ``* * *``, ``---``) and hard line breaks (two spaces or
  a backslash at the end of a line) come out as pandoc's CommonMark reader reads them
  (tests/publish/test_markup.py compares the two on every construct). An image is shown as its
  description: exports carry no picture from outside the book.
- ``plain``: text that was not written as Markdown (a plain-text file, a CoAuthor session):
  blank lines separate paragraphs, every other newline is a line break, and every character is
  shown as it is.

The provenance record stays per character of the source: every visible character is traced
back to the source character it came from, and takes that character's origin (an escaped
``\\*`` takes the origin of the ``*``; an entity such as ``&amp;`` that of its ``&``). Markup
the author typed (the asterisks of ``*seven*``) is recorded as typed, like any keystroke, and
counts in the measured roles, which count the source's characters; it is not shown.

``visible_text`` is the text of the blocks as a reader sees it, the form the provenance
manifest hashes for the EPUB, the HTML book, the report, the DOCX and the PDF: each block's text
stripped of the whitespace around it, a scene break as ``* * *``, joined by one blank line.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt

from coauthor.core.origin import Origin

if TYPE_CHECKING:
    from markdown_it.token import Token

__all__ = [
    "BLOCK_KINDS",
    "SCENE_BREAK_TEXT",
    "Block",
    "Piece",
    "block_text",
    "chapter_blocks",
    "leaf_blocks",
    "trimmed",
    "visible_text",
]

SCENE_BREAK_TEXT = "* * *"
"""How a scene break reads in ``visible_text`` (whatever each format draws for it)."""

BLOCK_KINDS = ("paragraph", "heading", "break", "quote", "list", "item", "code")

RunList = Sequence[tuple[int, Origin, str | None]]


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of visible text with one origin and one set of inline styles.

    A hard line break is a piece with ``br`` set and the text ``"\\n"``; a soft line break
    (a single newline inside a Markdown paragraph) is a piece with the text ``"\\n"`` and
    ``br`` unset, which HTML keeps as white space and DOCX and PDF show as one space.
    """

    text: str
    origin: Origin
    ref: str | None
    em: bool = False
    strong: bool = False
    code: bool = False
    link: str | None = None
    br: bool = False
    at: int = -1
    """Offset in the chapter's text of the source character of this piece's first character
    (-1 where it has none)."""


@dataclass(slots=True)
class Block:
    """A paragraph, heading, scene break, block quote, list, list item or code block."""

    kind: str
    pieces: list[Piece] = field(default_factory=list)
    """The text of a paragraph, heading or code block."""
    children: list[Block] = field(default_factory=list)
    """The blocks of a quote or an item; the items of a list."""
    level: int = 0
    """A heading's level in the chapter's outline: 1 for its highest headings (``#``, or
    ``##`` when there is no ``#``), and never more than one below the heading before it."""
    ordered: bool = False
    start: int = 1
    """An ordered list's first number."""
    tight: bool = True
    """A list whose items are not separated by blank lines (their paragraphs have no space
    between them)."""
    source: int = 0
    """Offset in the chapter's text where the block starts."""


# -- runs -----------------------------------------------------------------------------------


class _Origins:
    """The origin of every character of the chapter, found by bisection over run ends."""

    def __init__(self, runs: RunList) -> None:
        self.ends: list[int] = []
        self.runs: list[tuple[Origin, str | None]] = []
        pos = 0
        for length, origin, ref in runs:
            if length <= 0:
                continue
            pos += length
            self.ends.append(pos)
            self.runs.append((origin, ref))

    def at(self, pos: int) -> tuple[Origin, str | None]:
        index = bisect.bisect_right(self.ends, pos)
        if index >= len(self.runs):
            return self.runs[-1] if self.runs else (Origin.HUMAN, None)
        return self.runs[index]

    def split(self, start: int, end: int) -> Iterator[tuple[int, int, Origin, str | None]]:
        """(start, end, origin, ref) for the stretches of [start, end) with one origin."""
        index = bisect.bisect_right(self.ends, start)
        pos = start
        while pos < end:
            if index >= len(self.runs):
                origin, ref = self.runs[-1] if self.runs else (Origin.HUMAN, None)
                yield pos, end, origin, ref
                return
            stop = min(end, self.ends[index])
            origin, ref = self.runs[index]
            yield pos, stop, origin, ref
            pos = stop
            index += 1


# -- plain text -----------------------------------------------------------------------------


def _plain_blocks(text: str, origins: _Origins) -> list[Block]:
    blocks: list[Block] = []
    pos = 0
    length = len(text)
    while pos < length:
        # Skip the blank lines (and the white space of otherwise empty lines) between paragraphs.
        while pos < length and text[pos] in " \t\r\n":
            line_end = text.find("\n", pos)
            rest = text[pos : length if line_end < 0 else line_end]
            if rest.strip(" \t\r"):
                break
            pos = length if line_end < 0 else line_end + 1
        if pos >= length:
            break
        end = _paragraph_end(text, pos)
        pieces: list[Piece] = []
        line_start = pos
        while line_start < end:
            newline = text.find("\n", line_start, end)
            line_end = end if newline < 0 else newline
            stop = (
                line_end - 1 if line_end > line_start and text[line_end - 1] == "\r" else line_end
            )
            for a, b, origin, ref in origins.split(line_start, stop):
                pieces.append(Piece(text[a:b], origin, ref, at=a))
            if newline < 0:
                break
            origin, ref = origins.at(newline)
            pieces.append(Piece("\n", origin, ref, br=True, at=newline))
            line_start = newline + 1
        while pieces and pieces[-1].br:  # a paragraph does not end in a line break
            pieces.pop()
        blocks.append(Block("paragraph", pieces, source=pos))
        pos = end
    return blocks


def _paragraph_end(text: str, pos: int) -> int:
    """Where the paragraph starting at ``pos`` ends: before the first blank line."""
    length = len(text)
    line_start = pos
    while line_start < length:
        newline = text.find("\n", line_start)
        if newline < 0:
            return length
        next_start = newline + 1
        next_end = text.find("\n", next_start)
        following = text[next_start : length if next_end < 0 else next_end]
        if not following.strip(" \t\r"):
            return newline
        line_start = next_start
    return length


# -- Markdown -------------------------------------------------------------------------------

_PARSER: MarkdownIt | None = None


def _parser() -> MarkdownIt:
    global _PARSER  # noqa: PLW0603 - one parser, built on first use
    if _PARSER is None:
        parser = MarkdownIt("commonmark", {"html": False})
        parser.disable("text_join")  # keep escapes and entities apart, to trace their source
        _PARSER = parser
    return _PARSER


@dataclass
class _Style:
    em: int = 0
    strong: int = 0
    link: list[str] = field(default_factory=list)


class _Inline:
    """Turns one inline token's children into pieces, tracing each back to its source."""

    def __init__(self, src: str, origins: _Origins, start: int, end: int) -> None:
        self.src = src
        self.origins = origins
        self.cursor = start
        self.end = end
        self.style = _Style()
        self.pieces: list[Piece] = []

    def _find(self, needle: str) -> int:
        if not needle:
            return self.cursor
        return self.src.find(needle, self.cursor, self.end)

    def _emit(self, text: str, start: int, *, br: bool = False, code: bool = False) -> None:
        """Pieces for ``text``, whose characters came from ``src[start:start + len(text)]``."""
        style = self.style
        link = style.link[-1] if style.link else None
        em, strong = style.em > 0, style.strong > 0
        if start < 0:  # not found in the source: take the origin where the cursor stands
            origin, ref = self.origins.at(min(self.cursor, max(0, len(self.src) - 1)))
            self.pieces.append(Piece(text, origin, ref, em, strong, code, link, br))
            return
        for a, b, origin, ref in self.origins.split(start, start + len(text)):
            self.pieces.append(
                Piece(text[a - start : b - start], origin, ref, em, strong, code, link, br, at=a)
            )

    def _drop_trailing_spaces(self) -> None:
        """A hard break's spaces are not shown: take them off the pieces before it."""
        pieces = self.pieces
        while pieces and not pieces[-1].br:
            last = pieces[-1]
            text = last.text.rstrip(" ")
            if text:
                pieces[-1] = replace(last, text=text)
                return
            pieces.pop()

    def _skip(self, needle: str) -> None:
        found = self._find(needle)
        if found >= 0:
            self.cursor = found + len(needle)

    def _skip_link_tail(self) -> None:
        """After a link's text: past ``](destination "title")`` or ``][label]``."""
        close = self._find("]")
        if close < 0:
            return
        pos = close + 1
        src, end = self.src, self.end
        if pos < end and src[pos] == "(":
            depth, quote = 0, ""
            while pos < end:
                char = src[pos]
                if quote:
                    if char == quote:
                        quote = ""
                    elif char == "\\":
                        pos += 1
                elif char == "\\":
                    pos += 1
                elif char in "\"'" and depth == 1:
                    quote = char
                elif char == "(":
                    depth += 1
                elif char == ")":
                    depth -= 1
                    if depth == 0:
                        pos += 1
                        break
                pos += 1
        elif pos < end and src[pos] == "[":
            label_end = src.find("]", pos, end)
            pos = label_end + 1 if label_end >= 0 else pos
        self.cursor = min(pos, end)

    def feed(self, tokens: Iterable[Token]) -> None:
        style = self.style
        for token in tokens:
            kind = token.type
            if kind == "text":
                if token.content:
                    found = self._find(token.content)
                    self._emit(token.content, found)
                    if found >= 0:
                        self.cursor = found + len(token.content)
            elif kind == "text_special":
                found = self._find(token.markup)
                origin_at = found + 1 if found >= 0 and token.info == "escape" else found
                self._emit(token.content, origin_at if len(token.content) == 1 else -1)
                if found >= 0:
                    if len(token.content) != 1:
                        self.pieces[-1] = replace(self.pieces[-1], origin=self.origins.at(found)[0])
                    self.cursor = found + len(token.markup)
            elif kind in ("softbreak", "hardbreak"):
                found = self._find("\n")
                # Two spaces before a line end make a hard break, also after a backslash that
                # escapes nothing (markdown-it reads "\\  \n" as a soft break; pandoc and
                # the CommonMark spec do not).
                hard = kind == "hardbreak" or (found >= 2 and self.src[found - 2 : found] == "  ")
                if hard:
                    self._drop_trailing_spaces()
                self._emit("\n", found, br=hard)
                if found >= 0:
                    self.cursor = found + 1
            elif kind in ("em_open", "em_close", "strong_open", "strong_close"):
                self._skip(token.markup)
                delta = 1 if kind.endswith("_open") else -1
                if kind.startswith("em"):
                    style.em += delta
                else:
                    style.strong += delta
            elif kind == "code_inline":
                self._code(token)
            elif kind == "link_open":
                self._skip("<" if token.markup == "autolink" else "[")
                style.link.append(str(token.attrs.get("href", "")))
            elif kind == "link_close":
                if token.markup == "autolink":
                    self._skip(">")
                else:
                    self._skip_link_tail()
                if style.link:
                    style.link.pop()
            elif kind == "image":
                self._skip("![")
                self.feed(token.children or [])
                self._skip_link_tail()
            # html_inline cannot occur (raw HTML is off); anything else shows nothing.

    def _code(self, token: Token) -> None:
        opening = self._find(token.markup)
        if opening < 0:
            self._emit(token.content, -1, code=True)
            return
        body = opening + len(token.markup)
        closing = self.src.find(token.markup, body, self.end)
        if closing < 0:
            closing = body + len(token.content)
        raw = self.src[body:closing].replace("\n", " ")
        offset = 0
        if len(raw) > 2 and raw[0] == " " and raw[-1] == " " and raw.strip(" "):
            offset = 1
        if raw[offset : offset + len(token.content)] == token.content:
            self._emit(token.content, body + offset, code=True)
        else:
            self._emit(token.content, -1, code=True)
        self.cursor = closing + len(token.markup)


class _Builder:
    def __init__(self, src: str, origins: _Origins) -> None:
        self.src = src
        self.origins = origins
        self.line_starts = [0]
        find = src.find
        pos = find("\n")
        while pos >= 0:
            self.line_starts.append(pos + 1)
            pos = find("\n", pos + 1)

    def offset(self, line: int) -> int:
        if line >= len(self.line_starts):
            return len(self.src)
        return self.line_starts[line]

    def region(self, token: Token) -> tuple[int, int]:
        if token.map is None:
            return 0, len(self.src)
        return self.offset(token.map[0]), self.offset(token.map[1])

    def inline(self, token: Token) -> list[Piece]:
        start, end = self.region(token)
        inline = _Inline(self.src, self.origins, start, end)
        inline.feed(token.children or [])
        return inline.pieces

    def code(self, token: Token) -> list[Piece]:
        """A code block's lines, each found in its source line (a fence's delimiters and an
        indented block's indentation are not shown)."""
        start, end = self.region(token)
        content = token.content.removesuffix("\n")
        pieces: list[Piece] = []
        cursor = start
        if token.type == "fence":  # the text starts on the line after the opening fence
            cursor = self.offset(token.map[0] + 1) if token.map is not None else start
        for number, line in enumerate(content.split("\n")):
            if number:
                newline = self.src.find("\n", cursor, end)
                origin, ref = self.origins.at(max(0, newline if newline >= 0 else cursor))
                pieces.append(Piece("\n", origin, ref, code=True, br=True, at=newline))
                cursor = newline + 1 if newline >= 0 else cursor
            if not line:
                continue
            found = self.src.find(line, cursor, end)
            if found < 0:
                origin, ref = self.origins.at(min(cursor, max(0, len(self.src) - 1)))
                pieces.append(Piece(line, origin, ref, code=True))
                continue
            for a, b, origin, ref in self.origins.split(found, found + len(line)):
                pieces.append(Piece(line[a - found : b - found], origin, ref, code=True, at=a))
            cursor = found + len(line)
        return pieces

    def build(self, tokens: list[Token]) -> list[Block]:
        """Blocks with their inline content: paragraphs and headings take the inline token
        that follows their opening token; lists learn whether they are tight."""
        root: list[Block] = []
        stack: list[Block] = []
        pending: Block | None = None

        def add(block: Block) -> None:
            (stack[-1].children if stack else root).append(block)

        for token in tokens:
            kind = token.type
            start = self.region(token)[0]
            if kind == "paragraph_open":
                pending = Block("paragraph", source=start)
                if stack and stack[-1].kind == "item" and not token.hidden:
                    self._loosen(stack)
            elif kind == "heading_open":
                pending = Block("heading", level=int(token.tag[1:] or 1), source=start)
            elif kind == "inline" and pending is not None:
                pending.pieces = self.inline(token)
                add(pending)
                pending = None
            elif kind == "blockquote_open":
                block = Block("quote", source=start)
                add(block)
                stack.append(block)
            elif kind in ("bullet_list_open", "ordered_list_open"):
                ordered = kind == "ordered_list_open"
                first = token.attrs.get("start", 1) if ordered else 1
                block = Block("list", ordered=ordered, start=int(first or 1), source=start)
                add(block)
                stack.append(block)
            elif kind == "list_item_open":
                block = Block("item", source=start)
                add(block)
                stack.append(block)
            elif kind in (
                "blockquote_close",
                "bullet_list_close",
                "ordered_list_close",
                "list_item_close",
            ):
                if stack:
                    stack.pop()
            elif kind == "hr":
                add(Block("break", source=start))
            elif kind in ("code_block", "fence"):
                add(Block("code", self.code(token), source=start))
        return root

    @staticmethod
    def _loosen(stack: list[Block]) -> None:
        """A visible paragraph inside an item: the item's list is loose."""
        for block in reversed(stack):
            if block.kind == "list":
                block.tight = False
                return


def _markdown_blocks(text: str, origins: _Origins) -> list[Block]:
    # markdown-it reads "\r\n" and "\r" as "\n" and NUL as U+FFFD; keep every offset by
    # replacing them one for one first.
    src = text
    if "\r" in src or "\0" in src:
        src = src.replace("\r\n", " \n").replace("\r", "\n").replace("\0", "\ufffd")
    tokens = _parser().parse(src)
    blocks = _Builder(src, origins).build(tokens)
    _outline(blocks)
    return blocks


def _outline(blocks: list[Block]) -> None:
    """Headings by their place in the chapter's outline: the highest written level is 1 and no
    level is skipped (``#`` then ``###`` reads as 1 then 2), so that a chapter whose sections
    start at ``##`` has no gap under the chapter's title, which assistive technology reports."""
    headings = [b for b in leaf_blocks(blocks) if b.kind == "heading"]
    if not headings:
        return
    top = min(b.level for b in headings)
    shown = 0
    for block in headings:
        shown = min(block.level - top + 1, shown + 1)
        block.level = shown


def chapter_blocks(text: str, runs: RunList, markup: str = "markdown") -> list[Block]:
    """The chapter's blocks as a reader sees them (see the module docstring)."""
    origins = _Origins(runs)
    if markup == "plain":
        return _plain_blocks(text, origins)
    return _markdown_blocks(text, origins)


# -- reading the blocks ---------------------------------------------------------------------


def leaf_blocks(blocks: Iterable[Block]) -> Iterator[Block]:
    """The blocks that hold text (paragraphs, headings, code) and scene breaks, in order."""
    for block in blocks:
        if block.kind in ("quote", "list", "item"):
            yield from leaf_blocks(block.children)
        else:
            yield block


def trimmed(pieces: Sequence[Piece]) -> list[Piece]:
    """The pieces without the white space around their whole text (as ``str.strip``)."""
    result = list(pieces)
    while result and not result[0].text.strip():
        result.pop(0)
    while result and not result[-1].text.strip():
        result.pop()
    if result:
        first = result[0]
        text = first.text.lstrip()
        result[0] = replace(first, text=text, at=first.at + len(first.text) - len(text))
        last = result[-1]
        result[-1] = replace(last, text=last.text.rstrip())
    return result


def block_text(block: Block) -> str:
    """A leaf block's text as a reader sees it: a paragraph's or heading's stripped of the
    white space around it, a code block's of the newlines around it ("" for a block a reader
    does not see)."""
    if block.kind == "break":
        return SCENE_BREAK_TEXT
    text = "".join(piece.text for piece in block.pieces)
    if block.kind == "code":
        return text.strip("\n") if text.strip() else ""
    return text.strip()


def visible_text(blocks: Iterable[Block]) -> str:
    """The text a reader sees: each leaf block's text, joined by one blank line."""
    return "\n\n".join(text for text in map(block_text, leaf_blocks(blocks)) if text)
