"""Format ▸ Italic and Bold (Ctrl+I, Ctrl+B): Markdown markers typed for the author.

The markers are the author's typing (human in the record), the wrapped text keeps its own
origins, and one undo takes the whole step back.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from coauthor.core.book import BookMeta
from coauthor.core.generation import Generation
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.store import ProjectFile
from coauthor.ui.mainwindow import MainWindow

CTRL = Qt.KeyboardModifier.ControlModifier


def open_with(open_window, path: Path, text: str, origin: Origin = Origin.AI) -> MainWindow:
    project = Project(BookMeta(title="Format"))
    chapter = project.add_chapter("One")
    generation_ref = None
    if origin is Origin.AI:
        generation = project.add_generation(
            Generation(
                project.new_generation_id(),
                "test",
                "test-model",
                messages=[{"role": "user", "content": "Write."}],
                output=text,
                created=project.clock(),
                chapter_id=chapter.id,
            )
        )
        generation_ref = generation.id
    project.insert(chapter, 0, text, origin, generation_ref)
    project_file = ProjectFile.create(path, project.meta)
    try:
        project_file.flush(project)
    finally:
        project_file.close(project)
    return open_window(path)


def runs(window: MainWindow) -> list[tuple[int, Origin]]:
    assert window.chapter is not None
    return [(length, origin) for length, origin, _ in window.chapter.text.runs()]


def test_ctrl_i_wraps_the_selection_as_typed_markers_and_undoes_in_one_step(
    open_window, tmp_path: Path
) -> None:
    window = open_with(open_window, tmp_path / "b.coauthor", "The sea was calm.")
    editor = window.editor
    editor.select_range(8, 11)  # "was"
    QTest.keyClick(editor, Qt.Key.Key_I, CTRL)
    assert editor.toPlainText() == "The sea *was* calm."
    assert runs(window) == [
        (8, Origin.AI),
        (1, Origin.HUMAN),
        (3, Origin.AI),
        (1, Origin.HUMAN),
        (6, Origin.AI),
    ]
    assert editor.textCursor().selectedText() == "was"
    assert editor.textCursor().block().layout().formats()  # shown in italics
    QTest.keyClick(editor, Qt.Key.Key_Z, CTRL)
    assert editor.toPlainText() == "The sea was calm."
    assert runs(window) == [(17, Origin.AI)]


def test_ctrl_b_on_wrapped_text_takes_the_markers_off(open_window, tmp_path: Path) -> None:
    window = open_with(open_window, tmp_path / "b.coauthor", "A **bold** word.", Origin.HUMAN)
    editor = window.editor
    editor.select_range(4, 8)  # "bold", inside the markers
    QTest.keyClick(editor, Qt.Key.Key_B, CTRL)
    assert editor.toPlainText() == "A bold word."
    assert editor.textCursor().selectedText() == "bold"
    editor.select_range(2, 6)
    QTest.keyClick(editor, Qt.Key.Key_B, CTRL)
    assert editor.toPlainText() == "A **bold** word."
    editor.select_range(2, 10)  # "**bold**", markers selected too
    QTest.keyClick(editor, Qt.Key.Key_B, CTRL)
    assert editor.toPlainText() == "A bold word."
    # Italics inside bold: Ctrl+I adds one star on each side, and takes it off again.
    editor.select_range(2, 6)
    QTest.keyClick(editor, Qt.Key.Key_B, CTRL)
    QTest.keyClick(editor, Qt.Key.Key_I, CTRL)
    assert editor.toPlainText() == "A ***bold*** word."
    QTest.keyClick(editor, Qt.Key.Key_I, CTRL)
    assert editor.toPlainText() == "A **bold** word."


def test_ctrl_i_without_a_selection_puts_the_cursor_between_the_markers(
    open_window, tmp_path: Path
) -> None:
    window = open_with(open_window, tmp_path / "b.coauthor", "Then ", Origin.HUMAN)
    editor = window.editor
    editor.go_to(5)
    QTest.keyClick(editor, Qt.Key.Key_I, CTRL)
    QTest.keyClicks(editor, "seven")
    assert editor.toPlainText() == "Then *seven*"
    assert runs(window) == [(12, Origin.HUMAN)]
    # The history records the author's typing; undo takes "seven", then the markers.
    QTest.keyClick(editor, Qt.Key.Key_Z, CTRL)
    assert editor.toPlainText() == "Then **"
    QTest.keyClick(editor, Qt.Key.Key_Z, CTRL)
    assert editor.toPlainText() == "Then "
    session = window.session
    assert session is not None
    assert session.flush()


def test_format_actions_only_in_markdown_chapters(open_window, tmp_path: Path) -> None:
    project = Project(BookMeta(title="Format"))
    plain = project.add_chapter("Session", markup="plain")
    project.insert(plain, 0, "Kept as typed.", Origin.HUMAN)
    path = tmp_path / "b.coauthor"
    project_file = ProjectFile.create(path, project.meta)
    try:
        project_file.flush(project)
    finally:
        project_file.close(project)
    window = open_window(path)
    assert not any(a.isEnabled() for a in window.menus.format_actions)
    window.editor.select_range(0, 4)
    QTest.keyClick(window.editor, Qt.Key.Key_I, CTRL)
    assert window.editor.toPlainText() == "Kept as typed."
    window.editor.toggle_markup("*")  # even called directly: plain text gets no markers
    assert window.editor.toPlainText() == "Kept as typed."


def test_read_chapter_as_markdown_is_recorded_and_undone(open_window, tmp_path: Path) -> None:
    """Format ▸ Read Chapter as Markdown: the chapter's markup changes in the history, the
    editor styles it (or stops), and Edit ▸ Undo changes it back."""
    project = Project(BookMeta(title="Format"))
    plain = project.add_chapter("Notes", markup="plain")
    project.insert(plain, 0, "A *starred* word.", Origin.HUMAN)
    path = tmp_path / "m.coauthor"
    project_file = ProjectFile.create(path, project.meta)
    try:
        project_file.flush(project)
    finally:
        project_file.close(project)
    window = open_window(path)
    toggle = window.menus.read_as_markdown
    assert toggle is not None
    assert toggle.isEnabled()
    assert not toggle.isChecked()
    toggle.trigger()
    chapter = window.chapter
    assert chapter is not None
    assert chapter.markup == "markdown"
    assert toggle.isChecked()
    assert all(a.isEnabled() for a in window.menus.format_actions)
    assert "read as Markdown" in window.statusBar().currentMessage()
    assert window.book_stack is not None
    window.book_stack.undo()
    assert chapter.markup == "plain"
    assert not toggle.isChecked()
    assert not any(a.isEnabled() for a in window.menus.format_actions)
    window.book_stack.redo()
    session = window.session
    assert session is not None
    assert session.flush()
    reopened = ProjectFile.open(path, readonly=True)
    try:
        assert [c.markup for c in reopened.load().chapters] == ["markdown"]
    finally:
        reopened.close()


def test_the_context_menus_undo_takes_back_the_last_edit(window: MainWindow, qtbot) -> None:
    """Right-click ▸ Undo is enabled after typing and takes the typing back (it acts on the
    chapter's undo stack, as Edit ▸ Undo does); Redo then puts it back."""
    editor = window.editor
    chapter = window.chapter
    assert chapter is not None
    before = chapter.text.text
    editor.go_to(0)
    QTest.keyClicks(editor, "Yes. ")
    assert chapter.text.text == "Yes. " + before

    def choose(prefix: str) -> list[tuple[str, bool]]:
        seen: list[tuple[str, bool]] = []

        def act() -> None:
            menu = QApplication.activePopupWidget()
            if menu is None:
                QTimer.singleShot(20, act)
                return
            actions = [a for a in menu.actions() if not a.isSeparator()]
            seen.extend((a.text().replace("&", ""), a.isEnabled()) for a in actions)
            chosen = next(a for a in actions if a.text().replace("&", "").startswith(prefix))
            menu.close()
            chosen.trigger()

        QTimer.singleShot(0, act)
        point = editor.cursorRect().center()
        editor.contextMenuEvent(
            QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, editor.mapToGlobal(point))
        )
        return seen

    items = dict(choose("Undo"))
    assert any(text.startswith("Undo") and enabled for text, enabled in items.items())
    assert chapter.text.text == before
    items = dict(choose("Redo"))
    assert any(text.startswith("Redo") and enabled for text, enabled in items.items())
    assert chapter.text.text == "Yes. " + before


