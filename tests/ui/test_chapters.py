"""Chapters, navigation and find/replace, as the author uses them in the window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QMenu

from coauthor.core.book import Chapter
from coauthor.core.origin import Origin
from coauthor.store import ProjectFile
from coauthor.ui.highlighter import ViewMode
from coauthor.ui.mainwindow import MainWindow

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
LEFT = Qt.MouseButton.LeftButton


def titles(window: MainWindow) -> list[str]:
    assert window.project is not None
    return [c.title for c in window.project.chapters]


def state(chapter: Chapter) -> tuple[str, list]:
    return chapter.text.text, list(chapter.text.runs())


def click_row(window: MainWindow, qtbot, row: int) -> None:
    model = window.chapter_model
    assert model is not None
    rect = window.chapter_view.visualRect(model.index(row, 0))
    assert rect.isValid()
    qtbot.mouseClick(window.chapter_view.viewport(), LEFT, pos=rect.center())


def stored_titles(path: Path) -> list[str]:
    project_file = ProjectFile.open(path, readonly=True)
    try:
        return [c.title for c in project_file.load().chapters]
    finally:
        project_file.close()


# -- 5. chapter operations ---------------------------------------------------------------------


def test_clicking_a_chapter_opens_it(window: MainWindow, qtbot) -> None:
    assert titles(window) == ["The Keeper", "The Almanac", "The Storm"]
    assert window.chapter is not None
    assert window.chapter.title == "The Keeper"
    click_row(window, qtbot, 1)
    assert window.chapter is not None
    assert window.chapter.title == "The Almanac"
    assert window.editor.toPlainText() == window.chapter.text.text
    assert window.chapter_view.currentIndex().row() == 1
    QTest.keyClick(window.editor, Qt.Key.Key_PageDown, CTRL)  # Chapter ▸ Next Chapter
    assert window.chapter.title == "The Storm"
    assert window.chapter_view.currentIndex().row() == 2


def test_add_chapter_after_the_current_one(window: MainWindow, qtbot) -> None:
    window.add_chapter()
    assert titles(window) == ["The Keeper", "Chapter 2", "The Almanac", "The Storm"]
    assert window.chapter is not None
    assert window.chapter.title == "Chapter 2"
    assert window.editor.toPlainText() == ""
    # The new title is open for editing in the list; type a name and press Enter.
    line = window.chapter_view.findChild(QLineEdit)
    assert line is not None
    assert line.isVisible()
    line.selectAll()
    QTest.keyClicks(line, "Low Water")
    QTest.keyClick(line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: titles(window)[1] == "Low Water", timeout=2000)
    window.editor.setFocus()
    QTest.keyClicks(window.editor, "A new beginning.")
    assert window.chapter.text.text == "A new beginning."
    assert list(window.chapter.text.runs()) == [(16, Origin.HUMAN, None)]


def test_rename_with_f2_and_through_the_model(window: MainWindow, qtbot) -> None:
    QTest.keyClick(window.editor, Qt.Key.Key_F2)  # Chapter ▸ Rename Chapter
    line = window.chapter_view.findChild(QLineEdit)
    assert line is not None
    qtbot.waitUntil(line.isVisible, timeout=2000)
    line.selectAll()
    QTest.keyClicks(line, "The Lighthouse Keeper")
    QTest.keyClick(line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: titles(window)[0] == "The Lighthouse Keeper", timeout=2000)

    model = window.chapter_model
    assert model is not None
    assert model.setData(model.index(2, 0), "  The Great Storm  ", Qt.ItemDataRole.EditRole)
    assert titles(window) == ["The Lighthouse Keeper", "The Almanac", "The Great Storm"]
    assert model.data(model.index(2, 0)) == "The Great Storm"
    # An empty title is refused.
    assert not model.setData(model.index(1, 0), "   ", Qt.ItemDataRole.EditRole)
    assert titles(window)[1] == "The Almanac"
    # Renames are undoable on the book's stack.
    assert window.book_stack is not None
    window.book_stack.undo()
    assert titles(window)[2] == "The Storm"


def test_reorder_by_dragging_in_the_chapter_list(window: MainWindow, sample_project: Path) -> None:
    model = window.chapter_model
    assert model is not None
    keeper = window.project.chapters[0] if window.project else None
    # What the list view does on an internal drag of row 0 to below the last row.
    mime = model.mimeData([model.index(0, 0)])
    assert not model.dropMimeData(mime, Qt.DropAction.MoveAction, 3, 0, QModelIndex())
    assert titles(window) == ["The Almanac", "The Storm", "The Keeper"]
    assert window.chapter is keeper  # the open chapter stays open
    assert window.chapter_view.currentIndex().row() == 2
    # Dropping row 2 onto row 0 moves it to the top; the order is saved.
    mime = model.mimeData([model.index(2, 0)])
    model.dropMimeData(mime, Qt.DropAction.MoveAction, -1, 0, model.index(0, 0))
    assert titles(window) == ["The Keeper", "The Almanac", "The Storm"]
    window.move_chapter(window.project.chapters[2], 0)  # type: ignore[union-attr]
    assert titles(window) == ["The Storm", "The Keeper", "The Almanac"]
    assert window.session is not None
    assert window.session.flush()
    assert stored_titles(sample_project) == ["The Storm", "The Keeper", "The Almanac"]


def test_delete_chapter_and_undo_brings_it_back_with_its_text(window: MainWindow, qtbot) -> None:
    click_row(window, qtbot, 1)
    almanac = window.chapter
    assert almanac is not None
    window.editor.go_to(0)
    QTest.keyClicks(window.editor, "Unsaved words. ")
    before = state(almanac)

    window.delete_current_chapter()
    assert titles(window) == ["The Keeper", "The Storm"]
    assert window.chapter is not None
    assert window.chapter.title == "The Storm"
    assert window.editor.toPlainText() == window.chapter.text.text
    assert window.undo_action.isEnabled()
    assert "Delete Chapter" in window.undo_action.text()

    window.undo_action.trigger()
    assert titles(window) == ["The Keeper", "The Almanac", "The Storm"]
    assert window.project is not None
    assert window.project.chapters[1] is almanac
    assert state(almanac) == before
    click_row(window, qtbot, 1)
    assert window.chapter is almanac
    assert window.editor.toPlainText() == before[0]
    # Its own undo history still works.
    QTest.keyClick(window.editor, Qt.Key.Key_Z, CTRL)
    assert almanac.text.text == before[0].removeprefix("Unsaved words. ")


# -- 15. book map and overview strip -----------------------------------------------------------


def test_the_book_map_waits_behind_its_tab_and_fills_when_shown(window: MainWindow, qtbot) -> None:
    """Tabbed behind the AI panel (as on first run) the map costs nothing; its tab brought
    forward, it shows every chapter."""
    qtbot.waitUntil(lambda: bool(window.overview.profile), timeout=2000)
    window.ai.ai_dock.raise_()
    qtbot.wait(50)
    window.book_map.set_rows([])
    window.update_maps()
    assert window.book_map.rows == []
    window.map_dock.raise_()
    qtbot.waitUntil(lambda: len(window.book_map.rows) == 3, timeout=2000)


def test_clicking_the_book_map_opens_that_chapter_there(window: MainWindow, qtbot) -> None:
    book_map = window.book_map
    window.map_dock.raise_()
    qtbot.waitUntil(lambda: len(book_map.rows) == 3, timeout=2000)
    assert book_map.isVisible()
    point = QPoint(round(book_map.width() * 12.5 / 24), round(book_map.height() * 2.5 / 3))
    cell = book_map.cell_at(point.x(), point.y())
    assert cell is not None
    storm = window.project.chapters[2]  # type: ignore[union-attr]
    assert cell[0] == storm.id
    assert cell[1] > 0
    qtbot.mouseClick(book_map, LEFT, pos=point)
    assert window.chapter is storm
    assert window.editor.toPlainText() == storm.text.text
    assert window.editor.textCursor().position() == storm.text.to_utf16(cell[1])


def test_clicking_the_overview_strip_moves_the_cursor(window: MainWindow, qtbot) -> None:
    overview = window.overview
    assert overview.isVisible()
    qtbot.waitUntil(lambda: bool(overview.profile), timeout=2000)
    assert window.editor.textCursor().position() == 0
    y = round(overview.height() * 0.75)
    segment = overview.profile[int(y / overview.height() * len(overview.profile))]
    qtbot.mouseClick(overview, LEFT, pos=QPoint(overview.width() // 2, y))
    assert segment.start > 0
    chapter = window.chapter
    assert chapter is not None
    assert window.editor.textCursor().position() == chapter.text.to_utf16(segment.start)
    assert window.editor.hasFocus()


# -- 16. find and replace ----------------------------------------------------------------------


def test_find_selects_the_next_match_and_wraps(window: MainWindow) -> None:
    chapter = window.chapter
    assert chapter is not None
    text = chapter.text.text
    starts = [i for i in range(len(text)) if text.lower().startswith("tide", i)]
    assert len(starts) >= 2
    for expected in [*starts, starts[0]]:  # the last search wraps to the top
        assert window.finder.find_text("tide", False, False)
        assert window.editor.textCursor().selectedText().lower() == "tide"
        assert window.editor.selection_range() == (expected, expected + 4)
    assert not window.finder.find_text("kraken", False, False)


def test_replace_all_is_one_undo_step(window: MainWindow) -> None:
    chapter = window.chapter
    assert chapter is not None
    before = state(chapter)
    # "town" appears in the author's text and in the model's: replacements become human.
    expected = before[0].count("town")
    assert expected >= 3
    assert window.finder.replace_all("town", "village", True) == expected
    assert "town" not in chapter.text.text
    assert chapter.text.text == window.editor.toPlainText()
    after = state(chapter)
    QTest.keyClick(window.editor, Qt.Key.Key_Z, CTRL)
    assert state(chapter) == before
    assert window.editor.toPlainText() == before[0]
    QTest.keyClick(window.editor, Qt.Key.Key_Z, CTRL | SHIFT)
    assert state(chapter) == after
    assert window.finder.replace_all("tide", "TIDE", False) == before[0].lower().count("tide")
    assert "tide" not in chapter.text.text


def test_a_new_chapter_is_numbered_by_its_place_without_repeating_a_title(
    window: MainWindow,
) -> None:
    """Added second, it is "Chapter 2" (not "Chapter 4", the count of chapters plus one);
    where that title is taken it is "New Chapter", never a second "Chapter 2"."""
    window.add_chapter()  # after "The Keeper", the chapter open
    assert titles(window) == ["The Keeper", "Chapter 2", "The Almanac", "The Storm"]
    window.show_chapter(window.project.chapters[0])  # type: ignore[union-attr]
    window.add_chapter()
    assert titles(window) == ["The Keeper", "New Chapter", "Chapter 2", "The Almanac", "The Storm"]
    window.show_chapter(window.project.chapters[4])  # type: ignore[union-attr]
    window.add_chapter()
    assert titles(window)[-1] == "Chapter 6"


def test_move_up_and_down_with_their_shortcuts_and_undo(
    window: MainWindow, sample_project: Path
) -> None:
    [chapter_menu] = [
        a.menu()
        for a in window.menuBar().actions()
        if a.text() == "&Chapter" and isinstance(a.menu(), QMenu)
    ]
    assert isinstance(chapter_menu, QMenu)
    by_text = {a.text(): a for a in chapter_menu.actions()}
    assert by_text["Move &Up"].shortcut() == QKeySequence("Ctrl+Shift+PgUp")
    assert by_text["Move Do&wn"].shortcut() == QKeySequence("Ctrl+Shift+PgDown")
    keeper = window.chapter
    assert keeper is not None
    assert keeper.title == "The Keeper"
    QTest.keyClick(window.editor, Qt.Key.Key_PageDown, CTRL | SHIFT)  # Move Down
    assert titles(window) == ["The Almanac", "The Keeper", "The Storm"]
    assert window.chapter is keeper  # still open, and selected in the list
    assert window.chapter_view.currentIndex().row() == 1
    assert "Undo" in window.statusBar().currentMessage()
    QTest.keyClick(window.editor, Qt.Key.Key_PageDown, CTRL | SHIFT)
    QTest.keyClick(window.editor, Qt.Key.Key_PageDown, CTRL | SHIFT)  # already last: stays
    assert titles(window) == ["The Almanac", "The Storm", "The Keeper"]
    QTest.keyClick(window.editor, Qt.Key.Key_PageUp, CTRL | SHIFT)  # Move Up
    assert titles(window) == ["The Almanac", "The Keeper", "The Storm"]
    window.undo_action.trigger()
    assert titles(window) == ["The Almanac", "The Storm", "The Keeper"]
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert titles(window) == ["The Keeper", "The Almanac", "The Storm"]
    window.redo_action.trigger()
    assert window.session is not None
    assert window.session.flush()
    assert stored_titles(sample_project) == ["The Almanac", "The Keeper", "The Storm"]


def test_the_book_map_names_every_chapter_even_one_without_ai_text(
    window: MainWindow, qtbot, screenshot_dir: Path
) -> None:
    book_map = window.book_map
    window.map_dock.raise_()
    qtbot.waitUntil(lambda: len(book_map.rows) == 3, timeout=2000)
    assert [title for _, title, _ in book_map.rows] == ["The Keeper", "The Almanac", "The Storm"]
    left = book_map.label_width()
    assert left > 0
    image = book_map.grab().toImage()
    base = book_map.palette().base().color().rgb()
    row_height = book_map.height() / 3

    def inked(x0: int, x1: int, row: int) -> bool:
        """Whether anything is drawn in the row between x0 and x1 (text, colour)."""
        y0, y1 = round(row * row_height) + 2, round((row + 1) * row_height) - 2
        return any(image.pixel(x, y) != base for x in range(x0, x1) for y in range(y0, y1))

    for row in range(3):
        assert inked(2, left - 2, row), f"row {row} has no name"
    # "The Almanac" has no AI text: its row is not blank either ("no AI text" is written).
    assert inked(left + 2, book_map.width() - 2, 1)
    # Clicking a name opens the chapter at its start.
    qtbot.mouseClick(book_map, LEFT, pos=QPoint(left // 2, round(row_height * 2.5)))
    assert window.chapter is window.project.chapters[2]  # type: ignore[union-attr]
    assert window.editor.textCursor().position() == 0
    book_map.grab().save(str(screenshot_dir / "book_map.png"))


def test_the_legend_follows_the_view_and_is_in_sight_at_first_launch(
    window: MainWindow, qtbot, screenshot_dir: Path
) -> None:
    legend = window.legend
    qtbot.waitUntil(lambda: not legend.visibleRegion().isEmpty(), timeout=2000)
    assert window.ai.ai_dock.isVisible()  # the AI tab is in front of its tabs, as at launch
    assert not window.legend_dock.isFloating()
    assert window.legend_dock not in window.tabifiedDockWidgets(window.ai.ai_dock)

    window.mode_actions[ViewMode.ORIGINS].trigger()
    assert all(w.isVisible() for w in legend.origin_rows)
    assert not any(w.isVisible() for w in legend.heat_rows)
    window.mode_actions[ViewMode.HEATMAP].trigger()
    assert not any(w.isVisible() for w in legend.origin_rows)
    assert all(w.isVisible() for w in legend.heat_rows)
    assert "Heatmap" in legend.mode_note.text()
    window.grab().save(str(screenshot_dir / "legend_heatmap.png"))
    window.mode_actions[ViewMode.ORIGINS].trigger()
    assert all(w.isVisible() for w in legend.origin_rows)
