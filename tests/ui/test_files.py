"""The project file seen from the window: autosave, reopening, refusals, a full disk, geometry."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from coauthor.core.book import Chapter
from coauthor.core.origin import Origin
from coauthor.store import ProjectFile
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.settings import AppSettings

CTRL = Qt.KeyboardModifier.ControlModifier


def state(chapter: Chapter) -> tuple[str, list]:
    return chapter.text.text, list(chapter.text.runs())


def book_state(window: MainWindow) -> list[tuple[str, str, list]]:
    assert window.project is not None
    return [(c.title, *state(c)) for c in window.project.chapters]


def stored_chapter_text(path: Path, index: int = 0) -> str:
    """The chapter as another reader sees the file now (read-only: the window holds the lock)."""
    project_file = ProjectFile.open(path, readonly=True)
    try:
        return project_file.load().chapters[index].text.text
    finally:
        project_file.close()


def one_sentence(message: str) -> bool:
    body = message.strip()
    return "\n" not in body and body.endswith(".") and body.count(". ") == 0


# -- 7. autosave, close, reopen ----------------------------------------------------------------


def test_typing_is_autosaved_and_survives_reopening(
    open_window, sample_project: Path, close_window, qtbot
) -> None:
    window = open_window(sample_project)
    chapter = window.chapter
    assert chapter is not None
    start = chapter.text.text.index("It had stopped")
    window.editor.go_to(start)
    QTest.keyClicks(window.editor, "Saved without asking. ")
    # Within the autosave delay (half a second), another reader sees the words on disk.
    qtbot.waitUntil(
        lambda: "Saved without asking." in stored_chapter_text(sample_project), timeout=1500
    )
    assert window.save_status.text() == "All changes saved"
    before = book_state(window)
    close_window(window)  # asks nothing, releases the lock

    reopened = open_window(sample_project)
    assert book_state(reopened) == before
    assert reopened.chapter is not None
    assert reopened.chapter.text.origin_at(start) == (Origin.HUMAN, None)


# -- 8. one writer per project -----------------------------------------------------------------


def test_a_second_window_on_the_same_project_is_refused(
    window: MainWindow, open_window, sample_project: Path, dialogs
) -> None:
    dialogs.expect("critical")
    second = open_window(sample_project)
    [error] = dialogs.of("critical")
    assert "already open" in error.text
    assert sample_project.name in error.text
    # The second window fell back to the sample book; the first still owns the project.
    assert second.session is not None
    assert second.session.path != sample_project
    assert window.session is not None
    assert window.session.path == sample_project
    QTest.keyClicks(window.editor, "still mine ")
    assert window.session.flush()

    dialogs.calls.clear()
    assert not second.open_project(sample_project)
    [error] = dialogs.of("critical")
    assert "already open" in error.text


# -- 9. files that cannot be opened ------------------------------------------------------------


def _newer_project(path: Path, sample: Path) -> Path:
    path.write_bytes(sample.read_bytes())
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("kind", ["random bytes", "newer version"])
def test_a_bad_file_gets_one_clear_sentence_and_is_not_touched(
    window: MainWindow, dialogs, tmp_path: Path, sample_project: Path, kind: str
) -> None:
    if kind == "random bytes":
        bad = tmp_path / "random.coauthor"
        bad.write_bytes(os.urandom(8192))
    else:
        bad = _newer_project(tmp_path / "newer.coauthor", sample_project)
    original = bad.read_bytes()
    before = book_state(window)
    dialogs.expect("critical")
    assert not window.open_project(bad)
    [error] = dialogs.of("critical")
    assert error.title == "Cannot open the project"
    assert one_sentence(error.text), error.text
    assert str(bad) in error.text
    if kind == "newer version":
        assert "newer version of Coauthor" in error.text
    else:
        assert "not a Coauthor project" in error.text
    assert bad.read_bytes() == original
    assert not bad.with_name(bad.name + ".lock").exists()
    # The book that was open stays open and editable.
    assert window.session is not None
    assert window.session.path == sample_project
    assert book_state(window) == before
    QTest.keyClicks(window.editor, "x")
    assert window.editor.toPlainText() == window.chapter.text.text  # type: ignore[union-attr]


# -- 10. a full disk ---------------------------------------------------------------------------


def test_a_full_disk_shows_a_banner_keeps_the_text_and_recovers(
    open_window, sample_project: Path, close_window, screenshot_dir: Path, qtbot, put_outside_text
) -> None:
    window = open_window(sample_project)
    session = window.session
    assert session is not None
    conn = session.file.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # no room for one more page

    chapter = window.chapter
    assert chapter is not None
    big = ("The water rose and rose and the clock did not stop. " * 20 + "\n") * 200
    assert len(big) > 200_000
    put_outside_text(big)
    QTest.keyClick(window.editor, Qt.Key.Key_End, CTRL)
    QTest.keyClick(window.editor, Qt.Key.Key_V, CTRL)
    QTest.keyClicks(window.editor, "The end.")
    qtbot.waitUntil(window.banner.isVisible, timeout=2000)
    assert "disk is full" in window.banner.text()
    assert window.save_status.text() == "Not saved"
    assert chapter.text.text.endswith(big + "The end.")
    assert window.editor.toPlainText() == chapter.text.text
    assert "The end." not in stored_chapter_text(sample_project)
    window.grab().save(str(screenshot_dir / "disk_full.png"))

    # Typing goes on while the disk is full.
    QTest.keyClicks(window.editor, " Really.")
    assert chapter.text.text.endswith("The end. Really.")

    conn.execute("PRAGMA max_page_count = 1000000000")  # space again
    _assert_recovers(window, sample_project, "The end. Really.", open_window, close_window, qtbot)


def test_a_file_that_refuses_writes_shows_a_banner_keeps_the_text_and_recovers(
    open_window, sample_project: Path, close_window, qtbot
) -> None:
    """The file turns read-only under the app (SQLite then refuses every write with
    SQLITE_READONLY, made here with ``PRAGMA query_only``: a chmod does not reach a
    connection that is already open for writing)."""
    window = open_window(sample_project)
    session = window.session
    assert session is not None
    conn = session.file.conn
    conn.execute("PRAGMA query_only = ON")
    chapter = window.chapter
    assert chapter is not None
    QTest.keyClick(window.editor, Qt.Key.Key_End, CTRL)
    QTest.keyClicks(window.editor, " Written while the file was locked.")
    qtbot.waitUntil(window.banner.isVisible, timeout=2000)
    assert "read-only" in window.banner.text()
    assert "kept" in window.banner.text()
    assert window.save_status.text() == "Not saved"
    assert chapter.text.text.endswith("Written while the file was locked.")
    assert "locked." not in stored_chapter_text(sample_project)

    conn.execute("PRAGMA query_only = OFF")
    ending = "Written while the file was locked."
    _assert_recovers(window, sample_project, ending, open_window, close_window, qtbot)


def _assert_recovers(
    window: MainWindow, path: Path, ending: str, open_window, close_window, qtbot
) -> None:
    """Once the file takes writes again: the banner goes, everything kept reaches the file,
    and the book reopens as it was on screen."""
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=4500)
    assert window.save_status.text() == "All changes saved"
    assert stored_chapter_text(path).endswith(ending)
    before = book_state(window)
    close_window(window)
    assert book_state(open_window(path)) == before


# -- 17. window geometry -----------------------------------------------------------------------


def test_window_size_and_layout_are_remembered(
    open_window, sample_project: Path, close_window, tmp_path: Path, qtbot
) -> None:
    window = open_window(sample_project)
    # Smaller than the offscreen screen (800 x 600), which restoring clamps to.
    window.resize(720, 520)
    window.move(40, 30)
    window.map_dock.hide()
    qtbot.waitUntil(lambda: window.size().width() == 720, timeout=2000)
    close_window(window)

    # A new start of the app: a new settings object on the same settings file.
    again = open_window(settings=AppSettings(tmp_path / "config", tmp_path / "data"))
    assert again.pos() == window.pos()
    assert again.size().width() == 720
    assert again.size().height() == 520
    assert not again.map_dock.isVisible()
    assert again.chapters_dock.isVisible()
    # With no project named, the last one is opened again.
    assert again.session is not None
    assert again.session.path.resolve() == sample_project.resolve()
