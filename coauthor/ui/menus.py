"""The menu bar, in one place: File, Edit, Format, Chapter, View, AI, Book, Help, in that order.

The window's own actions are made here and connected to the window's slots; the controllers
bring theirs (the AI controller its actions and docks, the publish controller the Book
actions). Nothing else adds a menu, so the order cannot depend on what was built first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoGroup

from coauthor.ui.aicontroller import AiController
from coauthor.ui.editor import ProvenanceEditor
from coauthor.ui.findreplace import FindController
from coauthor.ui.highlighter import ViewMode
from coauthor.ui.projectfiles import ProjectFiles
from coauthor.ui.publishing import PublishController

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDockWidget, QMenu, QMenuBar, QWidget

__all__ = ["MenuHost", "Menus", "build_menus"]


class MenuHost(Protocol):
    """The window's slots the menus call (the main window has them all)."""

    def menuBar(self) -> QMenuBar: ...  # noqa: N802 - Qt's name
    def close(self) -> bool: ...
    def new_project(self) -> None: ...
    def choose_project(self) -> None: ...
    def close_project_interactive(self) -> bool: ...
    def fill_recent_menu(self) -> None: ...
    def show_preferences(self) -> None: ...
    def add_chapter(self) -> None: ...
    def toggle_chapter_markup(self) -> None: ...
    def rename_current_chapter(self) -> None: ...
    def delete_current_chapter(self) -> None: ...
    def move_current_chapter(self, step: int) -> None: ...
    def step_chapter(self, step: int) -> None: ...
    def set_view_mode(self, mode: ViewMode) -> None: ...
    def zoom(self, step: int) -> None: ...
    def toggle_full_screen(self, checked: bool) -> None: ...
    def toggle_overview(self, checked: bool) -> None: ...


@dataclass
class Menus:
    recent_menu: QMenu
    undo: QAction
    redo: QAction
    full_screen: QAction
    show_overview: QAction
    mode_actions: dict[ViewMode, QAction]
    project_actions: list[QAction] = field(default_factory=list)
    """Enabled only while a project is open."""
    format_actions: list[QAction] = field(default_factory=list)
    """Enabled only while a Markdown chapter is shown."""
    read_as_markdown: QAction | None = None
    """Checked while the shown chapter is read as Markdown; enabled while one is shown."""


