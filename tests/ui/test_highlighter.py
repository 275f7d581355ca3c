"""What a Markdown chapter looks like in the editor: styled as the author types, never changed.

The styles are read back from each block's layout (``QTextLayout.formats``), which is what Qt
draws; the text and the provenance must stay exactly what was typed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPainter,
    QPaintEvent,
    QTextBlock,
    QTextFormat,
    QTextLayout,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from coauthor.core.book import BookMeta, ImportRecord
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.store import ProjectFile
from coauthor.ui.editor import ProvenanceEditor
from coauthor.ui.highlighter import ViewMode, _dirty_lines, _lines_after
from coauthor.ui.mainwindow import MainWindow

SAMPLE = (
    "# The Keeper\n\n"
    "She said it *once* and **twice**, and ***both***, with `code_here` and snake_case.\n\n"
    "> A quote with *emphasis* inside.\n\n"
    "- a list item\n"
    "1. a numbered one\n\n"
    "* * *\n\n"
    "Emphasis *may span\n"
    "two lines* in a paragraph. An escaped \\*star\\* is not italic.\n\n"
    "## A smaller heading\n"
)


def saved(project: Project, path: Path) -> Path:
    """``project`` written to a new project file at ``path``."""
    project_file = ProjectFile.create(path, project.meta)
    try:
        project_file.flush(project)
    finally:
        project_file.close(project)
    return path


def make_project(path: Path, chapters: list[tuple[str, str, str]]) -> Path:
    """A project file with chapters ``(title, text, markup)``, all typed by the author."""
    project = Project(BookMeta(title="Styling"))
    for title, text, markup in chapters:
        chapter = project.add_chapter(title, markup=markup)
        if text:
            project.insert(chapter, 0, text, Origin.HUMAN)
    return saved(project, path)


def block_of(window: MainWindow, needle: str) -> QTextBlock:
    document = window.editor.document()
    block = document.firstBlock()
    while block.isValid():
        if needle in block.text():
            return block
        block = block.next()
    raise AssertionError(f"no block holds {needle!r}")


def styles(block: QTextBlock) -> list[dict[str, object]]:
    """Per character of the block: italic, bold, point size, monospace and colour."""
    out = [
        {"italic": False, "bold": False, "size": -1.0, "mono": False, "colour": None}
        for _ in block.text()
    ]
    for r in block.layout().formats():
        for i in range(r.start, r.start + r.length):
            fmt = r.format
            out[i] = {
                "italic": fmt.fontItalic(),
                "bold": fmt.fontWeight() >= QFont.Weight.Bold.value,
                "size": fmt.fontPointSize(),
                "mono": fmt.fontFixedPitch(),
                "colour": fmt.foreground().color().name()
                if fmt.hasProperty(QTextFormat.Property.ForegroundBrush)
                else None,
            }
    return out


def italic_text(block: QTextBlock) -> str:
    return "".join(
        c if s["italic"] else "." for c, s in zip(block.text(), styles(block), strict=True)
    )


def dimmed_text(block: QTextBlock) -> str:
    return "".join(
        c if s["colour"] else "." for c, s in zip(block.text(), styles(block), strict=True)
    )


def test_typing_emphasis_styles_it_as_typed_and_changes_nothing(
    open_window, tmp_path: Path, screenshot_dir: Path, qtbot
) -> None:
    window = open_window(make_project(tmp_path / "b.coauthor", [("One", "", "markdown")]))
    editor = window.editor
    QTest.keyClicks(editor, "It rang *seven")
    block = editor.textCursor().block()
    assert italic_text(block) == "." * len(block.text())  # not closed yet: not emphasis
    QTest.keyClicks(editor, "* times.")
    assert italic_text(block) == "." * 9 + "seven" + "." * 8
    assert dimmed_text(block) == "." * 8 + "*.....*" + "." * 7
    chapter = window.chapter
    assert chapter is not None
    assert chapter.text.text == "It rang *seven* times." == editor.toPlainText()
    assert list(chapter.text.runs()) == [(22, Origin.HUMAN, None)]
    # Typing right after the italics is not italic: nothing went into the document's formats.
    QTest.keyClicks(editor, " Then")
    assert italic_text(block) == "." * 9 + "seven" + "." * 13
    assert not editor.document().toHtml().count("font-style:italic")
    window.grab().save(str(screenshot_dir / "markdown-typing.png"))


def test_markdown_chapter_shows_every_construct(
    open_window, tmp_path: Path, screenshot_dir: Path, qtbot
) -> None:
    window = open_window(make_project(tmp_path / "b.coauthor", [("One", SAMPLE, "markdown")]))
    window.resize(1100, 700)
    qtbot.wait(50)
    base = window.editor.font().pointSizeF()
    heading = styles(block_of(window, "The Keeper"))
    assert heading[0]["colour"]
    assert heading[2]["bold"]
    big, small = heading[2]["size"], styles(block_of(window, "A smaller heading"))[4]["size"]
    assert isinstance(big, float)
    assert isinstance(small, float)
    assert base * 1.5 < big
    assert base < small < big
    line = block_of(window, "She said")
    assert italic_text(line).startswith(".............once" + "." * 14)
    per_char = styles(line)
    twice = line.text().index("twice")
    assert per_char[twice]["bold"]
    assert not per_char[twice]["italic"]
    both = line.text().index("both")
    assert per_char[both]["bold"]
    assert per_char[both]["italic"]
    code = line.text().index("code_here")
    assert all(per_char[code + i]["mono"] for i in range(9))
    snake = line.text().index("snake_case")
    assert not any(per_char[snake + i]["italic"] for i in range(10))
    quote = block_of(window, "A quote")
    assert dimmed_text(quote).startswith("> ")
    assert styles(quote)[4]["italic"]  # quoted text is set in italics
    assert dimmed_text(block_of(window, "a list item")).startswith("- ")
    assert dimmed_text(block_of(window, "a numbered")).startswith("1. ")
    # Emphasis across the two lines of one paragraph; the escaped stars are not markers.
    assert italic_text(block_of(window, "Emphasis")).endswith("may span")
    second = block_of(window, "two lines")
    assert italic_text(second).startswith("two lines.")
    assert "star" not in italic_text(second)
    # The scene break is dimmed and drawn in the middle of the page.
    scene = block_of(window, "* * *")
    assert dimmed_text(scene) == "* * *"
    window.editor.viewport().repaint()
    line_x = scene.layout().lineAt(0).x()
    assert line_x > window.editor.viewport().width() / 3
    window.grab().save(str(screenshot_dir / "markdown-styles.png"))
    # The text itself is what the author wrote.
    assert window.editor.toPlainText() == SAMPLE


def test_plain_text_chapter_is_never_styled(open_window, tmp_path: Path) -> None:
    path = make_project(
        tmp_path / "b.coauthor",
        [("Markdown", "A *word*.", "markdown"), ("Session", "A *word* kept as typed.", "plain")],
    )
    window = open_window(path)
    assert window.chapter is not None
    assert window.chapter.markup == "markdown"
    assert block_of(window, "word").layout().formats()
    assert window.menus.format_actions[0].isEnabled()
    window.step_chapter(1)
    assert window.chapter is not None
    assert window.chapter.markup == "plain"
    window.editor.viewport().repaint()
    assert not block_of(window, "word").layout().formats()
    QTest.keyClicks(window.editor, "**bold?** ")
    assert not window.editor.textCursor().block().layout().formats()
    assert not any(a.isEnabled() for a in window.menus.format_actions)


class RepaintWatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.heights: list[int] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QPaintEvent):
            self.heights.append(event.region().boundingRect().height())
        return False


def test_a_keystroke_repaints_its_paragraph_only(open_window, tmp_path: Path, qtbot) -> None:
    paragraphs = "\n\n".join(f"Paragraph {i} has *some* **style** in it." for i in range(60))
    window = open_window(make_project(tmp_path / "b.coauthor", [("One", paragraphs, "markdown")]))
    editor = window.editor
    editor.go_to(editor.toPlainText().index("Paragraph 3 ") + 10)
    qtbot.wait(50)
    watcher = RepaintWatcher()
    editor.viewport().installEventFilter(watcher)
    for key in "abc*d":
        QTest.keyClicks(editor, key)
        QApplication.processEvents()
    editor.viewport().removeEventFilter(watcher)
    line = editor.fontMetrics().lineSpacing()
    assert watcher.heights
    assert max(watcher.heights) <= 3 * line, watcher.heights
    assert editor.viewport().height() > 10 * line


@pytest.mark.parametrize("markup", ["markdown", "plain"])
def test_only_the_paragraph_being_edited_keeps_its_shaped_text(
    open_window, tmp_path: Path, markup: str
) -> None:
    # Typing keeps the shaped glyphs of the paragraph typed in, so that painting it and placing
    # the cursor do not shape its text again after every keystroke; the paragraph edited
    # before lets its glyphs go (the memory does not grow with the paragraphs edited), also
    # when a paragraph split above it has moved it down. In a styled chapter and in a plain
    # one, whose keystrokes take Qt's own layout path.
    paragraphs = "\n\n".join(f"Paragraph {i} has *some* **style** in it." for i in range(20))
    window = open_window(make_project(tmp_path / "b.coauthor", [("One", paragraphs, markup)]))
    editor = window.editor
    document = editor.document()

    def kept() -> list[str]:
        return [
            document.findBlockByNumber(n).text()
            for n in range(document.blockCount())
            if document.findBlockByNumber(n).layout().cacheEnabled()
        ]

    for number, keys in ((3, "ab"), (7, "ab"), (1, [Qt.Key.Key_Return, "y"]), (4, "ab")):
        editor.go_to(editor.toPlainText().index(f"Paragraph {number} ") + 10)
        for key in keys:
            QTest.keyClick(editor, key) if isinstance(key, Qt.Key) else QTest.keyClicks(editor, key)
        QApplication.processEvents()
        assert kept() == [editor.textCursor().block().text()]
    assert kept() == ["Paragraph ab4 has *some* **style** in it."]
    assert window.chapter is not None
    assert window.chapter.text.text == editor.toPlainText()


def _drawn(layout: QTextLayout) -> QImage:
    """What a laid-out layout draws (from what it keeps, if it keeps its shaping)."""
    rect = layout.boundingRect().toAlignedRect()
    image = QImage(rect.width() + 20, rect.height() + 4, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        layout.draw(painter, QPointF(-rect.left() + 10, -rect.top() + 2))
    finally:
        painter.end()
    return image


def _drawn_afresh(block: QTextBlock, editor: ProvenanceEditor) -> QImage:
    """What ``block``'s text and formats draw, shaped now by a new layout of its lines."""
    kept = block.layout()
    layout = QTextLayout(block.text(), editor.document().defaultFont())
    layout.setTextOption(editor.document().defaultTextOption())
    layout.setFormats(kept.formats())
    layout.beginLayout()
    for i in range(kept.lineCount()):
        line = layout.createLine()
        line.setLineWidth(kept.lineAt(i).width())
        line.setLeadingIncluded(True)
        line.setPosition(kept.lineAt(i).position())
    layout.endLayout()
    return _drawn(layout)


