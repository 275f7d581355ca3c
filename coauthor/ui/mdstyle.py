"""Where the editor styles a Markdown manuscript: a fast scanner, pure Python, no Qt.

The editor (``ui/highlighter.BlockStyler``) asks for one *unit* at a time: the lines of a
paragraph, a heading or a scene break (``continues`` says where one ends). ``style_unit``
returns, for each line, ``(start, end, flags)`` segments in code points; the flags say what the
editor shows (italic, bold, code, a dimmed marker, a heading, a quote, a scene break). The text
is only read, never changed.

Inline styling follows CommonMark 0.31 for what it covers: backslash escapes, code spans (a
backtick string closed by one of the same length, taking precedence over emphasis) and emphasis
with its delimiter-run rules (left- and right-flanking runs, ``_`` not opening or closing inside
a word, the rule of three, ``openers_bottom``), across the lines of a paragraph. Links, raw HTML
and autolinks are not recognised, so an ``*`` inside a URL may pair with one outside; fenced and
indented code blocks are not recognised either (their text is styled as prose). The property
tests in ``tests/ui/test_mdstyle.py`` compare the emphasis and code spans with markdown-it-py's
CommonMark rendering.

Block structure is read line by line, as far as it decides styling: ATX headings (``#`` to
``######``), setext underlines (``===`` / ``---`` under a paragraph), thematic breaks (scene
breaks: ``* * *``, ``***``, ``---``, ``___``), block quotes (``>``, nested) and list markers
(``-``, ``+``, ``*``, ``1.``, ``1)``). A unit longer than ``MAX_UNIT_CHARS`` is styled line by
line (emphasis then does not span its lines), which bounds the work of a keystroke.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "BOLD",
    "CODE",
    "HEADING_SHIFT",
    "ITALIC",
    "MARK",
    "MAX_UNIT_CHARS",
    "QUOTE",
    "QUOTE_MARKER",
    "SCENE",
    "Segment",
    "continues",
    "heading_level",
    "inline_spans",
    "is_blank",
    "style_unit",
    "without_block_marker",
]

ITALIC = 1
BOLD = 2
CODE = 4
MARK = 8
"""Markup characters (emphasis and code delimiters, heading, quote and list markers): dimmed."""
QUOTE = 16
SCENE = 32
"""A scene break (thematic break) line: centred and dimmed."""
QUOTE_MARKER = 64
"""The ``>`` markers that start a block quote line (set off from the quoted text)."""
HEADING_SHIFT = 7
"""A heading's level (1-6) is ``flags >> HEADING_SHIFT``."""

MAX_UNIT_CHARS = 20_000
"""A longer unit is styled line by line: a keystroke in it rescans one line, not the unit."""

Segment = tuple[int, int, int]
"""``(start, end, flags)``: code points ``start:end`` of a line, shown with ``flags``."""


def heading_level(flags: int) -> int:
    return flags >> HEADING_SHIFT


# -- block structure, line by line --------------------------------------------------------------

_BLANK = re.compile(r"[ \t]*\Z")
_THEMATIC = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*\Z")
_SETEXT = re.compile(r" {0,3}(?:=+|-+)[ \t]*\Z")
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+|\Z)")
_ATX_CLOSE = re.compile(r"[ \t]+#+[ \t]*\Z")
_ATX_EMPTY = re.compile(r"#+[ \t]*\Z")
_QUOTE = re.compile(r"(?: {0,3}>[ \t]?)+")
_LIST = re.compile(r" {0,3}(?:[-+*]|[0-9]{1,9}[.)])(?:[ \t]+|\Z)")


def is_blank(line: str) -> bool:
    return _BLANK.match(line) is not None


def _standalone(line: str) -> bool:
    """A heading or a thematic break: a unit of one line."""
    body = line[_quote_length(line) :]
    return _ATX.match(body) is not None or _THEMATIC.match(body) is not None


def _quote_length(line: str) -> int:
    match = _QUOTE.match(line) if ">" in line[:4] else None
    return match.end() if match is not None else 0


