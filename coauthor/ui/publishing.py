"""Publishing in the app: book details, the foreword, content screening and exports.

Exports run the operation ``coauthor export`` runs (``coauthor.app.export.export_book``) in a
worker ``Job``, with a progress dialog: the chain check on a read-only connection of its own,
the comparison with the book on screen, screening, the review gate, the foreword check, the
file and its signed manifest, all off the GUI thread. A refusal comes back to the GUI thread
and shows its dialog: the gate lists every passage and offers to go to it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from coauthor.ai.moderation import moderator_for
from coauthor.app.export import (
    SUFFIXES,
    ExportDiffers,
    ExportFormat,
    ExportOptions,
    ExportResult,
    ScreeningSummary,
    export_book,
    screening_of,
    signing_key,
)
from coauthor.core.book import BookMeta
from coauthor.core.chain import shown_state
from coauthor.core.policy import Flag
from coauthor.publish.document import ExportRefused
from coauthor.publish.foreword import check_foreword, foreword_facts, render_foreword
from coauthor.publish.roles import measure_roles
from coauthor.screening.rules import OFFLINE_DESCRIPTION
from coauthor.store.verify import ChainMismatch
from coauthor.ui.aicontroller import AiController
from coauthor.ui.review import GateDialog
from coauthor.ui.worker import Job, job_progress
from coauthor.ui.workspace import Workspace

if TYPE_CHECKING:
    from coauthor.ai.moderation import OpenAIModerator

__all__ = ["BookDetailsDialog", "ForewordDialog", "PublishController"]

_FORMAT_LABELS = {
    ExportFormat.EPUB: "EPUB 3 e-book",
    ExportFormat.MARKDOWN: "Markdown",
    ExportFormat.HTML: "HTML book",
    ExportFormat.REPORT: "Provenance report (HTML)",
    ExportFormat.DOCX: "Word document (DOCX)",
    ExportFormat.PDF: "Print PDF",
}

_TRIM_LABELS = {
    "5x8": "5 × 8 in",
    "5.5x8.5": "5.5 × 8.5 in",
    "6x9": "6 × 9 in",
    "a5": "A5 (148 × 210 mm)",
}

_DOCX_STYLE_LABELS = {
    "manuscript": "Standard manuscript format (for agents and editors)",
    "book": "Book layout",
}


class BookDetailsDialog(QDialog):
    def __init__(self, meta: BookMeta, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Book Details")
        self.setObjectName("bookDetails")
        self.meta = meta
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        for name, label in (
            ("title", "Title"),
            ("subtitle", "Subtitle"),
            ("author", "Author(s)"),
            ("company", "Company or imprint"),
            ("language", "Language (e.g. en, fr)"),
            ("rights", "Rights"),
            ("cover", "Cover image"),
            ("present_notice", "Present mode notice"),
        ):
            edit = QLineEdit(getattr(meta, name))
            self.fields[name] = edit
            if name == "cover":
                row = QHBoxLayout()
                row.addWidget(edit, 1)
                browse = QPushButton("Choose…")
                browse.clicked.connect(self._choose_cover)
                row.addWidget(browse)
                form.addRow(label + ":", row)
            else:
                form.addRow(label + ":", edit)
        self.fields["present_notice"].setPlaceholderText(
            "A second line for the banner of View ▸ Present, e.g. “This application has not "
            "yet been approved for launch”"
        )
        self.description = QPlainTextEdit(meta.description)
        self.synopsis = QPlainTextEdit(meta.synopsis)
        self.notes = QPlainTextEdit(meta.notes)
        for widget in (self.description, self.synopsis, self.notes):
            widget.setMaximumHeight(90)
        form.addRow("Description:", self.description)
        form.addRow("Synopsis (sent to the model as context):", self.synopsis)
        form.addRow("Notes (sent to the model as context):", self.notes)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setStyleSheet("color: #D55E00")
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _choose_cover(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Cover Image", str(Path.home()), "Images (*.png *.jpg *.jpeg)"
        )
        if path:
            self.fields["cover"].setText(path)

    def result_meta(self) -> BookMeta:
        data = self.meta.to_dict()
        data.update({name: edit.text().strip() for name, edit in self.fields.items()})
        data["description"] = self.description.toPlainText().strip()
        data["synopsis"] = self.synopsis.toPlainText().strip()
        data["notes"] = self.notes.toPlainText().strip()
        return BookMeta.from_dict(data)

    def _accept(self) -> None:
        meta = self.result_meta()
        if not meta.title:
            self.error.setText("The book needs a title.")
            return
        if not (meta.author or meta.company):
            self.error.setText(
                "Attribute the book to an author or a company: publishers require it."
            )
            return
        if meta.cover and not Path(meta.cover).is_file():
            self.error.setText(f"The cover image {meta.cover} does not exist.")
            return
        self.accept()


class ForewordDialog(QDialog):
    """Preview the generated foreword, or reword it; the check lists what a rewording lacks."""

    def __init__(
        self,
        generated: str,
        custom: str,
        check: Callable[[str], list[str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Foreword")
        self.setObjectName("forewordDialog")
        self.generated = generated
        self.check = check
        intro = QLabel(
            "The foreword comes first in every export. It is written from the measured roles; you "
            "may reword it, as long as it still names the models, states the shares and says "
            "you take responsibility."
        )
        intro.setWordWrap(True)
        self.editor = QPlainTextEdit(custom or generated)
        self.editor.setObjectName("forewordText")
        self.table = QCheckBox("Add a table of roles per chapter")
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setObjectName("forewordProblems")
        reset = QPushButton("Use the Generated Foreword")
        reset.clicked.connect(lambda: self.editor.setPlainText(self.generated))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.table)
        layout.addWidget(reset, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.problems)
        layout.addWidget(buttons)
        self.editor.textChanged.connect(self._recheck)
        self.resize(700, 480)
        self._recheck()

    def text(self) -> str:
        return self.editor.toPlainText().strip()

    def is_custom(self) -> bool:
        return " ".join(self.text().split()) != " ".join(self.generated.split())

    def _recheck(self) -> None:
        problems = self.check(self.text()) if self.is_custom() else []
        if problems:
            self.problems.setText("⚠ Export will refuse this wording: " + "; ".join(problems) + ".")
        else:
            self.problems.setText(
                "✓ It states the measured facts."
                if self.is_custom()
                else "This is the generated foreword."
            )

    def _accept(self) -> None:
        self.accept()


class ExportDialog(QDialog):
    def __init__(
        self, default_dir: Path, title: str, screening_text: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setObjectName("exportDialog")
        self.default_dir = default_dir
        self.title = title
        self.format = QComboBox()
        for fmt, label in _FORMAT_LABELS.items():
            self.format.addItem(label, fmt)
        self.target = QLineEdit()
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        self.styling = QCheckBox("Mark AI passages subtly, with a legend (EPUB, HTML, DOCX, PDF)")
        self.folder = QCheckBox("Markdown: one file per chapter, in a folder")
        self.docx_style = QComboBox()
        self.docx_style.setObjectName("docxStyle")
        for style, label in _DOCX_STYLE_LABELS.items():
            self.docx_style.addItem(label, style)
        self.trim = QComboBox()
        self.trim.setObjectName("pdfTrim")
        for trim, label in _TRIM_LABELS.items():
            self.trim.addItem(label, trim)
        self.trim.setCurrentIndex(self.trim.findData("5.5x8.5"))
        screening = QLabel("Content screening: " + screening_text)
        screening.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.target, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Format:", self.format)
        form.addRow("File:", row)
        form.addRow("DOCX style:", self.docx_style)
        form.addRow("PDF page size:", self.trim)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        for widget in (self.styling, self.folder, screening):
            layout.addWidget(widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.format.currentIndexChanged.connect(self._suggest)
        self._suggest()

    def chosen_format(self) -> ExportFormat:
        return ExportFormat(self.format.currentData())

    def _suggest(self) -> None:
        fmt = self.chosen_format()
        self.docx_style.setEnabled(fmt is ExportFormat.DOCX)
        self.trim.setEnabled(fmt is ExportFormat.PDF)
        stem = self.title or "book"
        name = (
            f"{stem} - provenance report.html"
            if fmt is ExportFormat.REPORT
            else stem + SUFFIXES[fmt]
        )
        current = Path(self.target.text()) if self.target.text() else self.default_dir / name
        self.target.setText(str(current.with_name(name)))

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.target.text())
        if path:
            self.target.setText(path)

    def options(self) -> ExportOptions:
        return ExportOptions(
            provenance_styling=self.styling.isChecked(),
            markdown_folder=self.folder.isChecked(),
            docx_style=str(self.docx_style.currentData()),
            trim=str(self.trim.currentData()),
        )


class ScreeningDialog(QDialog):
    """Flagged passages: go to one to edit it, or record an override with a reason."""

    def __init__(
        self, summary: ScreeningSummary, titles: dict[int, str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Content Screening")
        self.setObjectName("screeningDialog")
        self.summary = summary
        self.chosen: tuple[str, Flag] | None = None
        blocking = [f for f in summary.flags if not f.override]
        count = len(blocking)
        intro = QLabel(
            f"{summary.note.rstrip('.')}. {count} passage{'s' if count != 1 else ''} "
            "block export until you edit them or record why they may be published as they are."
            + (f"\n{summary.error}" if summary.error else "")
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        for flag in summary.flags:
            state = f"overridden: {flag.override}" if flag.override else "blocks export"
            item = QListWidgetItem(
                f"{titles.get(flag.chapter_id, '?')}, characters {flag.start}-{flag.end}: "
                f"{', '.join(flag.categories)} ({flag.source}) — {state}"
            )
            item.setData(Qt.ItemDataRole.UserRole, flag)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        go = buttons.addButton("Go to Passage", QDialogButtonBox.ButtonRole.ActionRole)
        override = buttons.addButton(
            "Override with a Reason…", QDialogButtonBox.ButtonRole.ActionRole
        )
        go.clicked.connect(lambda: self._choose("go"))
        override.clicked.connect(lambda: self._choose("override"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(700, 360)

    def _choose(self, action: str) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.chosen = (action, item.data(Qt.ItemDataRole.UserRole))
            self.accept()


_CHECKED = ("checked",)
"""Reported by the export's worker once it has read the file: autosave may go on."""


