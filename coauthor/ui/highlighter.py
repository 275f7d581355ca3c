"""Provenance made visible in the editor: plain, origin colours, or a paragraph heatmap.

Origin colours and the marks of pending text are character formats on the blocks' layouts
(``QTextLayout.setFormats``), set by ``BlockStyler`` with the Markdown styling: Qt draws them
under the text in C++, and a keystroke only re-formats its own paragraph before Qt lays it out
again. The document's formats are never touched, so the text, the record and the undo stack
are not either. (A ``QSyntaxHighlighter`` re-formats the edited paragraph on every keystroke,
which makes Qt repaint the whole editor; painting the colours from Python in ``paintEvent``
cost a painter and a pass over the paragraph's lines on every keystroke.) The heatmap shades
whole paragraphs, which character formats cannot do: it is painted under the text.

Pending AI text is marked in every mode, not by colour alone: a wavy underline and a
hatched background. Runs are read from the chapter's ``ProvenanceText`` whenever a block is
formatted; a review, a mode or a palette change formats every block again as it is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, cast

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontDatabase,
    QImage,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QTextBlock,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextLayout,
    QTextLine,
)
from PySide6.QtWidgets import QPlainTextDocumentLayout

if TYPE_CHECKING:
    from PySide6.QtWidgets import QPlainTextEdit

from coauthor.core.book import Chapter
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.textpos import Utf16Map
from coauthor.ui.mdstyle import (
    BOLD,
    CODE,
    ITALIC,
    MARK,
    MAX_UNIT_CHARS,
    QUOTE,
    QUOTE_MARKER,
    SCENE,
    Segment,
    continues,
    heading_level,
    is_blank,
    style_unit,
    without_block_marker,
)
from coauthor.ui.palette import OriginPalette, blend_over

logger = logging.getLogger(__name__)

__all__ = [
    "BlockMark",
    "BlockStyler",
    "MarkdownLayout",
    "ProvenanceHighlighter",
    "SpellingProvider",
    "ViewMode",
    "center_scene_breaks",
    "format_ranges",
]

PENDING = ReviewState.PENDING


class ViewMode(StrEnum):
    PLAIN = "plain"
    ORIGINS = "origins"
    HEATMAP = "heatmap"


@dataclass(frozen=True)
class BlockMark:
    """One marked stretch of a block, in UTF-16 offsets within the block."""

    start: int
    length: int
    origin: Origin
    pending: bool


class SpellingProvider(Protocol):
    """Where the underlines of misspelled words come from (``ui.spelling.SpellingUnderlines``):
    answers from what its idle check found, never from a dictionary on the keystroke path."""

    moved_only: bool
    """Whether the last ``block_ranges`` kept, away from the edit, the underlines the block had
    (moved with the text): a keystroke then changes the underlines of its own lines only."""

    @property
    def active(self) -> bool: ...
    def block_ranges(self, block: QTextBlock) -> tuple[list[QTextLayout.FormatRange], int]: ...


class ProvenanceHighlighter:
    """Decides what each block shows: its formats (origin colours, pending marks), or the
    heatmap painted under the editor's text."""

    def __init__(self, editor: QPlainTextEdit, palette: OriginPalette) -> None:
        self.editor = editor
        self.chapter: Chapter | None = None
        self.generations: dict[str, Generation] = {}
        self.mode = ViewMode.ORIGINS
        self.palette = palette
        self.on_changed: Callable[[], None] | None = None
        """Called when what the blocks show changed (the editor formats them again)."""
        self._pending_hatch = QBrush()
        self._wave_tile = QPixmap()
        self._pending_fill = QBrush()
        self._pending_plain = QBrush()
        self._fills: dict[Origin, QColor] = {}
        self._tints: dict[Origin, QTextCharFormat] = {}
        self._pending_formats: dict[ViewMode, QTextCharFormat] = {}
        self.set_palette(palette)

    # -- state ------------------------------------------------------------------------------

    def set_palette(self, palette: OriginPalette) -> None:
        self.palette = palette
        # Pending text is hatched over a tint (origin colours) or over the page (plain). Both
        # tiles are drawn over the editor's own base colour, so they are opaque: Qt fills with
        # an opaque tile 3-4x faster than with a translucent one, and this runs per keystroke.
        # The heatmap's hatch stays translucent, over the paragraph's shade.
        base = self.editor.palette().color(self.editor.viewport().backgroundRole())
        hatch = palette.pending_underline
        self._pending_fill = QBrush(_hatch_tile([base, palette.pending_background], hatch))
        self._pending_plain = QBrush(_hatch_tile([base], hatch))
        self._pending_hatch = QBrush(hatch, Qt.BrushStyle.BDiagPattern)
        self._wave_tile = _wave_tile(QColor(hatch))
        # The origin tints, blended over the base colour beforehand: the same pixels, and an
        # opaque fill is twice as fast as a translucent one.
        self._fills = {
            origin: blend_over(colour, base) for origin, colour in palette.backgrounds.items()
        }
        self._tints = {}
        for origin, colour in self._fills.items():
            fmt = QTextCharFormat()
            fmt.setBackground(colour)
            self._tints[origin] = fmt
        self._pending_formats = {}
        for mode, brush in (
            (ViewMode.ORIGINS, self._pending_fill),
            (ViewMode.PLAIN, self._pending_plain),
        ):
            fmt = QTextCharFormat()
            fmt.setBackground(brush)
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(hatch)
            self._pending_formats[mode] = fmt
        self.rehighlight()

    def pending_brush(self) -> QBrush:
        """What pending text is filled with in the current mode."""
        if self.mode is ViewMode.ORIGINS:
            return self._pending_fill
        return self._pending_hatch if self.mode is ViewMode.HEATMAP else self._pending_plain

    def set_view(self, chapter: Chapter | None, generations: dict[str, Generation]) -> None:
        self.chapter = chapter
        self.generations = generations
        self.rehighlight()

    def set_mode(self, mode: ViewMode) -> None:
        if mode != self.mode:
            self.mode = ViewMode(mode)
            self.rehighlight()

    def rehighlight(self) -> None:
        """Provenance changed without the text changing (a review, a mode): show it again."""
        if self.on_changed is not None:
            self.on_changed()
        self.editor.viewport().update()

    @property
    def formats_blocks(self) -> bool:
        """Whether the blocks carry the provenance as formats (every mode but the heatmap,
        which is painted)."""
        return self.chapter is not None and self.mode is not ViewMode.HEATMAP

    @property
    def paints(self) -> bool:
        """Whether the editor must paint the provenance under its text (the heatmap)."""
        return self.chapter is not None and self.mode is ViewMode.HEATMAP

    def block_ranges(self, block: QTextBlock) -> tuple[list[QTextLayout.FormatRange], int]:
        """The block's provenance as format ranges (origin tints, the pending marks), and a
        key that changes when they do (0 when there are none)."""
        spans, _ = self._spans(block)
        if not spans:
            return [], 0
        tints = self._tints
        pending_format = self._pending_formats[self.mode]
        ranges = []
        for start, end, origin, pending in spans:
            r = QTextLayout.FormatRange()
            r.start, r.length = start, end - start
            r.format = pending_format if pending else tints[origin]
            ranges.append(r)
        return ranges, hash(tuple(spans)) | 1

    # -- what a block shows -----------------------------------------------------------------

    def block_marks(self, block: QTextBlock) -> tuple[list[BlockMark], float]:
        """The marked stretches of a block and its AI share (for the heatmap)."""
        spans, ai_share = self._spans(block)
        return [
            BlockMark(start, end - start, origin, pending) for start, end, origin, pending in spans
        ], ai_share

    def _spans(self, block: QTextBlock) -> tuple[list[tuple[int, int, Origin, bool]], float]:
        """``(start, end, origin, pending)`` in UTF-16 offsets within the block, in text order,
        and the block's AI share."""
        chapter = self.chapter
        length = block.length() - 1  # UTF-16 units, without the paragraph separator
        if chapter is None or length <= 0:
            return [], 0.0
        provenance = chapter.text
        unit = block.position()
        if unit > provenance.utf16_length():
            return [], 0.0  # the document is ahead of the core mid-edit; the next paint draws it
        start = provenance.from_utf16(unit)
        units = None
        if not provenance.utf16_is_identity:
            text = block.text()
            length = len(text)
            if not text.isascii():
                units = Utf16Map(text)
                if units.is_identity:
                    units = None
        end = min(start + length, len(provenance))
        origins = self.mode is ViewMode.ORIGINS
        generations = self.generations
        spans: list[tuple[int, int, Origin, bool]] = []
        offset = 0
        ai = 0
        for length, origin, ref in provenance.runs_list(start, end):
            pending = False
            if origin is Origin.AI:
                ai += length
                generation = generations.get(ref) if ref else None
                pending = generation is not None and generation.review_state is PENDING
            if pending or (origins and origin is not Origin.HUMAN):
                if units is None:
                    spans.append((offset, offset + length, origin, pending))
                else:
                    spans.append(
                        (units.to_utf16(offset), units.to_utf16(offset + length), origin, pending)
                    )
            offset += length
        return spans, (ai / offset if offset else 0.0)

    # -- painting ---------------------------------------------------------------------------

    def paint(self, painter: QPainter, area: QRectF) -> None:
        """Paint the heatmap of the blocks that meet ``area`` (viewport coordinates): each
        paragraph's shade, and the marks of its pending text over it (``paints``)."""
        if not self.paints:
            return
        editor = self.editor
        width = editor.viewport().width()
        for block, left, block_top, block_height in _blocks_in(editor, area):
            state = block.userState()
            if state & _STATE_SCENE and state != -1:
                center_scene_break(editor, block)
            spans, ai_share = self._spans(block)
            if ai_share:
                painter.fillRect(
                    QRectF(0, block_top, width, block_height), self.palette.heat(ai_share)
                )
            if spans:
                # Lines outside the area are skipped, unless the whole block is inside it
                # (a keystroke repaints its paragraph: then no line needs the test).
                top, bottom = area.top(), area.bottom()
                clip = block_top < top or block_top + block_height > bottom
                corner = QPointF(left, block_top)
                self._paint_spans(painter, block, spans, corner, area if clip else None)

    def _paint_spans(
        self,
        painter: QPainter,
        block: QTextBlock,
        spans: list[tuple[int, int, Origin, bool]],
        corner: QPointF,
        clip: QRectF | None,
    ) -> None:
        """Fill the spans of a block, line by line, its top left at ``corner``; only the lines
        that meet ``clip``, if given. Pending text gets a wavy underline: a pre-drawn wave tile,
        repeated (a path per line is 100x slower)."""
        layout = block.layout()
        position = layout.position()
        ox, oy = corner.x() + position.x(), corner.y() + position.y()
        fills, pending_fill = self._fills, self.pending_brush()
        wave = self._wave_tile
        fill, tile = painter.fillRect, painter.drawTiledPixmap
        if clip is not None:
            clip_top, clip_bottom = clip.top(), clip.bottom()
        else:
            clip_top = clip_bottom = 0.0
        # Right-to-left paragraphs take the general path: a line's logical start is on its right.
        ltr = block.textDirection() is Qt.LayoutDirection.LeftToRight
        line_at = layout.lineAt
        for i in range(layout.lineCount()):
            line = line_at(i)
            rx, ry, rw, height = cast("_Rect", line.naturalTextRect().getRect())
            y = oy + ry
            if clip is not None and (y > clip_bottom or y + height < clip_top):
                continue  # only the lines Qt repaints (one, for a cursor blink)
            line_start = line.textStart()
            line_end = line_start + line.textLength()
            wave_y = None
            for start, end, origin, pending in spans:
                if end <= line_start:
                    continue
                if start >= line_end:
                    break  # the spans are in text order
                head = ltr and start <= line_start
                tail = ltr and end >= line_end
                if head and tail:  # the whole line (most lines): its text's box, no glyphs
                    left, width = ox + rx, rw
                else:
                    x0 = rx if head else _x(line, max(line_start, start))
                    x1 = rx + rw if tail else _x(line, min(line_end, end))
                    left, width = ox + min(x0, x1), abs(x1 - x0)
                if pending:
                    fill(QRectF(left, y, width, height), pending_fill)
                    if wave_y is None:
                        wave_y = round(y + line.ascent())
                    tile(QRectF(left, wave_y, width, _WAVE_HEIGHT), wave)
                else:
                    fill(QRectF(left, y, width, height), fills[origin])


