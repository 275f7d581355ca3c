"""The Share Passage dialog: the labelled text as it will leave the app, and two ways out.

It shows ``publish.share.shared_text`` read-only, with "Copy Text" (the text to the clipboard)
and "Save Image…" (the PNG card, ``publish.sharecard``). It only asks: the controller copies,
saves and records each share.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from coauthor.publish.share import SharedText
from coauthor.publish.sharecard import card_refusal

__all__ = ["ShareDialog"]


class ShareDialog(QDialog):
    copy_requested = Signal()
    save_requested = Signal()

    def __init__(self, shared: SharedText, where: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shareDialog")
        self.setWindowTitle("Share Passage")
        self.resize(640, 460)
        intro = QLabel(
            f"{where}. This is the text as it will be shared; each copy or image is recorded "
            "in the book's history."
        )
        intro.setWordWrap(True)
        self.text = QPlainTextEdit(shared.text)
        self.text.setReadOnly(True)
        self.text.setObjectName("sharedText")
        self.note = QLabel("")
        self.note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy Text")
        self.save_button = QPushButton("Save Image…")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self.copy_requested.emit)
        self.save_button.clicked.connect(self.save_requested.emit)
        refusal = card_refusal(shared)
        if refusal is not None:
            self.save_button.setEnabled(False)
            self.save_button.setToolTip(refusal)
            self.note.setText(refusal)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.note.setVisible(bool(self.note.text()))

    def say(self, text: str) -> None:
        """Show what the last button did under the text."""
        self.note.setText(text)
        self.note.setVisible(True)
