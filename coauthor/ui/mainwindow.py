"""The main window: where every widget is created and every signal is wired, in one place.

Widgets only request (open this chapter, jump there, rename that); the window decides and calls
the project through the session. Controllers get the ``Workspace`` (the session, the chapter,
the undo stacks, signals), never this window; ``menus.build_menus`` lays out the menu bar.
Slow or repeated work (status figures, the overview strip,
the book map) runs on short debounce timers, never on the typing path.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QFont, QShowEvent, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from coauthor.core.book import BookMeta, Chapter
from coauthor.core.generation import ReviewState
from coauthor.core.maps import segment_profile
from coauthor.core.project import Project
from coauthor.store import ProjectFileError
from coauthor.ui.aicontroller import AiController
from coauthor.ui.chapters import (
    AddChapter,
    ChapterListModel,
    ChapterListView,
    MoveChapter,
    RemoveChapter,
    RenameChapter,
    SetMarkup,
    new_chapter_title,
)
from coauthor.ui.dialogs import PreferencesDialog
from coauthor.ui.editor import EditorPane, ProvenanceEditor
from coauthor.ui.figures import StatusFigures, describe_position
from coauthor.ui.findreplace import FindController
from coauthor.ui.focus import FocusMode
from coauthor.ui.help import HelpController
from coauthor.ui.highlighter import ProvenanceHighlighter, ViewMode
from coauthor.ui.history import HistoryController
from coauthor.ui.legend import Legend
from coauthor.ui.maps import BookMap, OverviewStrip
from coauthor.ui.menus import build_menus
from coauthor.ui.palette import palette_for
from coauthor.ui.present import PresentController
from coauthor.ui.projectfiles import ProjectFiles
from coauthor.ui.publishing import PublishController
from coauthor.ui.session import ProjectSession
from coauthor.ui.settings import DEFAULT_FONT_SIZE, MAX_FONT_SIZE, MIN_FONT_SIZE, AppSettings
from coauthor.ui.snapshots import SnapshotController
from coauthor.ui.spelling import SpellingController
from coauthor.ui.statistics import StatisticsController
from coauthor.ui.workspace import Workspace

logger = logging.getLogger(__name__)

__all__ = ["MainWindow"]

_STATUS_DELAY_MS = 800
_MAP_DELAY_MS = 400
_REFRESH_MAX_WAIT_S = 3.0


class MainWindow(QMainWindow):
    """Layout and wiring: the widgets, the workspace the controllers share, the connections."""

    def __init__(self, settings: AppSettings) -> None:
        super().__init__()
        self.settings = settings
        self.figures = StatusFigures()
        self.origin_palette = palette_for(self.palette())
        self.setObjectName("MainWindow")
        self.setWindowTitle("Coauthor")

        # Central area: warning banner over the editor and its overview strip.
        self.banner = QLabel()
        self.banner.setObjectName("saveWarning")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "QLabel#saveWarning { background: #D55E00; color: white; padding: 6px; font-weight: bold; }"
        )
        self.banner.hide()
        self.editor = ProvenanceEditor()
        self.editor.setObjectName("editor")
        self.highlighter = ProvenanceHighlighter(self.editor, self.origin_palette)
        self.editor.overlay = self.highlighter
        self.overview = OverviewStrip(self.origin_palette)
        self.overview.setObjectName("overview")
        pane = EditorPane(self.editor)
        row = QHBoxLayout(pane)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.editor)
        row.addWidget(self.overview)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(pane)
        self.setCentralWidget(central)

        # What the controllers share; they never see this window.
        self.workspace = Workspace(settings, self.editor, self)
        self.finder = FindController(self.workspace)
        self.ai = AiController(self.workspace)
        self.publish = PublishController(self.workspace, self.ai)
        self.files = ProjectFiles(self.workspace)
        self.statistics = StatisticsController(self.workspace, settings.data_dir / "cache")
        self.snapshots = SnapshotController(self.workspace)
        self.present = PresentController(self.workspace, self.ai)
        self.history = HistoryController(self.workspace, self.origin_palette)
        self.spelling = SpellingController(self.workspace)
        self.help = HelpController(self, self.origin_palette)

        # Docks.
        self.chapter_view = ChapterListView()
        self.chapter_model: ChapterListModel | None = None
        self.chapters_dock = QDockWidget("Chapters", self)
        self.chapters_dock.setObjectName("chaptersDock")
        self.chapters_dock.setWidget(self.chapter_view)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.chapters_dock)
        self.book_map = BookMap(self.origin_palette)
        self.legend = Legend(self.origin_palette)
        # A dock of its own, above the tabbed ones: at first launch the legend is in sight,
        # not behind the AI tab.
        self.legend_dock = QDockWidget("Legend", self)
        self.legend_dock.setObjectName("legendDock")
        self.legend_dock.setWidget(self.legend)
        map_panel = QWidget()
        map_layout = QVBoxLayout(map_panel)
        map_layout.addWidget(QLabel("Book map: chapters × position, shaded by AI share"))
        map_layout.addWidget(self.book_map, 1)
        self.map_dock = QDockWidget("Provenance", self)
        self.map_dock.setObjectName("provenanceDock")
        self.map_dock.setWidget(map_panel)
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.addDockWidget(right, self.legend_dock)
        self.addDockWidget(right, self.map_dock)
        self.addDockWidget(right, self.ai.ai_dock)
        self.addDockWidget(right, self.ai.review_dock)
        self.tabifyDockWidget(self.map_dock, self.ai.review_dock)
        self.tabifyDockWidget(self.ai.review_dock, self.ai.ai_dock)
        self.ai.ai_dock.raise_()
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.history.dock)

        # Status bar.
        self.chapter_status = QLabel()
        self.book_status = QLabel()
        self.pending_status = QLabel()
        self.save_status = QLabel()
        for label in (
            self.statistics.status_label,
            self.chapter_status,
            self.book_status,
            self.pending_status,
        ):
            self.statusBar().addPermanentWidget(label)
        self.statusBar().addWidget(self.save_status)

        # Timers for work that must stay off the typing path.
        self._status_timer = _single_shot(self, _STATUS_DELAY_MS, self.update_status)
        self._map_timer = _single_shot(self, _MAP_DELAY_MS, self.update_maps)
        self._refresh_due_since: float | None = None

        self.focus = FocusMode(self, self.editor, settings, extras=[self.overview])

        self.menus = build_menus(
            self,
            parent=self,
            editor=self.editor,
            finder=self.finder,
            files=self.files,
            undo_group=self.workspace.undo_group,
            docks=[self.chapters_dock, self.legend_dock, self.map_dock],
            ai=self.ai,
            publish=self.publish,
            snapshots=self.snapshots.actions,
            present=self.present.present_action,
            statistics=self.statistics.statistics_action,
            goals=self.statistics.goals_action,
            history=self.history.action,
            help_actions=self.help.actions,
            spelling=self.spelling.action,
            focus=[self.focus.action, self.focus.wider_action, self.focus.narrower_action],
        )
        self.undo_action, self.redo_action = self.menus.undo, self.menus.redo
        self.full_screen_action = self.menus.full_screen
        self.mode_actions = self.menus.mode_actions
        self.project_actions = self.menus.project_actions
        self._wire()
        self.apply_font_size(self.settings.font_size)
        self.set_view_mode(ViewMode(self.settings.view_mode))
        self.overview.setVisible(self.settings.show_overview)
        self.menus.show_overview.setChecked(self.settings.show_overview)
        self._show_no_project()

    # -- the workspace, as tests and the app reach it -----------------------------------------

    @property
    def session(self) -> ProjectSession | None:
        return self.workspace.session

    @property
    def project(self) -> Project | None:
        return self.workspace.project

    @property
    def chapter(self) -> Chapter | None:
        return self.workspace.chapter

    @property
    def book_stack(self) -> QUndoStack | None:
        return self.workspace.book_stack

    # -- wiring -----------------------------------------------------------------------------

    def _wire(self) -> None:
        ws = self.workspace
        ws.show_requested.connect(self.show_chapter)
        ws.reviews_changed.connect(self._on_reviews_changed)
        ws.meta_changed.connect(self._update_title)
        ws.chapters_imported.connect(self._on_imported)
        ws.status_message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        ws.error_raised.connect(lambda title, message: self.show_error(title, message))  # noqa: PLW0108 - late bound
        editor = self.editor
        editor.changed.connect(self._on_text_changed)
        editor.paste_refused.connect(editor.refuse)
        editor.busy.connect(lambda text: self.statusBar().showMessage(text))
        editor.notice.connect(lambda text: self.statusBar().showMessage(text, 8000))
        editor.tooltip_provider = self.describe_position
        editor.verticalScrollBar().valueChanged.connect(self._update_visible_fraction)
        self.overview.jump_requested.connect(self.jump_to)
        self.ai.queue.history_requested.connect(self.history.show_generation)
        self.book_map.open_requested.connect(self.open_place)
        self.chapter_view.open_requested.connect(self.show_chapter)
        self.map_dock.visibilityChanged.connect(
            lambda visible: visible and self.update_maps(book_map=True)
        )
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    def _on_imported(self, first: Chapter | None) -> None:
        if self.chapter_model is not None:
            self.chapter_model.refresh()
        if first is not None:
            self.show_chapter(first)
        self._on_structure_changed()

    def _on_reviews_changed(self) -> None:
        self.highlighter.rehighlight()
        self.update_status()
        self.update_maps()

    def _update_title(self) -> None:
        project = self.project
        self.setWindowTitle(f"{project.meta.title} — Coauthor" if project else "Coauthor")

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        """Undo follows the focus: text in the editor, the book's structure in the chapter list."""
        ws = self.workspace
        if new is self.editor and ws.chapter is not None:
            stack = ws.chapter_stacks.get(ws.chapter.id)
            if stack is not None:
                ws.undo_group.setActiveStack(stack)
        elif new is self.chapter_view:
            ws.activate_book_stack()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            # Once the children have the new palette too (Qt tells the window first).
            QTimer.singleShot(0, self.apply_theme)

    def apply_theme(self) -> None:
        """Origin colours for the current theme (light or dark), when the system switches."""
        palette = palette_for(self.palette())
        if palette == self.origin_palette:
            return
        self.origin_palette = palette
        self.highlighter.set_palette(palette)
        self.overview.set_palette(palette)
        self.book_map.set_palette(palette)
        self.legend.set_palette(palette)
        self.help.palette = palette
        self.history.view.viewer.set_palette(palette)
        self.spelling.set_dark(self.palette())

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        # The overview strip knows its height only once shown. A single shot of its own: start(0)
        # on the debounce timer would set its interval to 0 for good, refreshing the maps on
        # every keystroke.
        QTimer.singleShot(0, self.update_maps)

    # -- projects ---------------------------------------------------------------------------

    def open_project(self, path: Path | str) -> bool:
        """Open a project, closing the current one; a bad file gets a dialog and stays untouched."""
        if self.session is not None and Path(path).resolve() == self.session.path.resolve():
            return True
        # Open the new file first: if it cannot be opened, the book already open stays open.
        try:
            session = ProjectSession.open(path, self)
        except ProjectFileError as exc:
            self.show_error("Cannot open the project", str(exc))
            return False
        if not self.close_project_interactive():
            session.abandon()  # nothing was changed in it
            session.deleteLater()
            return False
        self._attach(session)
        return True

    def create_project(self, path: Path | str, meta: BookMeta) -> bool:
        if not self.close_project_interactive():
            return False
        try:
            session = ProjectSession.create(path, meta, self)
        except ProjectFileError as exc:
            self.show_error("Cannot create the project", str(exc))
            return False
        session.project.add_chapter("Chapter 1")
        session.flush()
        self._attach(session)
        return True

    def _attach(self, session: ProjectSession) -> None:
        self.workspace.session = session
        session.save_failed.connect(self._on_save_failed)
        session.save_recovered.connect(self._on_save_recovered)
        session.saved.connect(lambda: self.save_status.setText("All changes saved"))
        project = session.project
        self.chapter_model = ChapterListModel(project)
        self.chapter_model.rename_requested.connect(self.rename_chapter)
        self.chapter_model.move_requested.connect(self.move_chapter)
        self.chapter_view.setModel(self.chapter_model)
        self.workspace.new_book_stack().indexChanged.connect(lambda _: self._on_structure_changed())
        self.figures.forget()
        for act in self.project_actions:
            act.setEnabled(True)
        self.settings.add_recent(session.path)
        self.settings.last_project = str(session.path.resolve())
        self.setWindowTitle(f"{project.meta.title} — Coauthor")
        self.setWindowFilePath(str(session.path))
        self.show_chapter(project.chapters[0] if project.chapters else None)
        self.update_status()
        self.update_maps()
        self.workspace.project_opened.emit(str(session.path))

    def close_project_interactive(self) -> bool:
        """Close the project; if its last changes cannot be written, ask what to do."""
        session = self.session
        if session is None:
            return True
        # A job still reading the book (export, screening, an import's sources) ends first:
        # asked to stop, then waited for, so no thread outlives the project or the window.
        self.present.leave()  # a presentation still running ends first, recorded
        self.statistics.stop()
        self.history.stop()  # a read of the history still running ends first
        self.spelling.stop()  # a dictionary still being opened
        for job in (self.publish.job, self.publish.screen_job, self.files.job):
            if job is not None and job.running:
                job.cancel()
                job.wait()
        while not session.close():
            choice = QMessageBox.warning(
                self,
                "Coauthor",
                f"{session.failing or 'The project could not be written.'}\n\n"
                "Save a copy somewhere else, retry, or discard the unsaved changes?",
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Retry
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Retry,
            )
            if choice == QMessageBox.StandardButton.Cancel:
                return False
            if choice == QMessageBox.StandardButton.Discard:
                session.abandon()
                break
            if choice == QMessageBox.StandardButton.Save and self.files.save_copy_dialog():
                session.abandon()
                break
        self.workspace.session = None
        self.workspace.drop_stacks()
        self._show_no_project()
        return True

    def _show_no_project(self) -> None:
        self.workspace.chapter = None
        self.chapter_view.setModel(None)
        self.chapter_model = None
        self.editor.show_chapter(self.project, None, None, "")  # type: ignore[arg-type]
        self._update_markup_actions()
        self.editor.setPlaceholderText("No project is open. Use File ▸ New Project or File ▸ Open.")
        self.highlighter.set_view(None, {})
        self.overview.set_profile([])
        self.book_map.set_rows([])
        for act in self.project_actions:
            act.setEnabled(False)
        self.setWindowTitle("Coauthor")
        self.statistics.clear()
        for label in (self.chapter_status, self.book_status, self.pending_status, self.save_status):
            label.setText("")

    # -- chapters ---------------------------------------------------------------------------

    def show_chapter(self, chapter: Chapter | None) -> None:
        if self.session is None or (chapter is self.chapter and chapter is not None):
            return
        project = self.session.project
        self.workspace.chapter = chapter
        stack = self.workspace.stack_for(chapter) if chapter is not None else None
        self.highlighter.set_view(chapter, project.generations)
        self.editor.show_chapter(project, chapter, stack, str(self.session.path.resolve()))
        self._update_markup_actions()
        self.editor.setPlaceholderText(
            "Start writing…"
            if chapter is not None
            else "This book has no chapters yet: Chapter ▸ New Chapter."
        )
        if self.chapter_model is not None and chapter is not None:
            row = self.chapter_model.row_of(chapter)
            index = self.chapter_model.index(row, 0)
            if self.chapter_view.currentIndex() != index:
                blocked = self.chapter_view.blockSignals(True)
                self.chapter_view.setCurrentIndex(index)
                self.chapter_view.blockSignals(blocked)
        self.update_maps()
        self.update_status()
        self.workspace.chapter_shown.emit(chapter)

    def add_chapter(self) -> None:
        if self.session is None or self.chapter_model is None or self.book_stack is None:
            return
        project = self.session.project
        index = (
            project.chapters.index(self.chapter) + 1
            if self.chapter in project.chapters
            else len(project.chapters)
        )
        command = AddChapter(
            project, self.chapter_model, new_chapter_title(project.chapters, index), index
        )
        self.book_stack.push(command)
        if command.chapter is not None:
            self.show_chapter(command.chapter)
            self.workspace.activate_book_stack()
            self.chapter_view.edit(
                self.chapter_model.index(self.chapter_model.row_of(command.chapter), 0)
            )

    def _update_markup_actions(self) -> None:
        """Format ▸ Italic/Bold only in a Markdown chapter; Read as Markdown shows the state."""
        chapter = self.chapter if self.session is not None else None
        markdown = chapter is not None and chapter.markup == "markdown"
        for act in self.menus.format_actions:  # Markdown markers: not in plain-text chapters
            act.setEnabled(markdown)
        toggle = self.menus.read_as_markdown
        if toggle is not None:
            toggle.setEnabled(chapter is not None)
            toggle.setChecked(markdown)

    def toggle_chapter_markup(self) -> None:
        """Read the shown chapter as Markdown, or as plain text (undoable, in the history)."""
        chapter = self.chapter
        if self.session is None or chapter is None or self.chapter_model is None:
            return
        if self.book_stack is None:
            return
        markup = "plain" if chapter.markup == "markdown" else "markdown"
        self.book_stack.push(SetMarkup(self.session.project, self.chapter_model, chapter, markup))
        self.workspace.activate_book_stack()
        self.statusBar().showMessage(
            f"“{chapter.title}” is now read as "
            + ("Markdown." if markup == "markdown" else "plain text: every character as it is.")
            + " Edit ▸ Undo changes it back.",
            8000,
        )

    def rename_chapter(self, chapter: Chapter, title: str) -> None:
        if self.session and self.chapter_model and self.book_stack:
            self.book_stack.push(
                RenameChapter(self.session.project, self.chapter_model, chapter, title)
            )
            self.workspace.activate_book_stack()

    def rename_current_chapter(self) -> None:
        if self.chapter_model is not None and self.chapter is not None:
            self.chapter_view.setFocus()
            self.chapter_view.edit(
                self.chapter_model.index(self.chapter_model.row_of(self.chapter), 0)
            )

    def move_chapter(self, chapter: Chapter, index: int) -> None:
        if self.session and self.chapter_model and self.book_stack:
            self.book_stack.push(
                MoveChapter(self.session.project, self.chapter_model, chapter, index)
            )
            self.show_chapter_selection(chapter)
            self.workspace.activate_book_stack()

    def move_current_chapter(self, step: int) -> None:
        """Chapter ▸ Move Up (-1) or Move Down (+1): one place, undoable (Edit ▸ Undo)."""
        project, chapter = self.project, self.chapter
        if project is None or chapter is None or chapter not in project.chapters:
            return
        index = project.chapters.index(chapter) + step
        if not 0 <= index < len(project.chapters):
            return
        self.move_chapter(chapter, index)
        self.statusBar().showMessage(
            f"“{chapter.title}” is now chapter {index + 1}. Edit ▸ Undo moves it back.", 6000
        )

    def delete_current_chapter(self) -> None:
        if (
            self.session is None
            or self.chapter is None
            or self.chapter_model is None
            or self.book_stack is None
        ):
            return
        project = self.session.project
        index = project.chapters.index(self.chapter)
        self.book_stack.push(RemoveChapter(project, self.chapter_model, self.chapter))
        self.workspace.activate_book_stack()
        self.statusBar().showMessage("Chapter deleted. Edit ▸ Undo brings it back.", 8000)
        chapters = project.chapters
        self.workspace.chapter = None
        self.show_chapter(chapters[min(index, len(chapters) - 1)] if chapters else None)
        self.workspace.activate_book_stack()

    def step_chapter(self, step: int) -> None:
        project = self.project
        if project is None or not project.chapters:
            return
        index = project.chapters.index(self.chapter) if self.chapter in project.chapters else 0
        self.show_chapter(project.chapters[(index + step) % len(project.chapters)])

    def show_chapter_selection(self, chapter: Chapter) -> None:
        if self.chapter_model is not None:
            self.chapter_view.setCurrentIndex(
                self.chapter_model.index(self.chapter_model.row_of(chapter), 0)
            )

    def _on_structure_changed(self) -> None:
        project = self.project
        if project is None:
            return
        if self.chapter is not None and self.editor.chapter is self.chapter:
            # The markup may have changed (Read as Markdown, or its undo): style to match.
            self.editor.set_markdown_styling(self.chapter.markup == "markdown")
            self._update_markup_actions()
        if self.chapter is not None and self.chapter not in project.chapters:
            self.workspace.chapter = None
            self.show_chapter(project.chapters[0] if project.chapters else None)
        elif self.chapter is not None:
            self.show_chapter_selection(self.chapter)
        if self.session:
            self.session.mark_dirty()
        self.update_maps()
        self._status_timer.start()
        # A removed chapter takes its passages out of review (they cannot be approved there);
        # bringing it back brings them back as the record says.
        self.ai.refresh()

    # -- navigation -------------------------------------------------------------------------

    def jump_to(self, pos: int) -> None:
        if self.chapter is not None:
            self.editor.go_to(min(pos, len(self.chapter.text)))
            self.editor.setFocus()

    def open_place(self, chapter_id: int, pos: int) -> None:
        project = self.project
        if project is None:
            return
        chapter = project.chapter(chapter_id)
        self.show_chapter(chapter)
        self.jump_to(pos)

    def describe_position(self, chapter: Chapter, pos: int) -> str:
        """Tooltip text for the character at ``pos``: who wrote it, and from where."""
        project = self.project
        return "" if project is None else describe_position(project, chapter, pos)

    # -- edits and refreshes ----------------------------------------------------------------

    def _on_text_changed(self) -> None:
        if self.session is None:
            return
        self.session.mark_dirty()
        if self.chapter is not None:
            self.figures.forget(self.chapter.id)
        self.workspace.content_changed.emit()  # the review queue refreshes, in a while
        # Debounced: the figures and maps wait for a pause in typing, but never more than
        # _REFRESH_MAX_WAIT_S behind, so a long burst still sees them move.
        now = time.monotonic()
        if self._refresh_due_since is None:
            self._refresh_due_since = now
        if now - self._refresh_due_since < _REFRESH_MAX_WAIT_S:
            self._status_timer.start()
            self._map_timer.start()
        else:
            for timer in (self._status_timer, self._map_timer):
                if not timer.isActive():
                    timer.start()

    def update_status(self) -> None:
        self._refresh_due_since = None
        project = self.project
        if project is None:
            return
        texts = self.figures.texts(project, self.chapter)
        for label, text in zip(
            (self.chapter_status, self.book_status, self.pending_status), texts, strict=True
        ):
            label.setText(text)
        self.statistics.refresh(self.figures.book_words(project))

    def update_maps(self, *, book_map: bool = False) -> None:
        """Refresh the overview strip, and the book map if it can be seen (or ``book_map``).

        A dock tabbed behind another still says it is visible; its empty visible region tells.
        It is filled when its tab comes forward (``visibilityChanged``).
        """
        project = self.project
        if project is None:
            return
        pending = {
            g.id for g in project.generations.values() if g.review_state is ReviewState.PENDING
        }
        if self.chapter is not None and self.overview.isVisible():
            self.overview.set_profile(
                segment_profile(self.chapter.text, self.overview.wanted_segments(), pending)
            )
            self._update_visible_fraction()
        elif self.chapter is None:
            self.overview.set_profile([])
        if book_map or (self.map_dock.isVisible() and not self.book_map.visibleRegion().isEmpty()):
            self.book_map.set_rows(
                [
                    (c.id, c.title, segment_profile(c.text, BookMap.COLUMNS, pending))
                    for c in project.chapters
                ]
            )

    def _update_visible_fraction(self) -> None:
        bar = self.editor.verticalScrollBar()
        span = bar.maximum() - bar.minimum() + bar.pageStep()
        if span <= 0:
            return
        top = (bar.value() - bar.minimum()) / span
        self.overview.set_visible_fraction(top, top + bar.pageStep() / span)

    def set_view_mode(self, mode: ViewMode) -> None:
        self.highlighter.set_mode(mode)
        self.mode_actions[mode].setChecked(True)
        self.settings.view_mode = mode.value
        self.legend.set_mode(mode)

    def toggle_overview(self, checked: bool) -> None:
        self.overview.setVisible(checked)
        self.settings.show_overview = checked
        self.update_maps()

    def apply_font_size(self, size: int) -> None:
        font = QFont(self.editor.font())
        font.setPointSize(size)
        self.editor.setFont(font)

    def zoom(self, step: int) -> None:
        """The editor's text a point larger (+1) or smaller (-1), or back to the default (0);
        remembered, like the size chosen in Preferences."""
        current = self.editor.font().pointSize()
        size = DEFAULT_FONT_SIZE if step == 0 else current + step
        size = max(MIN_FONT_SIZE, min(MAX_FONT_SIZE, size))
        self.settings.font_size = size
        self.apply_font_size(size)
        self.statusBar().showMessage(f"Text size {size} pt", 1500)

    def toggle_full_screen(self, checked: bool) -> None:
        if checked:
            self.showFullScreen()
        else:
            self.showNormal()

    # -- saving state -----------------------------------------------------------------------

    def _on_save_failed(self, message: str) -> None:
        self.banner.setText(
            f"⚠ {message} Coauthor keeps trying; do not close until this clears, or use File ▸ Save a Copy."
        )
        self.banner.show()
        self.save_status.setText("Not saved")

    def _on_save_recovered(self) -> None:
        self.banner.hide()
        self.save_status.setText("All changes saved")

    # -- file dialogs -----------------------------------------------------------------------

    def choose_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open Project", str(Path.home()), "Coauthor projects (*.coauthor);;All files (*)"
        )
        if path:
            self.open_project(path)

    def new_project(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "New Project",
            str(Path.home() / "Untitled.coauthor"),
            "Coauthor projects (*.coauthor)",
        )
        if path:
            if not path.endswith(".coauthor"):
                path += ".coauthor"
            self.create_project(
                path, BookMeta(title=Path(path).stem, author=self.settings.reviewer_name)
            )

    def fill_recent_menu(self) -> None:
        self.menus.recent_menu.clear()
        recent = self.settings.recent_files
        if not recent:
            self.menus.recent_menu.addAction("No recent projects").setEnabled(False)
        for path in recent:
            act = self.menus.recent_menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.open_project(p))

    # -- preferences and errors -------------------------------------------------------------

    def show_preferences(self) -> None:
        dialog = PreferencesDialog(self.settings.reviewer_name, self.settings.font_size, self)
        if dialog.exec():
            self.settings.reviewer_name = dialog.reviewer.text().strip()
            self.settings.font_size = dialog.font_size.value()
            self.apply_font_size(dialog.font_size.value())

    def show_error(self, title: str, message: str) -> None:
        logger.warning("%s: %s", title, message)
        QMessageBox.critical(self, title, message)

    # -- window state -----------------------------------------------------------------------

    def restore_window_state(self) -> None:
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 800)
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self.close_project_interactive():
            event.ignore()
            return
        self.focus.leave()  # the window's own layout is what is remembered
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.finder.dialog.close()
        event.accept()


def _single_shot(parent: QWidget, ms: int, slot) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    timer.timeout.connect(slot)
    return timer
