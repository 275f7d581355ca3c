"""Present mode (View ▸ Present): writing with the model live, before an audience.

The audience view fills a screen with the chapter in large type under a banner that cannot be
hidden while presenting: "AI-generated text is marked", and the book's optional notice
(``BookMeta.present_notice``). A generation streams to the presenter's private pane (its own
window on a second screen when there is one, else a pane beside the audience view) and
reaches the audience only once the presenter approves it through the ordinary review path:
text pending review is never drawn in the audience view (the widgets are in
``ui.presentviews``). Prompts typed from audience requests are screened offline before they
are sent; a flagged one is sent only with a reason. The session's start, each generation
shown, each override and its end are ``demo`` events in the history (``Project.record_demo``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TypeVar

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QSplitter, QVBoxLayout, QWidget

from coauthor.ai.prompts import Mode
from coauthor.core.book import Chapter
from coauthor.core.generation import ReviewState
from coauthor.core.project import DemoAction, Project, ProjectError
from coauthor.screening.offline import OfflineScreener
from coauthor.screening.passages import text_hash
from coauthor.ui.aicontroller import AiController
from coauthor.ui.presentviews import AudienceView, PresenterPane
from coauthor.ui.worker import Job
from coauthor.ui.workspace import Workspace

logger = logging.getLogger(__name__)

__all__ = ["PresentController", "choose_screens"]


T = TypeVar("T")


def choose_screens(screens: Sequence[T], presenter: T | None) -> tuple[T, T | None]:
    """(audience screen, presenter's own screen or None): with two screens or more the
    audience gets one the main window is not on and the presenter keeps the main window's;
    with one, both share it (the presenter's pane sits beside the audience view)."""
    if presenter is None or presenter not in screens:
        presenter = screens[0]
    others = [s for s in screens if s is not presenter]
    if not others:
        return presenter, None
    return others[0], presenter


def _shown_in(project: Project, session: int | None) -> int:
    """How many generations the audience has seen in this session."""
    return sum(1 for e in project.demos if e.session == session and e.action is DemoAction.SHOWN)


class _PresentWindow(QWidget):
    """A top-level window of Present mode; closing it ends the presentation."""

    closing = Signal()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.closing.emit()
        event.accept()


# -- the controller ---------------------------------------------------------------------------


class PresentController(QObject):
    """Runs a presentation: the windows, the screening of prompts, the generation through the
    AI controller, approval through its review path, and the ``demo`` events."""

    def __init__(self, workspace: Workspace, ai: AiController) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self.ai = ai
        self.screener = OfflineScreener()
        self.present_action = QAction("&Present", self)
        self.present_action.setShortcut(QKeySequence("F5"))
        self.present_action.setStatusTip(
            "Present the chapter full screen to an audience; generations reach it only after "
            "you approve them"
        )
        self.present_action.triggered.connect(self.start)
        self.audience: AudienceView | None = None
        self.pane: PresenterPane | None = None
        self.audience_window: _PresentWindow | None = None
        self.presenter_window: _PresentWindow | None = None
        self.chapter: Chapter | None = None
        self.presenter = ""
        self.current: str | None = None
        """The generation in the presenter's pane, awaiting Approve && Show or Discard."""
        self._expecting = False
        self._first_seen: float | None = None
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(300)
        self._render_timer.timeout.connect(self.render)

    @property
    def presenting(self) -> bool:
        return self.audience_window is not None

    # -- start and end ------------------------------------------------------------------------

    def start(self) -> bool:
        ws = self.workspace
        project, chapter = ws.project, ws.chapter
        if self.presenting:
            return False
        if project is None or chapter is None:
            ws.show_message("Open a chapter to present first.", 6000)
            return False
        presenter = self.ai.reviewer_name()  # asked now: approving must not open a dialog
        if presenter is None:
            return False
        try:
            project.record_demo(DemoAction.START, by=presenter, chapter=chapter)
        except ProjectError as exc:
            ws.show_error("Present", str(exc))
            return False
        ws.mark_dirty()
        self.chapter, self.presenter, self.current = chapter, presenter, None
        self._build_windows(chapter)
        ws.reviews_changed.connect(self.schedule_render)
        ws.content_changed.connect(self.schedule_render)
        ws.meta_changed.connect(self.schedule_render)
        self.ai.job_started.connect(self._follow)
        self.render()
        logger.info("presentation of chapter %s started by %r", chapter.id, presenter)
        return True

    def _build_windows(self, chapter: Chapter) -> None:
        audience, pane = AudienceView(), PresenterPane()
        pane.chapter.setText(f"Presenting {chapter.title!r}.")
        pane.send_requested.connect(self.send)
        pane.send_anyway_requested.connect(self.send_anyway)
        pane.cancel_requested.connect(self.ai.cancel)
        pane.approve_requested.connect(self.approve)
        pane.discard_requested.connect(self.discard)
        pane.end_requested.connect(self.leave)
        audience.banner.locked = True
        self.audience, self.pane = audience, pane

        main_screen = self.workspace.window.screen()
        audience_screen, presenter_screen = choose_screens(QGuiApplication.screens(), main_screen)
        window = _PresentWindow()
        window.setObjectName("presentWindow")
        window.setWindowTitle("Coauthor: Present")
        row = QHBoxLayout(window)
        row.setContentsMargins(0, 0, 0, 0)
        if presenter_screen is None:
            splitter = QSplitter()
            splitter.addWidget(audience)
            splitter.addWidget(pane)
            splitter.setStretchFactor(0, 3)
            splitter.setStretchFactor(1, 1)
            splitter.setChildrenCollapsible(False)
            row.addWidget(splitter)
        else:
            row.addWidget(audience)
            own = _PresentWindow()
            own.setObjectName("presenterWindow")
            own.setWindowTitle("Coauthor: Presenter (private)")
            QVBoxLayout(own).addWidget(pane)
            own.setGeometry(presenter_screen.availableGeometry())
            own.closing.connect(self.leave)
            self._add_escape(own)
            self.presenter_window = own
        window.closing.connect(self.leave)
        self._add_escape(window)
        self.audience_window = window
        window.setGeometry(audience_screen.geometry())
        window.showFullScreen()
        if self.presenter_window is not None:
            self.presenter_window.show()
            self.presenter_window.activateWindow()
        pane.prompt.setFocus()

    def _add_escape(self, window: QWidget) -> None:
        shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), window)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(self.leave)

    def leave(self) -> None:
        """End the presentation (Esc, End Presentation, closing a window, closing the
        project): stop a generation still streaming, record the end, close the windows."""
        window = self.audience_window
        if window is None:
            return
        self.audience_window = None  # first: closing the windows below calls leave again
        if self._expecting_job():
            self.ai.cancel()
        ws = self.workspace
        for signal in (ws.reviews_changed, ws.content_changed, ws.meta_changed):
            signal.disconnect(self.schedule_render)
        self.ai.job_started.disconnect(self._follow)
        self._render_timer.stop()
        project = ws.project
        shown = 0
        if project is not None and project.open_demo is not None:
            session = project.open_demo
            project.record_demo(DemoAction.END, by=self.presenter)
            ws.mark_dirty()
            shown = _shown_in(project, session)
        if self.audience is not None:
            self.audience.banner.locked = False
        for top in (window, self.presenter_window):
            if top is not None:
                top.close()
                top.deleteLater()
        self.presenter_window = None
        self.audience = self.pane = None
        self.chapter = self.current = None
        ws.show_message(
            f"Presentation ended: {shown} generation{'s' if shown != 1 else ''} shown; "
            "recorded in the history.",
            8000,
        )

    # -- the audience view ----------------------------------------------------------------

    def schedule_render(self) -> None:
        """Redraw the audience view shortly after a change (edits and reviews come in bursts)."""
        self._render_timer.start()

    def render(self) -> None:
        project, chapter = self.workspace.project, self.chapter
        if self.audience is None or project is None or chapter is None:
            return
        self.audience.show_chapter(project, chapter)

    # -- prompts ----------------------------------------------------------------------------

    def send(self, prompt: str) -> None:
        """Screen the audience's request; send it if nothing flags it."""
        pane = self.pane
        if pane is None:
            return
        hits = self.screener.check(prompt) if prompt else []
        if hits:
            pane.set_flags(prompt, [hit.reason for hit in hits])
            pane.say("Not sent: the screening flagged the prompt.", error=True)
            return
        self._generate(prompt)

    def send_anyway(self, prompt: str, reason: str) -> None:
        """Send a flagged prompt with the presenter's reason, recorded first."""
        ws, pane = self.workspace, self.pane
        project = ws.project
        if pane is None or project is None:
            return
        hits = self.screener.check(prompt) if prompt else []
        if hits:
            categories = tuple(dict.fromkeys(hit.category for hit in hits))
            try:
                project.record_demo(
                    DemoAction.OVERRIDE,
                    by=self.presenter,
                    prompt_hash=text_hash(prompt),
                    categories=categories,
                    reason=reason,
                )
            except ProjectError as exc:
                pane.say(f"Not sent: {exc}.", error=True)
                return
            ws.mark_dirty()
        self._generate(prompt)

    def _generate(self, prompt: str) -> None:
        ws, pane, chapter = self.workspace, self.pane, self.chapter
        if pane is None or chapter is None or ws.project is None:
            return
        if chapter not in ws.project.chapters:
            pane.say("The chapter presented was removed; end the presentation.", error=True)
            return
        if ws.chapter is not chapter:
            ws.show_chapter(chapter)
        previous = self.ai.job
        if previous is not None and previous.running:
            pane.say("A generation is still running: wait for it, or stop it.", error=True)
            return
        ws.editor.go_to(len(chapter.text))  # the prompt reads the chapter up to its end
        settings = self.ai.panel
        mode = Mode.PROMPT if prompt else Mode.CONTINUE
        self._expecting = True
        try:
            self.ai.start_generation(
                mode, prompt, settings.temperature.value(), settings.length.value()
            )
        finally:
            self._expecting = False
        if self.ai.job is previous:
            pane.say(self.ai.panel.note.text() or "The generation did not start.", error=True)

    def _expecting_job(self) -> bool:
        job = self.ai.job
        return job is not None and job.running and job.property("presenting") is True

    def _follow(self, job: Job) -> None:
        """Follow a generation this presentation asked for (not one from the AI panel)."""
        if not self._expecting or self.pane is None:
            return
        job.setProperty("presenting", True)
        job.progress.connect(self._on_progress)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        self._first_seen = None
        self.current = None
        self.pane.start_stream()
        self.pane.say("Generating…")

    def _on_progress(self, item: object) -> None:
        pane = self.pane
        if pane is None or not isinstance(item, tuple):
            return
        if item[0] == "delta":
            if self._first_seen is None:
                self._first_seen = time.monotonic()
            pane.append(str(item[2]))
        elif item[0] == "note":
            pane.say(str(item[1]))

    def _on_finished(self, _result: object) -> None:
        # The AI controller handled the run first (its slot was connected first): the
        # records are in the project, pending review.
        pane, run, project = self.pane, self.ai.run, self.workspace.project
        if pane is None or run is None or project is None:
            return
        record = next((r for r in run.records if r.output), None)
        if record is None or record.id not in project.generations:
            pane.set_busy(busy=False, decidable=False)
            pane.say(str(run.error) if run.error else "The model sent no text.", error=True)
            return
        self.current = record.id
        self.ai.mark_shown(record.id, self._first_seen)  # it streamed into the pane
        pane.preview.setPlainText(record.output)
        pane.set_busy(busy=False, decidable=True)
        pane.say(
            (f"{run.error} " if run.error else "")
            + f"{record.id}: {len(record.output):,} characters, pending your review. "
            "Approve && Show puts it before the audience."
        )

    def _on_failed(self, message: str) -> None:
        if self.pane is not None:
            self.pane.set_busy(busy=False, decidable=False)
            self.pane.say(f"The generation failed: {message}", error=True)

    # -- review -------------------------------------------------------------------------------

    def approve(self) -> bool:
        """Approve && Show: insert the generation at the chapter's end (as AI text pending
        review), approve it through the review path, and record that the audience saw it."""
        ws, pane, chapter, gid = self.workspace, self.pane, self.chapter, self.current
        project, run = ws.project, self.ai.run
        if pane is None or chapter is None or gid is None or project is None or run is None:
            return False
        index = next((i for i, r in enumerate(run.records) if r.id == gid), None)
        if index is None or chapter not in project.chapters:
            pane.say("This generation can no longer be shown.", error=True)
            return False
        if ws.chapter is not chapter:
            ws.show_chapter(chapter)
        if not project.has_text_in_book(gid):
            ws.editor.go_to(len(chapter.text))
            text = chapter.text.text
            if text.strip() and not text.endswith("\n\n"):
                # A new paragraph, as the presenter would type it.
                ws.editor.textCursor().insertText("\n" if text.endswith("\n") else "\n\n")
                ws.editor.go_to(len(chapter.text))
            self.ai.insert(index)
        if not self.ai.approve(gid):
            problem = project.review_refusal(gid, ReviewState.APPROVED, self.ai.shown_ms(gid))
            pane.say(f"Not approved{': ' + problem if problem else ''}.", error=True)
            return False
        project.record_demo(DemoAction.SHOWN, by=self.presenter, generation=gid)
        ws.mark_dirty()
        self.current = None
        self.render()
        if self.audience is not None:
            self.audience.scroll_to_end()
        session = project.open_demo
        shown = _shown_in(project, session)
        pane.preview.clear()
        pane.set_busy(busy=False, decidable=False)
        pane.shown.setText(f"Shown to the audience so far: {shown}.")
        pane.say(f"{gid} approved and shown to the audience.")
        return True

    def discard(self) -> bool:
        """Discard: the generation is never shown; recorded as rejected by the presenter."""
        ws, pane, gid = self.workspace, self.pane, self.current
        project = ws.project
        if pane is None or gid is None or project is None:
            return False
        record = project.generations.get(gid)
        if project.has_text_in_book(gid):
            self.ai.reject(gid)  # inserted, but its approval failed: the text goes too
        elif record is not None and record.review_state is ReviewState.PENDING:
            project.review(gid, ReviewState.REJECTED, self.presenter, "discarded while presenting")
            ws.mark_dirty()
            ws.reviews_changed.emit()
        self.current = None
        pane.preview.clear()
        pane.set_busy(busy=False, decidable=False)
        pane.say(f"{gid} discarded: the audience never saw it.")
        return True
