"""Book ▸ Writing Goals: words typed a day, the book's length in words, and a deadline."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from coauthor.core.daily import Goals

__all__ = ["GoalsDialog"]

_MAX_WORDS = 10_000_000


class GoalsDialog(QDialog):
    def __init__(self, goals: Goals, today: dt.date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("goalsDialog")
        self.setWindowTitle("Writing Goals")
        self.daily = QSpinBox()
        self.daily.setObjectName("dailyGoal")
        self.daily.setRange(0, 100_000)
        self.daily.setSingleStep(100)
        self.daily.setSpecialValueText("No daily goal")
        self.daily.setSuffix(" words")
        self.daily.setValue(goals.daily_words)
        self.book = QSpinBox()
        self.book.setObjectName("bookGoal")
        self.book.setRange(0, _MAX_WORDS)
        self.book.setSingleStep(1000)
        self.book.setSpecialValueText("No goal for the book")
        self.book.setSuffix(" words")
        self.book.setGroupSeparatorShown(True)
        self.book.setValue(goals.book_words)
        self.has_deadline = QCheckBox("Finish by")
        self.has_deadline.setObjectName("hasDeadline")
        self.deadline = QDateEdit()
        self.deadline.setObjectName("deadline")
        self.deadline.setCalendarPopup(True)
        self.deadline.setDisplayFormat("yyyy-MM-dd")
        when = goals.deadline or today + dt.timedelta(days=90)
        self.deadline.setDate(QDate(when.year, when.month, when.day))
        self.has_deadline.setChecked(goals.deadline is not None)
        self.deadline.setEnabled(goals.deadline is not None)
        self.has_deadline.toggled.connect(self.deadline.setEnabled)
        note = QLabel(
            "The daily goal counts the words you type yourself; the book's goal, the words of "
            "the whole book, whoever wrote them. Goals are kept on this computer for this "
            "book, not in the book's file or its record."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Words typed a day:", self.daily)
        form.addRow("Length of the book:", self.book)
        form.addRow(self.has_deadline, self.deadline)
        form.addRow(note)
        form.addRow(buttons)

    def goals(self) -> Goals:
        deadline = None
        if self.has_deadline.isChecked():
            d = self.deadline.date()
            deadline = dt.date(d.year(), d.month(), d.day())
        return Goals(self.daily.value(), self.book.value(), deadline)