def _blocks_in(
    editor: QPlainTextEdit, area: QRectF
) -> Iterator[tuple[QTextBlock, float, float, float]]:
    """The visible, non-blank blocks that meet ``area`` (viewport coordinates), each with its
    left, top and height in the viewport. The first is found by Qt's hit test, or is the
    cursor's paragraph when the area starts there (a keystroke repaints from its top)."""
    offset = editor.contentOffset()
    dx, dy = offset.x(), offset.y()
    top, bottom = area.top(), area.bottom()
    geometry_of = editor.blockBoundingGeometry
    block = editor.textCursor().block()
    _, block_top, _, block_height = cast("_Rect", geometry_of(block).getRect())
    if not block_top + dy <= top < block_top + dy + block_height:
        block = editor.cursorForPosition(QPoint(0, max(0, int(top)))).block()
    while block.isValid():
        left, block_top, _, block_height = cast("_Rect", geometry_of(block).getRect())
        block_top += dy
        if block_top > bottom:
            break
        if block.length() > 1 and block_top + block_height >= top and block.isVisible():
            yield block, left + dx, block_top, block_height
        block = block.next()


def center_scene_breaks(editor: QPlainTextEdit, area: QRectF) -> None:
    """Centre the scene breaks among the blocks that meet ``area``, before Qt paints them."""
    for block, _, _, _ in _blocks_in(editor, area):
        state = block.userState()
        if state & _STATE_SCENE and state != -1:
            center_scene_break(editor, block)


