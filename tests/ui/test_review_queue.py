"""Reviewing in the real window: the queue, approve and reject with undo, and the share gate.

The sample book has one generation pending review, g2, in chapter 3 ("The Storm"). It must be
listed, marked in the editor until approved, approvable only once it has been shown, and
rejectable with one undo step that brings its text back as pending AI text. (Share Passage's
gate is tested in test_share_ui.py.)
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCharFormat
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QInputDialog, QMessageBox

from coauthor.core.book import Chapter
from coauthor.core.generation import ReviewState
from coauthor.core.origin import Origin
from coauthor.core.policy import generation_ranges
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.settings import AppSettings

CTRL = Qt.KeyboardModifier.ControlModifier
MODEL = "SmolLM2-135M-Instruct"  # model_identity of the recorded "SmolLM2-135M-Instruct (Q4_1)"
G2_START = "The storm finally came to an end."


@pytest.fixture
def reviewer(app_settings: AppSettings) -> str:
    app_settings.reviewer_name = "Tester"
    return "Tester"


def storm(window: MainWindow) -> Chapter:
    project = window.project
    assert project is not None
    return project.chapters[2]


def g2_range(window: MainWindow) -> tuple[int, int]:
    [(start, end)] = generation_ranges(storm(window), "g2")
    return start, end


def queue_rows(window: MainWindow) -> list[list[str]]:
    tree = window.ai.queue.tree
    return [
        [tree.topLevelItem(i).text(c) for c in range(tree.columnCount())]
        for i in range(tree.topLevelItemCount())
    ]


def queue_ids(window: MainWindow) -> list[str]:
    tree = window.ai.queue.tree
    return [
        tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
        for i in range(tree.topLevelItemCount())
    ]


def wave_marked(window: MainWindow, pos: int) -> bool:
    """Whether the editor shows ``pos`` as pending: a wavy-underlined format over it in its
    paragraph's layout, which Qt draws (the formats are given as blocks are painted)."""
    editor = window.editor
    editor.viewport().repaint()
    unit = editor.to_utf16(pos)
    block = editor.document().findBlock(unit)
    offset = unit - block.position()
    return any(
        r.start <= offset < r.start + r.length
        and r.format.underlineStyle() is QTextCharFormat.UnderlineStyle.WaveUnderline
        for r in block.layout().formats()
    )


def queue_key(window: MainWindow, key: Qt.Key) -> None:
    window.ai.show_queue()
    QTest.keyClick(window.ai.queue.tree, key)


def undo(window: MainWindow) -> None:
    window.editor.setFocus()
    QTest.keyClick(window.editor, Qt.Key.Key_Z, CTRL)


def answer_reject(monkeypatch: pytest.MonkeyPatch, dialogs, *, yes: bool) -> list[str]:
    """Answer Reject's question (Yes or Cancel); the questions asked."""
    asked: list[str] = []
    dialogs.expect("question")

    def question(_parent, title, text, *_args, **_kwargs):
        asked.append(f"{title}: {text}")
        return QMessageBox.StandardButton.Yes if yes else QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def stored_reviews(window: MainWindow) -> list[tuple[int, str, str, str]]:
    session = window.session
    assert session is not None
    assert session.flush()
    return session.file.reviews()


# -- the queue ----------------------------------------------------------------------------------


def test_the_queue_lists_the_pending_passage(
    window: MainWindow, qtbot, screenshot_dir: Path
) -> None:
    window.ai.show_queue()
    assert window.ai.review_dock.isVisible()
    assert queue_ids(window) == ["g2"]
    [[chapter, words, model, age]] = queue_rows(window)
    assert chapter == "The Storm"
    assert words == "The storm finally came to an end. The…"
    assert model == MODEL
    assert age == "just now"
    assert "1 passage pending review" in window.ai.queue.summary.text()
    assert window.pending_status.text() == "⚠ 1 passage pending review"
    assert window.ai.queue.tree.hasFocus()
    qtbot.waitUntil(lambda: bool(window.overview.profile), timeout=2000)  # for the picture
    window.grab().save(str(screenshot_dir / "review_queue.png"))
    assert (screenshot_dir / "review_queue.png").stat().st_size > 0