def test_the_shaped_text_kept_is_never_stale(open_window, tmp_path: Path, qtbot) -> None:
    # The paragraph being edited keeps its glyphs from one keystroke to the next: after typing,
    # deleting, undo and redo and a paste over a line break, what it draws is what its text,
    # shaped afresh, draws.
    window = open_window(mixed_project(tmp_path / "b.coauthor"))
    window.set_view_mode(ViewMode.ORIGINS)
    editor = window.editor
    editor.go_to(editor.toPlainText().index("boats"))

    def same() -> bool:
        QApplication.processEvents()
        block = editor.textCursor().block()
        return block.layout().cacheEnabled() and _drawn(block.layout()) == _drawn_afresh(
            block, editor
        )

    for key in [*"fine ", Qt.Key.Key_Backspace, Qt.Key.Key_Backspace, *"*sea*"]:
        QTest.keyClick(editor, key)
        assert same(), f"stale glyphs after {key!r}"
    for step in ("undo", "undo", "redo"):
        stack = editor.undo_stack
        assert stack is not None
        getattr(stack, step)()
        assert same(), f"stale glyphs after {step}"
        QTest.keyClicks(editor, "x")
        assert same(), f"stale glyphs after typing after {step}"
    cursor = editor.textCursor()
    cursor.movePosition(cursor.MoveOperation.EndOfBlock, cursor.MoveMode.KeepAnchor)
    editor.setTextCursor(cursor)
    editor.insertPlainText("waves\n\nand more ")
    QTest.keyClicks(editor, "y")
    assert same(), "stale glyphs after a paste over a line break"
    assert window.chapter is not None
    assert window.chapter.text.text == editor.toPlainText()