@dataclass(frozen=True)
class _Refusal:
    """The export refused (gate, foreword, record): shown on the GUI thread."""

    error: Exception


class PublishController(QObject):
    def __init__(self, workspace: Workspace, ai: AiController) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self.ai = ai
        self.job: Job | None = None
        self.progress: QProgressDialog | None = None
        self._signed_note = ""
        self._screening: ScreeningSummary | None = None
        self._holding = False
        self._fmt = ExportFormat.EPUB
        self._target = Path()
        self.outcome: str | None = None
        self.screen_job: Job | None = None
        self.screen_progress: QProgressDialog | None = None
        self.screening: ScreeningSummary | None = None
        """The last Screen Content result (None while it runs)."""
        """What the last export came to: "exported", "refused", "failed" (None: running)."""
        self.actions: list[QAction] = []
        """The Book menu's actions (``menus.build_menus`` places them); they need a project."""
        for text, slot, shortcut in (
            ("Book &Details…", self.edit_details, "Ctrl+Shift+D"),
            ("&Foreword…", self.edit_foreword, None),
            ("&Screen Content…", self.screen_content, None),
            ("&Export…", self.export_dialog, "Ctrl+E"),
        ):
            action = QAction(text, self)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            self.actions.append(action)

    # -- details and foreword ---------------------------------------------------------------

    def edit_details(self) -> None:
        project = self.workspace.project
        if project is None:
            return
        dialog = BookDetailsDialog(project.meta, self.workspace.window)
        if dialog.exec():
            project.set_meta(dialog.result_meta())
            self.workspace.mark_dirty()
            self.workspace.meta_changed.emit()

    def edit_foreword(self) -> None:
        project = self.workspace.project
        if project is None:
            return
        roles = measure_roles(project.chapters, project.generations)
        generated = render_foreword(project.meta, roles, self.template_dirs())
        facts = foreword_facts(roles)
        dialog = ForewordDialog(
            generated,
            project.meta.foreword,
            lambda text: check_foreword(text, facts),
            self.workspace.window,
        )
        dialog.table.setChecked(project.meta.foreword_table.lower() in ("yes", "true", "1"))
        if dialog.exec():
            data = project.meta.to_dict()
            data["foreword"] = dialog.text() if dialog.is_custom() else ""
            data["foreword_table"] = "yes" if dialog.table.isChecked() else "no"
            project.set_meta(BookMeta.from_dict(data))
            self.workspace.mark_dirty()

    def template_dirs(self) -> list[Path]:
        return [self.workspace.settings.data_dir / "templates"]

    # -- screening --------------------------------------------------------------------------

    def _moderator(self) -> OpenAIModerator | None:
        """The OpenAI moderation endpoint when OpenAI is the configured provider, else None."""
        return moderator_for(self.ai.providers.config)

    def screen_content(self) -> bool:
        """Start screening the book in a worker job (the moderation service may take minutes
        to answer or fail); False if it cannot start. The result arrives on the GUI thread:
        ``screening`` holds it and its dialog or message is shown."""
        ws = self.workspace
        project = ws.project
        if project is None:
            return False
        if self.screen_job is not None and self.screen_job.running:
            ws.show_message("Content screening is still running.", 5000)
            return False
        run = screening_of(project)  # copied here: the project stays on the GUI thread
        moderator = self._moderator()
        self.screening = None
        self.screen_progress = job_progress(
            ws.window, "Screening the book…", 0, "screeningProgress"
        )
        ws.show_message("Screening the book…")

        def work(_report: Callable[[object], None], _cancel: threading.Event) -> object:
            try:
                return run(moderator)
            finally:
                if moderator is not None:
                    moderator.close()

        self.screen_job = Job(work, self)
        self.screen_job.finished.connect(self._on_screened)
        self.screen_job.failed.connect(self._on_screening_failed)
        self.screen_job.start()
        return True

    def _close_screen_progress(self) -> None:
        if self.screen_progress is not None:
            self.screen_progress.close()
        self.workspace.show_message("", 1)

    def _on_screened(self, result: object) -> None:
        self._close_screen_progress()
        assert isinstance(result, ScreeningSummary)
        self.screening = result
        self.show_screening(result)

    def _on_screening_failed(self, message: str) -> None:
        self._close_screen_progress()
        self.workspace.show_error("Content screening failed", message)

    def show_screening(self, summary: ScreeningSummary) -> None:
        project = self.workspace.project
        if project is None:
            return
        if not summary.flags:
            if summary.fell_back:
                self.warn_fallback(summary, "Nothing was flagged by the offline checker.")
                return
            self.workspace.show_message(f"{summary.note} Nothing was flagged.", 8000)
            return
        dialog = ScreeningDialog(
            summary, {c.id: c.title for c in project.chapters}, self.workspace.window
        )
        if not dialog.exec() or dialog.chosen is None:
            return
        action, flag = dialog.chosen
        if action == "go":
            self.ai.go_to_range(flag.chapter_id, flag.start, flag.end)
            return
        reason, ok = QInputDialog.getMultiLineText(
            self.workspace.window,
            "Override",
            f"Why may this passage ({', '.join(flag.categories)}) be published as it is? "
            "The reason appears in the provenance report.",
        )
        reviewer = self.ai.reviewer_name() if ok and reason.strip() else None
        if reviewer:
            project.record_override(flag.text_hash, flag.categories, reason, reviewer)
            self.workspace.mark_dirty()

    def warn_fallback(self, summary: ScreeningSummary, outcome: str) -> None:
        """Say that the chosen moderation service failed and the offline checker screened the
        text instead: never silently."""
        self.workspace.show_message(summary.statement, 15000)
        QMessageBox.warning(
            self.workspace.window,
            "Screened Offline",
            f"{summary.statement}\n\n{summary.error}\n\n{outcome}",
        )

    # -- export -----------------------------------------------------------------------------

    def export_dialog(self) -> None:
        session = self.workspace.session
        if session is None:
            return
        screening = (
            "the OpenAI moderation endpoint, plus Coauthor's phrase checker for campaigning and spam."
            if self._moderator() is not None
            else OFFLINE_DESCRIPTION
        )
        # The folder of the last export, while it exists; else the book's.
        remembered = self.workspace.settings.export_dir
        folder = Path(remembered) if remembered and Path(remembered).is_dir() else None
        dialog = ExportDialog(
            folder or session.path.parent,
            session.project.meta.title,
            screening,
            self.workspace.window,
        )
        if dialog.exec():
            target = Path(dialog.target.text())
            self.workspace.settings.export_dir = str(target.parent)
            self.export(dialog.chosen_format(), target, dialog.options())

    def export(self, fmt: ExportFormat, target: Path, options: ExportOptions) -> bool:
        """Start the export in a worker job; False (after saying why) if it cannot start.

        What happened arrives later on the GUI thread: ``outcome`` becomes "exported",
        "refused" (the gate, the foreword, the record; its dialog is shown) or "failed"."""
        ws = self.workspace
        session = ws.session
        if session is None:
            return False
        if self.job is not None and self.job.running:
            ws.show_message("An export is still running.", 5000)
            return False
        # The author's key signs the manifest; its public half goes into the chain first, so
        # the chain head the manifest names holds it.
        key, unsigned = signing_key(session.project.meta.author)
        if key is not None:
            session.project.record_signing_key(key.fingerprint, key.public_key_b64, key.name)
        session.flush()
        if session.project.history.pending:
            ws.show_error(
                "Export refused",
                "The latest changes could not be saved yet, so the export would not match the "
                "record; the work is kept, try again once the red banner is gone.",
            )
            return False
        # What is on screen now, copied: the worker compares the replayed record with it while
        # the author goes on writing (those changes stay in memory until the file is read).
        shown = shown_state(session.project)
        moderator = self._moderator()
        template_dirs = self.template_dirs()
        path = session.path
        self.outcome = None
        self._screening = None
        self._fmt, self._target = fmt, target
        self._signed_note = (
            f", signed by {key.name or 'the author'} ({key.fingerprint})"
            if key is not None
            else f"; not signed: {unsigned}"
        )
        self.progress = job_progress(ws.window, f"Exporting {target.name}…", 100, "exportProgress")

        def work(report: Callable[[object], None], _cancel: threading.Event) -> object:
            try:
                return export_book(
                    path,
                    fmt,
                    target,
                    options=options,
                    moderator=moderator,
                    template_dirs=template_dirs,
                    key=key,
                    unsigned_reason=unsigned,
                    shown=shown,
                    progress=lambda done, total, what: report((done, total, what)),
                    on_checked=lambda: report(_CHECKED),
                    on_screening=report,
                )
            except (ExportRefused, ChainMismatch, ExportDiffers) as exc:
                return _Refusal(exc)
            finally:
                if moderator is not None:
                    moderator.close()

        session.hold_writes()
        self._holding = True
        self.job = Job(work, self)
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self._on_done)
        self.job.failed.connect(self._on_failed)
        self.job.start()
        return True

    def _release(self) -> None:
        if self._holding and self.workspace.session is not None:
            self.workspace.session.release_writes()
        self._holding = False

    def _on_progress(self, item: object) -> None:
        if item is _CHECKED:
            self._release()
            return
        if isinstance(item, ScreeningSummary):
            self._screening = item
            if item.fell_back:
                self.warn_fallback(
                    item,
                    f"The export to {self._target.name} goes on with the offline result"
                    + (
                        ", and its provenance report says so."
                        if self._fmt is ExportFormat.REPORT
                        else "."
                    ),
                )
            return
        done, total, what = item  # type: ignore[misc]
        if self.progress is not None and total:
            self.progress.setValue(round(100 * done / total))
            self.progress.setLabelText(str(what))

    def _on_done(self, result: object) -> None:
        self._release()
        if self.progress is not None:
            self.progress.close()
        if isinstance(result, _Refusal):
            self.outcome = "refused"
            self._refused(result.error)
            return
        assert isinstance(result, ExportResult)
        self.outcome = "exported"
        screening = result.screening
        fallback = f". {screening.statement}" if screening.fell_back else ""
        self.workspace.show_message(
            f"Exported to {result.path}{self._signed_note}{fallback}", 10000
        )

    def _refused(self, error: Exception) -> None:
        ws = self.workspace
        if isinstance(error, ExportRefused):
            if error.gate is not None:
                pending = [p for p in error.gate.passages if p.reason == "pending"]
                if pending or self._screening is None:
                    gate_dialog = GateDialog(f"Export to {self._fmt.value}", error.gate, ws.window)
                    gate_dialog.go_to_requested.connect(self.ai.go_to_passage)
                    gate_dialog.exec()
                else:
                    self.show_screening(self._screening)
            else:
                ws.show_error("The foreword needs attention", str(error))
        elif isinstance(error, ChainMismatch):
            ws.show_error("Export refused", f"{error}.")
        else:
            ws.show_error("Export refused", str(error))

    def _on_failed(self, message: str) -> None:
        self._release()
        self.outcome = "failed"
        if self.progress is not None:
            self.progress.close()
        # An ExportWriteError (a folder in the way, a read-only or full disk) is already the
        # sentence `coauthor export` prints, saying that nothing was changed.
        if not message.rstrip().endswith("nothing was changed."):
            message = f"{message.rstrip()} The previous file, if any, is untouched."
        self.workspace.show_error("Export failed", message)

    def wait(self) -> None:
        """Block until the export's and the screening's jobs end (for tests and shutdown)."""
        for job in (self.job, self.screen_job):
            if job is not None:
                job.wait()