def _x(line: QTextLine, position: int) -> float:
    """The x of a cursor position in a laid-out line (PySide returns ``(x, position)``)."""
    result = line.cursorToX(position)
    return float(result[0] if isinstance(result, tuple) else result)  # type: ignore[arg-type]


_Rect = tuple[float, float, float, float]
_WAVE_HEIGHT = 4
_WAVE_PERIODS = 16


def _wave_tile(color: QColor) -> QPixmap:
    """The wavy underline, 6 pixels a period, ``_WAVE_PERIODS`` periods in one tile to repeat
    (Qt draws a tiled pixmap tile by tile: a wider tile is 4x faster than one period)."""
    width = 6 * _WAVE_PERIODS
    tile = QPixmap(width, _WAVE_HEIGHT)
    tile.fill(Qt.GlobalColor.transparent)
    painter = QPainter(tile)
    pen = QPen(color)
    pen.setWidthF(1.2)
    painter.setPen(pen)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, on=True)
    points = [QPointF(0, 3)]
    for x in range(0, width, 6):
        points += [QPointF(x + 1.5, 1), QPointF(x + 3, 3), QPointF(x + 4.5, 1), QPointF(x + 6, 3)]
    painter.drawPolyline(points)
    painter.end()
    return tile


def _hatch_tile(layers: list[QColor], hatch: QColor) -> QPixmap:
    """Qt's diagonal hatch over colours laid one on another, as one repeatable tile.

    Opaque if the first layer is (no alpha channel: Qt copies an opaque tile where it blends a
    translucent one, 5x faster), and wide, as Qt fills a texture tile by tile."""
    opaque = bool(layers) and layers[0].alpha() == 255
    image = QImage(
        _HATCH_WIDTH,
        _HATCH_HEIGHT,
        QImage.Format.Format_RGB32 if opaque else QImage.Format.Format_ARGB32_Premultiplied,
    )
    image.fill(Qt.GlobalColor.transparent if not opaque else layers[0])
    painter = QPainter(image)
    for colour in layers:
        painter.fillRect(0, 0, _HATCH_WIDTH, _HATCH_HEIGHT, colour)
    painter.fillRect(0, 0, _HATCH_WIDTH, _HATCH_HEIGHT, QBrush(hatch, Qt.BrushStyle.BDiagPattern))
    painter.end()
    return QPixmap.fromImage(image)


_HATCH_WIDTH, _HATCH_HEIGHT = 128, 16  # multiples of the hatch's period (8), so it repeats


# -- Markdown styling ---------------------------------------------------------------------------

_STATE_HASH = (1 << 22) - 1
_STATE_GENERATION_SHIFT = 22
_STATE_SCENE = 1 << 28
_EMPTY = hash(()) & _STATE_HASH
_SYNC_BLOCKS = 64
"""An edit spanning more blocks (a large paste, a chapter shown) is styled lazily, as painted."""
_HEADING_SCALE = {1: 1.6, 2: 1.4, 3: 1.25, 4: 1.1, 5: 1.0, 6: 1.0}
_INLINE_SPECIAL = frozenset("*_`\\")
"""The characters inline styling turns on (emphasis runs, code spans, escapes)."""


def _state_key(segments: list[Segment], provenance: int) -> int:
    """What a block's ``userState`` records of its formats (``_EMPTY``: none)."""
    if not provenance:
        return hash(tuple(segments)) & _STATE_HASH
    return hash((tuple(segments), provenance)) & _STATE_HASH


@dataclass(slots=True)
class _Typed:
    """The block an edit last styled: its number, text and state then, its segments and the
    format ranges set for them, and the characters of its unit (lines and breaks)."""

    number: int
    text: str
    state: int
    segments: list[Segment]
    ranges: list[QTextLayout.FormatRange]
    """The Markdown formats of its segments (the provenance's come first, made anew)."""
    unit_chars: int
    provenance: int
    """The key of its provenance formats (``ProvenanceHighlighter.block_ranges``)."""


