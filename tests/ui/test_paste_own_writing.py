"""Edit ▸ Paste as My Own Writing in the real window: the clipboard's text is recorded as pasted
with the author's declaration in the history, in one undo step, and the record checks out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu

from coauthor.core.declarations import text_sha256
from coauthor.core.origin import Origin
from coauthor.store.projectfile import ProjectFile
from coauthor.store.verify import verify
from coauthor.ui.mainwindow import MainWindow

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

DRAFT = "A paragraph from my old notebook, dictated last night."
CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


def _edit_action(window: MainWindow, text: str) -> QAction:
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert isinstance(edit, QMenu)
    return next(a for a in edit.actions() if a.text() == text)


def test_the_edit_action_records_the_paste_with_a_declaration(
    window: MainWindow, put_outside_text
) -> None:
    chapter = window.chapter
    assert chapter is not None
    assert window.project is not None
    action = _edit_action(window, "Paste as My &Own Writing")
    assert action.shortcut().toString() == "Ctrl+Alt+V"
    before = chapter.text.text, list(chapter.text.runs())
    stack = window.editor.undo_stack
    assert stack is not None
    steps = stack.count()
    put_outside_text(DRAFT + "\r\n")  # cleaned as any outside text is
    pos = chapter.text.text.index("Every morning")
    window.editor.go_to(pos)
    action.trigger()
    text = DRAFT + "\n"
    assert chapter.text.text_in(pos, pos + len(text)) == text
    assert window.editor.toPlainText() == chapter.text.text
    (declaration,) = window.project.declarations.values()
    assert list(chapter.text.runs_in(pos, pos + len(text))) == [
        (len(text), Origin.PASTED, declaration.id)
    ]
    assert declaration.sha256 == text_sha256(text)
    assert declaration.by == window.project.meta.author
    assert "declaration d1" in window.statusBar().currentMessage()
    assert stack.count() == steps + 1  # one undo step

    stack.undo()
    assert (chapter.text.text, list(chapter.text.runs())) == before
    stack.redo()
    assert list(chapter.text.runs_in(pos, pos + len(text))) == [
        (len(text), Origin.PASTED, declaration.id)
    ]

    # The tooltip says what it is: a declaration, not a proof.
    tip = window.describe_position(chapter, pos)
    assert "declared the author's own writing" in tip
    assert "not a proof" in tip

    # An ordinary paste stays pasted from elsewhere.
    put_outside_text("from a website")
    window.editor.go_to(0)
    QTest.keyClick(window.editor, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert list(chapter.text.runs_in(0, 14)) == [(14, Origin.PASTED, None)]

    session = window.session
    assert session is not None
    path: Path = session.path
    session.flush()
    project_file = ProjectFile.open(path, readonly=True)
    try:
        result = verify(project_file)
    finally:
        project_file.close()
    assert result.ok, result.message
    assert result.project is not None
    assert "d1" in result.project.declarations


def test_the_shortcut_pastes_as_own_writing(window: MainWindow, put_outside_text) -> None:
    chapter = window.chapter
    assert chapter is not None
    assert window.project is not None
    put_outside_text("Dictated.")
    window.editor.go_to(0)
    QTest.keyClick(window.editor, Qt.Key.Key_V, CTRL_ALT)
    assert chapter.text.origin_at(0) == (Origin.PASTED, "d1")


def test_text_copied_inside_the_book_keeps_its_origins(window: MainWindow) -> None:
    chapter = window.chapter
    assert chapter is not None
    assert window.project is not None
    pos = 0
    for length, origin, _ in chapter.text.runs():
        if origin is Origin.AI:
            break
        pos += length
    window.editor.select_range(pos, pos + 10)
    window.editor.copy()
    window.editor.go_to(0)
    _edit_action(window, "Paste as My &Own Writing").trigger()
    assert chapter.text.origin_at(0)[0] is Origin.AI
    assert window.project.declarations == {}
    assert "keeps its origins" in window.statusBar().currentMessage()
