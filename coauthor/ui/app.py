"""Start the desktop app: settings, the first-run sample book, the main window, the icon, and
what happens on an unexpected exception.

An exception that escapes a slot (a bug of ours) reaches ``sys.excepthook``; ``CrashHandler``
writes the open project at once (the work is kept), writes a crash log to the data folder
(``crash-YYYYMMDD-HHMMSS.log``: the traceback, versions and platform, with API keys, ``sk-``
tokens and ``Bearer`` values removed) and says so in a dialog; the app keeps running.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import re
import signal
import sqlite3
import sys
import threading
import traceback
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import PySide6
from PySide6.QtCore import QObject, Qt, QTimer, Signal, qVersion
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from coauthor import __version__
from coauthor.ai import keys
from coauthor.ai.errors import redact
from coauthor.app.sample import build_sample
from coauthor.core.resources import resources_dir
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.settings import AppSettings

logger = logging.getLogger(__name__)

__all__ = [
    "APP_ID",
    "NO_DISPLAY",
    "CrashHandler",
    "app_icon",
    "create_window",
    "display_missing",
    "run",
    "sample_path",
]

APP_ID = "org.coauthor.Coauthor"
"""The desktop file's name (``packaging/``, ``coauthor install-desktop``) and the icon's."""

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
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    settings = AppSettings()
    crash = CrashHandler(settings, app)
    crash.install()
    window = create_window(settings, argv)
    crash.window = window
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


def app_icon() -> QIcon:
    """The app's icon: the scalable SVG and the PNGs rendered from it (``resources/icons/``)."""
    icon = QIcon()
    folder = resources_dir() / "icons"
    for png in sorted(folder.glob(f"{APP_ID}-*.png")):
        icon.addFile(str(png))
    svg = folder / f"{APP_ID}.svg"
    if svg.is_file():
        icon.addFile(str(svg))
    return icon


# -- unexpected exceptions --------------------------------------------------------------------

CRASH_SAVED = (
    "Coauthor hit an unexpected problem; your work is saved. A crash log was written to {log}."
)
CRASH_UNSAVED = (
    "Coauthor hit an unexpected problem and could not save your latest changes yet (they stay "
    "open in the window and saving is retried). A crash log was written to {log}."
)
CRASH_NO_LOG = (
    "Coauthor hit an unexpected problem; your work is saved, but no crash log could be "
    "written ({reason})."
)
CRASH_UNSAVED_NO_LOG = (
    "Coauthor hit an unexpected problem and could not save your latest changes yet (they stay "
    "open in the window and saving is retried); no crash log could be written ({reason})."
)

CRASH_LOGS_KEPT = 20
"""Older ``crash-*.log`` files in the data folder are removed beyond this many."""
REPEATS_LOGGED = 3
"""The same failure (type and place) writes at most this many logs, and one dialog, a session."""

_SECRET_VARIABLE = re.compile(r"(?i)(api_?key|_key$|token|secret|password|passwd)")