def test_a_keystroke_paints_without_python_unless_the_view_needs_it(
    window: MainWindow, qtbot, monkeypatch
) -> None:
    """The editor's work before a paint (blocks to style, the heatmap, scene breaks) runs
    only while there is some: typing in the origin colours paints through Qt alone, and the
    heatmap, which is painted, still is."""
    from coauthor.ui.editor import ProvenanceEditor
    from coauthor.ui.highlighter import ViewMode

    calls: list[str] = []
    before = ProvenanceEditor._before_paint

    def counted(self, event) -> None:
        calls.append(window.highlighter.mode.value)
        before(self, event)

    monkeypatch.setattr(ProvenanceEditor, "_before_paint", counted)
    editor = window.editor
    window.set_view_mode(ViewMode.ORIGINS)
    editor.setFocus()
    editor.viewport().repaint()  # styles what is shown, then needs nothing more
    calls.clear()
    QTest.keyClicks(editor, "The rain came at dusk")
    QApplication.processEvents()
    editor.viewport().repaint()
    assert calls == []
    assert window.chapter is not None
    assert window.chapter.text.text == editor.toPlainText()
    window.set_view_mode(ViewMode.HEATMAP)
    editor.viewport().repaint()
    QTest.keyClicks(editor, " and")
    editor.viewport().repaint()
    assert calls.count("heatmap") >= 2  # the shading is painted under the text every time
    window.set_view_mode(ViewMode.ORIGINS)
    editor.viewport().repaint()  # styles the blocks again
    calls.clear()
    QTest.keyClicks(editor, " went")
    editor.viewport().repaint()
    assert calls == []