def type_until_a_line_is_added(
    editor: ProvenanceEditor, block: QTextBlock, each: Callable[[], None] | None = None
) -> int:
    """Type words at the cursor until ``block`` has one line more; the keys typed. ``each``
    runs after every keystroke."""
    lines = block.layout().lineCount()
    typed = 0
    while block.layout().lineCount() == lines and typed < 400:
        QTest.keyClicks(editor, " " if typed % 7 == 6 else "w")
        QApplication.processEvents()
        typed += 1
        if each is not None:
            each()
    assert block.layout().lineCount() == lines + 1
    return typed


def test_a_styled_paragraph_that_grows_a_line_moves_the_text_below(
    open_window, tmp_path: Path, screenshot_dir: Path, qtbot, shows_fresh_render
) -> None:
    # Each keystroke in a styled paragraph is laid out by the editor's document layout itself
    # (MarkdownLayout), once; when the paragraph gains a line, what follows must move down.
    paragraphs = "\n\n".join(f"Paragraph {i} has *some* **style** in it." for i in range(40))
    window = open_window(make_project(tmp_path / "b.coauthor", [("One", paragraphs, "markdown")]))
    editor = window.editor
    editor.setCursorWidth(0)  # the caret blinks: keep it out of the comparison below
    editor.go_to(editor.toPlainText().index("Paragraph 3 ") + len("Paragraph 3 "))
    qtbot.wait(50)
    block = editor.textCursor().block()
    document_lines = editor.document().lineCount()
    watcher = RepaintWatcher()
    editor.viewport().installEventFilter(watcher)
    type_until_a_line_is_added(editor, block)
    editor.viewport().removeEventFilter(watcher)
    assert editor.document().lineCount() == document_lines + 1
    below = block.next().next()
    assert editor.blockBoundingGeometry(below).top() == (
        editor.blockBoundingGeometry(block).bottom()
        + editor.blockBoundingGeometry(block.next()).height()
    )
    # What follows was moved down, not drawn again, and the screen is what a full repaint
    # draws (the backing store, compared with a fresh render).
    assert max(watcher.heights) < editor.viewport().height() // 2
    assert shows_fresh_render(window)
    assert italic_text(block).strip(".") == "some"  # the styles moved with the text
    assert window.chapter is not None
    assert window.chapter.text.text == editor.toPlainText()
    window.grab().save(str(screenshot_dir / "markdown-paragraph-grows.png"))


