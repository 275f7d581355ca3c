"""The record cannot be rewritten from the desktop: foreign clipboard payloads and approvals of
passages that are not in the book (issue 9, cases 5 and 7), in the real window."""

from __future__ import annotations

import json
import subprocess
import sys

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from coauthor.core.generation import ReviewState
from coauthor.core.origin import Origin
from coauthor.ui.clipboard import MIME_FRAGMENT
from coauthor.ui.mainwindow import MainWindow

CTRL = Qt.KeyboardModifier.ControlModifier


def _paste_at_end(window: MainWindow) -> int:
    chapter = window.chapter
    assert chapter is not None
    window.editor.setFocus()
    QTest.keyClick(window.editor, Qt.Key.Key_End, CTRL)
    end = len(chapter.text)
    QTest.keyClick(window.editor, Qt.Key.Key_V, CTRL)
    assert chapter.text.text == window.editor.toPlainText()
    return end


def test_a_fragment_another_program_puts_on_the_clipboard_is_pasted_text(
    window: MainWindow,
) -> None:
    """Case 5: the private format with this project's key and human runs, from outside."""
    text = "Words another program claims were typed."
    payload = {
        "project": window.editor.project_key,
        "text": text,
        "runs": [[len(text), "human", None]],
    }
    mime = QMimeData()
    mime.setText(text)
    mime.setData(MIME_FRAGMENT, json.dumps(payload).encode())
    QApplication.clipboard().setMimeData(mime)
    end = _paste_at_end(window)
    chapter = window.chapter
    assert chapter is not None
    assert list(chapter.text.runs_in(end, end + len(text))) == [(len(text), Origin.PASTED, None)]


def test_a_copied_payload_with_its_runs_rewritten_is_pasted_text(window: MainWindow) -> None:
    """The session token is on the clipboard for any program to read; what the record holds
    decides: AI text relabelled human in a real payload arrives as pasted."""
    chapter = window.chapter
    assert chapter is not None
    pos = 0
    for length, origin, _ in chapter.text.runs():
        if origin is Origin.AI:
            break
        pos += length
    window.editor.select_range(pos, pos + 12)
    QTest.keyClick(window.editor, Qt.Key.Key_C, CTRL)
    real = _copy_of(QApplication.clipboard().mimeData())
    payload = json.loads(bytes(real.data(MIME_FRAGMENT).data()))
    assert payload["runs"][0][1] == "ai"
    payload["runs"] = [[12, "human", None]]
    forged = QMimeData()
    forged.setText(payload["text"])
    forged.setData(MIME_FRAGMENT, json.dumps(payload).encode())
    QApplication.clipboard().setMimeData(forged)
    end = _paste_at_end(window)
    assert list(chapter.text.runs_in(end, end + 12)) == [(12, Origin.PASTED, None)]
    # The genuine payload still pastes with its origin.
    QApplication.clipboard().setMimeData(real)
    end = _paste_at_end(window)
    assert [o for _, o, _ in chapter.text.runs_in(end, end + 12)] == [Origin.AI]


def _copy_of(mime: QMimeData) -> QMimeData:
    copy = QMimeData()
    for name in mime.formats():
        copy.setData(name, mime.data(name))
    return copy


def test_a_passage_in_a_removed_chapter_cannot_be_approved(
    window: MainWindow, app_settings, sample_project, qtbot
) -> None:
    """Case 7: delete the chapter holding the pending passage, try to approve, undo."""
    app_settings.reviewer_name = "Tester"
    project = window.project
    assert project is not None
    storm = project.chapters[2]
    window.ai.show_queue()
    window.ai.go_to_generation("g2")  # shown
    assert window.chapter is storm
    window.delete_current_chapter()
    assert storm not in project.chapters
    qtbot.waitUntil(lambda: window.ai.queue.tree.topLevelItemCount() == 0, timeout=2000)

    assert not window.ai.approve("g2")
    assert "no text in the book" in window.statusBar().currentMessage()
    assert project.generations["g2"].review_state is ReviewState.PENDING

    window.undo_action.trigger()
    assert storm in project.chapters
    assert project.generations["g2"].review_state is ReviewState.PENDING
    qtbot.waitUntil(lambda: window.ai.queue.tree.topLevelItemCount() == 1, timeout=2000)
    assert window.session is not None
    assert window.session.flush()
    log = subprocess.run(
        [sys.executable, "-m", "coauthor.cli", "log", str(sample_project)],
        capture_output=True,
        check=False,
    )
    # The window holds the project's lock; the log opens read-only.
    assert log.returncode == 0, log.stderr
    reviews = [line for line in log.stdout.decode().splitlines() if "review g2" in line]
    assert all("approved" not in line for line in reviews)
