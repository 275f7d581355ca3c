"""Provenance made visible in the editor: plain, origin colours, or a paragraph heatmap.

The colours are painted by the editor's ``paintEvent`` under the text, for the blocks Qt is
repainting and nothing else; the document's formats are never touched. (A
``QSyntaxHighlighter`` re-formats the edited paragraph on every keystroke, which makes Qt
repaint the whole editor: this way a keystroke repaints one paragraph, as in a bare editor.)

Pending AI text is marked in every mode, not by colour alone: a wavy underline and a
hatched background. Runs are read from the chapter's ``ProvenanceText``; nothing is cached
that could drift from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap, QTextBlock, QTextLine

if TYPE_CHECKING:
    from PySide6.QtWidgets import QPlainTextEdit

from coauthor.core.book import Chapter
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.textpos import Utf16Map
from coauthor.ui.palette import OriginPalette, blend_over

__all__ = ["BlockMark", "ProvenanceHighlighter", "ViewMode"]

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


class ProvenanceHighlighter:
    """Decides what each block shows, and paints it under the editor's text."""

    def __init__(self, editor: QPlainTextEdit, palette: OriginPalette) -> None:
        self.editor = editor
        self.chapter: Chapter | None = None
        self.generations: dict[str, Generation] = {}
        self.mode = ViewMode.ORIGINS
        self.palette = palette
        self._pending_hatch = QBrush()
        self._wave_tile = QPixmap()
        self._pending_fill = QBrush()
        self._pending_plain = QBrush()
        self._fills: dict[Origin, QColor] = {}
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
        """Provenance changed without the text changing (a review, a mode): repaint."""
        self.editor.viewport().update()

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
        """Paint the provenance of the blocks that meet ``area`` (viewport coordinates).

        This runs on every keystroke (Qt repaints the edited paragraph), so it is written for
        speed: the first block is found by Qt's hit test rather than by walking from the top of
        the viewport, blank blocks are skipped before anything is computed, and a line covered
        by one span needs no glyph positions.
        """
        if self.chapter is None:
            return
        editor = self.editor
        offset = editor.contentOffset()
        dx, dy = offset.x(), offset.y()
        heatmap = self.mode is ViewMode.HEATMAP
        width = editor.viewport().width() if heatmap else 0
        top, bottom = area.top(), area.bottom()
        block = editor.cursorForPosition(QPoint(0, max(0, int(top)))).block()
        while block.isValid():
            geometry = editor.blockBoundingGeometry(block)
            block_top = geometry.top() + dy
            if block_top > bottom:
                break
            block_height = geometry.height()
            if block.length() > 1 and block_top + block_height >= top and block.isVisible():
                spans, ai_share = self._spans(block)
                if heatmap and ai_share:
                    painter.fillRect(
                        QRectF(0, block_top, width, block_height), self.palette.heat(ai_share)
                    )
                if spans:
                    # Lines outside the area are skipped, unless the whole block is inside it
                    # (a keystroke repaints its paragraph: then no line needs the test).
                    clip = block_top < top or block_top + block_height > bottom
                    corner = QPointF(geometry.left() + dx, block_top)
                    self._paint_spans(painter, block, spans, corner, area if clip else None)
            block = block.next()

    def _paint_spans(
        self,
        painter: QPainter,
        block: QTextBlock,
        spans: list[tuple[int, int, Origin, bool]],
        corner: QPointF,
        clip: QRectF | None,
    ) -> None:
        """Fill the spans of a block, line by line, its top left at ``corner``; only the lines
        that meet ``clip``, if given."""
        layout = block.layout()
        position = layout.position()
        ox, oy = corner.x() + position.x(), corner.y() + position.y()
        fills, pending_fill = self._fills, self.pending_brush()
        # Right-to-left paragraphs take the general path: a line's logical start is on its right.
        ltr = block.textDirection() is Qt.LayoutDirection.LeftToRight
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            text_rect = line.naturalTextRect()
            if clip is not None:
                y = oy + text_rect.top()
                if y > clip.bottom() or y + text_rect.height() < clip.top():
                    continue  # only the lines Qt repaints (one, for a cursor blink)
            line_start = line.textStart()
            line_end = line_start + line.textLength()
            for start, end, origin, pending in spans:
                if end <= line_start:
                    continue
                if start >= line_end:
                    break  # the spans are in text order
                head = ltr and start <= line_start
                tail = ltr and end >= line_end
                if head and tail:  # the whole line (most lines): its text's box, no glyphs
                    box = text_rect.translated(ox, oy)
                else:
                    x0 = text_rect.left() if head else _x(line, max(start, line_start))
                    x1 = text_rect.right() if tail else _x(line, min(end, line_end))
                    box = QRectF(
                        ox + min(x0, x1), oy + text_rect.top(), abs(x1 - x0), text_rect.height()
                    )
                painter.fillRect(box, pending_fill if pending else fills[origin])
                if pending:
                    self._wave(painter, line, box)

    def _wave(self, painter: QPainter, line: QTextLine, box: QRectF) -> None:
        """A wavy underline under ``box``: a pre-drawn wave tile, repeated (a path per line is
        100x slower)."""
        y = round(box.top() + line.ascent())
        painter.drawTiledPixmap(QRectF(box.left(), y, box.width(), _WAVE_HEIGHT), self._wave_tile)


def _x(line: QTextLine, position: int) -> float:
    """The x of a cursor position in a laid-out line (PySide returns ``(x, position)``)."""
    result = line.cursorToX(position)
    return float(result[0] if isinstance(result, tuple) else result)  # type: ignore[arg-type]


_WAVE_HEIGHT = 4


def _wave_tile(color: QColor) -> QPixmap:
    """One period of the wavy underline, 6 pixels wide, to repeat as a brush."""
    tile = QPixmap(6, _WAVE_HEIGHT)
    tile.fill(Qt.GlobalColor.transparent)
    painter = QPainter(tile)
    pen = QPen(color)
    pen.setWidthF(1.2)
    painter.setPen(pen)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, on=True)
    painter.drawPolyline(
        [QPointF(0, 3), QPointF(1.5, 1), QPointF(3, 3), QPointF(4.5, 1), QPointF(6, 3)]
    )
    painter.end()
    return tile


def _hatch_tile(layers: list[QColor], hatch: QColor) -> QPixmap:
    """Qt's diagonal hatch over colours laid one on another, as one repeatable tile."""
    tile = QPixmap(16, 16)
    tile.fill(Qt.GlobalColor.transparent)
    painter = QPainter(tile)
    for colour in layers:
        painter.fillRect(0, 0, 16, 16, colour)
    painter.fillRect(0, 0, 16, 16, QBrush(hatch, Qt.BrushStyle.BDiagPattern))
    painter.end()
    return tile
