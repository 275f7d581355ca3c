"""The workspace: what the controllers share, without knowing the main window.

It holds the open session, the chapter on screen, the undo stacks (one per chapter, one for the
book's structure) and the editor, and says what happens through signals. Controllers ask it to
show a chapter or go to a place; the main window, which connects ``show_requested``, does it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoGroup, QUndoStack

from coauthor.core.book import Chapter
from coauthor.core.project import Project
from coauthor.ui.editor import ProvenanceEditor
from coauthor.ui.session import ProjectSession
from coauthor.ui.settings import AppSettings

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

__all__ = ["Workspace"]


class Workspace(QObject):
    project_opened = Signal(str)
    """A project was opened (its path); the chapter list, editor and figures show it."""
    chapter_shown = Signal(object)
    """The chapter now in the editor (a ``Chapter``, or None)."""
    content_changed = Signal()
    """The text of the chapter on screen changed (typing, paste, insert, undo)."""
    reviews_changed = Signal()
    """A generation was approved or rejected, or such a review undone."""
    chapters_imported = Signal(object)
    """Files were imported as chapters: the first of them (a ``Chapter``, or None)."""
    meta_changed = Signal()
    """The book's details (title, author, …) changed."""
    status_message = Signal(str, int)
    """A passing message for the status bar, and how long to show it (ms; 0: until replaced)."""
    error_raised = Signal(str, str)
    """Something failed that the author must hear of: a title and a message."""
    show_requested = Signal(object)
    """Show this chapter in the editor (connected, directly, by the main window)."""

    def __init__(self, settings: AppSettings, editor: ProvenanceEditor, window: QWidget) -> None:
        super().__init__(window)
        self.settings = settings
        self.editor = editor
        self.window = window
        """The parent for dialogs."""
        self.session: ProjectSession | None = None
        self.chapter: Chapter | None = None
        self.undo_group = QUndoGroup(self)
        self.book_stack: QUndoStack | None = None
        self.chapter_stacks: dict[int, QUndoStack] = {}

    @property
    def project(self) -> Project | None:
        return self.session.project if self.session else None

    def mark_dirty(self) -> None:
        if self.session is not None:
            self.session.mark_dirty()

    def show_chapter(self, chapter: Chapter | None) -> None:
        self.show_requested.emit(chapter)

    def go_to(self, chapter_id: int, start: int, end: int) -> None:
        """Show the chapter and select ``start``..``end`` in it (code points)."""
        project = self.project
        if project is None:
            return
        self.show_chapter(project.chapter(chapter_id))
        self.editor.select_range(start, end)

    def show_message(self, text: str, timeout_ms: int = 0) -> None:
        self.status_message.emit(text, timeout_ms)

    def show_error(self, title: str, message: str) -> None:
        self.error_raised.emit(title, message)

    # -- undo stacks ------------------------------------------------------------------------

    def stack_for(self, chapter: Chapter) -> QUndoStack:
        """The chapter's undo stack (made on first use), made the active one."""
        stack = self.chapter_stacks.get(chapter.id)
        if stack is None:
            stack = QUndoStack(self.undo_group)
            self.chapter_stacks[chapter.id] = stack
        self.undo_group.setActiveStack(stack)
        return stack

    def new_book_stack(self) -> QUndoStack:
        self.book_stack = QUndoStack(self.undo_group)
        self.chapter_stacks.clear()
        return self.book_stack

    def activate_book_stack(self) -> None:
        if self.book_stack is not None:
            self.undo_group.setActiveStack(self.book_stack)

    def drop_stacks(self) -> None:
        for stack in [*self.chapter_stacks.values(), self.book_stack]:
            if stack is not None:
                self.undo_group.removeStack(stack)
                stack.deleteLater()
        self.chapter_stacks.clear()
        self.book_stack = None
