"""Named snapshots in the app: take one, list them, compare two side by side, restore one.

A snapshot is a fact in the chain (``core.snapshots``); its text is replayed from the file, so
the session is flushed first. Besides the author's own, one is taken each day, at the first
change of the day, naming the state the day started from (checked when the session saves, never
on a keystroke), and one before Replace All (``ui.findreplace``). Restoring goes through the
editor as one undoable step, and the restored text keeps the origins it had: it is a restore
event naming the snapshot's state as its source, which ``verify`` checks.
"""

from __future__ import annotations

import logging
from datetime import date

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from coauthor.app.snapshots import (
    ChapterComparison,
    compare,
    describe_snapshot,
    restore_plan,
    taken_at,
)
from coauthor.core.book import Chapter
from coauthor.core.origin import ORIGINS, Origin
from coauthor.core.project import ProjectError
from coauthor.core.provenance import Fragment
from coauthor.core.snapdiff import ORIGIN_WORDS, ChangeKind
from coauthor.core.snapshots import NamedSnapshot, SnapshotKind, daily_name, local_day
from coauthor.core.textpos import Utf16Map
from coauthor.store import ProjectFileError
from coauthor.ui.palette import OriginPalette, palette_for
from coauthor.ui.workspace import Workspace

logger = logging.getLogger(__name__)

__all__ = [
    "ComparePane",
    "SnapshotController",
    "SnapshotsDialog",
    "TakeSnapshotDialog",
    "change_colour",
]

_CHANGE_ALPHA = 110
"""How strongly a changed span is tinted with its origin's colour (0-255)."""