class BlockStyler:
    """Shows a chapter's provenance, and a Markdown chapter styled: character formats on the
    blocks' layouts.

    Each block's formats are its provenance (``ProvenanceHighlighter.block_ranges``: origin
    tints, pending marks; none in the heatmap, which is painted) followed by its Markdown
    styles (a Markdown chapter only); Qt merges them where they overlap. The formats go to
    each block's ``QTextLayout`` (``setFormats``), never into the document, so the text, the
    provenance and the undo record are untouched, and typing next to italics is not italic. They are set from the document layout's ``documentChanged``
    (``MarkdownLayout``): after the edit reached the document and the core, before Qt lays the
    edited block out again; Qt then lays out and repaints that one block, as for any keystroke.
    (A ``QSyntaxHighlighter`` marks the whole range it re-formats as changed twice over, which
    makes Qt repaint the whole editor on every keystroke.) Lines of the same paragraph are
    restyled only if their segments changed (an ``*`` typed that pairs across lines); blocks
    that no edit touched (a chapter just shown, a large paste) are styled when first painted.
    A keystroke that can change no styling decision (``_restyle_typed``) moves the segments
    of the block the last edit styled, rather than scanning its paragraph again; nothing is
    set at all if none comes after it.

    Each block's ``userState`` records what was applied: a hash of its segments and its
    provenance, the style generation (bumped when the font, the palette, the view mode or a
    review changes) and whether it is a scene break.
    """

    def __init__(self, editor: QPlainTextEdit) -> None:
        self.editor = editor
        self.enabled = False
        """Markdown styling (a Markdown chapter is shown)."""
        self.provenance: ProvenanceHighlighter | None = None
        """Where the provenance formats come from (none: only Markdown styling)."""
        self.spelling: SpellingProvider | None = None
        """Where the underlines of misspelled words come from, appended to the provenance's
        ranges and folded into their key (``_with_spelling``); none: no spell check."""
        self.paused = False
        """A chapter is being loaded: its blocks are formatted as they are first painted."""
        self.on_paint_work: Callable[[], None] | None = None
        """Called when ``pending`` or ``scenes`` turns true: the editor has work to do before
        its next paint (and runs no Python on a paint otherwise)."""
        self._scenes = False
        self._pending = False
        self.local = False
        """The last edit changed the formats of its own lines only: every format elsewhere in
        its block is the one it had, moved with the text (``_restyle_typed``)."""
        self._generation = 1
        self._formats: dict[int, QTextCharFormat] = {}
        self._restyling = False
        self._typed: _Typed | None = None
        """The block the last edit styled, for the next keystroke in it (``_restyle_typed``)."""

    # -- state ----------------------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        """Blocks on screen may be unstyled: ``style_visible`` before the next paint."""
        return self._pending

    @pending.setter
    def pending(self, value: bool) -> None:
        self._pending = value
        if value and self.on_paint_work is not None:
            self.on_paint_work()

    @property
    def scenes(self) -> bool:
        """A scene break was styled: the editor centres them as it paints."""
        return self._scenes

    @scenes.setter
    def scenes(self, value: bool) -> None:
        if value != self._scenes:
            self._scenes = value
            if value and self.on_paint_work is not None:
                self.on_paint_work()

    @property
    def active(self) -> bool:
        """Whether blocks get formats: Markdown styling, the provenance as formats, or the
        underlines of misspelled words."""
        provenance, spelling = self.provenance, self.spelling
        return not self.paused and (
            self.enabled
            or (provenance is not None and provenance.formats_blocks)
            or (spelling is not None and spelling.active)
        )

    def set_enabled(self, enabled: bool) -> None:
        """Style (a Markdown chapter) or not (plain text, no chapter); clears old formats."""
        if enabled == self.enabled:
            self.pending = self.active
            return
        self.enabled = enabled
        if not enabled:
            self.clear()
        self.refresh()

    def refresh(self) -> None:
        """The font, the palette, the view mode or a review changed: every block is styled
        again, as painted (none has formats any more if none should)."""
        self._generation = self._generation % 63 + 1
        self._formats.clear()
        self._typed = None
        self.pending = self.active
        if not self.pending and not self.paused:
            self.clear()
        self.editor.viewport().update()

    def clear(self) -> None:
        """Take every format off (the chapter is no longer Markdown)."""
        document = self.editor.document()
        block = document.firstBlock()
        self._restyling = True
        self._typed = None
        self.scenes = False
        try:
            while block.isValid():
                if block.userState() != -1:
                    block.layout().setFormats([])
                    block.setUserState(-1)
                    document.markContentsDirty(block.position(), block.length())
                block = block.next()
        finally:
            self._restyling = False

    # -- from the document layout ---------------------------------------------------------------

    def on_change(
        self, start: int, added: int, removed: int = 0, block: QTextBlock | None = None
    ) -> tuple[int, int]:
        """Style the blocks an edit touched (and their paragraphs); return the range Qt must
        lay out again, ``(start, added)``, widened if other lines of a paragraph changed.
        ``block``: the block the edit is in, if the caller found it."""
        self.local = False
        if self._restyling or not self.active:
            return start, added
        if self.enabled and added + removed == 1 and self._restyle_typed(start, added, block):
            return start, added
        self._typed = None
        document = self.editor.document()
        first = document.findBlock(start)
        last = first if added <= 1 else document.findBlock(start + added)
        if not last.isValid():
            last = document.lastBlock()
        if not first.isValid():
            return start, added
        if last.blockNumber() - first.blockNumber() > _SYNC_BLOCKS:
            # Styled as painted. The blocks the edit kept (its first and last) keep formats
            # of text that changed: a new generation has every block on screen styled again.
            self._generation = self._generation % 63 + 1
            self.pending = True
            return start, added
        if not self.enabled:  # the provenance only: each edited block by itself
            block = first
            while True:
                number = block.blockNumber()
                self._style([block], number, number)
                if number >= last.blockNumber():
                    break
                block = block.next()
            return start, added
        lo, hi = start, start + added
        for block in self._units(first, last):
            lo = min(lo, block.position())
            hi = max(hi, block.position() + block.length() - 1)
        return lo, hi - lo

    def _restyle_typed(self, start: int, added: int, block: QTextBlock | None) -> bool:
        """A keystroke in the block the last edit styled: its segments, shifted, if that is
        exactly what styling it again would give; False if it must be styled in full.

        That is so when one character is typed or deleted after the first of a line that no block
        marker starts, before or after (``without_block_marker``: the unit's lines, their joins
        and their block styles are unchanged), the
        character and its neighbours being none of ``* _ ` \\`` (no delimiter run, code span or
        escape gains or loses a character, or a neighbour: every inline decision is the same).
        Every segment boundary sits at the line's start or end or next to such a character, so
        the segments after the edit move by one and the one around it grows or shrinks.
        """
        typed = self._typed
        if typed is None:
            return False
        if block is None:
            block = self.editor.document().findBlock(start)
        if block.userState() != typed.state or block.blockNumber() != typed.number:
            return False
        text = block.text()
        if len(text) != block.length() - 1:
            return False  # UTF-16 offsets are not code points: the general path
        pos = start - block.position()
        old = typed.text
        if added:
            if len(text) != len(old) + 1 or text[:pos] != old[:pos] or text[pos + 1 :] != old[pos:]:
                return False
            char = text[pos]
            step = 1
        else:
            if len(text) != len(old) - 1 or text[:pos] != old[:pos] or text[pos:] != old[pos + 1 :]:
                return False
            char = old[pos]
            step = -1
        if (
            pos < 1
            or char in _INLINE_SPECIAL
            or text[pos - 1] in _INLINE_SPECIAL
            or text[pos + added : pos + added + 1] in _INLINE_SPECIAL
            or not without_block_marker(text)
            or not without_block_marker(old)
            or typed.unit_chars + step > MAX_UNIT_CHARS
        ):
            return False
        segments = typed.segments
        ranges = typed.ranges
        shifted = False
        provenance = self.provenance
        tints, key = (
            provenance.block_ranges(block)
            if provenance is not None and provenance.formats_blocks
            else ([], 0)
        )
        tints, key = self._with_spelling(block, tints, key)
        spelling = self.spelling
        # The Markdown formats and the origin tints away from the keystroke only move with the
        # text (no styling decision changed, no run but the typed one); the underlines may not.
        self.local = spelling is None or not spelling.active or spelling.moved_only
        if segments and segments[-1][1] >= pos + (0 if added else 1):
            # Insertion: boundaries from ``pos`` on move right; deletion: those after it left.
            edge = pos if added else pos + 1
            moved: list[Segment] = []
            for i, (seg_start, seg_end, flags) in enumerate(segments):
                if seg_end < edge:
                    moved.append((seg_start, seg_end, flags))
                    continue
                if seg_start == pos and added:
                    self.local = False
                    return False  # a boundary at the edit (never, by the above): in full
                new_start = seg_start + step if seg_start >= edge else seg_start
                moved.append((new_start, seg_end + step, flags))
                r = ranges[i]
                r.start, r.length = new_start, seg_end + step - new_start
            segments = moved
            shifted = True
        if shifted or key != typed.provenance:
            block.layout().setFormats(tints + ranges if tints else ranges)
            state = (self._generation << _STATE_GENERATION_SHIFT) | _state_key(segments, key)
            block.setUserState(state)
            typed.state = state
            typed.segments = segments
            typed.provenance = key
        typed.text = text
        typed.unit_chars += step
        return True

    def _units(self, first: QTextBlock, last: QTextBlock) -> list[QTextBlock]:
        """Restyle the units that contain ``first`` to ``last``; return the blocks outside
        that range whose formats changed (to be laid out again)."""
        out: list[QTextBlock] = []
        edited_start, edited_end = first.blockNumber(), last.blockNumber()
        # The lines around the edit too, unless blank: the edit may have joined or split their
        # paragraph (a blank line typed, a "#" or "- " at the start of a line).
        block, end = first, edited_end
        previous, following = first.previous(), last.next()
        if previous.isValid() and not is_blank(previous.text()):
            block = previous
        if following.isValid() and not is_blank(following.text()):
            end += 1
        while block.isValid():
            blocks = _unit_around(block)
            out.extend(self._style(blocks, edited_start, edited_end, remember=True)[0])
            if blocks[-1].blockNumber() >= end:
                break
            block = blocks[-1].next()
        return out

    def _style(
        self,
        blocks: list[QTextBlock],
        edited_start: int,
        edited_end: int,
        *,
        remember: bool = False,
    ) -> tuple[list[QTextBlock], bool]:
        """Apply the unit's formats: the blocks outside the edit whose formats changed, and
        whether any block's formats were set. With ``remember``, an edit of one block: what it
        was given is kept for the next keystroke in it."""
        lines = [b.text() for b in blocks]
        styles = style_unit(lines) if self.enabled else [[] for _ in lines]
        remember = remember and edited_start == edited_end
        changed: list[QTextBlock] = []
        touched = False
        generation = self._generation << _STATE_GENERATION_SHIFT
        provenance = self.provenance
        if provenance is not None and not provenance.formats_blocks:
            provenance = None
        for block, text, segments in zip(blocks, lines, styles, strict=True):
            tints, tint_key = provenance.block_ranges(block) if provenance else ([], 0)
            tints, tint_key = self._with_spelling(block, tints, tint_key)
            state = generation | _state_key(segments, tint_key)
            if segments and segments[-1][2] & SCENE:
                state |= _STATE_SCENE
                self.scenes = True
            old = block.userState()
            had_formats = old != -1 and old & _STATE_HASH != _EMPTY
            number = block.blockNumber()
            if not segments and not tints and not had_formats:
                block.setUserState(state)  # nothing to set or to take off (most prose)
                if remember and number == edited_start:
                    self._remember(blocks, block, text, state, [], [], 0)
                continue
            edited = edited_start <= number <= edited_end
            if old == state and not edited:
                continue  # the same formats as before
            ranges = self._ranges(text, segments)
            block.layout().setFormats(tints + ranges if tints else ranges)
            block.setUserState(state)
            if remember and number == edited_start:
                self._remember(blocks, block, text, state, segments, ranges, tint_key)
            touched = True
            if not edited:
                changed.append(block)
        return changed, touched

    def _with_spelling(
        self, block: QTextBlock, tints: list[QTextLayout.FormatRange], key: int
    ) -> tuple[list[QTextLayout.FormatRange], int]:
        """The provenance's ranges and key, with the block's spelling underlines after them
        (they win over the pending marks' underline) and in the key (so in ``userState``)."""
        spelling = self.spelling
        if spelling is None or not spelling.active:
            return tints, key
        marks, mark_key = spelling.block_ranges(block)
        if not marks:
            return tints, key
        return tints + marks, hash((key, mark_key)) | 1

    def _remember(
        self,
        blocks: list[QTextBlock],
        block: QTextBlock,
        text: str,
        state: int,
        segments: list[Segment],
        ranges: list[QTextLayout.FormatRange],
        provenance: int,
    ) -> None:
        """Keep what the edited ``block`` was given, unless its unit was cut short (longer than
        ``MAX_UNIT_CHARS``: a deletion could make it whole again)."""
        if len(blocks) == 1:
            previous, following = block.previous(), block.next()
            if (previous.isValid() and continues(previous.text(), text)) or (
                following.isValid() and continues(text, following.text())
            ):
                return
        unit_chars = sum(len(b.text()) + 1 for b in blocks)
        self._typed = _Typed(
            block.blockNumber(), text, state, segments, ranges, unit_chars, provenance
        )

    def _ranges(self, text: str, segments: list[Segment]) -> list[QTextLayout.FormatRange]:
        formats = self._formats
        styled = []
        for start, end, flags in segments:
            fmt = formats.get(flags)
            if fmt is None:
                fmt = formats[flags] = self._format(flags)
            styled.append((start, end, fmt))
        return format_ranges(text, styled)

    def _format(self, flags: int) -> QTextCharFormat:
        """What a combination of flags looks like, from the editor's font and palette."""
        editor = self.editor
        fmt = QTextCharFormat()
        italic = bool(flags & ITALIC) != bool(flags & QUOTE)  # emphasis in a quote is upright
        if italic:
            fmt.setFontItalic(True)
        elif flags & QUOTE:
            fmt.setFontItalic(False)
        level = heading_level(flags)
        if flags & BOLD or level:
            fmt.setFontWeight(QFont.Weight.Bold)
        if level:
            size = editor.font().pointSizeF()
            if size > 0:
                fmt.setFontPointSize(size * _HEADING_SCALE[level])
        if flags & CODE:
            fmt.setFontFamilies(
                [QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()]
            )
            fmt.setFontFixedPitch(True)
        if flags & MARK:
            palette = editor.palette()
            text, base = (
                palette.color(QPalette.ColorRole.Text),
                palette.color(QPalette.ColorRole.Base),
            )
            dim = QColor(text)
            dim.setAlphaF(0.45)
            fmt.setForeground(blend_over(dim, base))
            if flags & QUOTE_MARKER:  # the quoted text set in from its marker
                fmt.setFontLetterSpacingType(QFont.SpacingType.AbsoluteSpacing)
                fmt.setFontLetterSpacing(editor.fontMetrics().averageCharWidth())
        return fmt

    # -- before a paint -------------------------------------------------------------------------

    def style_visible(self) -> None:
        """Style the blocks on screen that are not (a chapter just shown, a scroll)."""
        self.pending = False
        if not self.active:
            return
        editor = self.editor
        document = editor.document()
        bottom = editor.viewport().height() * 2  # and a screen below, for the next scroll
        dy = editor.contentOffset().y()
        block = editor.firstVisibleBlock()
        generation = self._generation
        self._restyling = True
        self._typed = None
        try:
            while block.isValid():
                if editor.blockBoundingGeometry(block).top() + dy > bottom:
                    break
                if block.userState() >> _STATE_GENERATION_SHIFT & 63 != generation or (
                    block.userState() == -1
                ):
                    blocks = _unit_around(block) if self.enabled else [block]
                    number = blocks[0].blockNumber()
                    if self._style(blocks, number, blocks[-1].blockNumber())[1]:
                        start = blocks[0].position()
                        end = blocks[-1].position() + blocks[-1].length()
                        # Lays the blocks out again, and clears the record of the change that
                        # setFormats made (the next edit would otherwise report it as its own).
                        document.markContentsDirty(start, end - start)
                    block = blocks[-1]
                block = block.next()
        finally:
            self._restyling = False

    def restyle_visible(self) -> None:
        """Set again the formats of the blocks ``style_visible`` covers whose state changed
        (the spelling's idle check found new misspellings); the others are left alone."""
        if not self.active:
            return
        editor = self.editor
        document = editor.document()
        bottom = editor.viewport().height() * 2
        dy = editor.contentOffset().y()
        block = editor.firstVisibleBlock()
        self._restyling = True
        try:
            while block.isValid():
                if editor.blockBoundingGeometry(block).top() + dy > bottom:
                    break
                blocks = _unit_around(block) if self.enabled else [block]
                for changed in self._style(blocks, -1, -1)[0]:
                    document.markContentsDirty(changed.position(), changed.length())
                block = blocks[-1].next()
        finally:
            self._restyling = False


