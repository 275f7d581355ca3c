"""Start the desktop app: settings, the first-run sample book, the main window."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from coauthor import __version__
from coauthor.sample import build_sample
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.settings import AppSettings

logger = logging.getLogger(__name__)

__all__ = ["NO_DISPLAY", "create_window", "display_missing", "run", "sample_path"]

SAMPLE_NAME = "Sample - The Tide Clock.coauthor"

NO_DISPLAY = (
    "Coauthor needs a graphical display: neither DISPLAY (X11) nor WAYLAND_DISPLAY is set, so "
    "its window cannot open; the `coauthor` command works without one, see README.md."
)
_DISPLAY_PLATFORMS = ("xcb", "wayland")  # Qt's platform plugins that talk to a display server


def display_missing(environ: Mapping[str, str] = os.environ) -> bool:
    """True when Qt would abort for want of a display: the platform is X11 or Wayland (the
    default on Linux) and no display server is named. ``QT_QPA_PLATFORM=offscreen`` needs none."""
    requested = environ.get("QT_QPA_PLATFORM", "")
    platforms = [p.split(":", 1)[0].strip() for p in requested.split(";") if p.strip()]
    if not all(p.startswith(_DISPLAY_PLATFORMS) for p in platforms):
        return False
    return not any(environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "WAYLAND_SOCKET"))


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
    if existing is None and display_missing():
        print(NO_DISPLAY, file=sys.stderr)  # instead of Qt's abort (SIGABRT and a core dump)
        return 1
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