LONG = (
    "The harbour lay *quiet* under a low sky, and the boats that had gone out before dawn came "
    "back one by one with their nets half empty, and the men who sailed them said little as "
    "they tied up along the **wall**, because there was little to say that the sea had not "
    "already said to each of them in the grey hours before the light came up over the point."
)


def mixed_project(path: Path) -> Path:
    """Paragraphs typed, generated (the second pending review, the fifth approved) and
    imported, in turn, each styled: tints, pending marks and emphasis on the same lines."""
    project = Project(BookMeta(title="Repaint"))
    chapter = project.add_chapter("One", markup="markdown")
    record = project.add_import(
        ImportRecord(project.new_import_id(), "draft.md", "markdown", own_writing=False)
    )
    for i in range(6):
        pos = len(chapter.text.text)
        piece = LONG + "\n\n"
        if i % 3 == 0:
            project.insert(chapter, pos, piece, Origin.HUMAN)
        elif i % 3 == 1:
            generation = project.add_generation(
                Generation(
                    project.new_generation_id(),
                    "test",
                    "test-model",
                    messages=[{"role": "user", "content": "Continue."}],
                    output=piece,
                    created=project.clock(),
                    chapter_id=chapter.id,
                )
            )
            project.insert(chapter, pos, piece, Origin.AI, generation.id)
            if i == 4:
                project.review(generation.id, ReviewState.APPROVED, "test", shown_ms=1000)
        else:
            project.insert(chapter, pos, piece, Origin.IMPORTED, record.id)
    return saved(project, path)


