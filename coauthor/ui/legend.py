"""The legend: what each colour and mark in the editor means, in words."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from coauthor.core.origin import Origin
from coauthor.ui.highlighter import ViewMode
from coauthor.ui.palette import LABELS, PENDING_LABEL, OriginPalette

__all__ = ["Legend"]


class _Swatch(QWidget):
    def __init__(self, color: QColor, *, pending: bool = False) -> None:
        super().__init__()
        self.color = color
        self.pending = pending
        self.setFixedSize(28, 14)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        rect = self.rect().adjusted(0, 0, -1, -1)
        if self.pending:
            painter.fillRect(rect, QBrush(self.color, Qt.BrushStyle.BDiagPattern))
            pen = QPen(self.color)
            pen.setWidth(2)
            painter.setPen(pen)
            painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        else:
            painter.fillRect(rect, self.color)
        painter.setPen(self.palette().mid().color())
        painter.drawRect(rect)
        painter.end()


class Legend(QWidget):
    def __init__(self, palette: OriginPalette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("legend")
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.swatches = {origin: _Swatch(palette.swatch(origin)) for origin in Origin}
        for row, origin in enumerate(Origin):
            layout.addWidget(self.swatches[origin], row, 0)
            layout.addWidget(QLabel(LABELS[origin]), row, 1)
        row = len(Origin)
        self.pending_swatch = _Swatch(palette.pending_swatch, pending=True)
        layout.addWidget(self.pending_swatch, row, 0)
        layout.addWidget(QLabel(f"{PENDING_LABEL} (wavy underline, hatched)"), row, 1)
        self.mode_note = QLabel()
        self.mode_note.setWordWrap(True)
        layout.addWidget(self.mode_note, row + 1, 0, 1, 2)

    def set_palette(self, palette: OriginPalette) -> None:
        for origin, swatch in self.swatches.items():
            swatch.color = palette.swatch(origin)
            swatch.update()
        self.pending_swatch.color = palette.pending_swatch
        self.pending_swatch.update()

    def set_mode(self, mode: ViewMode) -> None:
        notes = {
            ViewMode.PLAIN: "Plain view: only pending text is marked.",
            ViewMode.ORIGINS: "Origin colours: every character tinted by where it came from.",
            ViewMode.HEATMAP: "Heatmap: each paragraph shaded by its share of AI text.",
        }
        self.mode_note.setText(notes[ViewMode(mode)])
