"""Spell check in the real window: underlines after a pause, never a dictionary on a keystroke,
the context menu's suggestions, Ignore in This Book, Add to My Dictionary, View ▸ Check Spelling
and the sentence shown when the book's language has no dictionary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent, QTextCharFormat, QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from coauthor.core.origin import Origin
from coauthor.core.spelling import WordList, open_dictionary
from coauthor.store.wordlist import read_book_words
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.settings import AppSettings

pytestmark = pytest.mark.skipif(
    open_dictionary("en") is None,
    reason="no English Hunspell dictionary: scripts/system-deps.sh installs hunspell-en-us",
)

LINE = (
    "The quick fox jumpd over the lazzy dog at https://exampel.com/pathh, "
    "mail ann@exampel.org, `codde` and **boldd**."
)
DOTTED = QTextCharFormat.UnderlineStyle.DotLine


def underlined(window: MainWindow, block_number: int = 0) -> list[str]:
    """The words of a block that carry the spelling underline."""
    block = window.editor.document().findBlockByNumber(block_number)
    text = block.text()
    return [
        text[r.start : r.start + r.length]
        for r in block.layout().formats()
        if r.format.underlineStyle() == DOTTED
    ]


def write_line(window: MainWindow, text: str = LINE) -> None:
    """Type-free: the line goes in at the top as the author's text, one edit."""
    cursor = window.editor.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.Start)
    window.editor.setTextCursor(cursor)
    cursor.insertText(text + "\n\n")


def wait_checked(qtbot, window: MainWindow, expected: list[str]) -> None:
    qtbot.waitUntil(lambda: underlined(window) == expected, timeout=3000)


@dataclass(frozen=True)
class Item:
    text: str
    enabled: bool
    tip: str
    name: str


def context_menu(window: MainWindow, word: str | None, choose: str = "") -> list[Item]:
    """Right-click in the middle of ``word`` (in the first block; None: below the text), read
    the menu as shown and trigger the item named ``choose``, if any; the menu's items."""
    editor = window.editor
    if word is None:
        point = QPoint(5, editor.viewport().height() - 5)
    else:
        index = editor.document().firstBlock().text().index(word) + len(word) // 2
        cursor = QTextCursor(editor.document())
        cursor.setPosition(index)
        point = editor.cursorRect(cursor).center()
    items: list[Item] = []

    def read_menu() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(20, read_menu)
            return
        actions = menu.actions()
        items.extend(Item(a.text(), a.isEnabled(), a.toolTip(), a.objectName()) for a in actions)
        chosen = next((a for a in actions if a.text() == choose), None)
        menu.close()
        if choose:
            assert chosen is not None, f"no {choose!r} in {[i.text for i in items]}"
            chosen.trigger()

    QTimer.singleShot(0, read_menu)
    editor.contextMenuEvent(
        QContextMenuEvent(
            QContextMenuEvent.Reason.Mouse, point, editor.viewport().mapToGlobal(point)
        )
    )
    return items


def test_misspelled_words_are_underlined_after_a_pause_except_markers_urls_and_code(
    qtbot, window: MainWindow, screenshot_dir: Path
) -> None:
    assert window.spelling.action.isChecked()
    write_line(window)
    wait_checked(qtbot, window, ["jumpd", "lazzy", "boldd"])
    formats = window.editor.document().firstBlock().layout().formats()
    colours = {
        r.format.underlineColor().name() for r in formats if r.format.underlineStyle() == DOTTED
    }
    pending = window.origin_palette.pending_underline.name()  # drawn as a wave, not dotted
    assert colours
    assert pending not in colours
    window.resize(1100, 700)
    qtbot.wait(50)
    window.grab().save(str(screenshot_dir / "spelling.png"))