def continues(previous: str, line: str) -> bool:
    """Whether ``line`` belongs to the same unit as the line before it, ``previous``."""
    if _plain(line):
        return not is_blank(previous) and not _SETEXT.match(previous) and not _standalone(previous)
    if is_blank(previous) or is_blank(line):
        return False
    if _SETEXT.match(previous) or _standalone(previous):
        return False  # a setext underline ends its paragraph; a heading or break stands alone
    if _quote_length(line) and not _quote_length(previous):
        return False  # a block quote interrupts a paragraph
    body = line[_quote_length(line) :]
    if _SETEXT.match(body):
        # Under a paragraph line, ``---`` and ``===`` underline it (CommonMark setext heading).
        previous_body = previous[_quote_length(previous) :]
        return _LIST.match(previous_body) is None and not _quote_length(line)
    return not _standalone(line) and _LIST.match(body) is None


@dataclass
class _Line:
    content_start: int
    content_end: int
    segments: list[Segment]
    flags: int = 0  # applied to the whole content (heading, quote)


def _plain(line: str) -> bool:
    """A line that starts with text (most lines of prose): no block marker can start it."""
    head = line[:1]
    return head.isalpha() or (head == " " and line.lstrip(" ")[:1].isalpha())


_MARKER_STARTS = frozenset("#>-+*_=0123456789")
"""What a block marker (heading, quote, list item, thematic break, setext underline) starts
with, after up to three spaces."""


def without_block_marker(line: str) -> bool:
    """Whether no block marker starts ``line`` and it is not blank, whatever else is typed in it
    after its first character: its first character that is not a space or a tab starts none.
    Such a line is styled as the plain line it is, and joins the lines around it as one."""
    head = line.lstrip(" \t")[:1]
    return bool(head) and head not in _MARKER_STARTS


def _block_prefix(line: str) -> _Line:
    """Dim the line's block markers; say which flags its content takes."""
    if _plain(line):
        return _Line(0, len(line), [])
    segments: list[Segment] = []
    start, flags = 0, 0
    quote = _quote_length(line)
    if quote:
        segments.append((0, quote, MARK | QUOTE_MARKER))
        start, flags = quote, QUOTE
    body = line[start:]
    if _THEMATIC.match(body):
        return _Line(len(line), len(line), [*segments, (start, len(line), MARK | SCENE)])
    atx = _ATX.match(body)
    if atx is not None:
        level = len(atx.group(1))
        content = start + atx.end()
        segments.append((start, content, MARK | (level << HEADING_SHIFT)))
        line_flags = flags | (level << HEADING_SHIFT) | BOLD
        # A closing sequence of #s (after a space, or all the content) is a marker too.
        close = _ATX_EMPTY.match(line, content) or _ATX_CLOSE.search(line, content)
        end = len(line) if close is None else close.start()
        if end < len(line):
            segments.append((end, len(line), MARK | (level << HEADING_SHIFT)))
        return _Line(content, end, segments, line_flags)
    listed = _LIST.match(body)
    if listed is not None:
        segments.append((start, start + listed.end(), MARK | flags))
        start += listed.end()
    return _Line(start, len(line), segments, flags)


def style_unit(lines: list[str]) -> list[list[Segment]]:
    """The segments of each line of one unit (lines that ``continues`` joins), in code points
    within each line, sorted and not overlapping. Unstyled stretches have no segment."""
    if sum(len(line) + 1 for line in lines) > MAX_UNIT_CHARS and len(lines) > 1:
        return [style_unit([line])[0] for line in lines]
    parts = [_block_prefix(line) for line in lines]
    if len(lines) > 1 and _SETEXT.match(lines[-1]):
        level = 1 if "=" in lines[-1] else 2
        parts[-1] = _Line(0, 0, [(0, len(lines[-1]), MARK)])
        for part in parts[:-1]:
            part.flags |= (level << HEADING_SHIFT) | BOLD
    # Inline content: the lines' contents joined by newlines, as CommonMark reads a paragraph.
    pieces = [line[p.content_start : p.content_end] for line, p in zip(lines, parts, strict=True)]
    joined = "\n".join(pieces)
    spans = inline_spans(joined)
    result: list[list[Segment]] = []
    offset = 0
    for line, part, piece in zip(lines, parts, pieces, strict=True):
        inline: list[Segment] = []
        end = offset + len(piece)
        for start, stop, flags in spans:
            if stop <= offset or start >= end:
                continue
            inline.append(
                (max(start, offset) - offset + part.content_start,
                 min(stop, end) - offset + part.content_start,
                 flags)
            )  # fmt: skip
        result.append(_merge(line, part, inline))
        offset = end + 1
    return result


