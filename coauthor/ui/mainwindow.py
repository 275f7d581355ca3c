"""The main window: where every widget is created and every signal is wired, in one place.

Widgets only request (open this chapter, jump there, rename that); the window decides and calls
the project through the session. Slow or repeated work (status figures, the overview strip,
the book map) runs on short debounce timers, never on the typing path.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QFont,
    QKeySequence,
    QShowEvent,
    QUndoGroup,
    QUndoStack,
)
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

from coauthor.app.projects import import_into, parse_sources
from coauthor.core.book import BookMeta, Chapter
from coauthor.core.generation import ReviewState
from coauthor.core.maps import segment_profile
from coauthor.core.models import model_identity
from coauthor.core.origin import Origin
from coauthor.core.roles import (
    CHARACTERS,
    generation_counts,
    in_scope,
    shares,
    surviving_chars,
    words_by_origin,
)
from coauthor.importers import ImportFailed
from coauthor.store import ProjectFileError
from coauthor.ui.aicontroller import AiController
from coauthor.ui.chapters import (
    AddChapter,
    ChapterListModel,
    ChapterListView,
    MoveChapter,
    RemoveChapter,
    RenameChapter,
)
from coauthor.ui.dialogs import PreferencesDialog
from coauthor.ui.editor import EditorPane, ProvenanceEditor
from coauthor.ui.findreplace import FindController
from coauthor.ui.highlighter import ProvenanceHighlighter, ViewMode
from coauthor.ui.legend import Legend
from coauthor.ui.maps import BookMap, OverviewStrip
from coauthor.ui.palette import palette_for
from coauthor.ui.publishing import PublishController
from coauthor.ui.session import ProjectSession
from coauthor.ui.settings import DEFAULT_FONT_SIZE, MAX_FONT_SIZE, MIN_FONT_SIZE, AppSettings

logger = logging.getLogger(__name__)

__all__ = ["MainWindow"]

_STATUS_DELAY_MS = 800
_MAP_DELAY_MS = 400
_REFRESH_MAX_WAIT_S = 3.0


class MainWindow(QMainWindow):
    project_opened = Signal(str)

    def __init__(self, settings: AppSettings) -> None:
        super().__init__()
        self.settings = settings
        self.session: ProjectSession | None = None
        self.chapter: Chapter | None = None
        self.undo_group = QUndoGroup(self)
        self.book_stack: QUndoStack | None = None
        self.chapter_stacks: dict[int, QUndoStack] = {}
        self._words_cache: dict[int, dict[Origin, int]] = {}
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

        # Docks.
        self.chapter_view = ChapterListView()
        self.chapter_model: ChapterListModel | None = None
        self.chapters_dock = QDockWidget("Chapters", self)
        self.chapters_dock.setObjectName("chaptersDock")
        self.chapters_dock.setWidget(self.chapter_view)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.chapters_dock)
        self.book_map = BookMap(self.origin_palette)
        self.legend = Legend(self.origin_palette)
        map_panel = QWidget()
        map_layout = QVBoxLayout(map_panel)
        map_layout.addWidget(self.legend)
        map_layout.addWidget(QLabel("Book map: chapters × position, shaded by AI share"))
        map_layout.addWidget(self.book_map, 1)
        self.map_dock = QDockWidget("Provenance", self)
        self.map_dock.setObjectName("provenanceDock")
        self.map_dock.setWidget(map_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.map_dock)

        # Status bar.
        self.chapter_status = QLabel()
        self.book_status = QLabel()
        self.pending_status = QLabel()
        self.save_status = QLabel()
        for label in (self.chapter_status, self.book_status, self.pending_status):
            self.statusBar().addPermanentWidget(label)
        self.statusBar().addWidget(self.save_status)

        # Timers for work that must stay off the typing path.
        self._status_timer = _single_shot(self, _STATUS_DELAY_MS, self.update_status)
        self._map_timer = _single_shot(self, _MAP_DELAY_MS, self.update_maps)
        self._refresh_due_since: float | None = None

        self.finder = FindController(self)
        self._build_actions()
        self._wire()
        self.apply_font_size(self.settings.font_size)
        self.set_view_mode(ViewMode(self.settings.view_mode))
        self.overview.setVisible(self.settings.show_overview)
        self.show_overview_action.setChecked(self.settings.show_overview)
        self.ai = AiController(self)
        self.publish = PublishController(self)
        self._show_no_project()

    # -- wiring -----------------------------------------------------------------------------

    def _build_actions(self) -> None:
        def action(
            text: str, slot, shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None
        ) -> QAction:
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            return act

        menu = self.menuBar().addMenu("&File")
        self.new_action = action("&New Project…", self.new_project, QKeySequence.StandardKey.New)
        self.open_action = action("&Open…", self.choose_project, QKeySequence.StandardKey.Open)
        self.recent_menu = menu.addMenu("Open &Recent")
        self.copy_action = action("Save a &Copy…", self.save_copy, "Ctrl+Shift+S")
        self.backup_action = action("&Back Up Now", self.backup_now, "Ctrl+Shift+B")
        self.import_action = action("&Import…", self.import_files, "Ctrl+I")
        self.close_action = action(
            "&Close Project", self.close_project_interactive, QKeySequence.StandardKey.Close
        )
        self.quit_action = action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        menu.addAction(self.new_action)
        menu.addAction(self.open_action)
        menu.insertMenu(self.copy_action, self.recent_menu)
        menu.addSeparator()
        for act in (self.copy_action, self.backup_action, self.import_action):
            menu.addAction(act)
        menu.addSeparator()
        menu.addAction(self.close_action)
        menu.addAction(self.quit_action)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)

        menu = self.menuBar().addMenu("&Edit")
        self.undo_action = self.undo_group.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_group.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts(QKeySequence.StandardKey.Redo)  # Ctrl+Y and Ctrl+Shift+Z
        menu.addAction(self.undo_action)
        menu.addAction(self.redo_action)
        menu.addSeparator()
        menu.addAction(action("Cu&t", self.editor.cut, QKeySequence.StandardKey.Cut))
        menu.addAction(action("&Copy", self.editor.copy, QKeySequence.StandardKey.Copy))
        menu.addAction(action("&Paste", self.editor.paste, QKeySequence.StandardKey.Paste))
        menu.addAction(
            action("Select &All", self.editor.selectAll, QKeySequence.StandardKey.SelectAll)
        )
        menu.addSeparator()
        menu.addAction(
            action("&Find…", lambda: self.finder.show(replace=False), QKeySequence.StandardKey.Find)
        )
        menu.addAction(
            action("Find &Next", self.finder.find_next, QKeySequence.StandardKey.FindNext)
        )
        menu.addAction(
            action(
                "&Replace…",
                lambda: self.finder.show(replace=True),
                QKeySequence.StandardKey.Replace,
            )
        )
        menu.addSeparator()
        menu.addAction(
            action("Pre&ferences…", self.show_preferences, QKeySequence.StandardKey.Preferences)
        )

        menu = self.menuBar().addMenu("&Chapter")
        self.add_chapter_action = action("&New Chapter", self.add_chapter, "Ctrl+Shift+N")
        self.rename_chapter_action = action("&Rename Chapter", self.rename_current_chapter, "F2")
        self.delete_chapter_action = action(
            "&Delete Chapter", self.delete_current_chapter, "Ctrl+Shift+Del"
        )
        self.next_chapter_action = action(
            "Ne&xt Chapter", lambda: self.step_chapter(1), "Ctrl+PgDown"
        )
        self.prev_chapter_action = action(
            "Pre&vious Chapter", lambda: self.step_chapter(-1), "Ctrl+PgUp"
        )
        for act in (
            self.add_chapter_action,
            self.rename_chapter_action,
            self.delete_chapter_action,
            self.next_chapter_action,
            self.prev_chapter_action,
        ):
            menu.addAction(act)

        menu = self.menuBar().addMenu("&View")
        group = QActionGroup(self)
        self.mode_actions: dict[ViewMode, QAction] = {}
        for key, (mode, label) in enumerate(
            [
                (ViewMode.PLAIN, "&Plain"),
                (ViewMode.ORIGINS, "&Origin Colours"),
                (ViewMode.HEATMAP, "&Heatmap"),
            ],
            start=1,
        ):
            act = action(label, lambda _=False, m=mode: self.set_view_mode(m), f"Ctrl+{key}")
            act.setCheckable(True)
            group.addAction(act)
            menu.addAction(act)
            self.mode_actions[mode] = act
        menu.addSeparator()
        self.zoom_in_action = action(
            "Zoom &In", lambda: self.zoom(+1), QKeySequence.StandardKey.ZoomIn
        )
        self.zoom_out_action = action(
            "Zoom &Out", lambda: self.zoom(-1), QKeySequence.StandardKey.ZoomOut
        )
        self.zoom_reset_action = action("&Actual Size", lambda: self.zoom(0), "Ctrl+0")
        for act in (self.zoom_in_action, self.zoom_out_action, self.zoom_reset_action):
            menu.addAction(act)
        self.full_screen_action = action(
            "&Full Screen", self.toggle_full_screen, QKeySequence.StandardKey.FullScreen
        )
        self.full_screen_action.setCheckable(True)
        menu.addAction(self.full_screen_action)
        menu.addSeparator()
        self.show_overview_action = action("Show Overview &Strip", self.toggle_overview)
        self.show_overview_action.setCheckable(True)
        menu.addAction(self.show_overview_action)
        menu.addAction(self.chapters_dock.toggleViewAction())
        menu.addAction(self.map_dock.toggleViewAction())
        self.project_actions = [
            self.copy_action,
            self.backup_action,
            self.import_action,
            self.close_action,
            self.add_chapter_action,
            self.rename_chapter_action,
            self.delete_chapter_action,
            self.next_chapter_action,
            self.prev_chapter_action,
        ]

    def _wire(self) -> None:
        editor = self.editor
        editor.changed.connect(self._on_text_changed)
        editor.paste_refused.connect(editor.refuse)
        editor.busy.connect(lambda text: self.statusBar().showMessage(text))
        editor.tooltip_provider = self.describe_position
        editor.verticalScrollBar().valueChanged.connect(self._update_visible_fraction)
        self.overview.jump_requested.connect(self.jump_to)
        self.book_map.open_requested.connect(self.open_place)
        self.chapter_view.open_requested.connect(self.show_chapter)
        self.map_dock.visibilityChanged.connect(
            lambda visible: visible and self.update_maps(book_map=True)
        )
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        """Undo follows the focus: text in the editor, the book's structure in the chapter list."""
        if new is self.editor and self.chapter is not None:
            stack = self.chapter_stacks.get(self.chapter.id)
            if stack is not None:
                self.undo_group.setActiveStack(stack)
        elif new is self.chapter_view and self.book_stack is not None:
            self.undo_group.setActiveStack(self.book_stack)

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

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        # The overview strip knows its height only once shown. A single shot of its own: start(0)
        # on the debounce timer would set its interval to 0 for good, refreshing the maps on
        # every keystroke.
        QTimer.singleShot(0, self.update_maps)

    # -- projects ---------------------------------------------------------------------------

    @property
    def project(self):
        return self.session.project if self.session else None

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
        self.session = session
        session.save_failed.connect(self._on_save_failed)
        session.save_recovered.connect(self._on_save_recovered)
        session.saved.connect(lambda: self.save_status.setText("All changes saved"))
        project = session.project
        self.chapter_model = ChapterListModel(project)
        self.chapter_model.rename_requested.connect(self.rename_chapter)
        self.chapter_model.move_requested.connect(self.move_chapter)
        self.chapter_view.setModel(self.chapter_model)
        self.book_stack = QUndoStack(self.undo_group)
        self.book_stack.indexChanged.connect(lambda _: self._on_structure_changed())
        self.chapter_stacks.clear()
        self._words_cache.clear()
        for act in self.project_actions:
            act.setEnabled(True)
        self.settings.add_recent(session.path)
        self.settings.last_project = str(session.path.resolve())
        self.setWindowTitle(f"{project.meta.title} — Coauthor")
        self.setWindowFilePath(str(session.path))
        self.show_chapter(project.chapters[0] if project.chapters else None)
        self.update_status()
        self.update_maps()
        self.project_opened.emit(str(session.path))

    def close_project_interactive(self) -> bool:
        """Close the project; if its last changes cannot be written, ask what to do."""
        session = self.session
        if session is None:
            return True
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
            if choice == QMessageBox.StandardButton.Save and self._save_copy_dialog():
                session.abandon()
                break
        self.session = None
        for stack in [*self.chapter_stacks.values(), self.book_stack]:
            if stack is not None:
                self.undo_group.removeStack(stack)
                stack.deleteLater()
        self.chapter_stacks.clear()
        self.book_stack = None
        self._show_no_project()
        return True

    def _show_no_project(self) -> None:
        self.chapter = None
        self.chapter_view.setModel(None)
        self.chapter_model = None
        self.editor.show_chapter(self.project, None, None, "")  # type: ignore[arg-type]
        self.editor.setPlaceholderText("No project is open. Use File ▸ New Project or File ▸ Open.")
        self.highlighter.set_view(None, {})
        self.overview.set_profile([])
        self.book_map.set_rows([])
        for act in getattr(self, "project_actions", []):
            act.setEnabled(False)
        self.setWindowTitle("Coauthor")
        for label in (self.chapter_status, self.book_status, self.pending_status, self.save_status):
            label.setText("")

    # -- chapters ---------------------------------------------------------------------------

    def show_chapter(self, chapter: Chapter | None) -> None:
        if self.session is None or (chapter is self.chapter and chapter is not None):
            return
        project = self.session.project
        self.chapter = chapter
        stack = None
        if chapter is not None:
            stack = self.chapter_stacks.get(chapter.id)
            if stack is None:
                stack = QUndoStack(self.undo_group)
                self.chapter_stacks[chapter.id] = stack
            self.undo_group.setActiveStack(stack)
        self.highlighter.set_view(chapter, project.generations)
        self.editor.show_chapter(project, chapter, stack, str(self.session.path.resolve()))
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
            project, self.chapter_model, f"Chapter {len(project.chapters) + 1}", index
        )
        self.book_stack.push(command)
        if command.chapter is not None:
            self.show_chapter(command.chapter)
            self.undo_group.setActiveStack(self.book_stack)
            self.chapter_view.edit(
                self.chapter_model.index(self.chapter_model.row_of(command.chapter), 0)
            )

    def rename_chapter(self, chapter: Chapter, title: str) -> None:
        if self.session and self.chapter_model and self.book_stack:
            self.book_stack.push(
                RenameChapter(self.session.project, self.chapter_model, chapter, title)
            )
            self.undo_group.setActiveStack(self.book_stack)

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
            self.undo_group.setActiveStack(self.book_stack)

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
        self.undo_group.setActiveStack(self.book_stack)
        self.statusBar().showMessage("Chapter deleted. Edit ▸ Undo brings it back.", 8000)
        chapters = project.chapters
        self.chapter = None
        self.show_chapter(chapters[min(index, len(chapters) - 1)] if chapters else None)
        self.undo_group.setActiveStack(self.book_stack)

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
        if self.chapter is not None and self.chapter not in project.chapters:
            self.chapter = None
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
        if project is None:
            return ""
        origin, ref = chapter.text.origin_at(pos)
        if origin is Origin.AI and ref in project.generations:
            g = project.generations[ref]
            prompt = next(
                (
                    str(m.get("content", ""))
                    for m in reversed(g.messages)
                    if m.get("role") == "user"
                ),
                "",
            )
            prompt = prompt if len(prompt) <= 120 else "…" + prompt[-119:]
            when = _format_ms(g.created)
            review = g.review_state.value
            if g.review_state is not ReviewState.PENDING and g.reviewer:
                review += f" by {g.reviewer} on {_format_ms(g.reviewed_at or 0)}"
            return (
                f"<b>Generated by the model</b> ({g.id})<br>Model: "
                f"{_escape(model_identity(g.model, g.provider))} via {_escape(g.provider)}"
                f"<br>Requested: {when}<br>Prompt: {_escape(prompt)}<br>Review: <b>{review}</b>"
            )
        if origin is Origin.IMPORTED and ref in project.imports:
            record = project.imports[ref]
            own = (
                "declared the author's own writing"
                if record.own_writing
                else "not declared the author's own writing"
            )
            return f"<b>Imported</b> from {_escape(record.source)}<br>{own}"
        if origin is Origin.PASTED:
            return "<b>Pasted</b> from outside Coauthor (author unknown)"
        return "<b>Typed</b> by the author"

    # -- edits and refreshes ----------------------------------------------------------------

    def _on_text_changed(self) -> None:
        if self.session is None:
            return
        self.session.mark_dirty()
        self.ai.schedule_refresh()  # a call, not a second slot on the editor's signal
        if self.chapter is not None:
            self._words_cache.pop(self.chapter.id, None)
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
        chapter = self.chapter

        def words(c: Chapter) -> dict[Origin, int]:
            cached = self._words_cache.get(c.id)
            if cached is None:
                cached = self._words_cache[c.id] = words_by_origin(c.text)
            return cached

        def describe(word_counts: dict[Origin, int], chars: dict[Origin, int]) -> str:
            # The length in words; the shares of the characters, as the foreword gives them.
            total = sum(word_counts.values())
            if not sum(chars.values()):
                return "0 words"
            percents = shares(chars)
            by = ", ".join(
                f"{label} {percents[origin]}%"
                for origin, label in (
                    (Origin.HUMAN, "you"),
                    (Origin.AI, "AI"),
                    (Origin.PASTED, "pasted"),
                    (Origin.IMPORTED, "imported"),
                )
                if chars[origin]
            )
            return f"{total:,} word{'s' if total != 1 else ''} · of the {CHARACTERS}: {by}"

        if chapter is not None:
            self.chapter_status.setText(
                f"Chapter: {describe(words(chapter), chapter.text.counts())}"
            )
        else:
            self.chapter_status.setText("")
        book = dict.fromkeys(Origin, 0)
        book_chars = dict.fromkeys(Origin, 0)
        for c in project.chapters:
            for origin, n in words(c).items():
                book[origin] += n
            for origin, n in c.text.counts().items():
                book_chars[origin] += n
        self.book_status.setText(f"Book: {describe(book, book_chars)}")
        # What the review gate stops (GenerationCounts.awaiting_review), as every view counts it.
        surviving = surviving_chars(project.chapters)
        pending = generation_counts(
            in_scope(project.chapters, project.generations, surviving), surviving
        ).awaiting_review
        self.pending_status.setText(
            f"⚠ {pending} passage{'s' if pending != 1 else ''} pending review"
            if pending
            else "Nothing pending review"
        )

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

    def save_copy(self) -> None:
        self._save_copy_dialog()

    def _save_copy_dialog(self) -> bool:
        if self.session is None:
            return False
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save a Copy",
            str(self.session.path.with_name(self.session.path.stem + " copy.coauthor")),
            "Coauthor projects (*.coauthor)",
        )
        if not path:
            return False
        try:
            self.session.save_copy(path)
        except (OSError, ProjectFileError) as exc:
            self.show_error("Cannot save a copy", str(exc))
            return False
        self.statusBar().showMessage(f"Saved a copy as {path}", 6000)
        return True

    def backup_now(self) -> None:
        if self.session is None:
            return
        target = self.session.backup()
        if target is None:
            self.show_error(
                "Backup failed", self.session.failing or "The backup could not be written."
            )
        else:
            self.statusBar().showMessage(f"Backed up to {target}", 6000)

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

    def import_files(self) -> None:
        if self.session is None:
            return
        paths, _ = QFileDialog.getOpenFileNames(
            self,
            "Import",
            str(Path.home()),
            "Text, Markdown and CoAuthor logs (*.md *.markdown *.txt *.jsonl *.jsonl.gz);;All files (*)",
        )
        if paths:
            self.import_paths([Path(p) for p in paths])

    def import_paths(self, paths: list[Path], *, own_writing: bool = False) -> bool:
        session = self.session
        if session is None:
            return False
        try:
            parsed = parse_sources(paths)
            # The backup before an import (``app.projects.import_into``) holds what is open.
            if not session.flush():
                raise ProjectFileError(
                    f"{session.failing}; nothing was imported until the work is saved"
                )
            summaries = import_into(session.file, session.project, parsed, own_writing=own_writing)
        except (ImportFailed, ProjectFileError, OSError) as exc:
            self.show_error("Cannot import", str(exc))
            return False
        first = next((s.chapters[0] for s in summaries if s.chapters), None)
        if self.chapter_model is not None:
            self.chapter_model.refresh()
        session.flush()
        if first is not None:
            self.show_chapter(first)
        self._on_structure_changed()
        return True

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files
        if not recent:
            self.recent_menu.addAction("No recent projects").setEnabled(False)
        for path in recent:
            act = self.recent_menu.addAction(path)
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


def _format_ms(ms: int) -> str:
    import datetime as dt

    if not ms:
        return "unknown time"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_ = QModelIndex  # kept for type checkers reading signal signatures
