"""Editing in the real window: typing, pasting, cutting, undo and redo keep every origin.

After each user action the chapter in the core must equal the text on screen, and each
character must carry the origin the user would expect: typed → human, pasted from another
application → pasted, moved inside Coauthor → whatever it was before.
"""

from __future__ import annotations

import random

import pytest
from PySide6.QtCore import QByteArray, QMimeData, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QInputMethodEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from coauthor.core.book import Chapter
from coauthor.core.origin import Origin
from coauthor.ui import clipboard
from coauthor.ui import editor as editor_module
from coauthor.ui.clipboard import MIME_FRAGMENT, clean_outside_text
from coauthor.ui.mainwindow import MainWindow

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def key(window: MainWindow, k: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier, times=1) -> None:
    for _ in range(times):
        QTest.keyClick(window.editor, k, modifiers)


def state(chapter: Chapter) -> tuple[str, list]:
    return chapter.text.text, list(chapter.text.runs())


def assert_in_step(window: MainWindow) -> None:
    """The core holds exactly what the author sees, and its runs are well formed."""
    assert window.chapter is not None
    assert window.chapter.text.text == window.editor.toPlainText()
    window.chapter.text.check_invariants()


def first_run(chapter: Chapter, origin: Origin) -> tuple[int, int, str | None]:
    """(start, length, ref) of the first run with ``origin``."""
    pos = 0
    for length, run_origin, ref in chapter.text.runs():
        if run_origin is origin:
            return pos, length, ref
        pos += length
    raise AssertionError(f"no {origin} run in {chapter.title}")


def select_with_keys(window: MainWindow, start: int, length: int) -> None:
    """Put the cursor at ``start`` and extend the selection with Shift+Right."""
    window.editor.go_to(start)
    key(window, Qt.Key.Key_Right, SHIFT, times=length)


# -- 1. typing --------------------------------------------------------------------------------


def test_typed_characters_are_human_and_in_step(window: MainWindow) -> None:
    chapter = window.chapter
    assert chapter is not None
    assert chapter.title == "The Keeper"
    pos = chapter.text.text.index("harbour wall")
    window.editor.go_to(pos)
    QTest.keyClicks(window.editor, "old ")
    assert_in_step(window)
    assert chapter.text.text[pos : pos + 16] == "old harbour wall"
    assert all(chapter.text.origin_at(i) == (Origin.HUMAN, None) for i in range(pos, pos + 4))


def test_typing_inside_ai_text_makes_it_human_and_splits_the_run(window: MainWindow) -> None:
    chapter = window.chapter
    assert chapter is not None
    start, length, ref = first_run(chapter, Origin.AI)
    assert ref == "g1"
    before = state(chapter)
    window.editor.go_to(start + 10)
    QTest.keyClicks(window.editor, "XYZ")
    assert_in_step(window)
    assert chapter.text.text_in(start + 10, start + 13) == "XYZ"
    assert [chapter.text.origin_at(i) for i in range(start + 9, start + 14)] == [
        (Origin.AI, "g1"),
        (Origin.HUMAN, None),
        (Origin.HUMAN, None),
        (Origin.HUMAN, None),
        (Origin.AI, "g1"),
    ]
    runs = list(chapter.text.runs())
    old_runs = before[1]
    index = old_runs.index((length, Origin.AI, "g1"))
    assert runs[index : index + 3] == [
        (10, Origin.AI, "g1"),
        (3, Origin.HUMAN, None),
        (length - 10, Origin.AI, "g1"),
    ]
    # Backspace removes what was typed and the AI run is whole again.
    key(window, Qt.Key.Key_Backspace, times=3)
    assert_in_step(window)
    assert state(chapter) == before


# -- 2. pasting from outside and from inside --------------------------------------------------


def test_paste_from_another_application_is_pasted(window: MainWindow, put_outside_text) -> None:
    chapter = window.chapter
    assert chapter is not None
    put_outside_text("a line from the web")
    pos = chapter.text.text.index("Every morning")
    window.editor.go_to(pos)
    key(window, Qt.Key.Key_V, CTRL)
    assert_in_step(window)
    n = len("a line from the web")
    assert chapter.text.text_in(pos, pos + n) == "a line from the web"
    assert list(chapter.text.runs_in(pos, pos + n)) == [(n, Origin.PASTED, None)]


