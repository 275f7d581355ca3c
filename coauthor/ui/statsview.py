"""The Statistics window: words written per day by origin (a chart and a table), time writing
and sessions, what each figure means, and CSV export. It shows what it is given
(``set_days``); the statistics controller computes the figures from the history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from coauthor.core.daily import ORIGIN_ORDER, SESSION_GAP_MS, DayFigures
from coauthor.core.origin import Origin
from coauthor.ui.palette import OriginPalette

__all__ = [
    "DEFINITIONS",
    "DailyChart",
    "DayTableModel",
    "StatisticsDialog",
    "format_duration",
    "summary_text",
]

ORIGIN_NAMES = {
    Origin.HUMAN: "typed",
    Origin.AI: "from the model",
    Origin.PASTED: "pasted",
    Origin.IMPORTED: "imported",
}

DEFINITIONS = (
    "<b>Words written</b> are counted when they are inserted: typed here, accepted from the "
    "model, pasted from another program, or imported from a file. Text put back by Undo or "
    "moved within the book keeps its origin and is not counted again (<i>restored</i>). "
    "Deleted characters are shown apart: they do not reduce the words written. "
    f"<b>Time writing</b> adds the pauses of at most {SESSION_GAP_MS // 60000} minutes between "
    "changes; a longer pause starts a new <b>session</b>. Imports take no time. "
    "These figures come from Coauthor's record of edits, which shows any later tampering "
    "but cannot prove who sat at the keyboard."
)

CHART_DAYS = 30


def format_duration(seconds: int) -> str:
    """``1 h 05 min``, ``12 min``, ``0 min``."""
    minutes = seconds // 60
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


class DailyChart(QWidget):
    """Stacked bars of the words written each day of the last ``CHART_DAYS`` days, by origin."""

    def __init__(self, palette: OriginPalette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statisticsChart")
        self.origin_palette = palette
        self.days: list[DayFigures] = []
        self.today = dt.date.today()
        self.origins: tuple[Origin, ...] = (Origin.HUMAN, Origin.AI, Origin.PASTED)
        self.setMinimumHeight(180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_days(self, days: Sequence[DayFigures], today: dt.date) -> None:
        self.days = list(days)
        self.today = today
        self.update()

    def set_origins(self, origins: tuple[Origin, ...]) -> None:
        self.origins = origins
        self.update()

    def color(self, origin: Origin) -> QColor:
        if origin is Origin.HUMAN:  # the author's own words: the strongest colour there is
            return self.palette().color(QPalette.ColorRole.WindowText)
        return self.origin_palette.swatch(origin)

    def columns(self) -> list[tuple[dt.date, dict[Origin, int]]]:
        """The days the chart shows, oldest first, with the words of each shown origin."""
        by_date = {d.date: d for d in self.days}
        out = []
        for back in range(CHART_DAYS - 1, -1, -1):
            date = self.today - dt.timedelta(days=back)
            day = by_date.get(date)
            out.append((date, {o: day.words[o] if day else 0 for o in self.origins}))
        return out

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        del event
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        text_color = self.palette().color(QPalette.ColorRole.WindowText)
        metrics = painter.fontMetrics()
        line = metrics.height()
        columns = self.columns()
        peak = max((sum(words.values()) for _, words in columns), default=0)
        left = metrics.horizontalAdvance("000,000") + 8
        top, bottom = line, self.height() - 2 * line - 4
        width = self.width() - left - 28  # room for the last date label
        height = bottom - top
        if width <= 0 or height <= 0:
            return
        painter.setPen(text_color)
        painter.drawLine(left, bottom, left + width, bottom)
        painter.drawText(
            QRectF(0, top - line / 2, left - 6, line),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            f"{peak:,}",
        )
        painter.drawText(
            QRectF(0, bottom - line / 2, left - 6, line),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            "0",
        )
        step = width / len(columns)
        bar = max(1.0, step * 0.7)
        for i, (date, words) in enumerate(columns):
            x = left + i * step + (step - bar) / 2
            y = float(bottom)
            for origin in self.origins:
                n = words[origin]
                if not n or not peak:
                    continue
                h = height * n / peak
                painter.fillRect(QRectF(x, y - h, bar, h), self.color(origin))
                y -= h
            if i % 7 == (len(columns) - 1) % 7:  # a date under every seventh bar, today's last
                label = date.strftime("%d %b")
                painter.drawText(
                    QRectF(x + bar / 2 - 40, bottom + 2, 80, line),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                    label,
                )
        # The legend, along the bottom.
        x = float(left)
        y = self.height() - line - 2
        for origin in self.origins:
            painter.fillRect(QRectF(x, y + 3, line - 6, line - 6), self.color(origin))
            x += line
            name = ORIGIN_NAMES[origin]
            painter.drawText(QRectF(x, y, 200, line), Qt.AlignmentFlag.AlignLeft, name)
            x += metrics.horizontalAdvance(name) + 16
        painter.end()


_HEADERS = (
    "Date",
    "Typed",
    "From the model",
    "Pasted",
    "Imported",
    "Deleted (chars)",
    "Restored (chars)",
    "Sessions",
    "Time writing",
)
_TIPS = (
    "The local date",
    "Words typed in the editor",
    "Words of model text inserted (Insert or Replace)",
    "Words pasted from outside Coauthor",
    "Words imported from files",
    "Characters removed (deletions, replacements, undone insertions)",
    "Characters put back with their origins (undo, redo, moves): not new writing",
    "Writing sessions that started this day",
    "Pauses of at most five minutes between changes, added up",
)


class DayTableModel(QAbstractTableModel):
    """The days, newest first, one row each (the figures of ``DayFigures``)."""

    def __init__(self) -> None:
        super().__init__()
        self.days: list[DayFigures] = []

    def set_days(self, days: Sequence[DayFigures]) -> None:
        self.beginResetModel()
        self.days = sorted(days, key=lambda d: d.date, reverse=True)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else len(self.days)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else len(_HEADERS)

    def cell(self, row: int, column: int) -> str:
        day = self.days[row]
        if column == 0:
            return day.date.isoformat()
        if column <= len(ORIGIN_ORDER):
            return f"{day.words[ORIGIN_ORDER[column - 1]]:,}"
        values = (day.deleted, day.restored, day.sessions)
        if column - 5 < len(values):
            return f"{values[column - 5]:,}"
        return format_duration(day.seconds)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell(index.row(), index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column():
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(  # noqa: N802 - Qt override
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return _TIPS[section]
        return None


class StatisticsDialog(QDialog):
    """View ▸ Statistics: not modal, so it can stay open beside the book while the author
    writes (the controller refreshes it after each pause in typing)."""

    def __init__(self, palette: OriginPalette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statisticsDialog")
        self.setWindowTitle("Writing Statistics")
        self.resize(820, 640)
        self.summary = QLabel("Counting the history…")
        self.summary.setObjectName("statisticsSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.chart = DailyChart(palette)
        self.show_imported = QCheckBox("Include imported text in the chart")
        self.show_imported.toggled.connect(self._on_show_imported)
        self.model = DayTableModel()
        self.table = QTableView()
        self.table.setObjectName("statisticsTable")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAlternatingRowColors(True)
        self.definitions = QLabel(DEFINITIONS)
        self.definitions.setObjectName("statisticsDefinitions")
        self.definitions.setWordWrap(True)
        self.definitions.setTextFormat(Qt.TextFormat.RichText)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("statisticsExport")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.chart, 2)
        row = QHBoxLayout()
        row.addWidget(self.show_imported)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.definitions)
        layout.addWidget(buttons)
        self.days: list[DayFigures] = []

    def _on_show_imported(self, checked: bool) -> None:
        origins = ORIGIN_ORDER if checked else (Origin.HUMAN, Origin.AI, Origin.PASTED)
        self.chart.set_origins(origins)

    def set_days(self, days: Sequence[DayFigures], today: dt.date, streak: int) -> None:
        self.days = list(days)
        self.chart.set_days(days, today)
        self.model.set_days(days)
        self.export_button.setEnabled(bool(days))
        self.summary.setText(summary_text(days, today, streak))


def summary_text(days: Sequence[DayFigures], today: dt.date, streak: int) -> str:
    """Today's figures, the last seven days', and the streak (rich text)."""

    def words(ds: Sequence[DayFigures]) -> str:
        by = {o: sum(d.words[o] for d in ds) for o in ORIGIN_ORDER}
        parts = [f"<b>{by[Origin.HUMAN]:,}</b> words typed"]
        parts.extend(f"{by[o]:,} {ORIGIN_NAMES[o]}" for o in ORIGIN_ORDER[1:] if by[o])
        seconds = sum(d.seconds for d in ds)
        sessions = sum(d.sessions for d in ds)
        parts.append(
            f"{format_duration(seconds)} writing in {sessions} session"
            f"{'s' if sessions != 1 else ''}"
        )
        return ", ".join(parts)

    today_days = [d for d in days if d.date == today]
    week = [d for d in days if today - dt.timedelta(days=6) <= d.date <= today]
    streak_text = (
        f"Streak: {streak} day{'s' if streak != 1 else ''} in a row."
        if streak
        else "No streak yet."
    )
    return (
        f"Today: {words(today_days)}.<br>Last 7 days: {words(week)}.<br>{streak_text}"
        if days
        else "Nothing has been written in this book yet."
    )
