"""Fixtures for the editor tests: real windows on real project files, driven offscreen.

Layered fixtures: ``app_settings`` (a settings file and data folder under ``tmp_path``) →
``sample_project`` (the sample book written to ``tmp_path``) → ``open_window`` (a factory
that builds a ``MainWindow`` the way the app does and closes it at teardown) → ``window``.

Every dialog goes through ``dialogs``: a ``QMessageBox`` or file dialog that a test did not
announce with ``dialogs.expect(...)`` fails the test. Closing a window must ask nothing, and
must leave the project closed (no ``.lock`` file beside it).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from coauthor.app.sample import build_sample
from coauthor.ui.app import create_window
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.settings import AppSettings

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parents[1]
SCREENSHOTS = _REPO / "test-output" / "screenshots"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in ``tests/ui`` drives Qt widgets: mark it ``gui``."""
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.gui)


# -- dialogs ----------------------------------------------------------------------------------


@dataclass
class Dialog:
    kind: str
    title: str
    text: str


@dataclass
class Dialogs:
    """Records every message box; only announced kinds may appear."""

    calls: list[Dialog] = field(default_factory=list)
    expected: set[str] = field(default_factory=set)

    def expect(self, *kinds: str) -> None:
        self.expected.update(kinds)

    def forbid_all(self) -> None:
        self.expected.clear()

    def of(self, kind: str) -> list[Dialog]:
        return [d for d in self.calls if d.kind == kind]

    def _record(self, kind: str, title: object, text: object) -> None:
        dialog = Dialog(kind, str(title), str(text))
        self.calls.append(dialog)
        if kind not in self.expected:
            raise AssertionError(f"unexpected {kind} dialog: {dialog.title!r}: {dialog.text!r}")


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> Dialogs:
    spy = Dialogs()

    def box(kind: str, answer: QMessageBox.StandardButton):
        def show(_parent, title, text, *_args, **_kwargs):
            spy._record(kind, title, text)
            return answer

        return staticmethod(show)

    monkeypatch.setattr(QMessageBox, "critical", box("critical", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "warning", box("warning", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(
        QMessageBox, "information", box("information", QMessageBox.StandardButton.Ok)
    )
    monkeypatch.setattr(QMessageBox, "question", box("question", QMessageBox.StandardButton.No))

    def exec_(self, *_args):
        spy._record("exec", self.windowTitle(), self.text())
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "exec", exec_)

    def file_dialog(kind: str):
        def show(*_args, **_kwargs):
            spy._record(kind, "file dialog", "")
            return ([], "") if kind == "getOpenFileNames" else ("", "")

        return staticmethod(show)

    for name in ("getOpenFileName", "getOpenFileNames", "getSaveFileName"):
        monkeypatch.setattr(QFileDialog, name, file_dialog(name))
    return spy


# -- settings, project, window ----------------------------------------------------------------


@pytest.fixture
def app_settings(tmp_path: Path) -> AppSettings:
    return AppSettings(tmp_path / "config", tmp_path / "data")


@pytest.fixture
def sample_project(tmp_path: Path) -> Path:
    return build_sample(tmp_path / "book.coauthor")


OpenWindow = Callable[..., MainWindow]


def _close_checked(window: MainWindow, dialogs: Dialogs) -> None:
    """Close as the user does; nothing may be asked and the project must end up closed."""
    dialogs.forbid_all()
    path = window.session.path if window.session is not None else None
    window.close()
    assert window.session is None, "the window kept its project open"
    if path is not None:
        lock = path.with_name(path.name + ".lock")
        assert not lock.exists(), f"{lock} is left behind: the project was not closed"


@pytest.fixture
def open_window(qtbot, app_settings: AppSettings, dialogs: Dialogs) -> Iterator[OpenWindow]:
    """Build windows as the app does (``create_window``); each is closed and checked at the end."""
    windows: list[MainWindow] = []

    def make(path: Path | str | None = None, settings: AppSettings | None = None) -> MainWindow:
        window = create_window(settings or app_settings, [str(path)] if path else [])
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
        window.editor.setFocus()
        return window

    yield make
    for window in reversed(windows):
        _close_checked(window, dialogs)


@pytest.fixture
def window(open_window: OpenWindow, sample_project: Path) -> MainWindow:
    return open_window(sample_project)


@pytest.fixture
def close_window(dialogs: Dialogs) -> Callable[[MainWindow], None]:
    """Close a window in the middle of a test, with the same checks as at teardown."""
    return lambda window: _close_checked(window, dialogs)


# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(autouse=True)
def empty_clipboard_after(qapp: QApplication) -> Iterator[None]:
    """Leave the clipboard empty after each test. Text a test leaves there (a copy, a cut,
    another application's text) outlives the test's widgets, and the offscreen platform
    crashes (SIGSEGV) when it frees that text at interpreter exit, after every test passed."""
    yield
    qapp.clipboard().clear()


@pytest.fixture
def shows_fresh_render() -> Callable[[MainWindow], bool]:
    """Whether the window's editor shows, in the window's backing store (what the author
    sees: ``grabWindow`` on the offscreen platform), exactly what a full repaint of it draws
    (``grab``, a fresh render): False where a repaint was missed and old pixels stayed. Set
    the editor's cursor width to 0 first: the caret blinks."""

    def compare(window: MainWindow) -> bool:
        viewport = window.editor.viewport()
        corner = viewport.mapTo(window, QPoint(0, 0))
        shown = window.screen().grabWindow(
            window.winId(), corner.x(), corner.y(), viewport.width(), viewport.height()
        )
        rgb = QImage.Format.Format_RGB32
        return shown.toImage().convertToFormat(rgb) == viewport.grab().toImage().convertToFormat(
            rgb
        )

    return compare


@pytest.fixture
def put_outside_text() -> Callable[[str], None]:
    """Put plain text on the clipboard as another application would (no private format)."""

    def put(text: str) -> None:
        mime = QMimeData()
        mime.setText(text)
        QApplication.clipboard().setMimeData(mime)

    return put


# -- AI providers -----------------------------------------------------------------------------

# ``chat_server`` (the scripted chat server fixture) comes from tests/conftest.py.


# ``memory_keyring`` and ``no_keyring`` come from tests/conftest.py.
