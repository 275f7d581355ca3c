"""Share Passage in the real window, the PNG card, and Ctrl+C of text pending review.

The sample book's chapter 3 ("The Storm") holds g2, pending review. Share Passage (AI menu,
Ctrl+Shift+C) is refused with the gate's dialog while any of the passage is pending; once g2 is
approved it shows the labelled text, and Copy Text and Save Image… each put the passage out and
record a share in the book's history. A plain copy of pending text carries the label too.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog

from coauthor.core.book import Chapter
from coauthor.core.policy import generation_ranges
from coauthor.publish.labels import COLOURS
from coauthor.publish.sharecard import AI_TINT
from coauthor.store import ProjectFile
from coauthor.ui.clipboard import MIME_FRAGMENT
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.review import GateDialog
from coauthor.ui.settings import AppSettings
from coauthor.ui.sharedialog import ShareDialog

CTRL = Qt.KeyboardModifier.ControlModifier
MODEL = "SmolLM2-135M-Instruct"
G2_START = "The storm finally came to an end."
ATTRIBUTION = "— Ada Marlowe, The Tide Clock"


@pytest.fixture
def reviewer(app_settings: AppSettings) -> str:
    app_settings.reviewer_name = "Tester"
    return "Tester"


def storm(window: MainWindow) -> Chapter:
    assert window.project is not None
    return window.project.chapters[2]


def g2_range(window: MainWindow) -> tuple[int, int]:
    [(start, end)] = generation_ranges(storm(window), "g2")
    return start, end


def approve_g2(window: MainWindow) -> None:
    window.ai.go_to_generation("g2")
    assert window.ai.approve("g2")


def open_share(window: MainWindow) -> ShareDialog:
    assert window.ai.share_passage()
    dialog = window.ai.share_dialog
    assert dialog is not None
    assert dialog.isVisible()
    return dialog


def recorded_shares(path: Path) -> list[tuple[int, int, int, str, str]]:
    project_file = ProjectFile.open(path, readonly=True)
    try:
        project = project_file.load()
    finally:
        project_file.close()
    return [(s.chapter, s.start, s.end, s.form, s.sha256) for s in project.shares]


def test_share_passage_is_refused_with_the_gate_dialog_while_text_is_pending(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch, put_outside_text
) -> None:
    shown: list[GateDialog] = []
    monkeypatch.setattr(GateDialog, "exec", lambda dialog: shown.append(dialog) or 0)
    put_outside_text("untouched")
    chapter = storm(window)
    _, end = g2_range(window)
    window.ai.go_to_range(chapter.id, chapter.text.text.index("By midnight"), end)

    assert window.ai.share_action.text() == "&Share Passage…"
    window.ai.share_action.trigger()

    [dialog] = shown
    assert dialog.list.count() == 1
    line = dialog.list.item(0).text()
    assert "g2" in line
    assert "pending review" in line
    assert G2_START in line
    assert window.ai.share_dialog is None  # nothing to share: no share dialog
    assert QApplication.clipboard().text() == "untouched"
    assert window.project is not None
    assert window.project.shares == []


def test_the_dialog_shows_the_labelled_text_and_copy_text_records_a_text_share(
    window: MainWindow, reviewer: str, screenshot_dir: Path, qtbot, close_window
) -> None:
    approve_g2(window)
    chapter = storm(window)
    start, end = g2_range(window)
    sel_start = chapter.text.text.index("By midnight")
    window.ai.go_to_range(chapter.id, sel_start, end)

    dialog = open_share(window)
    text = dialog.text.toPlainText()
    label, rest = text.split("\n\n", 1)
    body, attribution = rest.rsplit("\n\n", 1)
    assert label.startswith("Contains AI-generated text: the parts between [AI] and [/AI]")
    assert MODEL in label
    assert f"reviewed before sharing by {reviewer}" in label
    assert body == (
        chapter.text.text[sel_start:start] + "[AI]" + chapter.text.text[start:end] + "[/AI]"
    )
    assert attribution == ATTRIBUTION
    assert dialog.text.isReadOnly()
    qtbot.waitExposed(dialog)
    dialog.grab().save(str(screenshot_dir / "share-dialog.png"))

    QTest.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == text
    assert "labelled as AI-generated" in window.statusBar().currentMessage()
    dialog.close()

    # With no selection, the whole chapter.
    assert window.project is not None
    first = window.project.chapters[0]
    window.show_chapter(first)
    window.editor.go_to(0)
    dialog = open_share(window)
    whole = dialog.text.toPlainText()
    label, rest = whole.split("\n\n", 1)
    body, attribution = rest.rsplit("\n\n", 1)
    assert label.startswith("Contains AI-generated text:")
    assert "reviewed before sharing by Ada Marlowe" in label  # who approved chapter 1's text
    assert body.replace("[AI]", "").replace("[/AI]", "") == first.text.text.strip("\n")
    assert attribution == ATTRIBUTION
    QTest.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    dialog.close()

    assert window.session is not None
    path = window.session.path
    close_window(window)
    assert recorded_shares(path) == [
        (chapter.id, sel_start, end, "text", hashlib.sha256(text.encode()).hexdigest()),
        (
            first.id,
            0,
            len(first.text),
            "text",
            hashlib.sha256(QApplication.clipboard().text().encode()).hexdigest(),
        ),
    ]


def test_save_image_writes_a_card_with_the_ai_tint_and_records_an_image_share(
    window: MainWindow,
    reviewer: str,
    tmp_path: Path,
    screenshot_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    close_window,
) -> None:
    approve_g2(window)
    chapter = storm(window)
    _, end = g2_range(window)
    window.ai.go_to_range(chapter.id, 0, end)
    target = tmp_path / "card"  # the suffix is added
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *_a, **_k: (str(target), ""))
    )

    dialog = open_share(window)
    assert dialog.save_button.isEnabled()
    QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    card = tmp_path / "card.png"
    assert card.is_file()
    shutil.copy(card, screenshot_dir / "share-card.png")
    image = QImage(str(card))
    assert image.width() == 1200
    # The label's band in the AI colour at the top; the model's text on its tint below.
    assert image.pixelColor(4, 4) == QColor(COLOURS["ai"])
    tint = QColor(AI_TINT)
    tinted = sum(
        image.pixelColor(x, y) == tint
        for y in range(0, image.height(), 3)
        for x in range(0, image.width(), 3)
    )
    assert tinted > 2000
    assert f"Saved the card to {card}" in window.statusBar().currentMessage()
    dialog.close()

    digest = hashlib.sha256(card.read_bytes()).hexdigest()
    assert window.session is not None
    path = window.session.path
    close_window(window)
    assert recorded_shares(path) == [(chapter.id, 0, end, "image", digest)]


def test_ctrl_c_of_pending_ai_text_is_labelled_on_the_plain_text_clipboard(
    window: MainWindow,
) -> None:
    chapter = storm(window)
    start, end = g2_range(window)
    g2_text = chapter.text.text[start:end]
    window.ai.go_to_range(chapter.id, start - 10, end)
    QTest.keyClick(window.editor, Qt.Key.Key_C, CTRL)

    mime = QApplication.clipboard().mimeData()
    plain = mime.text()
    label, rest = plain.split("\n\n", 1)
    body, attribution = rest.rsplit("\n\n", 1)
    assert label.startswith("Contains AI-generated text:")
    assert "pending review, not yet reviewed by a person" in label
    assert body == chapter.text.text[start - 10 : start] + "[AI]" + g2_text + "[/AI]"
    assert attribution == ATTRIBUTION
    assert mime.hasFormat(MIME_FRAGMENT)

    # Pasted back into the book, the text arrives bare with its origins (the private format).
    copied = chapter.text.text[start - 10 : end]
    runs = [(n, o) for n, o, _ in chapter.text.runs_in(start - 10, end)]
    window.editor.go_to(0)
    QTest.keyClick(window.editor, Qt.Key.Key_V, CTRL)
    assert chapter.text.text.startswith(copied)
    assert [(n, o) for n, o, _ in chapter.text.runs_in(0, len(copied))] == runs
    assert "[AI]" not in chapter.text.text

    # Text without pending model text is copied as it is.
    window.ai.go_to_range(chapter.id, 0, 10)
    QTest.keyClick(window.editor, Qt.Key.Key_C, CTRL)
    assert QApplication.clipboard().text() == chapter.text.text[:10]