def format_ranges(
    text: str, spans: Iterable[tuple[int, int, QTextCharFormat]]
) -> list[QTextLayout.FormatRange]:
    """Format ranges for a block's layout from ``(start, end, format)`` in code points of the
    block's ``text``: Qt counts UTF-16 units, which differ past a character outside the BMP."""
    units = None if text.isascii() else Utf16Map(text)
    if units is not None and units.is_identity:
        units = None
    ranges = []
    for start, end, fmt in spans:
        r = QTextLayout.FormatRange()
        if units is None:
            r.start, r.length = start, end - start
        else:
            r.start = units.to_utf16(start)
            r.length = units.to_utf16(end) - r.start
        r.format = fmt
        ranges.append(r)
    return ranges


def center_scene_break(editor: QPlainTextEdit, block: QTextBlock) -> None:
    """Put a scene break's line in the middle of the page: its laid-out line moved, at paint
    time, before Qt draws it (the cursor and the mouse follow the line)."""
    layout = block.layout()
    if layout.lineCount() != 1:
        return
    line = layout.lineAt(0)
    margin = editor.document().documentMargin()
    width = editor.viewport().width() - 2 * margin
    x = margin + max(0.0, (width - line.naturalTextWidth()) / 2)
    if abs(line.x() - x) > 0.5:
        line.setPosition(QPointF(x, line.y()))


