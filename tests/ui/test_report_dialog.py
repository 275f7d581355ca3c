"""Report Generation… in the real window: from the review queue (its button and its context
menu) and from the AI panel, for the generation shown.

The dialog must refuse an empty reason with a sentence, point a security issue to the right
place for its provider, save the file where the author said, and record the report in the
book's history (it survives closing the book). Coauthor sends nothing.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QContextMenuEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QPushButton

from coauthor.ai.service import ProviderConfig, ProviderKind
from coauthor.store import ProjectFile
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.reportdialog import ReportDialog

if TYPE_CHECKING:
    from chat_server import ChatServer

LEFT = Qt.MouseButton.LeftButton


def while_open(act: Callable[[ReportDialog], None]) -> list[ReportDialog]:
    """Run ``act`` on the report dialog once it is open (it is modal: ``exec`` waits)."""
    seen: list[ReportDialog] = []

    def drive() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ReportDialog):
            QTimer.singleShot(20, drive)  # not open yet
            return
        seen.append(dialog)
        try:
            act(dialog)
        finally:
            if dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(0, drive)
    return seen


def save(dialog: ReportDialog) -> None:
    button = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert button is not None
    button.click()


def choose(dialog: ReportDialog, category: str) -> None:
    dialog.category.setCurrentIndex(dialog.category.findData(category))


def contents(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("report.json"))


def stored_reports(path: Path) -> list:
    project_file = ProjectFile.open(path, readonly=True)
    try:
        return project_file.load().reports
    finally:
        project_file.close()


def test_report_from_the_review_queue(
    window: MainWindow,
    qtbot,
    tmp_path: Path,
    screenshot_dir: Path,
    sample_project: Path,
    close_window: Callable[[MainWindow], None],
) -> None:
    target = tmp_path / "reports" / "g2.zip"
    seen: dict[str, str] = {}

    def act(dialog: ReportDialog) -> None:
        dialog.show()
        qtbot.waitExposed(dialog)
        seen["title"] = dialog.windowTitle()
        seen["path"] = dialog.path.text()
        save(dialog)  # no reason yet
        seen["refused"] = dialog.error.text()
        seen["open"] = str(dialog.isVisible())
        choose(dialog, "security issue")
        seen["advice"] = dialog.advice.text()
        dialog.reason.setPlainText("It claims the sun lifts at nightfall.")
        dialog.context.setChecked(True)
        dialog.path.setText(str(target))
        qtbot.wait(50)  # the advice's new height laid out
        dialog.grab().save(str(screenshot_dir / "report_dialog.png"))
        choose(dialog, "factual error")
        save(dialog)

    window.ai.show_queue()
    shown = while_open(act)
    qtbot.mouseClick(window.ai.queue.report_button, LEFT)
    assert len(shown) == 1
    assert seen["title"] == "Report Generation"
    assert seen["path"] == str(sample_project.parent / "coauthor-report-g2.zip")
    assert seen["refused"] == "A report needs a reason: say what is wrong with the generation."
    assert seen["open"] == "True"
    assert (
        "Security issue: This generation came from the model built into Coauthor"
        in (seen["advice"])
    )
    assert "maintainers of the model file" in seen["advice"]
    assert (screenshot_dir / "report_dialog.png").stat().st_size > 0

    data = contents(target)
    assert data["report"]["category"] == "factual error"
    assert data["report"]["reason"] == "It claims the sun lifts at nightfall."
    assert data["report"]["reported_by"] == "Ada Marlowe"
    assert data["generation"]["id"] == "g2"
    assert data["surrounding_text"]["passage"].startswith("The storm finally came to an end.")
    assert "Coauthor sent nothing" in window.statusBar().currentMessage()
    assert str(target) in window.statusBar().currentMessage()
    close_window(window)
    [report] = stored_reports(sample_project)
    assert (report.generation, report.category, report.context) == ("g2", "factual error", True)


def test_the_queue_context_menu_reports_the_passage_and_cancel_records_nothing(
    window: MainWindow, qtbot, dialogs, sample_project: Path, close_window
) -> None:
    window.ai.show_queue()
    menu = window.ai.queue.context_menu()
    assert menu is not None
    actions = {a.text(): a for a in menu.actions()}
    assert list(actions) == ["Go To", "Approve", "Reject", "Report Generation…", "Show in History"]

    def act(dialog: ReportDialog) -> None:
        dialog.reason.setPlainText("Changed my mind.")
        dialogs.expect("getSaveFileName")
        browse = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Save As…")
        browse.click()  # the file dialog is dismissed: the path stays
        dialog.reject()

    shown = while_open(act)
    actions["Report Generation…"].trigger()
    assert len(shown) == 1
    assert shown[0].generation_id == "g2"
    assert len(dialogs.of("getSaveFileName")) == 1
    assert not Path(shown[0].path.text()).exists()
    project = window.project
    assert project is not None
    assert project.reports == []
    close_window(window)
    assert stored_reports(sample_project) == []


@pytest.fixture
def server_window(
    window: MainWindow, chat_server: ChatServer, no_keyring: None
) -> Iterator[MainWindow]:
    window.ai.save_config(
        ProviderConfig(
            kind=ProviderKind.COMPATIBLE, base_url=chat_server.url, model="test-model", timeout=5
        )
    )
    yield window
    job = window.ai.job
    if job is not None and job.running:
        job.cancel()
        job.wait(30_000)


def test_report_the_generation_shown_in_the_ai_panel(
    server_window: MainWindow, qtbot, tmp_path: Path, chat_server: ChatServer
) -> None:
    window, panel = server_window, server_window.ai.panel
    assert not panel.report_button.isEnabled()  # nothing shown yet
    previous = window.ai.run
    qtbot.mouseClick(panel.generate_button, LEFT)
    qtbot.waitUntil(lambda: window.ai.run is not previous, timeout=10_000)
    run = window.ai.run
    assert run is not None
    qtbot.waitUntil(panel.report_button.isEnabled, timeout=2000)
    [record] = run.records
    seen: dict[str, str] = {}

    def act(dialog: ReportDialog) -> None:
        choose(dialog, "security issue")
        seen["advice"] = dialog.advice.text()
        dialog.reason.setPlainText("The reply tells the reader how to pick a lock.")
        dialog.path.setText(str(tmp_path / "panel.zip"))
        save(dialog)

    shown = while_open(act)
    qtbot.mouseClick(panel.report_button, LEFT)
    assert [d.generation_id for d in shown] == [record.id]
    assert "whoever runs that server" in seen["advice"]
    data = contents(tmp_path / "panel.zip")
    assert data["generation"]["provider"] == "compatible"
    assert data["generation"]["model"] == "test-model"
    assert data["generation"]["output"] == record.output
    assert data["surrounding_text"] is None  # not asked for
    project = window.project
    assert project is not None
    assert [(r.generation, r.category) for r in project.reports] == [(record.id, "security issue")]


def test_the_editors_context_menu_reports_the_generation_under_the_pointer(
    window: MainWindow, qtbot, close_window
) -> None:
    """Right-click on the model's text: Report Generation gN…, which opens the dialog for it;
    on the author's own text the item is not there."""
    project = window.project
    assert project is not None
    chapter = next(c for c in project.chapters if any(ref == "g2" for _, _, ref in c.text.runs()))
    window.show_chapter(chapter)
    editor = window.editor
    start = chapter.text.text.index("The storm finally")

    def menu_items(pos: int) -> list[str]:
        items: list[str] = []

        def read_menu() -> None:
            menu = QApplication.activePopupWidget()
            if menu is None:
                QTimer.singleShot(20, read_menu)
                return
            items.extend(a.text() for a in menu.actions())
            report = next((a for a in menu.actions() if a.text().startswith("Report")), None)
            menu.close()
            if report is not None:
                report.trigger()

        cursor = QTextCursor(editor.document())
        cursor.setPosition(pos)  # the sample's text is ASCII: code points are UTF-16 units
        rect = editor.cursorRect(cursor)
        QTimer.singleShot(0, read_menu)
        editor.contextMenuEvent(
            QContextMenuEvent(
                QContextMenuEvent.Reason.Mouse, rect.center(), editor.mapToGlobal(rect.center())
            )
        )
        return items

    shown = while_open(lambda dialog: dialog.reject())
    items = menu_items(start + 5)
    assert "Report Generation g2…" in items
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=3000)
    assert shown[0].generation_id == "g2"
    assert not any(item.startswith("Report") for item in menu_items(3))  # the author's text
    close_window(window)
