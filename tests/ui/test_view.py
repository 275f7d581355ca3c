"""What the author sees: the three view modes, pending-review marks and provenance tooltips."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import (
    QColor,
    QHelpEvent,
    QImage,
    QKeySequence,
    QPalette,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

from coauthor.core.origin import Origin
from coauthor.ui.highlighter import BlockMark, ViewMode
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.palette import blend_over, palette_for

CTRL = Qt.KeyboardModifier.ControlModifier
MODEL = "SmolLM2-135M-Instruct"  # model_identity of the recorded "SmolLM2-135M-Instruct (Q4_1)"


def first_run_start(window: MainWindow, origin: Origin) -> int:
    assert window.chapter is not None
    pos = 0
    for length, run_origin, _ in window.chapter.text.runs():
        if run_origin is origin:
            return pos
        pos += length
    raise AssertionError(f"no {origin} text")


def point_of(window: MainWindow, pos: int) -> QPoint:
    """A point in the viewport over the middle of the line holding code point ``pos``."""
    cursor = window.editor.textCursor()
    cursor.setPosition(window.editor.to_utf16(pos))
    return window.editor.cursorRect(cursor).center()


def dominant_colour(image: QImage, centre: QPoint, half_width: int, half_height: int) -> QColor:
    """The most frequent colour in a small box (glyph pixels are the minority)."""
    counts: dict[int, int] = {}
    for x in range(centre.x() - half_width, centre.x() + half_width + 1):
        for y in range(centre.y() - half_height, centre.y() + half_height + 1):
            if 0 <= x < image.width() and 0 <= y < image.height():
                rgb = image.pixel(x, y)
                counts[rgb] = counts.get(rgb, 0) + 1
    return QColor.fromRgb(max(counts, key=counts.__getitem__))


# -- 6. view modes -----------------------------------------------------------------------------


def test_view_modes_switch_with_ctrl_1_2_3_and_change_the_colours(
    window: MainWindow, screenshot_dir: Path, qtbot
) -> None:
    editor = window.editor
    # The book map and overview strip fill in shortly after opening; wait, for the pictures.
    window.map_dock.raise_()  # the Provenance tab, with the legend and the book map
    qtbot.waitUntil(lambda: len(window.book_map.rows) == 3, timeout=2000)
    qtbot.waitUntil(lambda: bool(window.overview.profile), timeout=2000)
    ai = first_run_start(window, Origin.AI)
    # The line with the start of the AI passage, a little to the right of its first character.
    cursor = editor.textCursor()
    cursor.setPosition(editor.to_utf16(ai + 8))
    rect = editor.cursorRect(cursor)
    probe = QPoint(rect.center().x(), rect.center().y())
    colours: dict[ViewMode, QColor] = {}
    for key, mode in (
        (Qt.Key.Key_1, ViewMode.PLAIN),
        (Qt.Key.Key_2, ViewMode.ORIGINS),
        (Qt.Key.Key_3, ViewMode.HEATMAP),
    ):
        QTest.keyClick(editor, key, CTRL)
        assert window.highlighter.mode is mode
        assert window.mode_actions[mode].isChecked()
        assert window.settings.view_mode == mode.value
        qtbot.wait(20)  # let the rehighlight paint
        window.grab().save(str(screenshot_dir / f"{mode.value}.png"))
        image = editor.viewport().grab().toImage()
        colours[mode] = dominant_colour(image, probe, 12, max(2, rect.height() // 3))
    base = editor.palette().color(editor.viewport().backgroundRole())
    assert colours[ViewMode.PLAIN].rgb() == base.rgb()
    assert colours[ViewMode.ORIGINS] != colours[ViewMode.PLAIN]
    assert colours[ViewMode.HEATMAP] != colours[ViewMode.PLAIN]
    # AI origin colour is blue-ish: more blue than red.
    assert colours[ViewMode.ORIGINS].blue() > colours[ViewMode.ORIGINS].red()
    for name in ("plain.png", "origins.png", "heatmap.png"):
        assert (screenshot_dir / name).stat().st_size > 0


def _marks_of_block(window: MainWindow, pos: int) -> list[BlockMark]:
    """The stretches the highlighter paints in the block holding ``pos``."""
    block = window.editor.document().findBlock(window.editor.to_utf16(pos))
    return window.highlighter.block_marks(block)[0]


def test_pending_ai_text_is_marked_in_plain_mode_too(
    window: MainWindow, qtbot, screenshot_dir: Path
) -> None:
    QTest.keyClick(window.editor, Qt.Key.Key_1, CTRL)
    assert window.highlighter.mode is ViewMode.PLAIN
    # The approved passage in chapter 1 carries no mark in plain mode.
    approved = first_run_start(window, Origin.AI)
    assert not _marks_of_block(window, approved)
    window.show_chapter(window.project.chapters[2])  # type: ignore[union-attr]
    pending = first_run_start(window, Origin.AI)
    assert window.chapter is not None
    assert window.chapter.text.origin_at(pending) == (Origin.AI, "g2")
    marks = _marks_of_block(window, pending)
    assert [m.pending for m in marks] == [True]  # painted with a wavy underline and hatching
    # And it is really painted: pixels under the passage differ from the plain background.
    qtbot.wait(20)
    editor = window.editor
    cursor = editor.textCursor()
    cursor.setPosition(editor.to_utf16(pending + 3))
    rect = editor.cursorRect(cursor)
    image = editor.viewport().grab().toImage()
    base = editor.palette().color(editor.viewport().backgroundRole()).rgb()
    painted = {
        image.pixel(x, y)
        for x in range(rect.left(), rect.left() + 30)
        for y in range(rect.top(), rect.bottom())
    }
    assert any(pixel != base for pixel in painted)
    # The wavy underline: vermillion pixels just under the line's text.
    underline = palette_for(editor.palette()).pending_underline
    wave = {
        QColor.fromRgb(image.pixel(x, y)).hue()
        for x in range(rect.left(), rect.left() + 30)
        for y in range(rect.bottom() - 6, rect.bottom() + 1)
    }
    assert any(abs(hue - underline.hue()) <= 12 for hue in wave if hue >= 0)
    window.grab().save(str(screenshot_dir / "pending-plain.png"))
    QTest.keyClick(editor, Qt.Key.Key_2, CTRL)
    qtbot.wait(20)
    window.grab().save(str(screenshot_dir / "pending-origins.png"))


def _background_at(window: MainWindow, pos: int) -> QColor | None:
    """The background Qt draws under code point ``pos``: from its paragraph's layout formats
    (the provenance is given as formats as blocks are painted), None if it has none."""
    editor = window.editor
    editor.viewport().repaint()
    unit = editor.to_utf16(pos)
    block = editor.document().findBlock(unit)
    offset = unit - block.position()
    colour = None
    for r in block.layout().formats():
        if r.start <= offset < r.start + r.length and r.format.hasProperty(
            QTextFormat.Property.BackgroundBrush
        ):
            colour = r.format.background().color()
    return colour


def test_typing_inside_model_text_shows_the_new_words_as_the_authors_at_once(
    window: MainWindow, qtbot
) -> None:
    """The colours follow each keystroke: the word typed into the model's passage is the
    author's (no tint) in the paint that follows, the passage around it stays tinted; the
    heatmap carries no character tints (it shades paragraphs); back to origins, they return."""
    editor = window.editor
    ai = first_run_start(window, Origin.AI)
    tint = _background_at(window, ai + 5)
    assert tint is not None
    assert tint.blue() > tint.red()
    editor.go_to(ai + 5)
    editor.setFocus()
    QTest.keyClicks(editor, "Hello")
    assert window.chapter is not None
    assert window.chapter.text.origin_at(ai + 6)[0] is Origin.HUMAN
    assert _background_at(window, ai + 6) is None  # the typed word, mid-passage
    assert _background_at(window, ai + 2) == tint  # the model's text before it
    assert _background_at(window, ai + 11) == tint  # and after it
    QTest.keyClick(editor, Qt.Key.Key_3, CTRL)  # heatmap
    assert _background_at(window, ai + 2) is None
    QTest.keyClick(editor, Qt.Key.Key_2, CTRL)  # origin colours
    assert _background_at(window, ai + 2) == tint


# -- 14. tooltips ------------------------------------------------------------------------------


def test_describe_position_names_model_review_and_import_source(window: MainWindow) -> None:
    project = window.project
    assert project is not None
    keeper, almanac, storm = project.chapters
    ai = first_run_start(window, Origin.AI)
    text = window.describe_position(keeper, ai + 1)
    assert MODEL in text
    assert "approved" in text
    assert "Ada Marlowe" in text

    window.show_chapter(storm)
    text = window.describe_position(storm, first_run_start(window, Origin.AI) + 1)
    assert MODEL in text
    assert "pending" in text

    window.show_chapter(almanac)
    imported = first_run_start(window, Origin.IMPORTED)
    text = window.describe_position(almanac, imported)
    assert "almanac-notes.md" in text
    assert "Imported" in text
    assert "Pasted" in window.describe_position(almanac, first_run_start(window, Origin.PASTED))
    assert "Typed" in window.describe_position(almanac, 0)


def test_hovering_ai_text_shows_the_tooltip(window: MainWindow, qtbot) -> None:
    viewport = window.editor.viewport()
    point = point_of(window, first_run_start(window, Origin.AI) + 3)
    event = QHelpEvent(QEvent.Type.ToolTip, point, viewport.mapToGlobal(point))
    QApplication.sendEvent(viewport, event)
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    assert MODEL in QToolTip.text()
    assert "approved" in QToolTip.text()
    QToolTip.hideText()


def test_window_title_and_status_describe_the_book(window: MainWindow, qtbot) -> None:
    assert window.windowTitle() == "The Tide Clock — Coauthor"
    window.update_status()
    assert "1 passage pending review" in window.pending_status.text()
    assert "AI" in window.chapter_status.text()
    cursor = window.editor.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    window.editor.setTextCursor(cursor)
    QTest.keyClicks(window.editor, "More words of my own.")
    qtbot.waitUntil(lambda: window.save_status.text() == "All changes saved", timeout=3000)


# -- themes ------------------------------------------------------------------------------------


def _luminance(colour: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def _contrast(a: QColor, b: QColor) -> float:
    """The WCAG contrast ratio of two opaque colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#2b2b2b"),
        (QPalette.ColorRole.WindowText, "#e6e6e6"),
        (QPalette.ColorRole.Base, "#1e1e1e"),
        (QPalette.ColorRole.AlternateBase, "#2b2b2b"),
        (QPalette.ColorRole.Text, "#e6e6e6"),
        (QPalette.ColorRole.Button, "#353535"),
        (QPalette.ColorRole.ButtonText, "#e6e6e6"),
        (QPalette.ColorRole.Mid, "#555555"),
    ):
        palette.setColor(role, QColor(colour))
    return palette


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_origin_tints_keep_body_text_readable_in_light_and_dark_themes(theme: str) -> None:
    """Text over every origin tint, and over pending hatching's tint, keeps the WCAG AA
    contrast for body text (4.5:1) against the theme's own text colour."""
    qt_palette = _dark_palette() if theme == "dark" else QApplication.palette()
    palette = palette_for(qt_palette)
    assert palette.dark is (theme == "dark")
    base = qt_palette.color(QPalette.ColorRole.Base)
    text = qt_palette.color(QPalette.ColorRole.Text)
    for tint in [*palette.backgrounds.values(), palette.pending_background]:
        shown = blend_over(tint, base)
        assert _contrast(text, shown) >= 4.5, (theme, tint.name(QColor.NameFormat.HexArgb))


