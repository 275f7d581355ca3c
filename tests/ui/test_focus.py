"""Focus mode in the real window: full screen, a centred column of the remembered width, the
cursor's line kept at the middle, the rest hidden until the mouse reaches an edge, Esc leaves."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from coauthor.ui.focus import EDGE_PX, WIDTH_STEP
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.settings import DEFAULT_FOCUS_WIDTH


def _cursor_offset(window: MainWindow) -> float:
    """How far the cursor's line is from the editor's vertical middle, in lines."""
    editor = window.editor
    middle = editor.contentsRect().height() / 2
    line = editor.fontMetrics().lineSpacing()
    where = editor.viewportMargins().top() + editor.cursorRect().center().y()
    return abs(where - middle) / line


def test_focus_mode_enters_and_leaves(window: MainWindow, qtbot, screenshot_dir: Path) -> None:
    focus = window.focus
    window.resize(1200, 800)
    docks_before = {d.objectName(): d.isVisible() for d in (window.chapters_dock, window.map_dock)}
    assert focus.action.shortcut().toString() == "Ctrl+Shift+F"
    assert not focus.active
    QTest.keyClick(
        window.editor,
        Qt.Key.Key_F,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert focus.active
    assert focus.action.isChecked()
    assert window.windowState() & Qt.WindowState.WindowFullScreen
    assert not window.menuBar().isVisible()
    assert not window.statusBar().isVisible()
    assert not window.chapters_dock.isVisible()
    assert not window.map_dock.isVisible()
    assert not window.overview.isVisible()

    # A centred column of the remembered width.
    qtbot.waitUntil(lambda: window.editor.viewportMargins().left() > 0, timeout=2000)
    margins = window.editor.viewportMargins()
    assert margins.left() == margins.right() == focus.side_margin()
    assert abs(window.editor.viewport().width() - focus.column_width) <= 2
    assert window.settings.focus_width == DEFAULT_FOCUS_WIDTH
    before = window.editor.viewport().width()
    focus.wider_action.trigger()
    assert window.settings.focus_width == DEFAULT_FOCUS_WIDTH + WIDTH_STEP
    assert window.editor.viewport().width() > before
    QTest.keyClick(
        window.editor,
        Qt.Key.Key_Left,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier,
    )
    QTest.keyClick(
        window.editor,
        Qt.Key.Key_Left,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier,
    )
    assert window.settings.focus_width == DEFAULT_FOCUS_WIDTH - WIDTH_STEP

    # Typewriter scrolling: the line being written stays near the middle.
    chapter = window.chapter
    assert chapter is not None
    window.editor.go_to(len(chapter.text) // 2)
    QTest.keyClicks(window.editor, "A new line")
    QTest.keyClick(window.editor, Qt.Key.Key_Return)
    QTest.keyClicks(window.editor, "and another")
    assert _cursor_offset(window) < 1.0
    window.editor.go_to(len(chapter.text))  # even the last line comes to the middle
    QTest.keyClick(window.editor, Qt.Key.Key_Return)
    QTest.keyClicks(window.editor, "The end.")
    assert _cursor_offset(window) < 1.0
    assert chapter.text.text == window.editor.toPlainText()

    # The chrome comes back at the edges, and goes again.
    middle = QPoint(window.width() // 2, window.height() // 2)
    focus.reveal_at(QPoint(middle.x(), 0))
    assert window.menuBar().isVisible()
    focus.reveal_at(QPoint(middle.x(), window.menuBar().height() + 2))  # still on the bar
    assert window.menuBar().isVisible()
    focus.reveal_at(middle)
    assert not window.menuBar().isVisible()
    focus.reveal_at(QPoint(middle.x(), window.height() - 1))
    assert window.statusBar().isVisible()
    focus.reveal_at(QPoint(EDGE_PX - 1, middle.y()))
    assert window.chapters_dock.isVisible()
    assert not window.statusBar().isVisible()
    focus.reveal_at(QPoint(window.width() - 1, middle.y()))
    assert window.map_dock.isVisible() or window.ai.ai_dock.isVisible()
    assert not window.chapters_dock.isVisible()
    focus.reveal_at(QPoint(window.width() - 1, middle.y() + 40))  # still over the docks
    assert window.map_dock.isVisible() or window.ai.ai_dock.isVisible()
    focus.reveal_at(QPoint(-50, middle.y()))  # the mouse left the window
    assert not window.map_dock.isVisible()
    assert not window.ai.ai_dock.isVisible()
    qtbot.wait(100)  # the layout and the column follow
    assert window.editor.viewportMargins().left() == focus.side_margin()
    assert window.editor.width() > window.width() - 40
    window.grab().save(str(screenshot_dir / "focus_mode.png"))
    assert (screenshot_dir / "focus_mode.png").stat().st_size > 0

    # Esc leaves, and the window is as it was.
    QTest.keyClick(window.editor, Qt.Key.Key_Escape)
    assert not focus.active
    assert not focus.action.isChecked()
    assert not window.windowState() & Qt.WindowState.WindowFullScreen
    assert window.menuBar().isVisible()
    assert window.statusBar().isVisible()
    assert window.overview.isVisible() == window.settings.show_overview
    assert {d.objectName(): d.isVisible() for d in (window.chapters_dock, window.map_dock)} == (
        docks_before
    )
    assert window.editor.viewportMargins().left() == 0
    assert not window.editor.centerOnScroll()


def test_the_column_width_is_remembered(window: MainWindow) -> None:
    window.focus.enter()
    window.focus.change_width(+3 * WIDTH_STEP)
    window.focus.leave()
    assert window.settings.focus_width == DEFAULT_FOCUS_WIDTH + 3 * WIDTH_STEP
    window.settings.focus_width = 10_000
    assert window.settings.focus_width == 160  # clamped


def test_nothing_is_connected_while_focus_mode_is_off(window: MainWindow) -> None:
    editor = window.editor
    signal = "2cursorPositionChanged()"
    off = editor.receivers(signal)
    window.focus.enter()
    assert editor.receivers(signal) == off + 1
    window.focus.leave()
    assert editor.receivers(signal) == off