def _unit_around(block: QTextBlock) -> list[QTextBlock]:
    """The blocks of the unit (paragraph, heading, scene break) ``block`` is in; only
    ``block`` if the unit is longer than ``MAX_UNIT_CHARS`` (then styled line by line, as
    ``style_unit`` does: the same answer from whichever of its lines it is asked)."""
    budget = MAX_UNIT_CHARS
    text = block.text()
    budget -= len(text) + 1
    blocks = [block]
    first, first_text = block, text
    while True:
        previous = first.previous()
        if not previous.isValid():
            break
        before = previous.text()
        if not continues(before, first_text):
            break
        budget -= len(before) + 1
        if budget < 0:
            return [block]
        blocks.append(previous)
        first, first_text = previous, before
    blocks.reverse()
    last, last_text = block, text
    while True:
        following = last.next()
        if not following.isValid():
            break
        after = following.text()
        if not continues(last_text, after):
            break
        budget -= len(after) + 1
        if budget < 0:
            return [block]
        blocks.append(following)
        last, last_text = following, after
    return blocks


class MarkdownLayout(QPlainTextDocumentLayout):
    """The editor's document layout: styles what an edit touched before laying it out, and
    lays out and repaints a keystroke's paragraph with as little work as it needs.

    An edit within one paragraph (a keystroke) is laid out here rather than by Qt's
    ``documentChanged``, for two reasons:

    - Setting a block's formats (``QTextLayout.setFormats``) discards its laid-out lines, and
      Qt's ``documentChanged`` measures the block's old height before laying it out again:
      with no lines left, it laid the block out just to measure it, so every styled keystroke
      was laid out twice. Here the old height is measured before the formats are set and the
      block is laid out once, by Qt's own ``layoutBlock`` (through ``ensureBlockLayout``).
    - Qt repaints the whole paragraph after every keystroke (``updateBlock``). Here only the
      lines that changed are repainted (``_dirty_lines``): the line typed in, the one before
      it and the lines a word moved to or from. The whole paragraph is repainted, as Qt does,
      when a format changed away from the keystroke (a style now spanning lines, underlines
      the spelling check found: ``BlockStyler.local``) and in the heatmap, whose shade is the
      paragraph's. When the paragraph gains or loses a line, what follows it is moved
      (``_move_below``: a copy of pixels) instead of the whole view being drawn again.

    Every other change (several paragraphs, a paragraph added or removed) takes Qt's path.
    On either path, the paragraph an edit stayed within keeps its shaped text between being
    laid out and being drawn (``_keep_shaped``).
    """

    def __init__(self, document: QTextDocument, styler: BlockStyler) -> None:
        super().__init__(document)
        self.styler = styler
        self._text_document = document
        self._blocks = -1
        """The block count Qt's layout last saw (its ``documentChanged`` took it); -1: none."""
        self._shaped: QTextCursor | None = None
        """At the block whose layout keeps its shaped text (``_keep_shaped``): a cursor, which
        Qt keeps in that block however the text before it changes."""

    def documentChanged(self, start: int, removed: int, added: int) -> None:  # noqa: N802 - Qt override
        # An exception escaping a virtual override called from C++ crashes PySide (6.11) and
        # with it the author's session: a mistake here costs a styled paragraph, not the book.
        try:
            self._changed(start, removed, added)
        except Exception:
            logger.exception("Styling an edit failed; it is laid out unstyled")
            self._qt_changed(start, removed, added)

    def _changed(self, start: int, removed: int, added: int) -> None:
        styler = self.styler
        block = self._edited_block(start, removed + added)
        if block is not None and not block.layout().cacheEnabled():
            self._keep_shaped(block)
        if not styler.active:
            self._qt_changed(start, removed, added)
            return
        if block is None:
            start, added = styler.on_change(start, added, removed)
            self._qt_changed(start, removed, added)
            return
        layout = block.layout()
        height = layout.boundingRect().height()
        pos = start - block.position()
        before = _lines_after(layout, pos)
        new_start, new_added = styler.on_change(start, added, removed, block)
        if (new_start, new_added) != (start, added):  # other lines restyled: Qt's path
            self._qt_changed(new_start, removed, new_added)
            return
        if layout.lineCount():  # its formats were not set, so its old lines were kept
            layout.clearLayout()
        self.ensureBlockLayout(block)
        provenance = styler.provenance
        whole = not styler.local or (provenance is not None and provenance.paints)
        new_height = layout.boundingRect().height()
        if new_height != height:
            # A line more or fewer: what follows moves as it is (``_move_below``), and the
            # paragraph is repainted from the line before the edit (all of it if ``whole``).
            top = self._top_in_view(block)
            if not self._move_below(top, height, new_height):
                self.requestUpdate()  # the whole view, as Qt does
                return
            first = 0 if whole else max(0, before[0] - 1)
            self._repaint_lines(block, top, first, layout.lineCount() - 1)
        elif whole:
            # Formats changed away from the keystroke, or the heatmap's shade (the whole
            # paragraph's) may have: all of it, as Qt does.
            self.updateBlock.emit(block)
        else:
            first, last = _dirty_lines(layout, pos, added - removed, before)
            self._repaint_lines(block, self._top_in_view(block), first, last)

    def _keep_shaped(self, block: QTextBlock) -> None:
        """Have the layout of the block being edited keep its shaped text between being laid
        out and being drawn, and the one edited before it no longer.

        A ``QTextLayout`` drops its items and glyphs when a layout ends (``endLayout``), to save
        memory. Every paint of a line of the block, and every cursor rectangle asked of it
        after a keystroke, then splits and shapes the paragraph's text again: more than the
        layout itself costs. Only the paragraph being edited keeps them (a paragraph's worth of
        glyphs), so the memory the book takes does not grow with what was scrolled past."""
        shaped = self._shaped
        if shaped is not None:
            old = shaped.block()  # (after a paragraph merged, the block it was merged into)
            if old.isValid() and old.blockNumber() != block.blockNumber():
                old.layout().setCacheEnabled(False)
        block.layout().setCacheEnabled(True)
        self._shaped = QTextCursor(block)

    def _top_in_view(self, block: QTextBlock) -> float:
        """Where ``block`` starts in the view (negative: above its top edge)."""
        editor = self.styler.editor
        return editor.blockBoundingGeometry(block).top() + editor.contentOffset().y()

    def _move_below(self, top: float, old_height: float, new_height: float) -> bool:
        """Move what the view shows below the block starting at ``top`` by the change of its
        height (a copy of the pixels, not a repaint: Qt repaints only the strip it uncovers);
        False if the block is not on screen, where nothing is moved."""
        viewport = self.styler.editor.viewport()
        view_height = viewport.height()
        if top + old_height < 0 or top >= view_height:
            return False
        below = int(top + old_height)
        dy = round(new_height - old_height)
        # ``scroll`` moves pixels within its rectangle only: from what was below the block to
        # where it goes, up over the lines the block lost or down over the lines it gained.
        area_top = max(0, below + min(dy, 0))
        if area_top < view_height:
            viewport.scroll(0, dy, QRect(0, area_top, viewport.width(), view_height - area_top))
        return True

    def _repaint_lines(self, block: QTextBlock, top: float, first: int, last: int) -> None:
        """Repaint lines ``first`` to ``last`` of ``block`` (starting at ``top`` in the
        view), the width of the view."""
        layout = block.layout()
        top_line = layout.lineAt(first)
        bottom_line = top_line if last == first else layout.lineAt(last)
        y = top + top_line.y()
        height = bottom_line.y() + bottom_line.height() - top_line.y()
        margin = _REPAINT_MARGIN
        area_top = int(y) - margin
        viewport = self.styler.editor.viewport()
        viewport.update(0, area_top, viewport.width(), int(y + height) + 1 + margin - area_top)

    def _document(self) -> QTextDocument:
        # The one given, not ``self.document()``: called from within this ``documentChanged``,
        # that leaves PySide (6.11) with a broken wrapper of the document, and the process
        # crashes at a later paint or focus change.
        return self._text_document

    def _qt_changed(self, start: int, removed: int, added: int) -> None:
        super().documentChanged(start, removed, added)
        self._blocks = self._document().blockCount()

    def _edited_block(self, start: int, changed: int) -> QTextBlock | None:
        """The laid-out block an edit stayed within, if Qt's ``documentChanged`` would take
        its one-block path for it (none: the edit spans blocks or changed their number)."""
        document = self._document()
        if document.blockCount() != self._blocks:
            return None
        block = document.findBlock(start)
        if not block.isValid() or not block.layout().lineCount():
            return None
        position = block.position()
        if start + changed - 1 >= position + block.length():
            return None  # (findBlock(start) starts at or before start: only the end can leave)
        return block