def build_menus(
    window: MenuHost,
    *,
    parent: QWidget,
    editor: ProvenanceEditor,
    finder: FindController,
    files: ProjectFiles,
    undo_group: QUndoGroup,
    docks: list[QDockWidget],
    ai: AiController,
    publish: PublishController,
    snapshots: list[QAction] | None = None,
    present: QAction | None = None,
    statistics: QAction | None = None,
    goals: QAction | None = None,
    history: QAction | None = None,
    help_actions: list[QAction] | None = None,
    spelling: QAction | None = None,
    focus: list[QAction] | None = None,
) -> Menus:
    """Build the whole menu bar; ``docks`` are the window's own (their toggles go in View)."""

    def action(
        text: str,
        slot: Callable[..., object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
    ) -> QAction:
        act = QAction(text, parent)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        return act

    bar = window.menuBar()
    keys = QKeySequence.StandardKey

    menu = bar.addMenu("&File")
    menu.addAction(action("&New Project…", window.new_project, keys.New))
    menu.addAction(action("&Open…", window.choose_project, keys.Open))
    recent_menu = menu.addMenu("Open &Recent")
    recent_menu.aboutToShow.connect(window.fill_recent_menu)
    menu.addSeparator()
    copy = action("Save a &Copy…", files.save_copy, "Ctrl+Shift+S")
    backup = action("&Back Up Now", files.backup_now, "Ctrl+Shift+B")
    import_ = action("&Import…", files.import_files, "Ctrl+Shift+I")  # Ctrl+I: italics
    close = action("&Close Project", window.close_project_interactive, keys.Close)
    for act in (copy, backup, import_):
        menu.addAction(act)
    menu.addSeparator()
    menu.addAction(close)
    menu.addAction(action("&Quit", window.close, keys.Quit))

    menu = bar.addMenu("&Edit")
    undo = undo_group.createUndoAction(parent, "&Undo")
    undo.setShortcuts(keys.Undo)
    redo = undo_group.createRedoAction(parent, "&Redo")
    redo.setShortcuts(keys.Redo)  # Ctrl+Y and Ctrl+Shift+Z
    menu.addAction(undo)
    menu.addAction(redo)
    menu.addSeparator()
    menu.addAction(action("Cu&t", editor.cut, keys.Cut))
    menu.addAction(action("&Copy", editor.copy, keys.Copy))
    menu.addAction(action("&Paste", editor.paste, keys.Paste))
    paste_own = action("Paste as My &Own Writing", editor.paste_as_own_writing, "Ctrl+Alt+V")
    paste_own.setStatusTip(
        "Paste text that is your own writing (an earlier draft, dictation): it stays marked as "
        "pasted, and your declaration that you wrote it is recorded in the book's history."
    )
    menu.addAction(paste_own)
    menu.addAction(action("Select &All", editor.selectAll, keys.SelectAll))
    menu.addSeparator()
    menu.addAction(action("&Find…", lambda: finder.show(replace=False), keys.Find))
    menu.addAction(action("Find &Next", finder.find_next, keys.FindNext))
    menu.addAction(action("&Replace…", lambda: finder.show(replace=True), keys.Replace))
    menu.addSeparator()
    menu.addAction(action("Pre&ferences…", window.show_preferences, keys.Preferences))

    menu = bar.addMenu("F&ormat")
    format_actions = [
        action("&Italic", lambda: editor.toggle_markup("*"), keys.Italic),
        action("&Bold", lambda: editor.toggle_markup("**"), keys.Bold),
    ]
    for act in format_actions:
        act.setEnabled(False)
        menu.addAction(act)
    menu.addSeparator()
    read_as_markdown = action("Read Chapter as &Markdown", window.toggle_chapter_markup)
    read_as_markdown.setCheckable(True)
    read_as_markdown.setEnabled(False)
    read_as_markdown.setStatusTip(
        "On: *emphasis*, scene breaks, quotations and lists are rendered in the editor and in "
        "exports. Off: plain text, every character shown as it is (for text not written as "
        "Markdown)."
    )
    menu.addAction(read_as_markdown)

    menu = bar.addMenu("&Chapter")
    chapter_actions = [
        action("&New Chapter", window.add_chapter, "Ctrl+Shift+N"),
        action("&Rename Chapter", window.rename_current_chapter, "F2"),
        action("&Delete Chapter", window.delete_current_chapter, "Ctrl+Shift+Del"),
        action("Move &Up", lambda: window.move_current_chapter(-1), "Ctrl+Shift+PgUp"),
        action("Move Do&wn", lambda: window.move_current_chapter(+1), "Ctrl+Shift+PgDown"),
        action("Ne&xt Chapter", lambda: window.step_chapter(1), "Ctrl+PgDown"),
        action("Pre&vious Chapter", lambda: window.step_chapter(-1), "Ctrl+PgUp"),
    ]
    for act in chapter_actions:
        menu.addAction(act)
    if snapshots:  # Take Snapshot…, Snapshots… (``ui.snapshots``): enabled with a project open
        menu.addSeparator()
        for act in snapshots:
            menu.addAction(act)
        chapter_actions.extend(snapshots)

    menu = bar.addMenu("&View")
    group = QActionGroup(parent)
    mode_actions: dict[ViewMode, QAction] = {}
    for key, (mode, label) in enumerate(
        [
            (ViewMode.PLAIN, "&Plain"),
            (ViewMode.ORIGINS, "&Origin Colours"),
            (ViewMode.HEATMAP, "&Heatmap"),
        ],
        start=1,
    ):
        act = action(label, lambda _=False, m=mode: window.set_view_mode(m), f"Ctrl+{key}")
        act.setCheckable(True)
        group.addAction(act)
        menu.addAction(act)
        mode_actions[mode] = act
    menu.addSeparator()
    menu.addAction(action("Zoom &In", lambda: window.zoom(+1), keys.ZoomIn))
    menu.addAction(action("Zoom &Out", lambda: window.zoom(-1), keys.ZoomOut))
    menu.addAction(action("&Actual Size", lambda: window.zoom(0), "Ctrl+0"))
    full_screen = action("&Full Screen", window.toggle_full_screen, keys.FullScreen)
    full_screen.setCheckable(True)
    menu.addAction(full_screen)
    for act in focus or ():  # Focus Mode, Wider / Narrower Column (``ui.focus``)
        menu.addAction(act)
    if present is not None:
        menu.addAction(present)  # Present mode (``ui.present``): enabled with a project open
    menu.addSeparator()
    show_overview = action("Show Overview &Strip", window.toggle_overview)
    show_overview.setCheckable(True)
    menu.addAction(show_overview)
    if spelling is not None:  # Check Spelling (``ui.spelling``, F7): on and off at any time
        menu.addAction(spelling)
    if statistics is not None:  # Statistics… (``ui.statistics``): enabled with a project open
        menu.addAction(statistics)
    if history is not None:  # History… (``ui.history``, Ctrl+Shift+H): with a project open
        menu.addAction(history)
    for dock in docks:
        menu.addAction(dock.toggleViewAction())

    menu = bar.addMenu("&AI")
    for act in (ai.generate_action, ai.review_action, ai.share_action, ai.settings_action):
        menu.addAction(act)
    menu.addAction(ai.ai_dock.toggleViewAction())
    menu.addAction(ai.review_dock.toggleViewAction())

    menu = bar.addMenu("&Book")
    for act in publish.actions:
        menu.addAction(act)
    if goals is not None:  # Writing Goals… (``ui.statistics``): enabled with a project open
        menu.addSeparator()
        menu.addAction(goals)

    if help_actions:  # About Coauthor, the guide (``ui.help``): last, as on every desktop
        menu = bar.addMenu("&Help")
        for act in help_actions:
            menu.addAction(act)

    return Menus(
        recent_menu=recent_menu,
        undo=undo,
        redo=redo,
        full_screen=full_screen,
        show_overview=show_overview,
        mode_actions=mode_actions,
        project_actions=[copy, backup, import_, close, *chapter_actions, *publish.actions]
        + ([present] if present is not None else [])
        + [act for act in (statistics, goals, history) if act is not None],
        format_actions=format_actions,
        read_as_markdown=read_as_markdown,
    )