def test_no_dictionary_lookup_while_typing(qtbot, window: MainWindow) -> None:
    write_line(window)
    wait_checked(qtbot, window, ["jumpd", "lazzy", "boldd"])
    checker = window.spelling.underlines.checker
    assert checker is not None
    looked_up: list[str] = []
    real = checker.dictionary

    class Counting:
        tag = real.tag

        def check(self, word: str) -> bool:
            looked_up.append(word)
            return real.check(word)

        def suggest(self, word: str) -> list[str]:
            return real.suggest(word)

    checker.dictionary = Counting()
    editor = window.editor
    cursor = editor.textCursor()
    cursor.setPosition(editor.document().firstBlock().text().index("jumpd") + 4)
    editor.setTextCursor(cursor)
    QTest.keyClicks(editor, "e")  # "jumped": its underline goes at once, the others move
    assert underlined(window) == ["lazzy", "boldd"]
    QTest.keyClick(editor, Qt.Key.Key_Right)
    QTest.keyClicks(editor, " zqxw")
    assert looked_up == []  # the keystrokes asked no dictionary
    assert underlined(window) == ["lazzy", "boldd"]
    wait_checked(qtbot, window, ["zqxw", "lazzy", "boldd"])
    assert "zqxw" in looked_up


def test_a_suggestion_replaces_the_word_as_the_authors_edit_undone_in_one_step(
    qtbot, window: MainWindow
) -> None:
    write_line(window)
    wait_checked(qtbot, window, ["jumpd", "lazzy", "boldd"])
    items = context_menu(window, "lazzy", choose="lazy")
    texts = [i.text for i in items]
    assert texts[0] == "lazy"
    assert "Ignore “lazzy” in This Book" in texts
    assert "Add “lazzy” to My Dictionary" in texts
    assert any(i.name == "edit-copy" for i in items)  # the standard menu follows
    line = window.editor.document().firstBlock().text()
    assert line.startswith("The quick fox jumpd over the lazy dog")
    chapter = window.chapter
    assert chapter is not None
    assert chapter.text.text.startswith("The quick fox jumpd over the lazy dog")
    assert chapter.text.origin_at(line.index("lazy"))[0] is Origin.HUMAN
    wait_checked(qtbot, window, ["jumpd", "boldd"])
    stack = window.editor.undo_stack
    assert stack is not None
    assert stack.undoText() == "Correct “lazzy”"
    stack.undo()
    assert chapter.text.text.startswith("The quick fox jumpd over the lazzy dog")
    wait_checked(qtbot, window, ["jumpd", "lazzy", "boldd"])


def test_no_menu_entries_on_a_word_spelled_right(qtbot, window: MainWindow) -> None:
    write_line(window)
    wait_checked(qtbot, window, ["jumpd", "lazzy", "boldd"])
    items = context_menu(window, "quick")
    assert items
    assert not any("Dictionary" in i.text for i in items)


def test_ignore_in_this_book_is_kept_in_the_project_file(
    qtbot,
    open_window,
    sample_project: Path,
    close_window,
    app_settings: AppSettings,
) -> None:
    window = open_window(sample_project)
    write_line(window)
    wait_checked(qtbot, window, ["jumpd", "lazzy", "boldd"])
    context_menu(window, "jumpd", choose="Ignore “jumpd” in This Book")
    assert underlined(window) == ["lazzy", "boldd"]
    assert window.session is not None
    assert read_book_words(window.session.file) == {"jumpd"}
    assert "jumpd" not in WordList.load(app_settings.user_words_path)
    close_window(window)

    again = open_window(sample_project)
    qtbot.waitUntil(lambda: underlined(again) == ["lazzy", "boldd"], timeout=3000)


def test_add_to_my_dictionary_is_kept_for_every_book(
    qtbot,
    open_window,
    sample_project: Path,
    close_window,
    app_settings: AppSettings,
) -> None:
    window = open_window(sample_project)
    write_line(window)
    wait_checked(qtbot, window, ["jumpd", "lazzy", "boldd"])
    context_menu(window, "boldd", choose="Add “boldd” to My Dictionary")
    assert underlined(window) == ["jumpd", "lazzy"]
    assert "boldd" in WordList.load(app_settings.user_words_path)
    assert window.session is not None
    assert read_book_words(window.session.file) == set()
    close_window(window)

    again = open_window(sample_project)
    qtbot.waitUntil(lambda: underlined(again) == ["jumpd", "lazzy"], timeout=3000)


