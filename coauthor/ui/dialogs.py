"""Small dialogs: find and replace, and preferences."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from coauthor.ui.settings import MAX_FONT_SIZE, MIN_FONT_SIZE

__all__ = ["FindReplaceDialog", "PreferencesDialog"]


class FindReplaceDialog(QDialog):
    """Non-modal find and replace; it only requests, the main window acts."""

    find_requested = Signal(str, bool, bool)  # text, backwards, match case
    replace_requested = Signal(str, str, bool)  # text, replacement, match case
    replace_all_requested = Signal(str, str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find and Replace")
        self.find_edit = QLineEdit()
        self.replace_edit = QLineEdit()
        self.case = QCheckBox("Match case")
        self.status = QLabel()
        self.status.setAccessibleName("Find status")
        next_button = QPushButton("Find Next")
        prev_button = QPushButton("Find Previous")
        replace_button = QPushButton("Replace")
        replace_all_button = QPushButton("Replace All")
        close_button = QPushButton("Close")
        next_button.setDefault(True)
        layout = QGridLayout(self)
        layout.addWidget(QLabel("Find:"), 0, 0)
        layout.addWidget(self.find_edit, 0, 1)
        layout.addWidget(next_button, 0, 2)
        layout.addWidget(QLabel("Replace with:"), 1, 0)
        layout.addWidget(self.replace_edit, 1, 1)
        layout.addWidget(prev_button, 1, 2)
        layout.addWidget(self.case, 2, 1)
        layout.addWidget(replace_button, 2, 2)
        layout.addWidget(self.status, 3, 1)
        layout.addWidget(replace_all_button, 3, 2)
        layout.addWidget(close_button, 4, 2)
        next_button.clicked.connect(lambda: self._find(backwards=False))
        prev_button.clicked.connect(lambda: self._find(backwards=True))
        replace_button.clicked.connect(
            lambda: self.replace_requested.emit(
                self.find_edit.text(), self.replace_edit.text(), self.case.isChecked()
            )
        )
        replace_all_button.clicked.connect(
            lambda: self.replace_all_requested.emit(
                self.find_edit.text(), self.replace_edit.text(), self.case.isChecked()
            )
        )
        close_button.clicked.connect(self.close)

    def _find(self, *, backwards: bool) -> None:
        if self.find_edit.text():
            self.find_requested.emit(self.find_edit.text(), backwards, self.case.isChecked())

    def show_for(self, text: str, *, replace: bool) -> None:
        if text:
            self.find_edit.setText(text)
        self.replace_edit.setEnabled(True)
        self.show()
        self.raise_()
        self.activateWindow()
        (self.replace_edit if replace and self.find_edit.text() else self.find_edit).setFocus(
            Qt.FocusReason.ShortcutFocusReason
        )

    def report(self, message: str) -> None:
        self.status.setText(message)


class PreferencesDialog(QDialog):
    def __init__(self, reviewer: str, font_size: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.reviewer = QLineEdit(reviewer)
        self.reviewer.setPlaceholderText("Your name, recorded when you approve a generation")
        self.font_size = QSpinBox()
        self.font_size.setRange(MIN_FONT_SIZE, MAX_FONT_SIZE)
        self.font_size.setValue(font_size)
        form = QFormLayout(self)
        form.addRow("Reviewer name:", self.reviewer)
        form.addRow("Editor font size:", self.font_size)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
