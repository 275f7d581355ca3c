"""Snapshots in the real window: take one (Chapter ▸ Take Snapshot…), compare it with the text
now side by side, restore it as one undoable step, and the automatic ones: before Replace All
and once a day at the first change of the day.

The sample book's first chapter ("The Keeper") starts with typed text followed by model text
(g1); the edits below type over a word of each, so the comparison shows both origins.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QPlainTextEdit

from coauthor.core.origin import Origin
from coauthor.core.snapdiff import ChangeKind
from coauthor.core.snapshots import NamedSnapshot, SnapshotKind, daily_name, local_day
from coauthor.store import ProjectFile
from coauthor.store.verify import verify
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.snapshots import SnapshotsDialog, TakeSnapshotDialog, change_colour

if TYPE_CHECKING:
    import pytest

DAY_MS = 24 * 60 * 60 * 1000


def _named(window: MainWindow, kind: SnapshotKind = SnapshotKind.MANUAL) -> list[NamedSnapshot]:
    assert window.project is not None
    return [s for s in window.project.named_snapshots if s.kind is kind]


def _answer(monkeypatch: pytest.MonkeyPatch, name: str, *, whole_book: bool = False) -> None:
    """The Take Snapshot dialog, answered as the author would."""

    def exec_(dialog: TakeSnapshotDialog) -> int:
        dialog.name_edit.setText(name)
        (dialog.book_choice if whole_book else dialog.chapter_choice).setChecked(True)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(TakeSnapshotDialog, "exec", exec_)


def _type_over(window: MainWindow, start: int, end: int, text: str) -> None:
    window.editor.select_range(start, end)
    QTest.keyClicks(window.editor, text)


def _edit_both_origins(window: MainWindow) -> None:
    """Type over "Mara" (typed) and over the first word of g1's passage (model text)."""
    chapter = window.chapter
    assert chapter is not None
    g1 = next(pos for pos, _ in _run_starts(chapter.text.runs()) if _ == Origin.AI)
    word = chapter.text.text[g1:].split()[0]
    _type_over(window, g1, g1 + len(word), "Suddenly")
    _type_over(window, 0, 4, "Nell")


def _run_starts(runs) -> list[tuple[int, Origin]]:
    found, pos = [], 0
    for length, origin, _ref in runs:
        found.append((pos, origin))
        pos += length
    return found


def _cell(dialog: SnapshotsDialog, row: int, column: int) -> str:
    item = dialog.table.item(row, column)
    assert item is not None
    return item.text()


def _format_at(view: QPlainTextEdit, pos: int):
    cursor = QTextCursor(view.document())
    cursor.setPosition(pos + 1)
    return cursor.charFormat()


def _verified(path: Path) -> None:
    project_file = ProjectFile.open(path, readonly=True)
    try:
        result = verify(project_file)
    finally:
        project_file.close()
    assert result.ok, result.message


