"""The app's export onto a target that cannot take it shows the sentence ``coauthor export``
prints (a folder in the way, a read-only or full disk), and the previous file is untouched."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from coauthor.app.export import ExportFormat, ExportOptions
from coauthor.ui.mainwindow import MainWindow


@pytest.fixture
def errors(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(window, "show_error", lambda title, message: shown.append((title, message)))
    return shown


def _approve_everything(window: MainWindow) -> None:
    window.ai.go_to_generation("g2")
    assert window.ai.approve("g2")


def _export(window: MainWindow, qtbot, target: Path) -> None:
    assert window.publish.export(ExportFormat.HTML, target, ExportOptions())
    window.publish.wait()
    qtbot.waitUntil(lambda: window.publish.job is not None and not window.publish.job.running)


def test_a_folder_in_the_way_is_one_sentence(
    window: MainWindow, app_settings, errors: list[tuple[str, str]], qtbot, tmp_path: Path
) -> None:
    app_settings.reviewer_name = "Tester"
    _approve_everything(window)
    target = tmp_path / "book.html"
    target.mkdir()
    _export(window, qtbot, target)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors == [
        (
            "Export failed",
            (
                f"{target} is a folder, not a file: choose a file name for the export; "
                "nothing was changed."
            ),
        )
    ]
    assert target.is_dir()


def test_a_full_disk_is_one_sentence_and_the_previous_file_stays(
    window: MainWindow,
    app_settings,
    errors: list[tuple[str, str]],
    qtbot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app_settings.reviewer_name = "Tester"
    _approve_everything(window)
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "book.html"
    target.write_bytes(b"the previous export")

    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    _export(window, qtbot, target)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors == [
        ("Export failed", f"Cannot write {target}: the disk is full; nothing was changed.")
    ]
    assert target.read_bytes() == b"the previous export"
    assert [p.name for p in target.parent.iterdir()] == ["book.html"]