_REPAINT_MARGIN = 2
"""Pixels repainted above and below a keystroke's lines (antialiasing, wavy underlines)."""

_LINES_COMPARED = 2
"""Lines after a keystroke's compared before and after it; a change reaching further
repaints the rest of the paragraph."""


def _lines_after(layout: QTextLayout, pos: int, hint: int = -1) -> tuple[int, list[int]]:
    """The line of a laid-out block that ``pos`` is in, and where the next few lines start;
    ``hint``: the line it is likely in (tried first).

    Called after the text changed and before the block is laid out again, so its lines are
    read by their starts only: ``lineForTextPosition`` would analyse the new text first."""
    count = layout.lineCount()

    def start(line: int) -> int:
        return layout.lineAt(line).textStart()

    if 0 <= hint < count and start(hint) <= pos and (hint + 1 == count or pos < start(hint + 1)):
        line = hint
    else:
        lo, hi = 0, count - 1  # the last line starting at or before pos
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if start(mid) <= pos:
                lo = mid
            else:
                hi = mid - 1
        line = lo
    return line, [start(i) for i in range(line + 1, min(count, line + 1 + _LINES_COMPARED))]


def _dirty_lines(
    layout: QTextLayout, pos: int, delta: int, before: tuple[int, list[int]]
) -> tuple[int, int]:
    """The first and last line of a block laid out again after an edit at ``pos`` that
    changed its length by ``delta``, and kept its height, that must be repainted; ``before``
    is ``_lines_after`` of the layout it had.

    Line breaking is greedy: a line's breaks depend only on the text from its start. So the
    lines before the one edited keep their text, but for the one just before it (a word the
    edit shortened may move up to it); and once a line after the edit starts at the same text
    as before (moved by ``delta``), it and every line after it are what they were.
    """
    old_line, old_starts = before
    new_line, new_starts = _lines_after(layout, pos, old_line)
    first = max(0, min(old_line, new_line) - 1)
    # Line ``following`` (after both edited lines) compared with the old line of that number.
    for following in range(max(old_line, new_line) + 1, layout.lineCount()):
        i, j = following - old_line - 1, following - new_line - 1
        if i >= len(old_starts) or j >= len(new_starts):
            return first, layout.lineCount() - 1
        if new_starts[j] == old_starts[i] + delta:
            return first, following - 1
    return first, layout.lineCount() - 1
