"""The overview strip beside the editor and the book map: provenance at a glance.

Both draw ``segment_profile`` results and only request navigation by signal; the main window
decides what a click opens.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from coauthor.core.maps import Segment
from coauthor.core.origin import Origin
from coauthor.core.roles import percent
from coauthor.ui.palette import OriginPalette

__all__ = ["BookMap", "OverviewStrip"]


def _segment_color(segment: Segment, palette: OriginPalette) -> QColor:
    """The colour of a segment: its dominant origin, drawn lighter when it is mixed."""
    dominant = segment.dominant
    if dominant is None:
        return QColor(0, 0, 0, 0)
    color = QColor(palette.swatch(dominant))
    share = segment.counts[dominant] / segment.length
    color.setAlpha(round(110 + 145 * share))
    return color


class OverviewStrip(QWidget):
    """A narrow column showing the whole chapter, top to bottom; click to jump."""

    jump_requested = Signal(int)

    def __init__(self, palette: OriginPalette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.palette_ = palette
        self.profile: list[Segment] = []
        self.visible = (0.0, 1.0)
        # The segments' colours, worked out at the first paint of a profile (with the palette
        # they were worked out for): repaints of the same profile reuse them.
        self._colors: list[QColor] = []
        self._colors_for: tuple[list[Segment], OriginPalette] | None = None
        self.setFixedWidth(14)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setToolTip("Where each origin sits in this chapter. Click to jump there.")
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def wanted_segments(self) -> int:
        return max(1, self.height() // 2)

    def set_palette(self, palette: OriginPalette) -> None:
        self.palette_ = palette
        self.update()

    def set_profile(self, profile: list[Segment]) -> None:
        self.profile = profile
        self.update()

    def set_visible_fraction(self, top: float, bottom: float) -> None:
        # Called on every cursor move (every keystroke): repaint only when the frame moves.
        if (top, bottom) == self.visible:
            return
        self.visible = (top, bottom)
        self.update()

    def _segment_colors(self) -> list[QColor]:
        source = self._colors_for
        if source is None or source[0] is not self.profile or source[1] is not self.palette_:
            self._colors = [_segment_color(segment, self.palette_) for segment in self.profile]
            self._colors_for = (self.profile, self.palette_)
        return self._colors

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(14, 200)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        height = self.height()
        width = self.width()
        painter.fillRect(self.rect(), self.palette().base())
        count = len(self.profile)
        if count:
            step = height / count
            colors = self._segment_colors()
            for i, segment in enumerate(self.profile):
                rect = QRectF(0, i * step, width, step + 0.5)
                painter.fillRect(rect, colors[i])
                if segment.pending:
                    painter.fillRect(
                        QRectF(width - 4, i * step, 4, step + 0.5), self.palette_.pending_swatch
                    )
        top, bottom = self.visible
        pen = QPen(self.palette().text().color())
        pen.setWidth(1)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(0.5, top * height, width - 1, max(3.0, (bottom - top) * height)))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if not self.profile or event.button() != Qt.MouseButton.LeftButton:
            return
        fraction = max(0.0, min(0.999, event.position().y() / max(1, self.height())))
        segment = self.profile[int(fraction * len(self.profile))]
        self.jump_requested.emit(segment.start)


class BookMap(QWidget):
    """Chapters (rows, each named at its left) by position (columns), coloured by AI share;
    a row without model text says so. Click to open a place."""

    open_requested = Signal(int, int)  # chapter id, position
    COLUMNS = 24

    def __init__(self, palette: OriginPalette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.palette_ = palette
        self.rows: list[tuple[int, str, list[Segment]]] = []
        self.setMinimumHeight(60)
        self.setMouseTracking(True)

    def set_palette(self, palette: OriginPalette) -> None:
        self.palette_ = palette
        self.update()

    def set_rows(self, rows: list[tuple[int, str, list[Segment]]]) -> None:
        self.rows = rows
        self.setMinimumHeight(max(60, 12 * len(rows)))
        self.update()

    def _row_height(self) -> float:
        return self.height() / max(1, len(self.rows))

    def label_width(self) -> int:
        """The width of the chapter names' column: the longest name, at most 40% of the map."""
        if not self.rows:
            return 0
        metrics = self.fontMetrics()
        widest = max(metrics.horizontalAdvance(title) for _, title, _ in self.rows)
        return min(widest + 14, int(self.width() * 0.4))  # 4 px either side, and slack

    def _cell_width(self) -> float:
        return max(1, self.width() - self.label_width()) / self.COLUMNS

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        if not self.rows:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No chapters")
            painter.end()
            return
        row_height = self._row_height()
        left = self.label_width()
        cell_width = self._cell_width()
        hatch = QBrush(self.palette_.pending_swatch, Qt.BrushStyle.BDiagPattern)
        metrics = self.fontMetrics()
        quiet = self.palette().placeholderText().color()
        for r, (_, title, segments) in enumerate(self.rows):
            painter.setPen(self.palette().text().color())
            name = QRectF(4, r * row_height, left - 8, row_height)
            painter.drawText(
                name,
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                metrics.elidedText(title, Qt.TextElideMode.ElideRight, max(0, left - 8)),
            )
            for c, segment in enumerate(segments):
                rect = QRectF(left + c * cell_width, r * row_height, cell_width, row_height)
                share = segment.ai_share
                if segment.length:
                    painter.fillRect(
                        rect,
                        self.palette_.heat(0.15 + 0.85 * share)
                        if share
                        else self.palette().alternateBase(),
                    )
                if segment.pending:
                    painter.fillRect(rect, hatch)
            if not any(segment.counts[Origin.AI] for segment in segments):
                # Not a blank row: say why it has no colour.
                painter.setPen(quiet)
                empty = not any(segment.length for segment in segments)
                painter.drawText(
                    QRectF(left + 4, r * row_height, self.width() - left - 8, row_height),
                    Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                    "empty" if empty else "no AI text",
                )
        grid = QColor(self.palette().mid().color())
        grid.setAlpha(80)
        painter.setPen(grid)
        for r in range(len(self.rows) + 1):
            painter.drawLine(0, round(r * row_height), self.width(), round(r * row_height))
        painter.end()

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        if not self.rows:
            return None
        r = min(len(self.rows) - 1, max(0, int(y / self._row_height())))
        chapter_id, _, segments = self.rows[r]
        if not segments:
            return chapter_id, 0
        left = self.label_width()
        if x < left:
            return chapter_id, 0  # its name: the chapter's start
        c = min(len(segments) - 1, max(0, int((x - left) / self._cell_width())))
        return chapter_id, segments[c].start

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        cell = self.cell_at(event.position().x(), event.position().y())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.open_requested.emit(*cell)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if not self.rows:
            return
        r = min(len(self.rows) - 1, max(0, int(event.position().y() / self._row_height())))
        _, title, segments = self.rows[r]
        ai = sum(s.counts[Origin.AI] for s in segments)
        total = sum(s.length for s in segments)
        pending = sum(s.pending for s in segments)
        share = f"{percent(ai, total)}% of the characters by AI" if total else "empty"
        extra = f", {pending:,} characters pending review" if pending else ""
        self.setToolTip(f"{title}: {share}{extra}")