def _merge(line: str, part: _Line, inline: list[Segment]) -> list[Segment]:
    """The line's block segments, then its content with the content flags and the inline
    segments inside it (they do not overlap the block markers)."""
    segments = list(part.segments)
    lo, hi, base = part.content_start, part.content_end, part.flags
    if not base:
        segments.extend(inline)
    else:
        pos = lo
        for start, end, flags in inline:
            if start > pos:
                segments.append((pos, start, base))
            segments.append((start, end, flags | base))
            pos = end
        if pos < hi:
            segments.append((pos, hi, base))
    segments.sort()
    return [s for s in segments if s[1] > s[0]]


# -- inline: escapes, code spans, emphasis ------------------------------------------------------

_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ASCII_SPACE = frozenset(" \t\n\r\f\v")


def _is_space(char: str) -> bool:
    if char.isascii():
        return char in _ASCII_SPACE
    return unicodedata.category(char) == "Zs"


def _is_punct(char: str) -> bool:
    if char.isascii():
        return char in _ASCII_PUNCT
    return unicodedata.category(char)[0] in "PS"


class _Delim:
    __slots__ = ("can_close", "can_open", "char", "end", "length", "orig", "start")

    def __init__(self, char: str, start: int, end: int, can_open: bool, can_close: bool) -> None:
        self.char = char
        self.start = start  # the run's remaining characters: start:end
        self.end = end
        self.length = end - start
        self.orig = end - start
        self.can_open = can_open
        self.can_close = can_close


def inline_spans(text: str) -> list[Segment]:
    """Emphasis, strong emphasis, code spans and escapes in ``text`` (one paragraph's inline
    content, lines joined by ``\\n``): sorted, non-overlapping ``(start, end, flags)``."""
    hits = _special_positions(text)
    if not hits:
        return []
    marks: list[tuple[int, int, int]] = []  # (start, end, flag), may nest
    delims: list[_Delim] = []
    backticks: dict[int, list[int]] | None = None
    size = len(text)
    pos = 0
    for start in hits:
        if start < pos:
            continue  # inside a run, an escape or a code span already read
        char = text[start]
        if char == "\\":
            if start + 1 < size and text[start + 1] in _ASCII_PUNCT:
                marks.append((start, start + 1, MARK))
                pos = start + 2
            continue
        end = start + 1
        while end < size and text[end] == char:
            end += 1
        pos = end
        if char == "`":
            if backticks is None:
                backticks = _backtick_runs(text, hits)
            closing = _closing(backticks.get(end - start, ()), end)
            if closing >= 0:
                marks.append((start, end, MARK))
                marks.append((end, closing, CODE))
                marks.append((closing, closing + end - start, MARK))
                pos = closing + end - start
            continue
        before = text[start - 1] if start else "\n"
        after = text[end] if end < size else "\n"
        space_before, space_after = _is_space(before), _is_space(after)
        punct_before, punct_after = _is_punct(before), _is_punct(after)
        left = not space_after and (not punct_after or space_before or punct_before)
        right = not space_before and (not punct_before or space_after or punct_after)
        if char == "*":
            can_open, can_close = left, right
        else:
            can_open = left and (not right or punct_before)
            can_close = right and (not left or punct_after)
        if can_open or can_close:
            delims.append(_Delim(char, start, end, can_open, can_close))
    if delims:
        _process_emphasis(delims, marks)
    return _flatten(marks)