def test_copy_inside_keeps_ai_origin_and_clipboard_has_plain_text(window: MainWindow) -> None:
    chapter = window.chapter
    assert chapter is not None
    start, _, ref = first_run(chapter, Origin.AI)
    select_with_keys(window, start + 4, 20)
    key(window, Qt.Key.Key_C, CTRL)
    selected = chapter.text.text_in(start + 4, start + 24)
    cb = QApplication.clipboard()
    assert cb.text() == selected  # what other applications get
    assert cb.mimeData().hasFormat(MIME_FRAGMENT)
    before = state(chapter)
    assert before[0] == window.editor.toPlainText()  # copying changed nothing

    window.editor.moveCursor(window.editor.textCursor().MoveOperation.End)
    end = len(chapter.text)
    key(window, Qt.Key.Key_V, CTRL)
    assert_in_step(window)
    assert chapter.text.text[end:] == selected
    assert list(chapter.text.runs_in(end, end + 20)) == [(20, Origin.AI, ref)]


# -- 3. cut in one chapter, paste in another ---------------------------------------------------


def test_cut_and_paste_across_chapters_moves_the_origins(window: MainWindow, qtbot) -> None:
    project = window.project
    assert project is not None
    first, third = project.chapters[0], project.chapters[2]
    start, _, _ = first_run(first, Origin.AI)
    # A selection from human text into the AI passage.
    select_with_keys(window, start - 5, 25)
    fragment = first.text.slice(start - 5, start + 20)
    ai_before = first.text.counts()[Origin.AI]
    key(window, Qt.Key.Key_X, CTRL)
    assert_in_step(window)
    assert fragment.text not in first.text.text
    assert first.text.counts()[Origin.AI] == ai_before - 20

    view = window.chapter_view
    model = window.chapter_model
    assert model is not None
    rect = view.visualRect(model.index(2, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.chapter is third
    assert window.editor.toPlainText() == third.text.text
    key(window, Qt.Key.Key_End, CTRL)
    end = len(third.text)
    key(window, Qt.Key.Key_V, CTRL)
    assert_in_step(window)
    assert third.text.slice(end, len(third.text)) == fragment
    assert list(third.text.runs_in(end, len(third.text))) == [
        (5, Origin.HUMAN, None),
        (20, Origin.AI, "g1"),
    ]


# -- 4. undo and redo --------------------------------------------------------------------------


def test_a_typed_word_is_one_undo_step(window: MainWindow) -> None:
    chapter = window.chapter
    assert chapter is not None
    before = state(chapter)
    window.editor.go_to(chapter.text.text.index("tide clock"))
    QTest.keyClicks(window.editor, "ancient ")
    after = state(chapter)
    key(window, Qt.Key.Key_Z, CTRL)
    assert_in_step(window)
    assert state(chapter) == before
    key(window, Qt.Key.Key_Z, CTRL | SHIFT)
    assert_in_step(window)
    assert state(chapter) == after


def test_typing_after_an_undo_drops_the_redo_step(window: MainWindow) -> None:
    """What a text editor does: typing after an undo starts a new branch, so Redo has
    nothing left to redo, and undo takes back the new typing."""
    chapter = window.chapter
    assert chapter is not None
    window.editor.go_to(chapter.text.text.index("tide clock"))
    QTest.keyClicks(window.editor, "old")
    typed = state(chapter)
    QTest.keyClick(window.editor, Qt.Key.Key_Backspace)
    key(window, Qt.Key.Key_Z, CTRL)  # the Backspace is undone: "old" is back
    assert state(chapter) == typed
    assert window.redo_action.isEnabled()
    QTest.keyClicks(window.editor, "er ")  # continues the typing right where it stopped
    assert "older tide clock" in chapter.text.text
    assert not window.redo_action.isEnabled()
    after = state(chapter)
    key(window, Qt.Key.Key_Z, CTRL | SHIFT)  # nothing to redo: nothing changes
    assert state(chapter) == after
    assert_in_step(window)
    key(window, Qt.Key.Key_Z, CTRL)
    assert_in_step(window)
    assert "older" not in chapter.text.text


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_editing_undoes_and_redoes_exactly(window: MainWindow, seed: int) -> None:
    """Typing, deleting, moving, replacing a selection, undoing and redoing at random: the core
    stays in step, undoing everything gives back the opening text and runs, and redoing
    everything the latest. (Typing extends the top undo step without Qt's push; this is where
    a mistake in that would show.)"""
    rng = random.Random(seed)
    chapter = window.chapter
    assert chapter is not None
    initial = state(chapter)
    window.editor.go_to(rng.randrange(len(chapter.text)))
    moves = [Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_End]
    for _ in range(250):
        roll = rng.random()
        before = chapter.text.text
        if roll < 0.45:
            QTest.keyClick(window.editor, rng.choice("abcdé ,."))
        elif roll < 0.50:
            key(window, Qt.Key.Key_Return)
        elif roll < 0.60:
            key(window, Qt.Key.Key_Backspace)
        elif roll < 0.65:
            key(window, Qt.Key.Key_Delete)
        elif roll < 0.75:
            key(window, rng.choice(moves))
        elif roll < 0.80:
            key(window, Qt.Key.Key_Right, SHIFT, times=rng.randrange(1, 6))
            QTest.keyClick(window.editor, "x")  # replaces the selection
        elif roll < 0.92:
            key(window, Qt.Key.Key_Z, CTRL)
        else:
            key(window, Qt.Key.Key_Z, CTRL | SHIFT)
        assert_in_step(window)
        if roll < 0.80 and chapter.text.text != before:
            assert not window.redo_action.isEnabled()  # an edit ends what there was to redo
    while window.redo_action.isEnabled():
        key(window, Qt.Key.Key_Z, CTRL | SHIFT)
    latest = state(chapter)
    while window.undo_action.isEnabled():
        key(window, Qt.Key.Key_Z, CTRL)
        assert_in_step(window)
    assert state(chapter) == initial
    while window.redo_action.isEnabled():
        key(window, Qt.Key.Key_Z, CTRL | SHIFT)
        assert_in_step(window)
    assert state(chapter) == latest


def test_undo_and_redo_restore_text_and_runs_exactly(window: MainWindow, put_outside_text) -> None:
    chapter = window.chapter
    assert chapter is not None
    start, _, _ = first_run(chapter, Origin.AI)
    snapshots = [state(chapter)]

    window.editor.go_to(start + 3)  # typing inside the AI passage
    QTest.keyClicks(window.editor, "Wren")
    snapshots.append(state(chapter))

    put_outside_text("PASTED TEXT")
    window.editor.go_to(10)
    key(window, Qt.Key.Key_V, CTRL)
    snapshots.append(state(chapter))

    select_with_keys(window, start - 10, 30)  # human, AI and the typed word
    key(window, Qt.Key.Key_X, CTRL)
    snapshots.append(state(chapter))
    assert len({text for text, _ in snapshots}) == 4
    assert_in_step(window)

    for expected in reversed(snapshots[:-1]):
        key(window, Qt.Key.Key_Z, CTRL)
        assert_in_step(window)
        assert state(chapter) == expected
    assert not window.undo_action.isEnabled()

    for redo, expected in zip(
        [(Qt.Key.Key_Z, CTRL | SHIFT), (Qt.Key.Key_Y, CTRL), (Qt.Key.Key_Z, CTRL | SHIFT)],
        snapshots[1:],
        strict=True,
    ):
        key(window, *redo)
        assert_in_step(window)
        assert state(chapter) == expected
    assert not window.redo_action.isEnabled()


# -- 11. big, refused and dirty pastes ---------------------------------------------------------


def test_paste_over_the_limit_is_refused_with_a_message(
    window: MainWindow, dialogs, monkeypatch, put_outside_text
) -> None:
    monkeypatch.setattr(editor_module, "PASTE_LIMIT_CHARS", 1000)
    monkeypatch.setattr(clipboard, "PASTE_LIMIT_CHARS", 1000)
    dialogs.expect("warning")
    chapter = window.chapter
    assert chapter is not None
    before = state(chapter)
    put_outside_text("y" * 5000)
    window.editor.go_to(5)
    key(window, Qt.Key.Key_V, CTRL)
    assert [d.text for d in dialogs.of("warning")] == [
        (
            "This paste has 5,000 characters; Coauthor takes up to 1,000 at once. "
            "Use File ▸ Import for text this large."
        )
    ]
    assert state(chapter) == before
    assert_in_step(window)


def test_two_megabyte_paste_is_all_pasted(window: MainWindow, put_outside_text) -> None:
    chapter = window.chapter
    assert chapter is not None
    line = "The sea came in over the wall and the clock kept on ticking. " * 8 + "\n"
    big = line * (2_000_000 // len(line) + 1)
    assert len(big) > 2_000_000
    put_outside_text(big)
    pos = chapter.text.text.index("\n\n") + 2
    window.editor.go_to(pos)
    key(window, Qt.Key.Key_V, CTRL)
    assert_in_step(window)
    assert chapter.text.text_in(pos, pos + len(big)) == big
    assert list(chapter.text.runs_in(pos, pos + len(big))) == [(len(big), Origin.PASTED, None)]
    assert not QApplication.overrideCursor()  # the busy cursor is gone again


def test_dirty_outside_text_is_cleaned_on_paste(window: MainWindow) -> None:
    chapter = window.chapter
    assert chapter is not None
    mime = QMimeData()
    # As other applications deliver it: UTF-8 bytes with NUL, controls, CR LF, a lone CR and
    # an encoded lone surrogate (ED A0 80 is U+D800 in UTF-8 form, which is invalid).
    raw = b"a\x00b\x01c\r\nd\re\x7ff\tg\xed\xa0\x80h"
    mime.setData("text/plain", QByteArray(raw))
    QApplication.clipboard().setMimeData(mime)
    window.editor.go_to(0)
    key(window, Qt.Key.Key_V, CTRL)
    assert_in_step(window)
    head = chapter.text.text[: chapter.text.text.index("h") + 1]
    assert head.startswith("abc\nd\nef\tg\ufffd")
    assert head.endswith("\ufffdh")
    assert not any(c in head for c in "\x00\x01\x7f\r")
    assert list(chapter.text.runs_in(0, len(head))) == [(len(head), Origin.PASTED, None)]


def test_outside_text_cleaning_replaces_lone_surrogates() -> None:
    # Qt turns lone surrogates into U+FFFD before Python sees clipboard text; the cleaning
    # step is the second line of defence for text that arrives in a Python str.
    assert clean_outside_text("a\ud800b\udfffc\x00\r\n") == "a\ufffdb\ufffdc\n"


def test_insert_with_a_lone_surrogate_does_not_corrupt_the_chapter(window: MainWindow) -> None:
    window.editor.go_to(0)
    window.editor.insert_with_origin("x\ud800y\r\nz", Origin.PASTED)
    assert_in_step(window)


# -- 12. input methods -------------------------------------------------------------------------


def test_input_method_commit_is_human(window: MainWindow) -> None:
    chapter = window.chapter
    assert chapter is not None
    pos = chapter.text.text.index("Every")
    window.editor.go_to(pos)
    preedit = QInputMethodEvent("ka", [])
    QApplication.sendEvent(window.editor, preedit)
    assert_in_step(window)  # the pre-edit text is not part of the book yet
    commit = QInputMethodEvent()
    commit.setCommitString("é漢字😀")
    QApplication.sendEvent(window.editor, commit)
    assert_in_step(window)
    assert chapter.text.text_in(pos, pos + 9) == "é漢字😀Every"
    assert list(chapter.text.runs_in(pos, pos + 4)) == [(4, Origin.HUMAN, None)]
    assert chapter.text.to_utf16(pos + 4) - chapter.text.to_utf16(pos) == 5


# -- 13. UTF-16 boundaries ---------------------------------------------------------------------


def _commit(window: MainWindow, text: str) -> None:
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(window.editor, event)


def test_emoji_combining_marks_and_rtl_keep_positions_exact(
    window: MainWindow, put_outside_text
) -> None:
    chapter = window.chapter
    assert chapter is not None
    tricky = "😀 👩‍👩‍👧 café e\u0301 שלום مرحبا 𝄞"
    put_outside_text(tricky)
    key(window, Qt.Key.Key_End, CTRL)
    base = len(chapter.text)
    key(window, Qt.Key.Key_V, CTRL)
    assert_in_step(window)
    QTest.keyClicks(window.editor, " typed")
    _commit(window, "🙂")
    assert_in_step(window)
    assert chapter.text.text.endswith(tricky + " typed🙂")
    assert chapter.text.origin_at(len(chapter.text) - 1) == (Origin.HUMAN, None)
    assert chapter.text.origin_at(base) == (Origin.PASTED, None)

    # Every code point position survives the trip to UTF-16 and back.
    editor = window.editor
    for pos in range(len(chapter.text) + 1):
        assert editor.to_code_point(editor.to_utf16(pos)) == pos

    # Select across the family emoji and the combining mark with Shift+Left, cut, paste back.
    key(window, Qt.Key.Key_End, CTRL)
    family = base + tricky.index("👩")
    end = len(chapter.text)
    editor.go_to(family)
    key(window, Qt.Key.Key_Right, SHIFT, times=9)  # grapheme by grapheme
    sel_start, sel_end = editor.selection_range()
    assert sel_start == family
    assert sel_end > family + 5  # past the whole family, not inside it
    fragment = chapter.text.slice(sel_start, sel_end)
    key(window, Qt.Key.Key_X, CTRL)
    assert_in_step(window)
    assert QApplication.clipboard().text() == fragment.text
    key(window, Qt.Key.Key_End, CTRL)
    key(window, Qt.Key.Key_V, CTRL)
    assert_in_step(window)
    assert len(chapter.text) == end
    assert chapter.text.slice(end - len(fragment.text), end) == fragment
    for pos in range(len(chapter.text) + 1):
        assert editor.to_code_point(editor.to_utf16(pos)) == pos

    # Shift+Left across RTL text and the emoji at the start, then delete and undo.
    before = state(chapter)
    editor.go_to(base + tricky.index("ש") + 2)
    key(window, Qt.Key.Key_Left, SHIFT, times=6)
    key(window, Qt.Key.Key_Delete)
    assert_in_step(window)
    key(window, Qt.Key.Key_Z, CTRL)
    assert_in_step(window)
    assert state(chapter) == before


def test_input_method_commit_beside_other_origins_leaves_them_alone(window: MainWindow) -> None:
    # An input method reports its whole paragraph as changed; only the committed text may
    # become human, not the AI text around it in the same paragraph.
    chapter = window.chapter
    assert chapter is not None
    start, length, _ = first_run(chapter, Origin.AI)
    before = list(chapter.text.runs())
    window.editor.go_to(start + 5)
    _commit(window, "字")
    assert_in_step(window)
    index = before.index((length, Origin.AI, "g1"))
    assert list(chapter.text.runs())[index : index + 3] == [
        (5, Origin.AI, "g1"),
        (1, Origin.HUMAN, None),
        (length - 5, Origin.AI, "g1"),
    ]
    assert list(chapter.text.runs())[:index] == before[:index]


# -- drag and drop -----------------------------------------------------------------------------


class _Drop(QDropEvent):
    """A drop as Qt delivers it; ``source`` stands in for the drag's source widget."""

    def __init__(self, pos: QPointF, mime: QMimeData, source: object | None, move: bool) -> None:
        actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
        super().__init__(
            pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        )
        self._source = source
        self.setDropAction(Qt.DropAction.MoveAction if move else Qt.DropAction.CopyAction)

    def source(self):
        return self._source


def _drop(window: MainWindow, pos: int, mime: QMimeData, *, internal: bool = False) -> None:
    editor = window.editor
    viewport = editor.viewport()
    cursor = editor.textCursor()
    cursor.setPosition(editor.to_utf16(pos))
    point = QPointF(editor.cursorRect(cursor).center())
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    for event_type in (QDragEnterEvent, QDragMoveEvent):
        # Enter and move events take an integer point (QPoint) in every PySide6 release.
        event = event_type(
            point.toPoint(),
            actions,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(viewport, event)
        assert event.isAccepted()
    drop = _Drop(point, mime, viewport if internal else None, move=internal)
    QApplication.sendEvent(viewport, drop)
    assert drop.isAccepted()


def test_text_dropped_from_another_application_is_pasted(window: MainWindow) -> None:
    chapter = window.chapter
    assert chapter is not None
    mime = QMimeData()
    mime.setText("dropped in")
    counts = chapter.text.counts()
    pos = chapter.text.text.index("Every")
    _drop(window, pos, mime)
    assert_in_step(window)
    at = chapter.text.text.index("dropped in")
    assert abs(at - pos) <= 1  # where the pointer was
    assert list(chapter.text.runs_in(at, at + 10)) == [(10, Origin.PASTED, None)]
    assert chapter.text.counts() == {**counts, Origin.PASTED: 10}  # nothing else changed


def test_moving_ai_text_by_drag_keeps_its_origin_and_is_one_undo_step(window: MainWindow) -> None:
    chapter = window.chapter
    assert chapter is not None
    before = state(chapter)
    start, _, _ = first_run(chapter, Origin.AI)
    fragment = chapter.text.slice(start + 4, start + 29)
    window.editor.select_range(start + 4, start + 29)
    mime = window.editor.createMimeDataFromSelection()
    _drop(window, 10, mime, internal=True)
    assert_in_step(window)
    assert chapter.text.slice(10, 35) == fragment  # moved, with its runs
    assert chapter.text.text.count(fragment.text) == 1  # not copied
    assert chapter.text.counts() == dict(zip(Origin, _counts(before), strict=True))
    key(window, Qt.Key.Key_Z, CTRL)
    assert_in_step(window)
    assert state(chapter) == before


def _counts(snapshot: tuple[str, list]) -> list[int]:
    return [sum(n for n, o, _ in snapshot[1] if o is origin) for origin in Origin]