def test_view_toggle_turns_underlines_off_and_on_and_is_remembered(
    qtbot, window: MainWindow, app_settings: AppSettings
) -> None:
    write_line(window)
    wait_checked(qtbot, window, ["jumpd", "lazzy", "boldd"])
    view = next(a for a in window.menuBar().actions() if a.text() == "&View").menu()
    assert isinstance(view, QMenu)
    toggle = next(a for a in view.actions() if a.text() == "Check &Spelling")
    assert toggle is window.spelling.action
    toggle.trigger()
    qtbot.waitUntil(lambda: underlined(window) == [], timeout=3000)
    assert app_settings.spell_check is False
    window.editor.viewport().repaint()
    assert underlined(window) == []
    toggle.trigger()
    wait_checked(qtbot, window, ["jumpd", "lazzy", "boldd"])
    assert app_settings.spell_check is True


def test_a_language_without_a_dictionary_is_said_in_a_sentence(qtbot, window: MainWindow) -> None:
    project = window.project
    assert project is not None
    meta = project.meta
    meta.language = "kl"  # Greenlandic: no Hunspell dictionary here
    project.set_meta(meta)
    window.workspace.meta_changed.emit()
    qtbot.waitUntil(lambda: bool(window.spelling.problem), timeout=3000)
    message = window.statusBar().currentMessage()
    assert message.startswith("Spelling is not checked: no dictionary for Kalaallisut")
    assert "hunspell-kl" in message
    write_line(window)
    qtbot.wait(600)
    assert underlined(window) == []
    note = context_menu(window, "jumpd")[0]
    assert not note.enabled
    assert note.tip == window.spelling.problem
    meta.language = "en-US"
    project.set_meta(meta)
    window.workspace.meta_changed.emit()
    qtbot.waitUntil(lambda: window.spelling.problem == "", timeout=3000)
    wait_checked(qtbot, window, ["jumpd", "lazzy", "boldd"])


def test_right_click_below_the_text_keeps_the_standard_menu(window: MainWindow) -> None:
    items = context_menu(window, None)
    assert items
    assert not any("Dictionary" in i.text for i in items)
    assert window.spelling.action.shortcut().toString() == "F7"


def test_underlines_found_away_from_a_keystroke_are_repainted_with_it(
    qtbot, window: MainWindow, shows_fresh_render
) -> None:
    # A keystroke repaints only its own lines when every underline elsewhere only moved with
    # the text. When the text it makes was checked before (the cache) and has an underline
    # the screen does not show yet, far from the keystroke, the whole paragraph is repainted.
    words = "The harbour lay quiet under a low sky and the boats came back one by one "
    write_line(window, "The zqxw " + words * 4)
    wait_checked(qtbot, window, ["zqxw"])
    editor = window.editor
    editor.setCursorWidth(0)
    block = editor.document().firstBlock()
    assert block.layout().lineCount() >= 3
    cursor = editor.textCursor()
    cursor.setPosition(3)  # "The|"
    editor.setTextCursor(cursor)
    QTest.keyClicks(editor, "x")  # the paragraph styled in full: the next keys are quicker
    QTest.keyClick(editor, Qt.Key.Key_Backspace)
    QApplication.processEvents()
    underlines = window.spelling.underlines
    typed = block.text()[:3] + "e" + block.text()[3:]
    far = typed.rindex("boats")
    near = typed.index("zqxw")
    underlines._checked[typed] = ((near, near + 4), (far, far + 5))  # as if checked before
    QTest.keyClicks(editor, "e")
    QApplication.processEvents()
    assert underlines.moved_only is False
    assert underlined(window) == ["zqxw", "boats"]
    assert shows_fresh_render(window)  # the far line repainted with its underline