def test_take_compare_and_restore_with_undo(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch, screenshot_dir: Path, close_window
) -> None:
    chapter = window.chapter
    assert chapter is not None
    assert window.session is not None
    original = chapter.text.slice(0, len(chapter.text))
    _answer(monkeypatch, "Before the edits")
    assert window.snapshots.take_action.shortcut().toString() == "Ctrl+Alt+S"
    window.snapshots.take_action.trigger()
    [snapshot] = _named(window)
    assert (snapshot.name, snapshot.chapters, snapshot.whole_book) == (
        "Before the edits",
        (chapter.id,),
        False,
    )

    _edit_both_origins(window)
    edited = chapter.text.slice(0, len(chapter.text))
    window.snapshots.show_action.trigger()
    dialog = window.snapshots.dialog
    assert isinstance(dialog, SnapshotsDialog)
    assert dialog.isVisible()
    names = [_cell(dialog, r, 0) for r in range(dialog.table.rowCount())]
    assert "Before the edits" in names
    assert _cell(dialog, names.index("Before the edits"), 2)[:4].isdigit()  # a date
    dialog.select(snapshot)
    dialog.compare_button.click()
    pane = dialog.compare_pane
    comparison = pane.current
    assert comparison is not None
    assert comparison.chapter_id == chapter.id
    assert [c.kind for c in comparison.changes] == [ChangeKind.REPLACED, ChangeKind.REPLACED]
    assert pane.left.toPlainText() == original.text
    assert pane.right.toPlainText() == edited.text
    typed, model = comparison.changes
    assert typed.old.runs[0][1] is Origin.HUMAN
    assert model.old.runs[0][1] is Origin.AI
    palette = pane.origin_palette
    left = _format_at(pane.left, model.old_start)
    assert left.fontStrikeOut()
    assert left.background().color() == change_colour(palette, Origin.AI)
    right = _format_at(pane.right, model.new_start)
    assert right.fontUnderline()
    assert not right.fontStrikeOut()
    assert right.background().color() == change_colour(palette, Origin.HUMAN)
    assert _format_at(pane.left, typed.old_end + 3).background().style().name == "NoBrush"
    dialog.grab().save(str(screenshot_dir / "snapshots-compare.png"))

    dialog.restore_button.click()
    assert chapter.text.slice(0, len(chapter.text)) == original
    assert window.editor.toPlainText() == original.text
    stack = window.workspace.stack_for(chapter)
    assert stack.undoText() == "Restore Snapshot “Before the edits”"
    stack.undo()
    assert chapter.text.slice(0, len(chapter.text)) == edited
    stack.redo()
    assert chapter.text.slice(0, len(chapter.text)) == original
    path = window.session.path
    close_window(window)
    _verified(path)


def test_replace_all_takes_a_snapshot_first_and_it_restores(window: MainWindow, dialogs) -> None:
    chapter = window.chapter
    assert chapter is not None
    assert window.project is not None
    before = chapter.text.slice(0, len(chapter.text))
    assert window.finder.replace_all("no such words", "x", False) == 0
    assert _named(window, SnapshotKind.BULK) == []  # nothing replaced, nothing kept
    count = window.finder.replace_all("tide", "TIDE", True)
    assert count >= 2
    [bulk] = _named(window, SnapshotKind.BULK)
    assert bulk.name == "Before Replace All “tide”"
    assert bulk.chapters == (chapter.id,)
    assert "tide" not in chapter.text.text
    dialog = window.snapshots.show_list()
    assert dialog is not None
    comparisons = window.snapshots.compare(bulk)
    assert len(comparisons[0].changes) == count
    assert window.snapshots.restore(bulk, chapter)
    assert chapter.text.slice(0, len(chapter.text)) == before
    window.workspace.stack_for(chapter).undo()
    assert chapter.text.text.count("TIDE") == count
    dialogs.expect("critical")
    assert not window.snapshots.restore(bulk, window.project.chapters[1])  # not in it: refused
    [refusal] = dialogs.of("critical")
    assert refusal.text == "the snapshot “Before Replace All “tide”” does not hold “The Almanac”"


def test_a_daily_snapshot_names_the_state_the_day_began(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, session = window.project, window.session
    assert project is not None
    assert session is not None
    opened_at = project.history.last_seq
    session.flush()
    assert _named(window, SnapshotKind.DAILY) == []  # opening changes nothing
    window.snapshots.take("Manual", whole_book=True)
    session.flush()
    assert _named(window, SnapshotKind.DAILY) == []  # a snapshot is not a change to the book
    QTest.keyClicks(window.editor, "Morning. ")
    session.flush()
    [daily] = _named(window, SnapshotKind.DAILY)
    today = local_day(project.clock())
    assert daily.name == daily_name(today)
    assert daily.as_of == opened_at
    assert daily.whole_book
    QTest.keyClicks(window.editor, "More. ")
    session.flush()
    assert len(_named(window, SnapshotKind.DAILY)) == 1  # once a day

    tomorrow = project.clock() + DAY_MS
    monkeypatch.setattr(project, "clock", lambda: tomorrow)
    session.flush()  # the day turned; nothing changed yet
    assert len(_named(window, SnapshotKind.DAILY)) == 1
    end_of_yesterday = project.history.last_seq
    QTest.keyClicks(window.editor, "Next day. ")
    session.flush()
    latest = _named(window, SnapshotKind.DAILY)[-1]
    assert latest.name == daily_name(local_day(tomorrow))
    assert latest.as_of == end_of_yesterday
