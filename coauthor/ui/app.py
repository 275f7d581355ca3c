"""Start the desktop app: settings, the first-run sample book, the main window."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from coauthor import __version__
from coauthor.sample import build_sample
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.settings import AppSettings

logger = logging.getLogger(__name__)

__all__ = ["create_window", "run", "sample_path"]

SAMPLE_NAME = "Sample - The Tide Clock.coauthor"


def sample_path(settings: AppSettings) -> Path:
    """The sample book in the data folder, built on first use."""
    path = settings.data_dir / SAMPLE_NAME
    if not path.exists():
        build_sample(path)
    return path


def create_window(settings: AppSettings, argv: list[str]) -> MainWindow:
    window = MainWindow(settings)
    window.restore_window_state()
    requested = next((a for a in argv if not a.startswith("-")), None)
    target: Path | None = None
    if requested:
        target = Path(requested)
    elif settings.first_run_done and settings.last_project and Path(settings.last_project).exists():
        target = Path(settings.last_project)
    opened = target is not None and window.open_project(target)
    if not opened and not window.open_project(sample_path(settings)):
        logger.error("The sample book could not be opened")
    settings.first_run_done = True
    return window


def run(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0], *argv])
    app.setApplicationName("Coauthor")
    app.setOrganizationName("Coauthor")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("org.coauthor.Coauthor")
    settings = AppSettings()
    window = create_window(settings, argv)
    window.show()
    _close_on_signals(window)
    return app.exec()


def _close_on_signals(window: MainWindow) -> None:
    """SIGTERM (logout, ``kill``) and Ctrl+C close the window as the Quit command does, so the
    last changes are written and the project is left closed."""

    def close(_signum: int, _frame: object) -> None:
        window.close()

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, close)
    # Python only runs signal handlers between bytecodes: wake it up now and then.
    waker = QTimer(window)
    waker.timeout.connect(lambda: None)
    waker.start(250)
