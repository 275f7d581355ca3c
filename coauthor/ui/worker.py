"""Slow calls off the GUI thread: a ``QThread`` per job, results and progress by signal.

The job is plain synchronous code from ``coauthor.ai``; it reports through callbacks that
emit queued signals, so the GUI only ever handles small events and the author can keep
typing while a generation streams.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

logger = logging.getLogger(__name__)

__all__ = ["Job"]


class _Runner(QObject):
    progress = Signal(object)
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Callable[[Callable[[object], None], threading.Event], object]) -> None:
        super().__init__()
        self.work = work
        self.cancel = threading.Event()

    def run(self) -> None:
        try:
            result = self.work(self.progress.emit, self.cancel)
        except Exception as exc:
            logger.exception("Background job failed")
            self.failed.emit(str(exc) or type(exc).__name__)
            return
        finally:
            # The thread ends with the work, so ``Job.wait`` returns as soon as it is done, even
            # from the GUI thread (the result still arrives by a queued signal).
            QThread.currentThread().quit()
        self.done.emit(result)


class Job(QObject):
    """Run ``work(report, cancel)`` in its own thread.

    ``report(item)`` may be called from the worker any number of times; each item arrives in
    the GUI thread as ``progress``. ``finished`` carries the return value.
    """

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        work: Callable[[Callable[[object], None], threading.Event], object],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._runner = _Runner(work)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        self._runner.progress.connect(self.progress)
        self._runner.done.connect(self._on_done)
        self._runner.failed.connect(self._on_failed)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._runner.cancel.set()

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    def _finish(self) -> None:
        self._thread.quit()
        self._thread.wait()

    def _on_done(self, result: object) -> None:
        self._finish()
        self.finished.emit(result)

    def _on_failed(self, message: str) -> None:
        self._finish()
        self.failed.emit(message)

    def wait(self, ms: int = 30_000) -> bool:
        """Block until the thread ends (for shutdown); True if it ended."""
        return self._thread.wait(ms)


def job_progress(parent: QWidget, label: str, maximum: int, name: str) -> QProgressDialog:
    """The progress window of a background job: not modal (the author keeps writing), shown
    only when the job takes longer than 0.3 s, "Hide" rather than "Cancel"; ``maximum`` 0 for
    a busy indicator without steps."""
    dialog = QProgressDialog(label, "Hide", 0, maximum, parent)
    dialog.setObjectName(name)
    dialog.setWindowModality(Qt.WindowModality.NonModal)
    dialog.setMinimumDuration(300)
    return dialog
