"""An unexpected exception in the app: one sentence, a crash log without secrets, the work kept.

The handler is the one ``coauthor.ui.app.run`` installs (``CrashHandler``); pytest-qt's own
exception capture is switched off for these tests so that the exceptions reach it. Autosave is
switched off too: the typed text can only reach the file through the handler's flush.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest

from coauthor.store import ProjectFile
from coauthor.ui.app import (
    CRASH_LOGS_KEPT,
    CRASH_SAVED,
    CrashHandler,
    app_icon,
    crash_report,
    write_crash_log,
)
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.settings import AppSettings

pytestmark = pytest.mark.qt_no_exception_capture

FAKE_KEY = "sk-test-" + "Zq7" * 12  # what OPENAI_API_KEY holds in these tests
OTHER_TOKEN = "Xy9" * 10  # a bearer token the environment does not hold
LOG_NAME = re.compile(r"crash-\d{8}-\d{6}(-\d+)?\.log")


@pytest.fixture
def crash(
    window: MainWindow, app_settings: AppSettings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CrashHandler]:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    assert window.session is not None
    monkeypatch.setattr(window.session, "mark_dirty", lambda: None)  # no autosave
    handler = CrashHandler(app_settings, window)
    handler.window = window
    handler.install()
    try:
        yield handler
    finally:
        handler.uninstall()


def _fail() -> None:
    raise RuntimeError(
        f"the server said: invalid key {FAKE_KEY} (Authorization: Bearer {OTHER_TOKEN}); "
        f"truncated echo {FAKE_KEY[4:20]}"
    )


def _stored_text(path: Path, chapter_id: int) -> str:
    project_file = ProjectFile.open(path, readonly=True)
    try:
        project = project_file.load()
        return next(c.text.text for c in project.chapters if c.id == chapter_id)
    finally:
        project_file.close()


def test_an_exception_in_a_slot_saves_logs_and_says_one_sentence(
    window: MainWindow, crash: CrashHandler, dialogs, qtbot, app_settings: AppSettings
) -> None:
    session, chapter = window.session, window.chapter
    assert session is not None
    assert chapter is not None
    window.editor.go_to(0)
    QTest.keyClicks(window.editor, "The latest words. ")
    assert "The latest words. " not in _stored_text(session.path, chapter.id)

    dialogs.expect("critical")
    QTimer.singleShot(0, _fail)
    qtbot.waitUntil(lambda: bool(dialogs.of("critical")), timeout=5000)

    (log,) = crash.logs
    (shown,) = dialogs.of("critical")
    assert shown.text == CRASH_SAVED.format(log=log)
    assert shown.text.startswith("Coauthor hit an unexpected problem; your work is saved.")
    assert log.parent == app_settings.data_dir
    assert LOG_NAME.fullmatch(log.name)
    assert log.stat().st_mode & 0o077 == 0

    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: the server said" in text
    assert "in _fail" in text
    for field in ("coauthor:", "python:", "pyside6:", "platform:", "time:"):
        assert field in text
    assert FAKE_KEY not in text
    assert FAKE_KEY[4:20] not in text
    assert OTHER_TOKEN not in text

    # The work is in the file, and the app goes on.
    assert window.editor.toPlainText().startswith("The latest words. ")
    assert _stored_text(session.path, chapter.id).startswith("The latest words. ")
    QTest.keyClicks(window.editor, "More. ")
    assert chapter.text.text.startswith("The latest words. More. ")
    assert window.isVisible()


def test_the_same_failure_again_logs_without_a_second_dialog(
    window: MainWindow, crash: CrashHandler, dialogs, qtbot
) -> None:
    dialogs.expect("critical")
    for _ in range(5):
        QTimer.singleShot(0, _fail)
    qtbot.waitUntil(lambda: len(crash.logs) == 3, timeout=5000)
    qtbot.wait(100)
    assert len(dialogs.of("critical")) == 1
    assert len(crash.logs) == 3  # REPEATS_LOGGED


def test_an_exception_in_a_python_thread_is_told_on_the_main_thread(
    window: MainWindow, crash: CrashHandler, dialogs, qtbot
) -> None:
    session, chapter = window.session, window.chapter
    assert session is not None
    assert chapter is not None
    QTest.keyClicks(window.editor, "Words before the thread failed. ")
    dialogs.expect("critical")
    worker = threading.Thread(target=_fail, name="worker")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(dialogs.of("critical")), timeout=5000)
    (log,) = crash.logs
    assert "thread: worker" in log.read_text(encoding="utf-8")
    assert "Words before the thread failed. " in _stored_text(session.path, chapter.id)


def test_crash_logs_are_bounded(tmp_path: Path) -> None:
    for _ in range(CRASH_LOGS_KEPT + 5):
        write_crash_log(tmp_path, "x\n")
    logs = list(tmp_path.glob("crash-*.log"))
    assert len(logs) == CRASH_LOGS_KEPT
    assert all(LOG_NAME.fullmatch(p.name) for p in logs)


def test_the_report_redacts_what_it_is_given() -> None:
    try:
        _fail()
    except RuntimeError as exc:
        text = crash_report(RuntimeError, exc, exc.__traceback__, [FAKE_KEY])
    assert FAKE_KEY not in text
    assert OTHER_TOKEN not in text
    assert "sk-…" in text or "sk-" not in text


def test_the_app_icon_has_every_size(qapp) -> None:
    icon = app_icon()
    assert not icon.isNull()
    sizes = {s.width() for s in icon.availableSizes()}
    assert {48, 128, 256} <= sizes
    assert not icon.pixmap(16, 16).isNull()