class CrashHandler(QObject):
    """``sys.excepthook`` and ``threading.excepthook`` for the app (see the module text).

    The log is written where the exception happened; the project is written and the dialog
    shown on the main thread, after the failing slot has returned (a queued signal).
    """

    _occurred = Signal(str, str, bool)  # log path, why no log was written, flushed already

    def __init__(self, settings: AppSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.window: MainWindow | None = None
        self.logs: list[Path] = []
        self._seen: dict[tuple[str, str], int] = {}
        self._showing = False
        self._previous: tuple[object, object] | None = None
        self._occurred.connect(self._tell, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.excepthook
        threading.excepthook = self._thread_excepthook

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous  # type: ignore[assignment]
            self._previous = None

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def excepthook(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(exc_type, (KeyboardInterrupt, SystemExit)):
            sys.__excepthook__(exc_type, exc, tb)
            return
        place = traceback.extract_tb(tb)[-1] if tb is not None else None
        signature = (exc_type.__qualname__, f"{place.filename}:{place.lineno}" if place else "")
        count = self._seen[signature] = self._seen.get(signature, 0) + 1
        log, problem = "", ""
        if count <= REPEATS_LOGGED:
            try:
                text = crash_report(exc_type, exc, tb, self._secrets())
                path = write_crash_log(self.settings.data_dir, text)
                self.logs.append(path)
                log = str(path)
            except Exception as error:  # noqa: BLE001 - the handler itself must not fail
                problem = redact(f"{type(error).__name__}: {error}")
        logger.error(  # no message: it may quote what the log has redacted
            "Unexpected %s (%s); crash log: %s", exc_type.__name__, signature[1], log or problem
        )
        on_main = threading.current_thread() is threading.main_thread()
        if on_main:
            self._flush()  # now: the next event may fail worse
        if count == 1:
            self._occurred.emit(log, problem, on_main)
        elif not on_main:
            self._occurred.emit("", "", False)  # no dialog, but the project is written

    def _flush(self) -> bool:
        window = self.window
        session = window.session if window is not None else None
        if session is None:
            return True
        try:
            return session.flush()
        except Exception:
            logger.exception("The project could not be written after an unexpected error")
            return False

    def _tell(self, log: str, problem: str, flushed: bool) -> None:
        saved = self._saved_now() if flushed else self._flush()
        if not (log or problem) or self._showing:
            return  # the same failure again, or a dialog already open: logged only
        if log:
            sentence = (CRASH_SAVED if saved else CRASH_UNSAVED).format(log=log)
        else:
            sentence = (CRASH_NO_LOG if saved else CRASH_UNSAVED_NO_LOG).format(reason=problem)
        self._showing = True
        try:
            QMessageBox.critical(self.window, "Coauthor", sentence)
        finally:
            self._showing = False

    def _saved_now(self) -> bool:
        window = self.window
        session = window.session if window is not None else None
        return session is None or session.failing is None

    def _secrets(self) -> list[str]:
        """What must not appear in a log: keys in the environment and the keyring, the one
        the model client holds, the embedded server's session key."""
        found = [
            value
            for name, value in os.environ.items()
            if _SECRET_VARIABLE.search(name) and value and not os.path.isabs(value)
        ]
        accounts = {"openai"}
        ai = getattr(self.window, "ai", None)
        providers = getattr(ai, "providers", None)
        if providers is not None:
            accounts.add(providers.config.key_account)
            cached = getattr(providers, "_cached", None)
            if cached is not None:
                found.append(cached[0][1] or "")
            found.append(getattr(providers.embedded, "_api_key", None) or "")
        for account in sorted(accounts):
            try:
                found.append(keys.get_key(account)[0] or "")
            except Exception:  # noqa: BLE001, S112 - a broken keyring: the patterns still apply
                continue
        return [s for s in found if s]


def crash_report(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    secrets: list[str],
    now: dt.datetime | None = None,
) -> str:
    """The crash log's text: when, versions, platform, thread and traceback, redacted."""
    now = now or dt.datetime.now(dt.UTC)
    app = QGuiApplication.instance()
    lines = [
        "Coauthor crash log",
        f"time: {now.isoformat(timespec='seconds')}",
        f"coauthor: {__version__}",
        f"python: {sys.version.split()[0]} ({platform.python_implementation()})",
        f"pyside6: {PySide6.__version__}, qt: {qVersion()}",
        f"sqlite: {sqlite3.sqlite_version}",
        f"platform: {platform.platform()}",
        f"qt platform: {QGuiApplication.platformName() if app is not None else '-'}",
        f"thread: {threading.current_thread().name}",
        "",
        *traceback.format_exception(exc_type, exc, tb),
    ]
    return redact("\n".join(line.rstrip("\n") for line in lines) + "\n", *secrets)


def write_crash_log(folder: Path, text: str, now: dt.datetime | None = None) -> Path:
    """Write ``crash-YYYYMMDD-HHMMSS.log`` (readable by the user only) and keep the newest
    ``CRASH_LOGS_KEPT``."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    path, n = folder / f"crash-{stamp}.log", 1
    while True:
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            n += 1
            path = folder / f"crash-{stamp}-{n}.log"
    with os.fdopen(descriptor, "w", encoding="utf-8", errors="backslashreplace") as out:
        out.write(text)
    for old in sorted(folder.glob("crash-*.log"), key=lambda p: p.stat().st_mtime)[
        :-CRASH_LOGS_KEPT
    ]:
        old.unlink(missing_ok=True)
    return path
