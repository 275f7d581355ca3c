"""The workspace the controllers share, and the menu bar built in one place."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu

from coauthor.ui.mainwindow import MainWindow

if TYPE_CHECKING:
    import pytest


def test_the_menu_bar_order_is_fixed(window: MainWindow) -> None:
    titles = [
        action.text() for action in window.menuBar().actions() if isinstance(action.menu(), QMenu)
    ]
    assert titles == ["&File", "&Edit", "F&ormat", "&Chapter", "&View", "&AI", "&Book", "&Help"]


def test_go_to_shows_the_chapter_and_selects_the_range(window: MainWindow) -> None:
    project = window.project
    assert project is not None
    assert len(project.chapters) > 1
    shown = []
    window.workspace.chapter_shown.connect(shown.append)
    target = project.chapters[-1]
    assert window.chapter is not target
    window.workspace.go_to(target.id, 2, 7)
    assert window.chapter is target
    assert shown == [target]
    assert window.editor.selection_range() == (2, 7)


def test_the_window_reads_its_state_from_the_workspace(window: MainWindow) -> None:
    workspace = window.workspace
    assert window.session is workspace.session is not None
    assert window.chapter is workspace.chapter is not None
    assert window.book_stack is workspace.book_stack is not None
    assert workspace.undo_group.activeStack() in (
        workspace.book_stack,
        workspace.chapter_stacks[workspace.chapter.id],
    )


def test_status_messages_and_errors_reach_the_window(window: MainWindow, dialogs) -> None:
    window.workspace.show_message("Hello from a controller", 5000)
    assert window.statusBar().currentMessage() == "Hello from a controller"
    dialogs.expect("critical")
    window.workspace.show_error("Something failed", "Because.")
    assert [d.title for d in dialogs.of("critical")] == ["Something failed"]


def test_imported_files_become_chapters_and_the_first_is_shown(
    window: MainWindow, qtbot, tmp_path: Path
) -> None:
    project = window.project
    assert project is not None
    before = len(project.chapters)
    source = tmp_path / "Harbour.md"
    source.write_text("The boats came in at dusk.\n", encoding="utf-8")
    assert window.files.import_paths([source], own_writing=True)
    window.files.wait()
    qtbot.waitUntil(lambda: window.files.outcome is not None, timeout=5000)
    assert window.files.outcome == "imported"
    assert len(project.chapters) == before + 1
    assert window.chapter is not None
    assert "The boats came in at dusk." in window.chapter.text.text
    assert window.chapter_model is not None
    assert window.chapter_model.rowCount() == before + 1


def test_file_import_of_pride_and_prejudice_leaves_the_window_responsive(
    window: MainWindow, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """File ▸ Import reads the source in a worker job; the chapters are added on the GUI
    thread when it returns, and the window handles events all along."""
    project = window.project
    assert project is not None
    before = len(project.chapters)
    source = Path(__file__).resolve().parents[2] / "data" / "pride_and_prejudice.txt"
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", staticmethod(lambda *_a, **_k: ([str(source)], ""))
    )
    [action] = [a for a in window.findChildren(QAction) if a.text() == "&Import…"]
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    started = time.monotonic()
    action.trigger()
    assert time.monotonic() - started < 0.5
    assert window.files.job is not None
    assert len(project.chapters) == before  # nothing is added until the worker returns
    qtbot.waitUntil(lambda: window.files.outcome is not None, timeout=20_000)
    qtbot.wait(50)
    timer.stop()
    assert window.files.outcome == "imported"
    assert len(project.chapters) == before + 61
    assert ticks, "the GUI thread handled no events during the import"
    gaps = [b - a for a, b in zip([started, *ticks], ticks, strict=False)]
    assert max(gaps) < 1.0
    assert window.files.progress is not None
    assert not window.files.progress.isVisible()
    assert window.chapter is not None
    assert window.chapter_model is not None
    assert window.chapter_model.rowCount() == before + 61


def test_save_a_copy_writes_it_and_says_so(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "copy.coauthor"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *_a, **_k: (str(target), ""))
    )
    assert window.files.save_copy_dialog()
    assert target.is_file()
    assert window.statusBar().currentMessage() == f"Saved a copy as {target}"
