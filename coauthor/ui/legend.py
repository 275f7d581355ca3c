"""The legend: what each colour and mark in the editor means, in words.

It follows the view: the origins' colours in the Plain and Origin Colours views, the shades of
AI share in the Heatmap view (where the editor shows no origin colours).
"""

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


_HEAT_STEPS = ((0.0, "No AI text"), (0.5, "Half AI text"), (1.0, "All AI text"))
"""The Heatmap view's shades, by share of AI text in a paragraph."""


class Legend(QWidget):
    def __init__(self, palette: OriginPalette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("legend")
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.swatches = {origin: _Swatch(palette.swatch(origin)) for origin in Origin}
        self.origin_rows: list[QWidget] = []
        for row, origin in enumerate(Origin):
            label = QLabel(LABELS[origin])
            layout.addWidget(self.swatches[origin], row, 0)
            layout.addWidget(label, row, 1)
            self.origin_rows += [self.swatches[origin], label]
        self.heat_swatches = [_Swatch(palette.heat(share)) for share, _ in _HEAT_STEPS]
        self.heat_rows: list[QWidget] = []
        row = len(Origin)
        for swatch, (_, text) in zip(self.heat_swatches, _HEAT_STEPS, strict=True):
            label = QLabel(text)
            layout.addWidget(swatch, row, 0)
            layout.addWidget(label, row, 1)
            self.heat_rows += [swatch, label]
            row += 1
            swatch.hide()
            label.hide()
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
        for swatch, (share, _) in zip(self.heat_swatches, _HEAT_STEPS, strict=True):
            swatch.color = palette.heat(share)
            swatch.update()

    def set_mode(self, mode: ViewMode) -> None:
        notes = {
            ViewMode.PLAIN: "Plain view: only pending text is marked.",
            ViewMode.ORIGINS: "Origin colours: every character tinted by where it came from.",
            ViewMode.HEATMAP: "Heatmap: each paragraph shaded by its share of AI text.",
        }
        mode = ViewMode(mode)
        self.mode_note.setText(notes[mode])
        heat = mode is ViewMode.HEATMAP
        for widget in self.origin_rows:
            widget.setVisible(not heat)
        for widget in self.heat_rows:
            widget.setVisible(heat)
