"""The History view in the real window: slider, steps, play, restore with undo, and the jump
from the review queue.

The sample book's chapter 3 ("The Storm") has two text events: the author's opening (143
characters) and generation g2's passage (254 characters, pending review). Chapter 1 ("The
Keeper") has four: typed, generation g1 (approved), typed, typed.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QTextCharFormat
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu

from coauthor.core.book import Chapter
from coauthor.core.origin import Origin
from coauthor.core.policy import generation_ranges
from coauthor.store import ProjectFile
from coauthor.store.verify import verify
from coauthor.ui.history import HistoryView
from coauthor.ui.mainwindow import MainWindow

STORM_OPENING = 143
G2_LENGTH = 254


def menu_action(window: MainWindow, menu: str, text: str) -> QAction:
    for top in window.menuBar().actions():
        items = top.menu()
        if top.text().replace("&", "") == menu and isinstance(items, QMenu):
            for act in items.actions():
                if act.text().replace("&", "") == text:
                    return act
    raise AssertionError(f"no {menu} ▸ {text}")


def chapter(window: MainWindow, index: int) -> Chapter:
    assert window.project is not None
    return window.project.chapters[index]


def view(window: MainWindow) -> HistoryView:
    return window.history.view


def open_history(window: MainWindow, qtbot) -> HistoryView:
    """View ▸ History…, then wait for the record to be read."""
    menu_action(window, "View", "History…").trigger()
    history = view(window)
    qtbot.waitUntil(lambda: history.slider.isEnabled() and history.position >= 0, timeout=10_000)
    return history


def slide_to(history: HistoryView, qtbot, position: int) -> None:
    history.slider.setValue(position)  # as a drag does: shown once the slider rests
    qtbot.waitUntil(lambda: history.position == position, timeout=2000)


def marks_at(history: HistoryView, unit: int) -> list[tuple[bool, str]]:
    """(wave-underlined, background colour) of each format over ``unit`` in the viewer."""
    history.viewer.viewport().repaint()
    block = history.viewer.document().findBlock(unit)
    offset = unit - block.position()
    wave = QTextCharFormat.UnderlineStyle.WaveUnderline
    return [
        (r.format.underlineStyle() == wave, r.format.background().color().name())
        for r in block.layout().formats()
        if r.start <= offset < r.start + r.length
    ]


def test_history_is_in_the_view_menu_with_its_own_shortcut(window: MainWindow) -> None:
    act = menu_action(window, "View", "History…")
    assert act.shortcut().toString() == "Ctrl+Shift+H"
    assert act.isEnabled()
    others = [
        a.shortcut().toString()
        for top in window.menuBar().actions()
        if isinstance(items := top.menu(), QMenu)
        for a in items.actions()
        if a is not act and not a.shortcut().isEmpty()
    ]
    assert "Ctrl+Shift+H" not in others


def test_the_slider_and_the_steps_show_the_chapter_as_it_was(
    window: MainWindow, qtbot, screenshot_dir: Path
) -> None:
    storm = chapter(window, 2)
    window.show_chapter(storm)
    history = open_history(window, qtbot)
    assert history.slider.maximum() == 2
    # At the latest event: the chapter as it reads now, g2's passage marked as the change.
    assert history.position == 2
    assert history.viewer.toPlainText() == storm.text.text
    [change] = history.viewer.extraSelections()  # overlined, its colours kept
    assert change.cursor.selectedText() == storm.text.text_in(
        STORM_OPENING, STORM_OPENING + G2_LENGTH
    )
    assert "Event 2 of 2" in history.status.text()
    assert "generation g2" in history.status.text()
    # The generated passage is in the AI colour and, pending, wave-underlined.
    pending = window.origin_palette.pending_background.name()
    assert (True, pending) in marks_at(history, STORM_OPENING + 10)
    assert marks_at(history, 10) == []  # typed by the author: no colour
    window.grab().save(str(screenshot_dir / "history-view.png"))

    slide_to(history, qtbot, 0)
    assert history.viewer.toPlainText() == ""
    assert "Before the first" in history.status.text()
    assert not history.back_button.isEnabled()
    history.forward_button.click()
    assert history.position == 1
    assert history.viewer.toPlainText() == storm.text.text_in(0, STORM_OPENING)
    assert "typed 143 characters" in history.status.text()
    history.back_button.click()
    assert history.viewer.toPlainText() == ""


def test_play_runs_through_the_events_and_stops_at_the_end(window: MainWindow, qtbot) -> None:
    keeper = chapter(window, 0)
    window.show_chapter(keeper)
    history = open_history(window, qtbot)
    last = history.slider.maximum()
    assert last == 4
    history.speed.setCurrentIndex(history.speed.findData(20))
    history.play_button.click()  # from the end: it starts again at the beginning
    assert history.playing
    assert history.play_button.text() == "Pause"
    seen: set[int] = set()
    qtbot.waitUntil(lambda: seen.add(history.position) or not history.playing, timeout=5000)
    assert history.position == last
    assert history.viewer.toPlainText() == keeper.text.text
    assert history.play_button.text() == "Play"
    assert len(seen) > 2  # it went through the events, not straight to the end
    # Pause holds the point reached.
    history.show_position(0)
    history.speed.setCurrentIndex(history.speed.findData(1))
    history.play_button.click()
    qtbot.waitUntil(lambda: history.position == 1, timeout=3000)
    history.play_button.click()
    assert not history.playing
    QTest.qWait(1200)
    assert history.position == 1


def test_restore_brings_back_the_text_and_its_origins_and_undo_takes_it_back(
    window: MainWindow, qtbot, close_window, sample_project: Path
) -> None:
    storm = chapter(window, 2)
    window.show_chapter(storm)
    before = (storm.text.text, list(storm.text.runs()))
    # The author types over the generated passage: it becomes the author's text.
    start, end = generation_ranges(storm, "g2")[0]
    window.editor.select_range(start + 4, end - 4)
    QTest.keyClicks(window.editor, "Rain.")
    edited = (storm.text.text, list(storm.text.runs()))
    assert edited != before
    assert not generation_ranges(storm, "g2") or storm.text.text != before[0]

    history = open_history(window, qtbot)
    assert history.slider.maximum() >= 3
    slide_to(history, qtbot, 2)  # after g2 was inserted, before the typing
    assert history.viewer.toPlainText() == before[0]
    history.restore_button.click()
    assert (storm.text.text, list(storm.text.runs())) == before
    assert window.editor.toPlainText() == before[0]
    assert generation_ranges(storm, "g2") == [(STORM_OPENING, STORM_OPENING + G2_LENGTH)]
    assert window.undo_action.text().replace("&", "").startswith("Undo Restore Version of")

    window.undo_action.trigger()
    assert (storm.text.text, list(storm.text.runs())) == edited
    assert window.editor.toPlainText() == edited[0]
    window.redo_action.trigger()
    assert (storm.text.text, list(storm.text.runs())) == before

    # The restore is in the record: the view reads it as the latest event.
    qtbot.waitUntil(history.slider.isEnabled, timeout=10_000)
    history.end_button.click()
    qtbot.waitUntil(
        lambda: history.slider.isEnabled() and history.position == history.slider.maximum(),
        timeout=10_000,
    )
    assert "put back" in history.status.text()
    # And the record backs it: the chain verifies, the restored text is g2's again.
    close_window(window)
    project_file = ProjectFile.open(sample_project, readonly=True)
    try:
        result = verify(project_file)
        assert result.ok, result.message
        loaded = project_file.load().chapters[2]
    finally:
        project_file.close()
    assert (loaded.text.text, list(loaded.text.runs())) == before
    assert any(o is Origin.AI and r == "g2" for _, o, r in loaded.text.runs())


def test_show_in_history_from_the_review_queue(window: MainWindow, qtbot) -> None:
    window.show_chapter(chapter(window, 0))  # the passage is in another chapter
    window.ai.show_queue()
    queue = window.ai.queue
    qtbot.waitUntil(lambda: queue.tree.topLevelItemCount() == 1, timeout=3000)
    first = queue.tree.topLevelItem(0)
    assert first is not None
    queue.tree.setCurrentItem(first)
    menu = queue.context_menu()
    assert menu is not None
    [show] = [a for a in menu.actions() if a.text() == "Show in History"]
    show.trigger()
    history = view(window)
    qtbot.waitUntil(lambda: history.slider.isEnabled() and history.position >= 0, timeout=10_000)
    assert window.chapter is chapter(window, 2)
    assert window.history.dock.isVisible()
    assert history.position == 2  # right after g2's text came in
    assert "generation g2" in history.status.text()
    log = [history.log.item(i).text() for i in range(history.log.count())]
    assert any("generation g2 inserted" in line for line in log)
    # The log jumps too: to the beginning of the chapter's history and back to g2.
    slide_to(history, qtbot, 0)
    [g2] = [
        history.log.item(i)
        for i in range(history.log.count())
        if "g2 inserted" in history.log.item(i).text()
    ]
    history.log.itemActivated.emit(g2)
    assert history.position == 2


def test_the_whole_book_scope_follows_every_chapter(window: MainWindow, qtbot) -> None:
    history = open_history(window, qtbot)
    history.scope.setCurrentIndex(1)  # Whole book
    qtbot.waitUntil(
        lambda: history.slider.isEnabled() and history.slider.maximum() == 11, timeout=10_000
    )
    assert history.position == 11
    slide_to(history, qtbot, 5)  # the Almanac's first event: typed 126 characters
    assert "The Almanac" in history.status.text()
    assert history.viewer.toPlainText() == chapter(window, 1).text.text_in(0, 126)
    QTest.keyClick(history.viewer, Qt.Key.Key_End)  # the viewer is read-only
    assert history.viewer.toPlainText() == chapter(window, 1).text.text_in(0, 126)