def test_a_keystroke_repaints_the_lines_it_changed_and_leaves_nothing_stale(
    open_window, tmp_path: Path, screenshot_dir: Path, qtbot, shows_fresh_render
) -> None:
    window = open_window(mixed_project(tmp_path / "b.coauthor"))
    window.set_view_mode(ViewMode.ORIGINS)
    editor = window.editor
    editor.setCursorWidth(0)  # the caret blinks: keep it out of the comparison
    text = editor.toPlainText()
    step = len(LONG) + 2
    assert text[4 * step :].startswith(LONG)
    approved, pending = 4 * step, step
    editor.go_to(approved + LONG.index("boats"))
    qtbot.wait(50)
    block = editor.textCursor().block()
    assert block.layout().lineCount() >= 6
    line = editor.fontMetrics().lineSpacing()
    watcher = RepaintWatcher()
    editor.viewport().installEventFilter(watcher)
    # Words pushed to the next lines and pulled back, lines added and taken away (what
    # follows moves), a word deleted, emphasis typed and taken apart, in approved, pending
    # and imported text: after every keystroke the screen shows what a full repaint draws.
    # (The hatching of pending text is anchored to the view, so it is kept above the edits:
    # moved by a keystroke or a scroll, its pattern is a few pixels out of phase.)
    keys = [*"many small ", *([Qt.Key.Key_Backspace] * 6), *"*new* ", Qt.Key.Key_Backspace]
    repainted = []
    # Then a "**" typed near the start, which pairs with the one before "wall" lines below:
    # the lines between turn bold although their text did not change.
    bold = ["*", "*", *([Qt.Key.Key_Backspace] * 2)]
    for target, typed in (
        (approved + LONG.index("boats"), keys),
        (pending + LONG.index("sailed"), keys),
        (approved + step + LONG.index("sailed"), keys * 2),
        (approved + LONG.index("lay"), bold),
    ):
        editor.go_to(target)
        QApplication.processEvents()
        for key in typed:
            watcher.heights.clear()
            QTest.keyClick(editor, key)
            QApplication.processEvents()
            repainted.append(max(watcher.heights, default=0))
            assert shows_fresh_render(window), f"stale pixels after {key!r}"
    # Most keystrokes repaint a line or two of the paragraph, not all of its lines (Qt's own
    # layout repaints the whole paragraph every time).
    repainted.sort()
    assert repainted[len(repainted) // 2] <= 2 * line + 6, repainted
    editor.viewport().removeEventFilter(watcher)
    chapter = window.chapter
    assert chapter is not None
    assert chapter.text.text == editor.toPlainText()
    window.grab().save(str(screenshot_dir / "markdown-keystroke-repaint.png"))


def _laid_out(text: str) -> QTextLayout:
    layout = QTextLayout(text, QFont())
    layout.beginLayout()
    y = 0.0
    while (line := layout.createLine()).isValid():
        line.setLineWidth(240)
        line.setPosition(QPointF(0, y))
        y += line.height()
    layout.endLayout()
    return layout


def test_which_lines_a_keystroke_repaints(qapp) -> None:
    # The decision behind the repaint of a keystroke (MarkdownLayout): the line typed in, the
    # one before it, and the lines whose breaks moved; no further.
    before = _laid_out(LONG)
    assert before.lineCount() >= 6
    pos = LONG.index("boats")
    line = before.lineForTextPosition(pos).lineNumber()
    assert line >= 1
    seen = _lines_after(before, pos)
    # One letter: that line and the one before it.
    assert _dirty_lines(_laid_out(LONG[:pos] + "x" + LONG[pos:]), pos, 1, seen) == (line - 1, line)
    # A word that moves every break after it (the height kept): the rest of the paragraph.
    pushed = _laid_out(LONG[:pos] + "x" * 8 + LONG[pos:])
    assert pushed.lineCount() == before.lineCount()
    assert _dirty_lines(pushed, pos, 8, seen) == (line - 1, before.lineCount() - 1)


def test_opening_a_million_characters_styles_what_is_shown_first(
    open_window, tmp_path: Path, qtbot
) -> None:
    paragraph = "She looked *once* at the **sea** and walked on, " * 6
    text = "\n\n".join([paragraph] * (1_000_000 // len(paragraph)))
    path = make_project(tmp_path / "big.coauthor", [("One", text, "markdown")])
    started = time.perf_counter()
    window = open_window(path)
    window.editor.viewport().repaint()
    assert time.perf_counter() - started < 20  # generous: the project is verified on opening
    document = window.editor.document()
    assert document.firstBlock().layout().formats()  # on screen: styled
    far = document.lastBlock()
    assert not far.layout().formats()  # never shown: not styled yet
    # Going to the end styles what comes into view.
    window.editor.moveCursor(window.editor.textCursor().MoveOperation.End)
    window.editor.viewport().repaint()
    assert far.layout().formats()


def test_zoom_keeps_the_styles_and_resizes_headings(open_window, tmp_path: Path, qtbot) -> None:
    window = open_window(make_project(tmp_path / "b.coauthor", [("One", SAMPLE, "markdown")]))
    before = styles(block_of(window, "The Keeper"))[2]["size"]
    window.zoom(+1)
    window.zoom(+1)
    window.editor.viewport().repaint()
    after = styles(block_of(window, "The Keeper"))[2]["size"]
    assert isinstance(before, float)
    assert isinstance(after, float)
    assert after > before
    assert italic_text(block_of(window, "She said")).count("once") == 1


def test_editor_keys_still_reach_the_editor(open_window, tmp_path: Path) -> None:
    """Typing Return between the markers splits the paragraph and restyles both halves."""
    window = open_window(make_project(tmp_path / "b.coauthor", [("One", "A *b c* d", "markdown")]))
    editor = window.editor
    editor.go_to(4)  # between "b" and " c"
    QTest.keyClick(editor, Qt.Key.Key_Return)
    assert editor.toPlainText() == "A *b\n c* d"
    assert italic_text(block_of(window, "A *b")) == "...b"  # still one paragraph: spans lines
    QTest.keyClick(editor, Qt.Key.Key_Return)
    assert italic_text(block_of(window, "A *b")) == "...."  # two paragraphs: no emphasis
    assert italic_text(block_of(window, " c* d")) == "....."


def test_a_failure_while_styling_a_keystroke_loses_nothing(
    open_window, tmp_path: Path, qtbot, monkeypatch, caplog
) -> None:
    # An exception escaping the document layout's documentChanged (called from C++) would
    # crash PySide and the session with it: the keystroke is laid out unstyled instead.
    window = open_window(make_project(tmp_path / "b.coauthor", [("One", SAMPLE, "markdown")]))
    editor = window.editor
    editor.go_to(editor.toPlainText().index("She said") + 3)

    def broken(*_args: object) -> tuple[int, int]:
        raise RuntimeError("a bug in the styler")

    monkeypatch.setattr(editor.styler, "on_change", broken)
    QTest.keyClicks(editor, "abc")
    QApplication.processEvents()
    assert "Sheabc said it" in editor.toPlainText()
    assert window.chapter is not None
    assert window.chapter.text.text == editor.toPlainText()
    assert "Styling an edit failed" in caplog.text
    assert editor.textCursor().block().layout().lineCount() >= 1  # laid out: it is shown


def test_the_last_paragraph_grows_and_shrinks_without_stale_lines(
    open_window, tmp_path: Path, qtbot, shows_fresh_render
) -> None:
    # The end of the chapter: nothing below the paragraph to move but the page's margin.
    text = "\n\n".join([LONG] * 2)
    window = open_window(make_project(tmp_path / "b.coauthor", [("One", text, "markdown")]))
    editor = window.editor
    editor.setCursorWidth(0)
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    QApplication.processEvents()
    typed = type_until_a_line_is_added(editor, editor.textCursor().block())
    for _ in range(typed):
        QTest.keyClick(editor, Qt.Key.Key_Backspace)
        QApplication.processEvents()
        assert shows_fresh_render(window)
    assert editor.toPlainText() == text


def test_a_paragraph_scrolled_half_out_of_view_grows_without_stale_lines(
    open_window, tmp_path: Path, qtbot, shows_fresh_render
) -> None:
    text = "\n\n".join([LONG] * 30)
    window = open_window(make_project(tmp_path / "b.coauthor", [("One", text, "markdown")]))
    editor = window.editor
    editor.setCursorWidth(0)
    target = editor.document().findBlockByNumber(20)  # the eleventh paragraph
    editor.verticalScrollBar().setValue(target.firstLineNumber() + 2)  # its top lines above
    QApplication.processEvents()
    top = editor.blockBoundingGeometry(target).translated(editor.contentOffset()).top()
    assert top < 0
    cursor = editor.textCursor()
    cursor.setPosition(target.position() + target.length() - 1 - len("the point."))
    editor.setTextCursor(cursor)
    QApplication.processEvents()
    assert editor.verticalScrollBar().value() == target.firstLineNumber() + 2  # not scrolled

    def fresh() -> None:  # after every keystroke, the one that adds the line among them
        assert shows_fresh_render(window), "stale pixels on screen"

    type_until_a_line_is_added(editor, target, fresh)


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(
        st.text(alphabet="abcdefghij", min_size=1, max_size=14), min_size=5, max_size=80
    ),
    line=st.integers(min_value=0, max_value=40),
    offset=st.integers(min_value=0, max_value=6),
    insert=st.text(alphabet="abc xyz", min_size=0, max_size=20),
    remove=st.integers(min_value=0, max_value=12),
)
def test_the_lines_not_repainted_are_the_lines_that_did_not_change(
    qapp, words: list[str], line: int, offset: int, insert: str, remove: int
) -> None:
    # Against a brute-force comparison: every line outside the repainted ones shows the same
    # text as before the edit (moved by its length change), and starts where it did. Edits
    # near a line's start are the ones that can pull a word back to the line before.
    text = " ".join(words)
    before = _laid_out(text)
    pos = min(len(text), before.lineAt(line % before.lineCount()).textStart() + offset)
    remove = min(remove, len(text) - pos)
    edited = text[:pos] + insert + text[pos + remove :]
    after = _laid_out(edited)
    if after.lineCount() != before.lineCount():
        return  # the height changed: the paragraph is repainted from the edit on
    first, last = _dirty_lines(after, pos, len(insert) - remove, _lines_after(before, pos))
    for i in range(after.lineCount()):
        if first <= i <= last:
            continue
        old, new = before.lineAt(i), after.lineAt(i)
        old_text = text[old.textStart() : old.textStart() + old.textLength()]
        new_text = edited[new.textStart() : new.textStart() + new.textLength()]
        assert new_text == old_text, (i, first, last)
        assert new.y() == old.y()