class TakeSnapshotDialog(QDialog):
    """Asks for a snapshot's name and whether it covers the chapter on screen or the book."""

    def __init__(self, parent: QWidget | None, chapter_title: str | None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Take Snapshot")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Name:"))
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Snapshot name")
        layout.addWidget(self.name_edit)
        self.chapter_choice = QRadioButton(f"This chapter: “{chapter_title or ''}”")
        self.book_choice = QRadioButton("The whole book")
        group = QButtonGroup(self)
        for button in (self.chapter_choice, self.book_choice):
            group.addButton(button)
            layout.addWidget(button)
        self.chapter_choice.setEnabled(chapter_title is not None)
        (self.chapter_choice if chapter_title is not None else self.book_choice).setChecked(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @property
    def name(self) -> str:
        return self.name_edit.text().strip()

    @property
    def whole_book(self) -> bool:
        return self.book_choice.isChecked()


class ComparePane(QWidget):
    """Two versions of a chapter side by side; each changed span is tinted with the colour of
    its characters' origin, struck through on the left (taken out) and underlined on the right
    (put in). Text whose only change is its origin has a dotted underline on both sides."""

    def __init__(self, palette: OriginPalette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.origin_palette = palette
        self.comparisons: list[ChapterComparison] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        top.addWidget(self.heading, 1)
        self.chapter_box = QComboBox()
        self.chapter_box.setAccessibleName("Chapter compared")
        self.chapter_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.chapter_box.setMinimumContentsLength(24)
        self.chapter_box.currentIndexChanged.connect(self._show_current)
        top.addWidget(self.chapter_box)
        layout.addLayout(top)
        sides = QSplitter(Qt.Orientation.Horizontal)
        self.left = QPlainTextEdit()
        self.right = QPlainTextEdit()
        for side, name in ((self.left, "Older version"), (self.right, "Newer version")):
            side.setReadOnly(True)
            side.setAccessibleName(name)
            sides.addWidget(side)
        self.left.verticalScrollBar().valueChanged.connect(
            lambda value: _follow(self.left, self.right, value)
        )
        layout.addWidget(sides, 1)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        legend = "   ".join(
            f'<span style="background:{change_colour(palette, o).name(QColor.NameFormat.HexArgb)}">'
            f"&nbsp;{ORIGIN_WORDS[o].capitalize()}&nbsp;</span>"
            for o in ORIGINS
        )
        self.legend = QLabel(
            f"{legend}<br>Struck through: taken out. Underlined: put in. Dotted: same text, "
            "another origin."
        )
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        layout.addWidget(self.legend)

    def show_comparisons(self, heading: str, comparisons: list[ChapterComparison]) -> None:
        self.heading.setText(heading)
        self.comparisons = comparisons
        blocked = self.chapter_box.blockSignals(True)
        self.chapter_box.clear()
        for comparison in comparisons:
            mark = "" if comparison.changed else " (unchanged)"
            self.chapter_box.addItem(comparison.title + mark, comparison.chapter_id)
        first = next((i for i, c in enumerate(comparisons) if c.changed), 0)
        self.chapter_box.setCurrentIndex(first)
        self.chapter_box.blockSignals(blocked)
        self._show_current()

    @property
    def current(self) -> ChapterComparison | None:
        index = self.chapter_box.currentIndex()
        return self.comparisons[index] if 0 <= index < len(self.comparisons) else None

    def _show_current(self) -> None:
        comparison = self.current
        if comparison is None:
            self.left.clear()
            self.right.clear()
            self.summary.clear()
            return
        old, new = comparison.old, comparison.new
        self.left.setPlainText(old.text if old is not None else "")
        self.right.setPlainText(new.text if new is not None else "")
        if old is None:
            self.left.setPlaceholderText("This chapter is not in this version.")
        if new is None:
            self.right.setPlaceholderText("This chapter is not in this version.")
        left_map = Utf16Map(old.text if old is not None else "")
        right_map = Utf16Map(new.text if new is not None else "")
        for change in comparison.changes:
            relabelled = change.kind is ChangeKind.RELABELLED
            self._mark(
                self.left, left_map, change.old_start, change.old, "dot" if relabelled else "strike"
            )
            self._mark(
                self.right,
                right_map,
                change.new_start,
                change.new,
                "dot" if relabelled else "under",
            )
        counts = dict.fromkeys(ChangeKind, 0)
        for change in comparison.changes:
            counts[change.kind] += 1
        parts = [f"{n} {kind}" for kind, n in counts.items() if n]
        self.summary.setText(
            ("Changes: " + ", ".join(parts)) if parts else "No differences in this chapter."
        )

    def _mark(
        self, view: QPlainTextEdit, positions: Utf16Map, start: int, piece: Fragment, style: str
    ) -> None:
        cursor = QTextCursor(view.document())
        pos = start
        for length, origin, _ref in piece.runs:
            fmt = QTextCharFormat()
            fmt.setBackground(change_colour(self.origin_palette, origin))
            if style == "strike":
                fmt.setFontStrikeOut(True)
            elif style == "under":
                fmt.setFontUnderline(True)
            else:
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
            cursor.setPosition(positions.to_utf16(pos))
            cursor.setPosition(positions.to_utf16(pos + length), QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(fmt)
            pos += length


def change_colour(palette: OriginPalette, origin: Origin) -> QColor:
    colour = QColor(palette.swatch(origin))
    colour.setAlpha(_CHANGE_ALPHA if origin is not Origin.HUMAN else 200)
    return colour


def _follow(source: QPlainTextEdit, target: QPlainTextEdit, value: int) -> None:
    """Scroll the other side to the same share of its length."""
    bar, other = source.verticalScrollBar(), target.verticalScrollBar()
    if bar.maximum() > 0:
        other.setValue(round(value / bar.maximum() * other.maximum()))


class SnapshotsDialog(QDialog):
    """The list of snapshots with their dates, and the comparison of the one or two selected."""

    _COLUMNS = ("Name", "Of", "Taken", "Kind")

    def __init__(self, palette: OriginPalette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Snapshots")
        self.setObjectName("snapshotsDialog")
        self.resize(980, 640)
        self.snapshots: list[NamedSnapshot] = []
        layout = QVBoxLayout(self)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, len(self._COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self._COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName("Snapshots")
        splitter.addWidget(self.table)
        self.compare_pane = ComparePane(palette)
        splitter.addWidget(self.compare_pane)
        splitter.setSizes([180, 460])
        layout.addWidget(splitter, 1)
        row = QHBoxLayout()
        self.take_button = QPushButton("Take Snapshot…")
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip(
            "One snapshot selected: compare it with the text now. Two: compare them."
        )
        self.restore_button = QPushButton("Restore Chapter")
        self.restore_button.setToolTip(
            "Bring the chapter compared back to its text in the selected snapshot (undoable)"
        )
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        for button in (self.take_button, self.compare_button, self.restore_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def fill(self, rows: list[tuple[NamedSnapshot, str]]) -> None:
        """The snapshots, newest first, each with where it applies."""
        selected = {s.seq for s in self.selected()}
        self.snapshots = [snapshot for snapshot, _ in reversed(rows)]
        self.table.setRowCount(len(rows))
        for index, (snapshot, scope) in enumerate(reversed(rows)):
            cells = (snapshot.name, scope, taken_at(snapshot), str(snapshot.kind))
            for column, text in enumerate(cells):
                self.table.setItem(index, column, QTableWidgetItem(text))
            if snapshot.seq in selected:
                self.table.selectRow(index)
        self.table.resizeColumnsToContents()
        self._update_buttons()

    def selected(self) -> list[NamedSnapshot]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.snapshots[r] for r in rows if r < len(self.snapshots)]

    def select(self, *snapshots: NamedSnapshot) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for snapshot in snapshots:
            if snapshot in self.snapshots:
                self.table.selectRow(self.snapshots.index(snapshot))
        self.table.setSelectionMode(mode)

    def _update_buttons(self) -> None:
        count = len(self.selected())
        self.compare_button.setEnabled(count in (1, 2))
        self.restore_button.setEnabled(count == 1)


class SnapshotController(QObject):
    """Takes, lists, compares and restores snapshots for the open book."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        parent = workspace.window
        self.take_action = QAction("Take &Snapshot…", parent)
        self.take_action.setShortcut(QKeySequence("Ctrl+Alt+S"))
        self.take_action.setStatusTip("Name the state of this chapter or of the book")
        self.take_action.triggered.connect(self.take_interactive)
        self.show_action = QAction("S&napshots…", parent)
        self.show_action.setShortcut(QKeySequence("Ctrl+Alt+Shift+S"))
        self.show_action.setStatusTip("List, compare and restore snapshots")
        self.show_action.triggered.connect(self.show_list)
        self.actions = [self.take_action, self.show_action]
        self.dialog: SnapshotsDialog | None = None
        self._day: date | None = None
        self._day_start = 0
        self._day_had_text = False
        self._last_saved = 0
        self._daily_done: date | None = None
        workspace.project_opened.connect(self._on_opened)

    # -- taking -----------------------------------------------------------------------------

    def take(self, name: str, *, whole_book: bool) -> NamedSnapshot | None:
        project, chapter = self.workspace.project, self.workspace.chapter
        if project is None:
            return None
        chapters = None if whole_book or chapter is None else [chapter]
        try:
            snapshot = project.take_snapshot(name, chapters)
        except ProjectError as exc:
            self.workspace.show_error("Cannot take the snapshot", str(exc))
            return None
        self.workspace.mark_dirty()
        scope = f"“{chapters[0].title}”" if chapters else "the book"
        self.workspace.show_message(f"Took the snapshot “{snapshot.name}” of {scope}", 5000)
        self._refresh()
        return snapshot

    def take_interactive(self) -> NamedSnapshot | None:
        if self.workspace.project is None:
            return None
        chapter = self.workspace.chapter
        dialog = TakeSnapshotDialog(self._parent(), chapter.title if chapter else None)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            if not dialog.name:
                self.workspace.show_error("Cannot take the snapshot", "a snapshot needs a name")
                return None
            return self.take(dialog.name, whole_book=dialog.whole_book)
        finally:
            dialog.deleteLater()

    def _on_opened(self, _path: str) -> None:
        session = self.workspace.session
        if session is None:
            return
        project = session.project
        self._day = local_day(project.clock())
        self._day_start = self._last_saved = project.history.last_seq
        self._day_had_text = any(len(c.text) for c in project.chapters)
        self._daily_done = None
        session.saved.connect(self._on_saved)
        if self.dialog is not None:  # nothing of the book shown before may stay on screen
            self.dialog.compare_pane.show_comparisons("", [])
        self._refresh()

    def _on_saved(self) -> None:
        """Once a day, at the first change of the day: a snapshot of the book as the day began.
        Runs after each autosave (a date and a number compared), never on a keystroke."""
        project = self.workspace.project
        if project is None:
            return
        today = local_day(project.clock())
        if today != self._day:  # midnight passed with the book open
            self._day = today
            self._day_start = self._last_saved
            self._day_had_text = any(len(c.text) for c in project.chapters)
        last = project.history.last_seq
        self._last_saved = last
        if self._daily_done == today or last <= self._day_start or not self._day_had_text:
            return
        taken = 0  # snapshot events since the day began are not changes to the book
        for snapshot in reversed(project.named_snapshots):
            if snapshot.seq <= self._day_start:
                break
            taken += 1
        if last - self._day_start <= taken:
            return
        self._daily_done = today
        if any(
            s.kind is SnapshotKind.DAILY and local_day(s.time) == today
            for s in project.named_snapshots
        ):
            return
        try:
            project.take_snapshot(daily_name(today), kind=SnapshotKind.DAILY, as_of=self._day_start)
        except ProjectError as exc:
            logger.warning("The daily snapshot was not taken: %s", exc)
            return
        # Written at once, within this save: whatever saved (an export about to read the file,
        # a close) finds nothing left unsaved. The nested save finds the day's snapshot taken.
        session = self.workspace.session
        if session is None or not session.flush():
            self.workspace.mark_dirty()
        self._refresh()

    # -- the list and comparisons -----------------------------------------------------------

    def _parent(self) -> QWidget:
        return self.workspace.window

    def show_list(self) -> SnapshotsDialog | None:
        if self.workspace.project is None:
            return None
        if self.dialog is None:
            dialog = SnapshotsDialog(palette_for(self._parent().palette()), self._parent())
            dialog.take_button.clicked.connect(self.take_interactive)
            dialog.compare_button.clicked.connect(self.compare_selected)
            dialog.restore_button.clicked.connect(self.restore_selected)
            self.dialog = dialog
        self._refresh()
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def _refresh(self) -> None:
        project, dialog = self.workspace.project, self.dialog
        if dialog is None:
            return
        if project is None:
            dialog.fill([])
            return
        dialog.fill([(s, describe_snapshot(project, s)) for s in project.named_snapshots])

    def _flushed(self) -> bool:
        """Write the events still in memory, which the snapshots' replays read."""
        session = self.workspace.session
        if session is None:
            return False
        if not session.flush():
            self.workspace.show_error(
                "Snapshots", "The latest changes cannot be written yet, so they cannot be compared."
            )
            return False
        return True

    def compare_selected(self) -> list[ChapterComparison]:
        dialog = self.dialog
        if dialog is None:
            return []
        chosen = sorted(dialog.selected(), key=lambda s: s.seq)
        if not chosen or len(chosen) > 2:
            return []
        return self.compare(chosen[0], chosen[1] if len(chosen) == 2 else None)

    def compare(
        self, old: NamedSnapshot, new: NamedSnapshot | None = None
    ) -> list[ChapterComparison]:
        """Show ``old`` against ``new`` (None: the text now) in the dialog."""
        session = self.workspace.session
        dialog = self.show_list()
        if session is None or dialog is None or not self._flushed():
            return []
        try:
            comparisons = compare(session.file, session.project, old, new)
        except (ProjectFileError, ProjectError) as exc:
            self.workspace.show_error("Cannot compare the snapshots", str(exc))
            return []
        target = f"“{new.name}” ({taken_at(new)})" if new is not None else "the text now"
        dialog.compare_pane.show_comparisons(
            f"Left: “{old.name}” ({taken_at(old)}). Right: {target}.", comparisons
        )
        chapter = self.workspace.chapter
        if chapter is not None:
            box = dialog.compare_pane.chapter_box
            index = box.findData(chapter.id)
            if index >= 0 and comparisons[index].changed:
                box.setCurrentIndex(index)
        return comparisons

    # -- restoring --------------------------------------------------------------------------

    def restore_selected(self) -> bool:
        dialog = self.dialog
        if dialog is None or len(dialog.selected()) != 1:
            return False
        snapshot = dialog.selected()[0]
        project = self.workspace.project
        if project is None:
            return False
        current = dialog.compare_pane.current
        chapter_id = current.chapter_id if current is not None else None
        if chapter_id is None or chapter_id not in snapshot.chapters:
            chapter = self.workspace.chapter
            chapter_id = chapter.id if chapter is not None else snapshot.chapters[0]
        try:
            chapter = project.chapter(chapter_id)
        except ProjectError as exc:
            self.workspace.show_error("Cannot restore the snapshot", str(exc))
            return False
        return self.restore(snapshot, chapter)

    def restore(self, snapshot: NamedSnapshot, chapter: Chapter) -> bool:
        """Bring ``chapter`` back to its text in ``snapshot`` as one undoable edit."""
        session = self.workspace.session
        if session is None or not self._flushed():
            return False
        project = session.project
        try:
            plan = restore_plan(session.file, project, snapshot, chapter)
        except (ProjectFileError, ProjectError) as exc:
            self.workspace.show_error("Cannot restore the snapshot", str(exc))
            return False
        if plan is None:
            self.workspace.show_message(
                f"“{chapter.title}” is already as in “{snapshot.name}”", 5000
            )
            return False
        self.workspace.show_chapter(plan.chapter)
        editor = self.workspace.editor
        stack = self.workspace.stack_for(plan.chapter)
        stack.beginMacro(f"Restore Snapshot “{snapshot.name}”")
        try:
            editor.select_range(plan.start, plan.end)
            editor.insert_fragment(plan.fragment, plan.source)
        finally:
            stack.endMacro()
        self.workspace.mark_dirty()
        self.workspace.show_message(
            f"Restored “{plan.chapter.title}” as in “{snapshot.name}” (Undo puts it back)", 8000
        )
        if self.dialog is not None and self.dialog.isVisible():
            self.compare(snapshot)
        return True
