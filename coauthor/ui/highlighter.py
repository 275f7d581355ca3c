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

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap, QTextBlock, QTextLine

if TYPE_CHECKING:
    from PySide6.QtWidgets import QPlainTextEdit

from coauthor.core.book import Chapter
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.textpos import Utf16Map
from coauthor.ui.palette import OriginPalette

__all__ = ["BlockMark", "ProvenanceHighlighter", "ViewMode"]


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
        self._wave_brush = QBrush()
        self._pending_fill = QBrush()
        self.set_palette(palette)

    # -- state ------------------------------------------------------------------------------

    def set_palette(self, palette: OriginPalette) -> None:
        self.palette = palette
        self._pending_hatch = QBrush(palette.pending_underline, Qt.BrushStyle.BDiagPattern)
        self._wave_brush = QBrush(_wave_tile(QColor(palette.pending_underline)))
        # Tint and hatch in one tile, so a pending stretch is one fill, not two.
        self._pending_fill = QBrush(
            _hatch_tile(palette.pending_background, palette.pending_underline)
        )
        self.rehighlight()

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

    def is_pending(self, ref: str | None) -> bool:
        generation = self.generations.get(ref) if ref else None
        return generation is not None and generation.review_state is ReviewState.PENDING

    # -- what a block shows -----------------------------------------------------------------

    def block_marks(self, block: QTextBlock) -> tuple[list[BlockMark], float]:
        """The marked stretches of a block and its AI share (for the heatmap)."""
        chapter = self.chapter
        text = block.text()
        if chapter is None or not text:
            return [], 0.0
        provenance = chapter.text
        unit = block.position()
        if unit > provenance.utf16_length():
            return [], 0.0  # the document is ahead of the core mid-edit; the next paint draws it
        start = provenance.from_utf16(unit)
        end = min(start + len(text), len(provenance))
        units = None if text.isascii() else Utf16Map(text)
        marks: list[BlockMark] = []
        offset = 0
        ai = 0
        total = 0
        for length, origin, ref in provenance.runs_in(start, end):
            total += length
            if origin is Origin.AI:
                ai += length
            pending = origin is Origin.AI and self.is_pending(ref)
            if pending or (self.mode is ViewMode.ORIGINS and origin is not Origin.HUMAN):
                if units is None or units.is_identity:
                    marks.append(BlockMark(offset, length, origin, pending))
                else:
                    a = units.to_utf16(offset)
                    marks.append(BlockMark(a, units.to_utf16(offset + length) - a, origin, pending))
            offset += length
        return marks, (ai / total if total else 0.0)

    # -- painting ---------------------------------------------------------------------------

    def paint(self, painter: QPainter, area: QRectF) -> None:
        """Paint the provenance of the blocks that meet ``area`` (viewport coordinates)."""
        if self.chapter is None:
            return
        editor = self.editor
        offset = editor.contentOffset()
        width = editor.viewport().width()
        block = editor.firstVisibleBlock()
        while block.isValid():
            rect = editor.blockBoundingGeometry(block).translated(offset)
            if rect.top() > area.bottom():
                break
            if rect.bottom() >= area.top() and block.isVisible():
                self._paint_block(painter, block, rect, width, area)
            block = block.next()

    def _paint_block(
        self, painter: QPainter, block: QTextBlock, rect: QRectF, width: int, area: QRectF
    ) -> None:
        marks, ai_share = self.block_marks(block)
        if self.mode is ViewMode.HEATMAP and ai_share:
            painter.fillRect(
                QRectF(0, rect.top(), width, rect.height()), self.palette.heat(ai_share)
            )
        if not marks:
            return
        layout = block.layout()
        origin = rect.topLeft() + layout.position()
        backgrounds = self.palette.backgrounds
        pending_fill = self._pending_fill if self.mode is ViewMode.ORIGINS else self._pending_hatch
        top, bottom = area.top(), area.bottom()
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            y = origin.y() + line.y()
            if y > bottom or y + line.height() < top:
                continue  # only the lines Qt repaints (one, for a cursor blink)
            line_start = line.textStart()
            line_end = line_start + line.textLength()
            for mark in marks:
                a = max(mark.start, line_start)
                b = min(mark.start + mark.length, line_end)
                if a >= b:
                    continue
                x0 = _x(line, a)
                x1 = _x(line, b)
                box = QRectF(origin.x() + line.x() + min(x0, x1), y, abs(x1 - x0), line.height())
                if mark.pending:
                    painter.fillRect(box, pending_fill)
                    self._wave(painter, box.left(), box.right(), y + line.ascent() + 2)
                else:
                    painter.fillRect(box, backgrounds[mark.origin])

    def _wave(self, painter: QPainter, left: float, right: float, y: float) -> None:
        """A wavy underline: a pre-drawn wave tile, repeated (a path per line is 100x slower)."""
        top = round(y - 2)
        painter.save()
        painter.setBrushOrigin(QPointF(0, top))
        painter.fillRect(QRectF(left, top, right - left, _WAVE_HEIGHT), self._wave_brush)
        painter.restore()


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


def _hatch_tile(background: QColor, hatch: QColor) -> QPixmap:
    """The pending tint under Qt's diagonal hatch, as one repeatable tile."""
    tile = QPixmap(16, 16)
    tile.fill(Qt.GlobalColor.transparent)
    painter = QPainter(tile)
    painter.fillRect(0, 0, 16, 16, background)
    painter.fillRect(0, 0, 16, 16, QBrush(hatch, Qt.BrushStyle.BDiagPattern))
    painter.end()
    return tile