def test_the_window_follows_a_switch_to_a_dark_theme(
    window: MainWindow, qtbot, screenshot_dir: Path
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    light = window.origin_palette
    editor = window.editor
    ai = first_run_start(window, Origin.AI)
    cursor = editor.textCursor()
    cursor.setPosition(editor.to_utf16(ai + 8))
    rect = editor.cursorRect(cursor)
    probe = rect.center()
    before = dominant_colour(editor.viewport().grab().toImage(), probe, 12, rect.height() // 3)
    saved = app.palette()
    app.setPalette(_dark_palette())
    try:
        qtbot.waitUntil(lambda: window.origin_palette.dark, timeout=2000)
        assert window.origin_palette != light
        qtbot.wait(20)
        after = dominant_colour(editor.viewport().grab().toImage(), probe, 12, rect.height() // 3)
        # The AI passage is now tinted over the dark page: dark, and not the light theme's tint.
        assert after.lightness() < 100 < before.lightness()
        assert (
            after.rgb()
            == blend_over(
                window.origin_palette.backgrounds[Origin.AI],
                editor.palette().color(QPalette.ColorRole.Base),
            ).rgb()
        )
        window.grab().save(str(screenshot_dir / "origins-dark.png"))
    finally:
        app.setPalette(saved)
    qtbot.waitUntil(lambda: not window.origin_palette.dark, timeout=2000)


# -- text size and full screen -----------------------------------------------------------------


def test_zoom_keys_change_the_text_size_and_it_is_remembered(
    window: MainWindow, open_window, sample_project: Path, close_window, qtbot
) -> None:
    editor = window.editor
    size = editor.font().pointSize()
    assert size == window.settings.font_size == 12
    zoom_in = QKeySequence(QKeySequence.StandardKey.ZoomIn)[0]
    zoom_out = QKeySequence(QKeySequence.StandardKey.ZoomOut)[0]
    for _ in range(3):
        QTest.keySequence(editor, QKeySequence(zoom_in))
    assert editor.font().pointSize() == 15
    assert window.settings.font_size == 15
    assert "15 pt" in window.statusBar().currentMessage()
    QTest.keySequence(editor, QKeySequence(zoom_out))
    assert editor.font().pointSize() == 14
    # The text in the core is untouched by all this, and the size survives a restart.
    assert window.chapter is not None
    assert window.chapter.text.text == editor.toPlainText()
    close_window(window)
    again = open_window(sample_project)
    assert again.editor.font().pointSize() == 14
    QTest.keyClick(again.editor, Qt.Key.Key_0, CTRL)  # Actual Size
    assert again.editor.font().pointSize() == 12
    for _ in range(60):  # bounded, however often the key is pressed
        again.zoom(-1)
    assert again.editor.font().pointSize() == 6


def test_full_screen_toggles(window: MainWindow, qtbot) -> None:
    window.full_screen_action.trigger()
    qtbot.waitUntil(window.isFullScreen, timeout=2000)
    assert window.full_screen_action.isChecked()
    window.full_screen_action.trigger()
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=2000)