def test_typing_refreshes_the_queue_after_a_pause_without_rebuilding_it(
    window: MainWindow, qtbot
) -> None:
    """The queue follows the text once the author pauses; typing that leaves the pending
    passages as they are leaves the list as it is (same rows, current row kept)."""
    window.ai.show_queue()
    row = window.ai.queue.tree.topLevelItem(0)
    assert row is not None
    tooltip = row.toolTip(1)
    assert tooltip.startswith("g2: ")
    window.show_chapter(storm(window))
    window.editor.go_to(0)  # before the pending passage: its place moves, not its text
    window.editor.setFocus()
    QTest.keyClicks(window.editor, "Night. ")
    qtbot.wait(700)  # the refresh, half a second after the last key
    assert window.ai.queue.tree.topLevelItem(0) is row
    assert row.toolTip(1) == tooltip
    # Deleting the whole passage takes it off the queue.
    start, end = g2_range(window)
    window.editor.select_range(start, end)
    QTest.keyClick(window.editor, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: queue_ids(window) == [], timeout=2000)
    assert "Nothing is pending review" in window.ai.queue.summary.text()


def test_approve_needs_the_passage_shown_records_who_and_when_and_undoes(
    window: MainWindow, reviewer: str, qtbot
) -> None:
    project = window.project
    assert project is not None
    g2 = project.generations["g2"]
    assert window.chapter is not storm(window)

    # Not shown yet: refused, with a message in the status bar.
    queue_key(window, Qt.Key.Key_A)
    assert g2.review_state is ReviewState.PENDING
    assert "Read the passage first" in window.statusBar().currentMessage()
    assert queue_ids(window) == ["g2"]

    # Enter goes to it: its chapter opens with the passage selected, marked as pending.
    queue_key(window, Qt.Key.Key_Return)
    assert window.chapter is storm(window)
    start, end = g2_range(window)
    assert window.editor.selection_range() == (start, end)
    assert wave_marked(window, start)

    before = time.time() * 1000
    queue_key(window, Qt.Key.Key_A)
    assert g2.review_state is ReviewState.APPROVED
    assert g2.reviewer == reviewer
    assert g2.reviewed_at is not None
    assert before - 1000 <= g2.reviewed_at <= time.time() * 1000 + 1000
    assert queue_ids(window) == []
    assert not wave_marked(window, start)
    assert window.pending_status.text() == "Nothing pending review"
    assert stored_reviews(window)[-1][1:] == ("g2", "approved", reviewer)

    # Ctrl+Z takes the approval back: pending, listed and marked again.
    undo(window)
    assert g2.review_state is ReviewState.PENDING
    qtbot.waitUntil(lambda: queue_ids(window) == ["g2"], timeout=2000)
    assert wave_marked(window, start)
    qtbot.waitUntil(
        lambda: window.pending_status.text() == "⚠ 1 passage pending review", timeout=2000
    )
    assert stored_reviews(window)[-1][1:] == ("g2", "pending", reviewer)


def test_reject_removes_the_text_and_one_undo_brings_it_back_pending(
    window: MainWindow, reviewer: str, qtbot, monkeypatch: pytest.MonkeyPatch, dialogs
) -> None:
    project = window.project
    assert project is not None
    chapter = storm(window)
    g2 = project.generations["g2"]
    text_before, runs_before = chapter.text.text, list(chapter.text.runs())
    start, end = g2_range(window)
    passage = text_before[start:end]

    answer_reject(monkeypatch, dialogs, yes=True)
    queue_key(window, Qt.Key.Key_R)
    assert window.chapter is chapter
    assert passage not in chapter.text.text
    assert chapter.text.text == text_before[:start] + text_before[end:]
    assert window.editor.toPlainText() == chapter.text.text
    assert g2.review_state is ReviewState.REJECTED
    assert g2.reviewer == reviewer
    assert queue_ids(window) == []
    assert stored_reviews(window)[-1][1:] == ("g2", "rejected", reviewer)

    undo(window)
    assert chapter.text.text == text_before
    assert list(chapter.text.runs()) == runs_before
    assert {chapter.text.origin_at(i) for i in range(start, end)} == {(Origin.AI, "g2")}
    assert window.editor.toPlainText() == text_before
    assert g2.review_state is ReviewState.PENDING
    qtbot.waitUntil(lambda: queue_ids(window) == ["g2"], timeout=2000)
    assert wave_marked(window, start)


