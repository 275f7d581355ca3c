"""Generation and review in the main window: the AI panel, the review queue and the gate.

One controller wires the AI panel, the review queue, the model settings and the share path to
the workspace's editor and project (it never sees the main window). Generation runs in a ``Job`` thread; its records are added
to the project whatever the outcome, and text enters the manuscript only through Insert.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QTextCursor
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QMessageBox,
)

from coauthor.ai.embedded import EmbeddedServer
from coauthor.ai.errors import FailureKind
from coauthor.ai.prompts import Mode, build_request
from coauthor.ai.service import GenerationRun, ProviderConfig, ProviderKind, Providers, generate
from coauthor.app.export import screening_of
from coauthor.core.book import Chapter
from coauthor.core.generation import Outcome, ReviewState
from coauthor.core.models import model_identity
from coauthor.core.origin import Origin
from coauthor.core.policy import Scope, check_gate, generation_ranges
from coauthor.core.project import now_ms
from coauthor.publish.document import ExportWriteError, atomic_write
from coauthor.publish.share import SharedText, shared_text
from coauthor.publish.sharecard import card_png
from coauthor.ui.aipanel import AiPanel
from coauthor.ui.modelsettings import ModelSettingsDialog
from coauthor.ui.reportdialog import ReportDialog
from coauthor.ui.review import GateDialog, ReviewCommand, ReviewQueue, pending_items
from coauthor.ui.sharedialog import ShareDialog
from coauthor.ui.worker import Job
from coauthor.ui.workspace import Workspace

logger = logging.getLogger(__name__)

__all__ = ["AiController"]

_SETTINGS_KEY = "provider"

_CLOSING = ",.;:!?)]}…’”—–"
"""Characters that go on from the word before them: no space before them."""
_OPENING = "([{“‘—–-/"
"""Characters the next word follows directly: no space after them."""
_BLOCK_START = re.compile(r"(#{1,6}|>|[-*+]|\d+[.)])\s")
"""Text starting a Markdown block (a heading, a quotation, a list item): a paragraph of its own."""


def joining_separators(before: str, text: str, after: str) -> tuple[str, str]:
    """The whitespace that keeps generated ``text`` from being glued to the words around it,
    when inserted after ``before`` and before ``after`` (the text either side; only their
    nearest characters count): a paragraph break before text that starts a Markdown block,
    else a space; nothing where whitespace is already there, or where punctuation joins.
    """
    lead = trail = ""
    if text and before and not before[-1].isspace() and not text[0].isspace():
        if _BLOCK_START.match(text):
            lead = "\n\n"
        elif text[0] not in _CLOSING and before[-1] not in _OPENING:
            lead = " "
    if (
        text
        and after
        and not text[-1].isspace()
        and not after[0].isspace()
        and after[0] not in _CLOSING
        and text[-1] not in _OPENING
    ):
        trail = " "
    return lead, trail


class AiController(QObject):
    job_started = Signal(object)
    """A generation's ``Job`` was made and is about to start (Present mode follows its stream)."""

    def __init__(self, workspace: Workspace, embedded: EmbeddedServer | None = None) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self.providers = Providers(self.load_config(), embedded or EmbeddedServer())
        self.job: Job | None = None
        self.run: GenerationRun | None = None
        self.request_context: tuple[int, int, int] | None = None  # chapter id, start, end
        self.request_mode: Mode = Mode.CONTINUE
        # When each generation was first on screen (monotonic seconds): approval needs it,
        # and records how long the passage had been shown.
        self.shown: dict[str, float] = {}

        # The docks; the main window places them.
        self.panel = AiPanel()
        self.ai_dock = QDockWidget("AI", workspace.window)
        self.ai_dock.setObjectName("aiDock")
        self.ai_dock.setWidget(self.panel)
        self.queue = ReviewQueue()
        self.review_dock = QDockWidget("Review", workspace.window)
        self.review_dock.setObjectName("reviewDock")
        self.review_dock.setWidget(self.queue)

        # The actions; ``menus.build_menus`` puts them in the AI menu.
        self.generate_action = QAction("&Generate", self)
        self.generate_action.setShortcut(QKeySequence("Ctrl+G"))
        self.generate_action.triggered.connect(self._generate_from_menu)
        self.review_action = QAction("&Review Queue", self)
        self.review_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.review_action.triggered.connect(self.show_queue)
        self.share_action = QAction("&Share Passage…", self)
        self.share_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.share_action.triggered.connect(self.share_passage)
        self.share_dialog: ShareDialog | None = None
        self.settings_action = QAction("&Model Settings…", self)
        self.settings_action.triggered.connect(self.open_settings)

        self.panel.generate_requested.connect(self.start_generation)
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.insert_requested.connect(self.insert)
        self.panel.settings_requested.connect(self.open_settings)
        self.queue.go_to_requested.connect(self.go_to_generation)
        self.queue.approve_requested.connect(self.approve)
        self.queue.reject_requested.connect(self.confirm_reject)
        self.queue.edit_requested.connect(self.edit_generation)
        self.queue.report_requested.connect(self.report_generation)
        self.panel.report_requested.connect(self.report_shown)
        workspace.project_opened.connect(lambda _: self.refresh())
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(500)
        self._refresh_timer.timeout.connect(self.refresh)
        # Straight to the timer (``schedule_refresh``): the window emits this on every keystroke.
        workspace.content_changed.connect(self._refresh_timer.start)
        workspace.editor.verticalScrollBar().valueChanged.connect(self.schedule_refresh)
        workspace.editor.report_requested.connect(self.report_generation)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.update_provider_status()

    # -- settings ---------------------------------------------------------------------------

    def load_config(self) -> ProviderConfig:
        raw = self.workspace.settings.qsettings.value(_SETTINGS_KEY, "")
        try:
            return ProviderConfig.from_dict(json.loads(str(raw))) if raw else ProviderConfig()
        except ValueError:
            return ProviderConfig()

    def save_config(self, config: ProviderConfig) -> None:
        self.workspace.settings.qsettings.setValue(_SETTINGS_KEY, json.dumps(config.to_dict()))
        if (
            config.kind is ProviderKind.EMBEDDED
            and config.model_path != self.providers.config.model_path
        ):
            self.providers.embedded.stop()
            self.providers.embedded = EmbeddedServer(
                None if not config.model_path else Path(config.model_path)
            )
        self.providers.config = config
        self.update_provider_status()

    def open_settings(self) -> None:
        dialog = ModelSettingsDialog(
            self.providers.config, self.providers.embedded, self.workspace.window
        )
        if dialog.exec():
            self.save_config(dialog.config())
        dialog.wait_for_checks()

    def update_provider_status(self) -> None:
        config = self.providers.config
        if config.kind is ProviderKind.EMBEDDED:
            self.panel.set_provider_status(self.providers.embedded.status())
        else:
            where = config.base_url or "api.openai.com"
            self.panel.set_provider_status(
                f"{config.kind.value}: {model_identity(self.providers.model_name())} at {where}"
            )

    # -- generating -------------------------------------------------------------------------

    def _generate_from_menu(self) -> None:
        self.ai_dock.show()
        self.ai_dock.raise_()
        self.panel._request()

    def start_generation(
        self, mode: Mode, instruction: str, temperature: float, max_tokens: int
    ) -> None:
        ws = self.workspace
        project, chapter = ws.project, ws.chapter
        if project is None or chapter is None:
            self.panel.show_note("Open a chapter first.", error=True)
            return
        if self.job is not None and self.job.running:
            return
        start, end = ws.editor.selection_range()
        if mode in (Mode.REWRITE, Mode.EXPAND) and start == end:
            self.panel.show_note("Select the passage to rewrite or expand first.", error=True)
            return
        if mode is Mode.PROMPT and not instruction:
            self.panel.show_note("Write the prompt in the instruction field.", error=True)
            return
        text = chapter.text
        request = build_request(
            mode,
            before=text.text_in(0, start),
            selection=text.text_in(start, end),
            instruction=instruction,
            synopsis=project.meta.synopsis,
            notes=project.meta.notes,
            temperature=temperature,
            max_tokens=max_tokens,
            context_tokens=self.providers.config.context_tokens,
        )
        self.request_context = (chapter.id, start, end)
        self.request_mode = mode
        ids = [project.new_generation_id() for _ in range(request.alternatives + 3)]
        providers = self.providers
        chapter_id = chapter.id

        def work(report: Callable[[object], None], cancel: threading.Event) -> GenerationRun:
            return generate(
                providers,
                request,
                new_id=lambda: ids.pop(0),
                clock=now_ms,
                chapter_id=chapter_id,
                on_delta=lambda i, t: report(("delta", i, t)),
                on_wait=lambda s, attempt, why: report(("wait", s, attempt, why)),
                on_note=lambda note: report(("note", note)),
                cancel=cancel,
            )

        self.panel.start(request.alternatives)
        if (
            providers.config.kind is ProviderKind.EMBEDDED
            and providers.embedded.state.value != "running"
        ):
            self.panel.show_note("Starting the local model…")
        self.job = Job(work, self)
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self._on_finished)
        self.job.failed.connect(self._on_failed)
        self.job_started.emit(self.job)
        self.job.start()

    def _on_progress(self, item: object) -> None:
        kind, *rest = item  # type: ignore[misc]
        if kind == "delta":
            index, text = rest
            self.panel.append(index, text)
        elif kind == "wait":
            seconds, attempt, why = rest
            self.panel.show_note(
                f"The server is busy ({why}); trying again in {seconds:g} s (attempt {attempt + 1})."
            )
        elif kind == "note":
            self.panel.show_note(rest[0])
        self.update_provider_status()

    def _on_finished(self, run: GenerationRun) -> None:
        project = self.workspace.project
        self.run = run
        if project is not None:
            for record in run.records:
                project.add_generation(record)
            self.workspace.mark_dirty()
        outputs = [record.output for record in run.records]
        usable = any(record.output for record in run.records)
        self.panel.finish(outputs, usable=usable)
        self.panel.note.clear()
        for note in run.notes:
            self.panel.show_note(note)
        if run.error is None and any(r.outcome is Outcome.CANCELLED for r in run.records):
            # Stopped by the author (Cancel): the stream ends without an error, but the text
            # is partial and must not be announced as done.
            self.panel.show_note(
                f"Cancelled: {sum(len(o) for o in outputs):,} characters arrived before you "
                "stopped it; they are kept in the record"
                + (". Insert them only if you want them." if usable else ".")
            )
        elif run.error is None and run.records:
            first = run.records[0]
            seconds = first.timing.get("total_s") or 0
            self.panel.show_note(
                f"Done: {sum(len(o) for o in outputs):,} characters from "
                f"{model_identity(first.model, first.provider)} in "
                f"{float(seconds):.1f} s ({', '.join(r.id for r in run.records)}). Insert puts it in "  # type: ignore[arg-type]
                "the manuscript as AI text pending your review."
            )
        if run.error is not None:
            cancelled = any(r.outcome is Outcome.CANCELLED and r.output for r in run.records)
            suffix = " Insert it only if you want it." if cancelled else ""
            self.panel.show_note(
                str(run.error) + suffix,
                error=run.error.kind is not FailureKind.CANCELLED,
                settings_link=run.error.opens_settings,
            )
        self.update_provider_status()

    def _on_failed(self, message: str) -> None:
        self.panel.finish([], usable=False)
        self.panel.show_note(f"The generation failed: {message}", error=True)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def insert(self, index: int) -> None:
        ws = self.workspace
        run, project, chapter = self.run, ws.project, ws.chapter
        if run is None or project is None or chapter is None or index >= len(run.records):
            return
        record = run.records[index]
        if not record.output or record.id not in project.generations:
            return
        if project.has_text_in_book(record.id):
            # A second click would put the same generation in twice.
            self.panel.mark_inserted(index)
            self.panel.show_note(f"{record.id} is already in the manuscript.")
            return
        if (
            self.request_context
            and self.request_context[0] == chapter.id
            and self.request_mode in (Mode.REWRITE, Mode.EXPAND)
        ):
            _, start, end = self.request_context
            ws.editor.select_range(start, min(end, len(chapter.text)))
        added = self._insert_joined(record.output, record.id)
        self.mark_shown(record.id)  # it was just read in the preview and is now on screen
        self.panel.mark_inserted(index)
        self.panel.show_note(
            f"Inserted as AI text pending your review ({record.id})"
            + (f", with {added}, recorded as your text." if added else ".")
        )
        self.schedule_refresh()

    def _insert_joined(self, output: str, generation_id: str) -> str:
        """Insert a generation at the cursor (replacing the selection), with the space or
        paragraph break the text either side needs (``joining_separators``); one undo step.

        The separators are not the model's text: they are recorded as the author's (human)
        text, in edits of their own in the history, as if typed; the generation's own
        characters stay exactly what the model returned. Returns what was added, in words
        for the note ("" when nothing was).
        """
        ws = self.workspace
        editor, chapter = ws.editor, ws.chapter
        assert chapter is not None
        start, end = editor.selection_range()
        text = chapter.text
        lead, trail = joining_separators(
            text.text_in(max(0, start - 1), start),
            output,
            text.text_in(end, min(len(text), end + 1)),
        )
        stack = ws.chapter_stacks.get(chapter.id) if lead or trail else None
        if stack is not None:
            stack.beginMacro(f"Insert {generation_id}")
        try:
            editor.insert_generated(output, generation_id)
            after = editor.selection_range()[1]
            if trail:
                editor.go_to(after)
                editor.insert_with_origin(trail, Origin.HUMAN)
            if lead:
                editor.go_to(start)
                editor.insert_with_origin(lead, Origin.HUMAN)
            if lead or trail:
                editor.go_to(after + len(lead))  # the cursor at the end of the model's text
        finally:
            if stack is not None:
                stack.endMacro()
        names = [
            ("a paragraph break" if sep == "\n\n" else "a space") + where
            for sep, where in ((lead, " before it"), (trail, " after it"))
            if sep
        ]
        return " and ".join(names)

    # -- review -----------------------------------------------------------------------------

    def schedule_refresh(self) -> None:
        """Refresh the review queue half a second after the last edit or scroll (every edit
        restarts the same timer, through ``content_changed``: typing can remove a pending
        passage). Not while the author types on: in a book with hundreds of pending passages
        a refresh takes milliseconds."""
        self._refresh_timer.start()

    def refresh(self) -> None:
        project = self.workspace.project
        if project is None:
            self.queue.set_items([])
            return
        self._mark_visible_as_shown()
        self.queue.set_items(pending_items(project))

    def mark_shown(self, generation_id: str, since: float | None = None) -> None:
        """Note that the passage is on screen (``since``: when it first was, monotonic
        seconds, if earlier than now, e.g. as it streamed into Present mode's private pane)."""
        self.shown.setdefault(generation_id, time.monotonic() if since is None else since)

    def shown_ms(self, generation_id: str) -> int | None:
        """How long the passage has been shown, in milliseconds (None: never shown)."""
        first = self.shown.get(generation_id)
        return None if first is None else max(1, int((time.monotonic() - first) * 1000))

    def _mark_visible_as_shown(self) -> None:
        ws, chapter, project = self.workspace, self.workspace.chapter, self.workspace.project
        if chapter is None or project is None or not ws.editor.isVisible():
            return
        viewport = ws.editor.viewport()
        top = ws.editor.cursorForPosition(viewport.rect().topLeft()).position()
        bottom = ws.editor.cursorForPosition(viewport.rect().bottomRight()).position()
        start, end = ws.editor.to_code_point(top), ws.editor.to_code_point(bottom)
        for _, origin, ref in chapter.text.runs_in(start, max(end, start + 1)):
            if origin is Origin.AI and ref:
                self.mark_shown(ref)

    def show_queue(self) -> None:
        self.review_dock.show()
        self.review_dock.raise_()
        self.refresh()
        self.queue.tree.setFocus()

    def _locate(self, generation_id: str) -> tuple[int, int, int] | None:
        project = self.workspace.project
        if project is None:
            return None
        for chapter in project.chapters:
            ranges = generation_ranges(chapter, generation_id)
            if ranges:
                return chapter.id, ranges[0][0], ranges[-1][1]
        return None

    def go_to_generation(self, generation_id: str) -> None:
        place = self._locate(generation_id)
        if place is None:
            return
        self.go_to_range(*place)
        self.mark_shown(generation_id)

    def go_to_range(self, chapter_id: int, start: int, end: int) -> None:
        """Show ``start``..``end`` of the chapter, selected: the model's text in it has now
        been shown (approving it needs that)."""
        self.workspace.go_to(chapter_id, start, end)
        project = self.workspace.project
        if project is None or start >= end:
            return
        chapter = project.chapter(chapter_id)
        for _, origin, ref in chapter.text.runs_in(start, min(end, len(chapter.text))):
            if origin is Origin.AI and ref:
                self.mark_shown(ref)

    def go_to_passage(self, chapter_id: int, start: int, end: int) -> None:
        """Go to Passage from a refusal (export, share): show it, and open the review queue
        on its generation, so A approves it there."""
        self.go_to_range(chapter_id, start, end)
        project = self.workspace.project
        self.show_queue()
        if project is None:
            return
        chapter = project.chapter(chapter_id)
        refs = [
            ref
            for _, origin, ref in chapter.text.runs_in(start, min(end, len(chapter.text)))
            if origin is Origin.AI and ref
        ]
        if refs:
            self.queue.select(refs[0])

    def edit_generation(self, generation_id: str) -> None:
        """Edit (E): go to the passage with the cursor at its end (not selecting it, so the
        first key typed does not replace it) and put the focus in the editor."""
        place = self._locate(generation_id)
        self.go_to_generation(generation_id)
        if place is not None:
            self.workspace.editor.go_to(place[2])
        self.workspace.editor.setFocus()

    def reviewer_name(self) -> str | None:
        """Who reviews: the name in Preferences, else the book's author (Book Details), else
        asked once and remembered."""
        name = self.workspace.settings.reviewer_name
        if name:
            return name
        project = self.workspace.project
        if project is not None and project.meta.author.strip():
            return project.meta.author.strip()
        name, ok = QInputDialog.getText(
            self.workspace.window, "Reviewer", "Your name, recorded with each review you make:"
        )
        if not ok or not name.strip():
            return None
        self.workspace.settings.reviewer_name = name.strip()
        return name.strip()

    def approve(self, generation_id: str) -> bool:
        project = self.workspace.project
        if project is None or generation_id not in project.generations:
            return False
        self._mark_visible_as_shown()  # on screen now counts as shown
        if generation_id not in self.shown:
            self._say(f"Read the passage first: press Enter to go to {generation_id}.")
            return False
        shown_ms = self.shown_ms(generation_id)
        problem = project.review_refusal(generation_id, ReviewState.APPROVED, shown_ms)
        if problem:
            self._say(f"Not approved: {problem}.")
            self.refresh()
            return False
        reviewer = self.reviewer_name()
        if reviewer is None:
            return False
        self._push_review(generation_id, ReviewState.APPROVED, reviewer, shown_ms)
        return True

    def _say(self, text: str) -> None:
        """A review message: in the status bar for a while, and in full in the queue (the
        status bar cuts long messages off)."""
        self.workspace.show_message(text, 8000)
        self.queue.show_note(text)

    def confirm_reject(self, generation_id: str) -> bool:
        """Reject (R) from the queue: shows the passage and asks first, then says how to
        take it back."""
        project = self.workspace.project
        place = self._locate(generation_id)
        if project is None or place is None:
            return False
        self.go_to_generation(generation_id)  # what would go, in sight while asked
        chapter_id, start, end = place
        words = project.chapter(chapter_id).text.text_in(start, min(end, start + 200)).split()
        first = " ".join(words[:8]) + ("…" if len(words) > 8 else "")
        answer = QMessageBox.question(
            self.workspace.window,
            "Reject Passage",
            f"Reject {generation_id} (“{first}”)? Its text ({end - start:,} characters) is "
            "removed from the chapter; Edit ▸ Undo brings it back.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes or not self.reject(generation_id):
            return False
        self._say(f"Rejected {generation_id}: its text was removed. Edit ▸ Undo brings it back.")
        return True

    def reject(self, generation_id: str) -> bool:
        ws = self.workspace
        project = ws.project
        place = self._locate(generation_id)
        if project is None or place is None:
            return False
        reviewer = self.reviewer_name()
        if reviewer is None:
            return False
        chapter = project.chapter(place[0])
        ws.show_chapter(chapter)
        stack = ws.chapter_stacks.get(chapter.id)
        if stack is not None:
            stack.beginMacro(f"Reject {generation_id}")
        try:
            for start, end in reversed(generation_ranges(chapter, generation_id)):
                cursor = QTextCursor(ws.editor.document())
                cursor.setPosition(ws.editor.to_utf16(start))
                cursor.setPosition(ws.editor.to_utf16(end), QTextCursor.MoveMode.KeepAnchor)
                cursor.removeSelectedText()
            command = ReviewCommand(
                project, generation_id, ReviewState.REJECTED, reviewer, self._after_review
            )
            if stack is not None:
                stack.push(command)
            else:
                command.redo()
        finally:
            if stack is not None:
                stack.endMacro()
        return True

    def _push_review(
        self, generation_id: str, state: ReviewState, reviewer: str, shown_ms: int | None
    ) -> None:
        ws = self.workspace
        project = ws.project
        assert project is not None
        command = ReviewCommand(
            project, generation_id, state, reviewer, self._after_review, shown_ms=shown_ms
        )
        place = self._locate(generation_id)
        stack = ws.chapter_stacks.get(place[0]) if place else None
        if stack is not None:
            stack.push(command)
        else:
            command.redo()

    def _after_review(self) -> None:
        self.queue.show_note("")  # an earlier refusal no longer applies
        self.workspace.mark_dirty()
        self.workspace.reviews_changed.emit()  # the window repaints, recounts and remaps
        self.refresh()

    # -- reporting --------------------------------------------------------------------------

    def report_shown(self, index: int) -> bool:
        """Report the generation the AI panel shows (the chosen alternative)."""
        run = self.run
        if run is None or not 0 <= index < len(run.records):
            return False
        return self.report_generation(run.records[index].id)

    def report_generation(self, generation_id: str) -> bool:
        """Report Generation…: the dialog writes the file and records the report."""
        ws = self.workspace
        session = ws.session
        if session is None or generation_id not in session.project.generations:
            return False
        project = session.project
        dialog = ReportDialog(
            project,
            generation_id,
            by=ws.settings.reviewer_name or project.meta.author,
            folder=session.path.parent,
            parent=ws.window,
        )
        if not dialog.exec() or dialog.bundle is None:
            return False
        ws.mark_dirty()
        ws.show_message(
            f"Saved the report of {generation_id} to {dialog.bundle.path}. Coauthor sent nothing: "
            "send the file to the provider yourself.",
            10000,
        )
        return True

    # -- sharing ----------------------------------------------------------------------------

    def share_passage(self) -> bool:
        """Share Passage…: the selection, or with none the whole chapter, through the review
        gate (nothing pending; nothing the offline screener flags in the chapter without an
        override, screened now as ``coauthor share`` does); refused with the gate's dialog,
        else the labelled text in ``ShareDialog``, whose Copy Text and Save Image… each record
        a share (form ``text`` or ``image``) in the history."""
        ws = self.workspace
        project, chapter = ws.project, ws.chapter
        if project is None or chapter is None:
            return False
        start, end = ws.editor.selection_range()
        if start == end:
            start, end = 0, len(chapter.text)
        if start == end:
            ws.show_message("The chapter is empty: there is nothing to share.", 6000)
            return False
        summary = screening_of(project, [chapter])(None)
        result = check_gate(
            project.chapters,
            project.generations,
            Scope.selection(chapter.id, start, end),
            summary.flags,
        )
        if not result.allowed:
            dialog = GateDialog("Share passage", result, ws.window)
            dialog.go_to_requested.connect(self.go_to_passage)
            dialog.exec()
            return False
        shared = shared_text(project, chapter, start, end)
        where = (
            f"Characters {start + 1:,}–{end:,} of {chapter.title!r}"
            if (start, end) != (0, len(chapter.text))
            else f"The whole of {chapter.title!r}"
        )
        if self.share_dialog is not None:
            self.share_dialog.close()
        dialog = ShareDialog(shared, where, ws.window)
        passage = chapter.text.text_in(start, end)
        dialog.copy_requested.connect(
            lambda: self._copy_share(dialog, chapter, start, end, passage, shared)
        )
        dialog.save_requested.connect(
            lambda: self._save_share_image(dialog, chapter, start, end, passage, shared)
        )
        self.share_dialog = dialog
        dialog.open()
        return True

    def _record_share(
        self, chapter: Chapter, start: int, end: int, passage: str, form: str, sha256: str
    ) -> bool:
        """Record one share, unless the passage changed since the dialog showed it."""
        ws = self.workspace
        project = ws.project
        if (
            project is None
            or chapter not in project.chapters
            or end > len(chapter.text)
            or chapter.text.text_in(start, end) != passage
        ):
            ws.show_message("The passage changed since it was shown: share it again.", 8000)
            return False
        project.record_share(chapter, start, end, form, sha256)
        ws.mark_dirty()
        return True

    def _copy_share(
        self,
        dialog: ShareDialog,
        chapter: Chapter,
        start: int,
        end: int,
        passage: str,
        shared: SharedText,
    ) -> None:
        if not self._record_share(chapter, start, end, passage, "text", shared.sha256):
            return
        QApplication.clipboard().setText(shared.text)
        said = "Copied the passage" + (
            ", labelled as AI-generated." if shared.label else " (no model text in it)."
        )
        dialog.say(said)
        self.workspace.show_message(said, 6000)

    def _save_share_image(
        self,
        dialog: ShareDialog,
        chapter: Chapter,
        start: int,
        end: int,
        passage: str,
        shared: SharedText,
    ) -> None:
        ws = self.workspace
        session = ws.session
        folder = session.path.parent if session is not None else Path.home()
        name = "".join(c if c.isalnum() or c in " -_" else "_" for c in chapter.title).strip()
        path, _ = QFileDialog.getSaveFileName(
            dialog, "Save Image", str(folder / f"{name or 'passage'}.png"), "PNG images (*.png)"
        )
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() != ".png":
            target = target.with_name(target.name + ".png")
        try:
            png = card_png(shared)
        except (ValueError, OSError) as exc:
            dialog.say(str(exc))
            return

        def write(temp: Path) -> None:
            temp.write_bytes(png)

        try:
            atomic_write(target, write)
        except ExportWriteError as exc:
            ws.show_error("Save Image", str(exc))
            return
        if not self._record_share(
            chapter, start, end, passage, "image", hashlib.sha256(png).hexdigest()
        ):
            return
        said = f"Saved the card to {target}."
        dialog.say(said)
        ws.show_message(said, 8000)

    # -- shutdown ---------------------------------------------------------------------------

    def shutdown(self) -> None:
        if self.job is not None and self.job.running:
            self.job.cancel()
            self.job.wait(10_000)
        self.providers.close()
        self.providers.embedded.stop()
