"""The AI panel: ask for text, watch it stream into a preview, then insert it or not.

Nothing here touches the manuscript: the panel only requests (generate, cancel, insert,
open the settings) and shows what the window tells it. Generated text reaches the book only
through Insert, as ``ai`` text pending review.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from coauthor.ai.prompts import MODE_LABELS, Mode

__all__ = ["AiPanel"]


class AiPanel(QWidget):
    generate_requested = Signal(object, str, float, int)  # mode, instruction, temperature, tokens
    cancel_requested = Signal()
    insert_requested = Signal(int)  # index of the chosen alternative
    settings_requested = Signal()
    report_requested = Signal(int)  # index of the alternative shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aiPanel")
        self.mode = QComboBox()
        for mode, label in MODE_LABELS.items():
            self.mode.addItem(label, mode)
        self.instruction = QLineEdit()
        self.instruction.setPlaceholderText("Instruction, e.g. “make it tenser” or your prompt")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(0.7)
        self.length = QSpinBox()
        self.length.setRange(8, 4000)
        self.length.setValue(160)
        self.length.setSuffix(" tokens")
        self.provider = QLabel()
        self.provider.setWordWrap(True)
        self.provider.setObjectName("providerStatus")
        settings = QPushButton("Model settings…")
        settings.clicked.connect(self.settings_requested)

        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Generate (Ctrl+Return)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the generation (Esc)")
        self.regenerate_button = QPushButton("Regenerate")
        self.insert_button = QPushButton("Insert")
        self.insert_button.setToolTip(
            "Insert into the manuscript, marked as AI text pending your review (Ctrl+Shift+Return)"
        )
        self.report_button = QPushButton("Report…")
        self.report_button.setToolTip(
            "Write a file reporting the generation shown to its provider as problematic"
        )
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setObjectName("aiPreview")
        self.preview.setPlaceholderText(
            "The model's text appears here; the manuscript is untouched until you insert it."
        )
        self.alternatives = QListWidget()
        self.alternatives.setObjectName("aiAlternatives")
        self.alternatives.hide()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("aiNote")
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.note.linkActivated.connect(lambda _: self.settings_requested.emit())

        form = QFormLayout()
        form.addRow("Mode:", self.mode)
        form.addRow("Instruction:", self.instruction)
        form.addRow("Temperature:", self.temperature)
        form.addRow("Length:", self.length)
        buttons = QHBoxLayout()
        for button in (
            self.generate_button,
            self.cancel_button,
            self.regenerate_button,
            self.insert_button,
            self.report_button,
        ):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.provider)
        layout.addWidget(settings, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.alternatives)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.note)

        self.generate_button.clicked.connect(self._request)
        self.regenerate_button.clicked.connect(self._request)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.insert_button.clicked.connect(self._request_insert)
        self.report_button.clicked.connect(lambda: self.report_requested.emit(self.chosen()))
        self.alternatives.currentRowChanged.connect(self._show_alternative)
        QShortcut(QKeySequence("Ctrl+Return"), self, self._request)
        QShortcut(QKeySequence("Ctrl+Shift+Return"), self, self._request_insert)
        QShortcut(QKeySequence("Escape"), self, self.cancel_requested.emit)
        self._outputs: list[str] = []
        self._has_result = False
        self._inserted: set[int] = set()
        """The alternatives already inserted: Insert is off for them (it would insert twice)."""
        self.set_running(running=False, has_result=False)

    def current_mode(self) -> Mode:
        return Mode(self.mode.currentData())

    def _request(self) -> None:
        if self.generate_button.isEnabled() or self.regenerate_button.isEnabled():
            self.generate_requested.emit(
                self.current_mode(),
                self.instruction.text().strip(),
                self.temperature.value(),
                self.length.value(),
            )

    def _request_insert(self) -> None:
        if self.insert_button.isEnabled():
            self.insert_requested.emit(self.chosen())

    def set_running(self, *, running: bool, has_result: bool) -> None:
        self._has_result = not running and has_result
        self.generate_button.setEnabled(not running)
        self.regenerate_button.setEnabled(not running and has_result)
        self.cancel_button.setEnabled(running)
        self.report_button.setEnabled(not running and has_result)
        self._update_insert()

    def mark_inserted(self, index: int) -> None:
        """The alternative ``index`` is in the manuscript now: Insert is off for it."""
        self._inserted.add(index)
        self._update_insert()

    def _update_insert(self) -> None:
        self.insert_button.setEnabled(self._has_result and self.chosen() not in self._inserted)

    def start(self, alternatives: int) -> None:
        self._outputs = [""] * alternatives
        self._inserted.clear()
        self.preview.clear()
        self.note.clear()
        self.alternatives.clear()
        self.alternatives.setVisible(alternatives > 1)
        for i in range(alternatives):
            self.alternatives.addItem(f"Alternative {i + 1}")
        if alternatives > 1:
            self.alternatives.setCurrentRow(0)
        self.set_running(running=True, has_result=False)

    def append(self, index: int, text: str) -> None:
        if index >= len(self._outputs):
            return
        self._outputs[index] += text
        if index == self.chosen():
            cursor = self.preview.textCursor()
            cursor.movePosition(cursor.MoveOperation.End)
            cursor.insertText(text)
        if not self.alternatives.isHidden():  # listed, even while the panel is out of sight
            first = self._outputs[index].strip().split("\n")[0][:60]
            self.alternatives.item(index).setText(f"{index + 1}. {first}")

    def finish(self, outputs: list[str], *, usable: bool) -> None:
        self._outputs = outputs or self._outputs
        self._show_alternative(self.chosen())
        self.set_running(running=False, has_result=usable)

    def chosen(self) -> int:
        return max(0, self.alternatives.currentRow()) if not self.alternatives.isHidden() else 0

    def _show_alternative(self, index: int) -> None:
        if 0 <= index < len(self._outputs):
            self.preview.setPlainText(self._outputs[index])
        self._update_insert()

    def show_note(self, text: str, *, error: bool = False, settings_link: bool = False) -> None:
        link = ' <a href="settings">Open the model settings</a>' if settings_link else ""
        color = "#D55E00" if error else "palette(text)"
        escaped = text.replace("&", "&amp;").replace("<", "&lt;")
        previous = self.note.text()
        line = f'<span style="color:{color}">{escaped}</span>{link}'
        self.note.setText(f"{previous}<br>{line}" if previous else line)

    def set_provider_status(self, text: str) -> None:
        self.provider.setText(text)