def _special_positions(text: str) -> list[int]:
    """Where ``*``, ``_``, backticks and backslashes are, in order (``str.find`` runs in C at
    memchr speed; a regular expression over the same text is ten times slower)."""
    hits: list[int] = []
    find = text.find
    for char in "*_`\\":
        at = find(char)
        while at >= 0:
            hits.append(at)
            at = find(char, at + 1)
    hits.sort()
    return hits


def _backtick_runs(text: str, hits: list[int]) -> dict[int, list[int]]:
    """The starts of the backtick strings of ``text``, by length, in order."""
    runs: dict[int, list[int]] = {}
    size = len(text)
    pos = 0
    for start in hits:
        if start < pos or text[start] != "`":
            continue
        end = start + 1
        while end < size and text[end] == "`":
            end += 1
        runs.setdefault(end - start, []).append(start)
        pos = end
    return runs


def _closing(starts: list[int] | tuple[()], after: int) -> int:
    """The first backtick string of the same length starting at or after ``after``; -1 if none."""
    index = bisect.bisect_left(starts, after)
    return starts[index] if index < len(starts) else -1


def _process_emphasis(delims: list[_Delim], marks: list[tuple[int, int, int]]) -> None:
    """CommonMark's "process emphasis" over the delimiter stack (a linked list by index)."""
    count = len(delims)
    previous = list(range(-1, count - 1))
    alive = [True] * count
    openers_bottom: dict[tuple[str, bool, int], int] = {}
    current = 0
    while current < count:
        closer = delims[current]
        if not alive[current] or not closer.can_close:
            current += 1
            continue
        key = (closer.char, closer.can_open, closer.orig % 3)
        bottom = openers_bottom.get(key, -1)
        index = previous[current]
        opener = None
        while index > bottom:
            candidate = delims[index]
            if (
                candidate.char == closer.char
                and candidate.can_open
                and not (
                    (candidate.can_close or closer.can_open)
                    and (candidate.orig + closer.orig) % 3 == 0
                    and (candidate.orig % 3 or closer.orig % 3)
                )
            ):
                opener = candidate
                break
            index = previous[index]
        if opener is None:
            openers_bottom[key] = previous[current]
            if not closer.can_open:
                alive[current] = False
                # Unlink it, so later walks skip it.
                nxt = current + 1
                while nxt < count and not alive[nxt]:
                    nxt += 1
                if nxt < count:
                    previous[nxt] = previous[current]
            current += 1
            continue
        use = 2 if opener.length >= 2 and closer.length >= 2 else 1
        flag = BOLD if use == 2 else ITALIC
        marks.append((opener.end - use, opener.end, MARK))
        marks.append((opener.end, closer.start, flag))
        marks.append((closer.start, closer.start + use, MARK))
        opener.end -= use
        opener.length -= use
        closer.start += use
        closer.length -= use
        # The delimiters between them can no longer match anything.
        previous[current] = index
        if opener.length == 0:
            alive[index] = False
            previous[current] = previous[index]
        if closer.length == 0:
            alive[current] = False
            nxt = current + 1
            while nxt < count and not alive[nxt]:
                nxt += 1
            if nxt < count:
                previous[nxt] = previous[current]
            current += 1


def _flatten(marks: list[tuple[int, int, int]]) -> list[Segment]:
    """Nested ``(start, end, flag)`` marks as sorted segments with the flags combined."""
    if not marks:
        return []
    events: list[tuple[int, int, int]] = []
    for start, end, flag in marks:
        if end > start:
            events.append((start, 1, flag))
            events.append((end, -1, flag))
    events.sort()
    counts: dict[int, int] = {}
    segments: list[Segment] = []
    flags = 0
    pos = 0
    for at, step, flag in events:
        if at > pos and flags:
            segments.append((pos, at, flags))
        pos = at
        counts[flag] = counts.get(flag, 0) + step
        flags = flags | flag if counts[flag] > 0 else flags & ~flag
    return segments