def test_edit_then_approve(window: MainWindow, reviewer: str) -> None:
    project = window.project
    assert project is not None
    g2 = project.generations["g2"]
    queue_key(window, Qt.Key.Key_E)  # goes to the passage and puts the focus in the editor
    assert window.editor.hasFocus()
    chapter = storm(window)
    start, _ = g2_range(window)
    at = start + len("The storm ")
    window.editor.go_to(at)
    QTest.keyClicks(window.editor, "thick ")
    assert chapter.text.text[start:].startswith("The storm thick finally")
    assert {chapter.text.origin_at(i) for i in range(at, at + 6)} == {(Origin.HUMAN, None)}
    assert window.editor.toPlainText() == chapter.text.text

    assert window.ai.approve("g2")
    assert g2.review_state is ReviewState.APPROVED
    assert g2.reviewer == reviewer
    assert generation_ranges(chapter, "g2") == [(start, at), (at + 6, g2_range_end(chapter))]
    assert not wave_marked(window, start)
    assert queue_ids(window) == []


def g2_range_end(chapter: Chapter) -> int:
    return generation_ranges(chapter, "g2")[-1][1]


def test_reject_asks_first_and_says_how_to_undo_it(
    window: MainWindow, reviewer: str, monkeypatch: pytest.MonkeyPatch, dialogs
) -> None:
    """R asks, with the passage shown and named by its first words; Cancel keeps it; Yes
    removes it and says that Edit ▸ Undo brings it back."""
    project = window.project
    assert project is not None
    chapter = storm(window)
    text_before = chapter.text.text
    asked = answer_reject(monkeypatch, dialogs, yes=False)
    queue_key(window, Qt.Key.Key_R)
    [question] = asked
    assert "Reject g2" in question
    assert "The storm finally came to an end" in question
    assert "Undo" in question
    assert window.chapter is chapter  # shown while asked
    assert chapter.text.text == text_before
    assert project.generations["g2"].review_state is ReviewState.PENDING

    answer_reject(monkeypatch, dialogs, yes=True)
    queue_key(window, Qt.Key.Key_R)
    assert project.generations["g2"].review_state is ReviewState.REJECTED
    said = "Rejected g2: its text was removed. Edit ▸ Undo brings it back."
    assert window.statusBar().currentMessage() == said
    assert window.ai.queue.note.text() == said


def test_edit_puts_the_cursor_at_the_end_of_the_passage_so_typing_keeps_it(
    window: MainWindow, reviewer: str
) -> None:
    chapter = storm(window)
    start, end = g2_range(window)
    passage = chapter.text.text[start:end]
    queue_key(window, Qt.Key.Key_E)
    assert window.editor.hasFocus()
    assert window.editor.selection_range() == (end, end)
    QTest.keyClicks(window.editor, " More.")
    assert chapter.text.text[start : start + len(passage)] == passage
    assert chapter.text.text[end:].startswith(" More.")
    assert window.editor.toPlainText() == chapter.text.text


def test_the_passage_on_screen_counts_as_shown_and_a_refusal_is_shown_in_full(
    window: MainWindow, reviewer: str
) -> None:
    """Approving a passage the editor shows works at once (no wait for the queue's next
    refresh); a refusal is in the queue in full, where the status bar would cut it off."""
    project = window.project
    assert project is not None
    queue_key(window, Qt.Key.Key_A)  # not shown: another chapter is on screen
    note = window.ai.queue.note
    assert note.isVisible()
    assert note.wordWrap()
    assert note.text() == "Read the passage first: press Enter to go to g2."
    assert note.text() == window.statusBar().currentMessage()

    window.show_chapter(storm(window))  # the passage is on screen, nothing selected
    start, _ = g2_range(window)
    window.editor.go_to(start)
    queue_key(window, Qt.Key.Key_A)
    assert project.generations["g2"].review_state is ReviewState.APPROVED
    assert not note.isVisible()  # the refusal no longer applies


def test_the_reviewer_is_the_book_author_when_preferences_name_nobody(
    window: MainWindow, app_settings: AppSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def get_text(_parent, title: str, *_args, **_kwargs) -> tuple[str, bool]:
        asked.append(title)
        return "", False

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(get_text))
    assert app_settings.reviewer_name == ""
    project = window.project
    assert project is not None
    assert project.meta.author == "Ada Marlowe"  # Book ▸ Book Details
    window.ai.go_to_generation("g2")
    assert window.ai.approve("g2")
    assert project.generations["g2"].reviewer == "Ada Marlowe"
    assert asked == []
