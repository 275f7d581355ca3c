"""The review queue, the review commands and the gate's refusal dialog.

Every generation arrives pending. The queue lists those whose text is in the book; the author
jumps to each (which shows it), then approves, rejects (removing its surviving text, undoable)
or edits and approves. Approval needs the passage to have been shown, and records who and when.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPoint, Qt, Signal, SignalInstance
from PySide6.QtGui import QKeySequence, QShortcut, QUndoCommand
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from coauthor.core.book import Chapter
from coauthor.core.generation import ReviewState
from coauthor.core.models import model_identity
from coauthor.core.policy import GateResult, Passage, pending_generations
from coauthor.core.project import Project

__all__ = ["GateDialog", "PendingItem", "ReviewCommand", "ReviewQueue", "pending_items"]


@dataclass(frozen=True)
class PendingItem:
    generation_id: str
    chapter: Chapter
    start: int
    end: int
    first_words: str
    model: str
    created: int


def pending_items(project: Project) -> list[PendingItem]:
    """Pending generations whose text is in the book, in reading order
    (``core.policy.pending_generations``, as the gate and ``coauthor review`` see them)."""
    items = []
    for pending in pending_generations(project.chapters, project.generations):
        ref, chapter, start, end = (
            pending.generation_id,
            pending.chapter,
            pending.start,
            pending.end,
        )
        generation = project.generations.get(ref)
        words = " ".join(chapter.text.text_in(start, min(end, start + 200)).split()[:8])
        model, created = (
            (model_identity(generation.model, generation.provider), generation.created)
            if generation is not None
            else ("not in the record", 0)
        )
        items.append(PendingItem(ref, chapter, start, end, words, model, created))
    return items


def _age(ms: int) -> str:
    seconds = max(0, time.time() - ms / 1000)
    if seconds < 90:
        return "just now"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 129600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


class ReviewCommand(QUndoCommand):
    """A change of review state, undoable (undo records the return to the previous state).

    ``on_change`` runs after every redo and undo, so the window shows the state the command
    left (the pending marks, the queue, the status bar), whichever way the change came.
    """

    def __init__(
        self,
        project: Project,
        generation_id: str,
        state: ReviewState,
        reviewer: str,
        on_change: Callable[[], None] | None = None,
        *,
        shown_ms: int | None = None,
    ) -> None:
        super().__init__(f"{state.value.capitalize()} {generation_id}")
        generation = project.generations[generation_id]
        self.project = project
        self.generation_id = generation_id
        self.state = state
        self.reviewer = reviewer
        self.previous = generation.review_state
        self.previous_shown_ms = next(
            (
                r.shown_ms
                for r in reversed(project.review_log)
                if r.generation == generation_id and r.state is generation.review_state
            ),
            None,
        )
        self.shown_ms = shown_ms
        self.on_change = on_change

    def redo(self) -> None:
        # A redo the record would not back (the passage's chapter was removed since) is
        # skipped: the state stays as the chain says.
        if self.project.review_refusal(self.generation_id, self.state, self.shown_ms) is None:
            self.project.review(
                self.generation_id, self.state, self.reviewer, shown_ms=self.shown_ms
            )
        if self.on_change is not None:
            self.on_change()

    def undo(self) -> None:
        if (
            self.project.review_refusal(self.generation_id, self.previous, self.previous_shown_ms)
            is None
        ):
            self.project.review(
                self.generation_id,
                self.previous,
                self.reviewer,
                note="undone",
                shown_ms=self.previous_shown_ms,
            )
        if self.on_change is not None:
            self.on_change()


class ReviewQueue(QWidget):
    """Pending passages; keyboard first: Enter goes to, A approves, R rejects, E edits.
    Report… (a button, or the list's context menu) reports the selected generation; Show in
    History (the context menu) replays the chapter's history from where its text came in."""

    go_to_requested = Signal(str)
    approve_requested = Signal(str)
    reject_requested = Signal(str)
    edit_requested = Signal(str)
    report_requested = Signal(str)
    history_requested = Signal(str)
    """Show in History: the writing history where the generation's text came in."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewQueue")
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Chapter", "First words", "Model", "Age"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAccessibleName("Passages pending review")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.note = QLabel()
        """The last review message in full (the status bar cuts long ones off)."""
        self.note.setObjectName("reviewNote")
        self.note.setWordWrap(True)
        self.note.hide()
        buttons = QHBoxLayout()
        self.go_button = QPushButton("Go to (Enter)")
        self.approve_button = QPushButton("Approve (A)")
        self.reject_button = QPushButton("Reject (R)")
        self.edit_button = QPushButton("Edit (E)")
        self.report_button = QPushButton("Report…")
        self.report_button.setToolTip(
            "Write a file reporting this generation to its provider as problematic"
        )
        for button in (
            self.go_button,
            self.approve_button,
            self.reject_button,
            self.edit_button,
            self.report_button,
        ):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        self.go_button.clicked.connect(lambda: self._emit(self.go_to_requested))
        self.approve_button.clicked.connect(lambda: self._emit(self.approve_requested))
        self.reject_button.clicked.connect(lambda: self._emit(self.reject_requested))
        self.edit_button.clicked.connect(lambda: self._emit(self.edit_requested))
        self.report_button.clicked.connect(lambda: self._emit(self.report_requested))
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.itemActivated.connect(lambda *_: self._emit(self.go_to_requested))
        for key, signal in (
            ("A", self.approve_requested),
            ("R", self.reject_requested),
            ("E", self.edit_requested),
        ):
            shortcut = QShortcut(QKeySequence(key), self.tree)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(lambda s=signal: self._emit(s))
        self._rows: list[tuple[str, tuple[str, str, str, str], str]] | None = None
        self.set_items([])

    def current_id(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def select(self, generation_id: str) -> bool:
        """Make the generation's row the current one (False if it is not listed)."""
        for i in range(self.tree.topLevelItemCount()):
            row = self.tree.topLevelItem(i)
            if row is not None and row.data(0, Qt.ItemDataRole.UserRole) == generation_id:
                self.tree.setCurrentItem(row)
                return True
        return False

    def show_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def context_menu(self) -> QMenu | None:
        """The selected passage's menu (None when nothing is selected)."""
        if not self.current_id():
            return None
        menu = QMenu(self.tree)
        for text, signal in (
            ("Go To", self.go_to_requested),
            ("Approve", self.approve_requested),
            ("Reject", self.reject_requested),
            ("Report Generation…", self.report_requested),
            ("Show in History", self.history_requested),
        ):
            menu.addAction(text).triggered.connect(lambda _=False, s=signal: self._emit(s))
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is not None:
            self.tree.setCurrentItem(item)
        menu = self.context_menu()
        if menu is not None:
            menu.exec(self.tree.viewport().mapToGlobal(pos))

    def _emit(self, signal: SignalInstance) -> None:
        gen_id = self.current_id()
        if gen_id:
            signal.emit(gen_id)

    def set_items(self, items: list[PendingItem]) -> None:
        rows = [
            (
                item.generation_id,
                (item.chapter.title, item.first_words + "…", item.model, _age(item.created)),
                # its length, not its place: typing before it moves the place on every key
                f"{item.generation_id}: {item.end - item.start:,} characters",
            )
            for item in items
        ]
        if rows == self._rows and self.tree.topLevelItemCount() == len(rows):
            return  # as shown (the queue is refreshed while the author types; a book may have
            # hundreds of pending passages, and rebuilding the list took milliseconds)
        self._rows = rows
        current = self.current_id()
        self.tree.clear()
        for generation_id, cells, tooltip in rows:
            row = QTreeWidgetItem(list(cells))
            row.setData(0, Qt.ItemDataRole.UserRole, generation_id)
            row.setToolTip(1, tooltip)
            self.tree.addTopLevelItem(row)
            if generation_id == current:
                self.tree.setCurrentItem(row)
        first = self.tree.topLevelItem(0)
        if self.tree.currentItem() is None and first is not None:
            self.tree.setCurrentItem(first)
        count = len(items)
        self.summary.setText(
            f"{count} passage{'s' if count != 1 else ''} pending review. Nothing pending can be "
            "exported or shared."
            if count
            else "Nothing is pending review."
        )
        for button in (
            self.go_button,
            self.approve_button,
            self.reject_button,
            self.edit_button,
            self.report_button,
        ):
            button.setEnabled(bool(count))


class GateDialog(QDialog):
    """The gate's refusal: every pending or flagged passage, each one a click away."""

    go_to_requested = Signal(int, int, int)  # chapter id, start, end

    def __init__(self, action: str, result: GateResult, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{action}: review needed")
        self.gate_result = result
        count = len(result.passages)
        intro = QLabel(
            f"{action} is not possible yet: {count} passage{'s' if count != 1 else ''} "
            "in it must be reviewed first. Choose one to go to it."
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setWordWrap(True)  # each line whole, on as many rows as it needs
        for passage in result.passages:
            item = QListWidgetItem(passage.summary())
            item.setToolTip(passage.line())
            item.setData(Qt.ItemDataRole.UserRole, passage)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        go = buttons.addButton("Go to Passage", QDialogButtonBox.ButtonRole.AcceptRole)
        go.clicked.connect(self._go)
        buttons.rejected.connect(self.reject)
        self.list.itemActivated.connect(lambda _: self._go())
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(640, 320)

    def _go(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        passage: Passage = item.data(Qt.ItemDataRole.UserRole)
        self.go_to_requested.emit(passage.chapter_id, passage.start, passage.end)
        self.accept()
