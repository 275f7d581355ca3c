"""Report Generation…: write a file reporting a problematic generation to its provider.

The author picks a category, says what is wrong, chooses whether the surrounding text goes
with it and where the file is saved. Saving writes the file (``publish.generation_report``)
and records the report in the book's history; Coauthor sends nothing, and the dialog says
where the file should go (for a security issue, the provider's coordinated disclosure process).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from coauthor.core.models import model_identity
from coauthor.core.project import REPORT_CATEGORIES, Project, ProjectError
from coauthor.publish.document import ExportWriteError
from coauthor.publish.generation_report import (
    CONTEXT_CHARS,
    ReportBundle,
    disclosure_advice,
    report_generation,
)

__all__ = ["ReportDialog"]


class ReportDialog(QDialog):
    """Saves the report file and records the report; ``bundle`` is set once it is saved."""

    def __init__(
        self,
        project: Project,
        generation_id: str,
        *,
        by: str,
        folder: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Report Generation")
        self.setObjectName("reportDialog")
        self.project = project
        self.generation_id = generation_id
        self.bundle: ReportBundle | None = None
        generation = project.generations[generation_id]
        self.provider = generation.provider
        words = " ".join(generation.output.split()[:12])
        intro = QLabel(
            f"Report generation {generation_id} "
            f"({model_identity(generation.model, generation.provider)} via "
            f"{generation.provider}): “{words}…”\n"
            "Coauthor writes a file for you to send to the provider; it sends nothing itself."
        )
        intro.setWordWrap(True)
        self.category = QComboBox()
        for category in REPORT_CATEGORIES:
            self.category.addItem(category.capitalize(), category)
        self.category.setAccessibleName("Category")
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("What is wrong with this generation?")
        self.reason.setAccessibleName("Reason")
        self.reason.setTabChangesFocus(True)
        self.reason.setMinimumHeight(80)
        self.by = QLineEdit(by)
        self.by.setAccessibleName("Reported by")
        self.context = QCheckBox(
            f"Include the surrounding text (up to {CONTEXT_CHARS:,} characters before and after "
            "the passage)"
        )
        self.path = QLineEdit()
        self.path.setAccessibleName("Report file")
        self.path.setPlaceholderText("Where to save the report (.zip)")
        default = (folder or Path.home()) / f"coauthor-report-{generation_id}.zip"
        self.path.setText(str(default))
        browse = QPushButton("Save As…")
        browse.clicked.connect(self.choose_path)
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(browse)
        self.advice = QLabel()
        self.advice.setWordWrap(True)
        self.advice.setObjectName("reportAdvice")
        self.advice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #D55E00")
        self.reason.textChanged.connect(self.error.clear)
        form = QFormLayout()
        form.addRow("Category:", self.category)
        form.addRow("Reason:", self.reason)
        form.addRow("Reported by:", self.by)
        form.addRow("", self.context)
        form.addRow("Save to:", where)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form, 1)
        layout.addWidget(self.advice)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.category.currentIndexChanged.connect(self._update_advice)
        self._update_advice()
        self.resize(620, 460)

    def chosen_category(self) -> str:
        return str(self.category.currentData())

    def _update_advice(self) -> None:
        if self.chosen_category() == "security issue":
            self.advice.setText("Security issue: " + disclosure_advice(self.provider))
        else:
            self.advice.setText(
                "The file holds the model, its settings, the prompt and the output as recorded; "
                "read it before you send it."
            )

    def choose_path(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Save the Report As", self.path.text(), "Zip files (*.zip)"
        )
        if chosen:
            self.path.setText(chosen)

    def save(self) -> None:
        """Write the file and record the report; a problem is shown and nothing is recorded."""
        category, reason = self.chosen_category(), self.reason.toPlainText()
        problem = self.project.report_refusal(self.generation_id, category, reason)
        if problem:
            self.error.setText(problem[0].upper() + problem[1:] + ".")
            return
        target = self.path.text().strip()
        if not target:
            self.choose_path()
            target = self.path.text().strip()
            if not target:
                self.error.setText("Choose where to save the report.")
                return
        try:
            self.bundle = report_generation(
                self.project,
                self.generation_id,
                category,
                reason,
                by=self.by.text().strip(),
                include_context=self.context.isChecked(),
                target=Path(target).expanduser(),
            )
        except (ExportWriteError, ProjectError) as exc:
            self.error.setText(str(exc))
            return
        self.accept()
