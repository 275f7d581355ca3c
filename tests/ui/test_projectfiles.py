"""File ▸ Import (``ui.projectfiles``) with the formats it offers: a Word document chosen in
the file dialog becomes Markdown chapters of the open project."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import docx
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from coauthor.core.origin import Origin
from coauthor.ui.mainwindow import MainWindow

if TYPE_CHECKING:
    import pytest


def test_file_import_offers_and_reads_word_documents(
    window: MainWindow, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = window.project
    assert project is not None
    before = len(project.chapters)
    source = tmp_path / "Harbour.docx"
    document = docx.Document()
    document.add_heading("Harbour", level=1)
    paragraph = document.add_paragraph("The boats came in at ")
    paragraph.add_run("dusk").italic = True
    paragraph.add_run(".")
    document.save(str(source))
    filters: list[str] = []

    def choose(_parent: object, _title: str, _folder: str, wanted: str) -> tuple[list[str], str]:
        filters.append(wanted)
        return [str(source)], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(choose))
    [action] = [a for a in window.findChildren(QAction) if a.text() == "&Import…"]
    action.trigger()
    qtbot.waitUntil(lambda: window.files.outcome is not None, timeout=10_000)

    assert "*.docx" in filters[0]
    assert "*.odt" in filters[0]
    assert window.files.outcome == "imported"
    assert len(project.chapters) == before + 1
    chapter = project.chapters[-1]
    assert (chapter.title, chapter.markup) == ("Harbour", "markdown")
    assert chapter.text.text == "The boats came in at *dusk*."
    assert chapter.text.counts()[Origin.IMPORTED] == len(chapter.text.text)
    assert window.chapter is chapter
