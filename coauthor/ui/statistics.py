"""Writing statistics and goals in the app: the summary of the history, kept up to date, the
goal figure in the status bar, View ▸ Statistics and Book ▸ Writing Goals.

When a project opens, its history is summarised in a worker job (``app.statistics``: from the
summary the project file keeps or the cache, then the events after it); a file that kept no
summary (written by an older Coauthor) is handed this one to keep. After that the summary only grows: each refresh reads the
events written since the last one (the autosave writes them about once a second). The main
window calls ``refresh`` from its status timer, after a pause in typing, never on a keystroke.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QFileDialog, QLabel

from coauthor.app.statistics import summarise, write_csv
from coauthor.core.daily import DayFigures, Tally, by_day, goal_progress, streak
from coauthor.store import ProjectFileError
from coauthor.store.activity import activity_batches, read_connection
from coauthor.ui.goals import GoalsDialog
from coauthor.ui.palette import palette_for
from coauthor.ui.statsview import StatisticsDialog
from coauthor.ui.worker import Job
from coauthor.ui.workspace import Workspace

logger = logging.getLogger(__name__)

__all__ = ["StatisticsController"]

_IDLE_MS = 1500
"""After the last autosave of a burst of typing, the figures catch up with it."""


class StatisticsController(QObject):
    def __init__(
        self,
        workspace: Workspace,
        cache_dir: Path | None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self.cache_dir = cache_dir
        self.today = today
        self.tally: Tally | None = None
        self.job: Job | None = None
        self.failure: str | None = None
        """Why the history could not be summarised, if it could not."""
        self._path: Path | None = None
        self._book_words = 0
        self.dialog: StatisticsDialog | None = None
        self.status_label = QLabel()
        self.status_label.setObjectName("goalStatus")
        window = workspace.window
        self.statistics_action = QAction("&Statistics…", window)
        self.statistics_action.setShortcut("Ctrl+Shift+T")
        self.statistics_action.setStatusTip(
            "Words written per day, by origin; time writing and sessions; CSV export"
        )
        self.statistics_action.triggered.connect(self.show_statistics)
        self.goals_action = QAction("Writing &Goals…", window)
        self.goals_action.setStatusTip("Words a day, the book's length, a deadline")
        self.goals_action.triggered.connect(self.edit_goals)
        self.actions = [self.statistics_action, self.goals_action]
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(_IDLE_MS)
        self._idle.timeout.connect(lambda: self.refresh(self._book_words))
        workspace.project_opened.connect(self._on_project_opened)

    # -- the summary ------------------------------------------------------------------------

    def _on_project_opened(self, path: str) -> None:
        self.stop()
        self.tally = None
        self._path = Path(path)
        self.failure = None
        self.status_label.setText("")
        session = self.workspace.session
        if session is not None:  # each autosave restarts the wait for a pause
            session.saved.connect(self._idle.start)
        cache_dir = self.cache_dir
        project_path = self._path

        def work(_report: Callable[[object], None], cancel: threading.Event) -> Tally:
            conn = read_connection(project_path)
            try:
                return summarise(conn, project_path, cache_dir, cancel)
            finally:
                conn.close()

        job = Job(work, self)
        job.finished.connect(lambda tally, p=project_path: self._on_summarised(p, tally))
        job.failed.connect(self._on_failed)
        self.job = job
        job.start()

    def _on_summarised(self, path: Path, tally: object) -> None:
        if path != self._path or not isinstance(tally, Tally):
            return  # a project since closed
        self.tally = tally
        session = self.workspace.session
        if session is not None:  # a file written before Coauthor kept the summary keeps it now
            session.file.adopt_statistics(tally.copy())
        self.refresh(self._book_words)

    def _on_failed(self, message: str) -> None:
        logger.warning("The writing statistics could not be computed: %s", message)
        self.status_label.setText("")
        self.failure = message
        if self.dialog is not None:
            self.dialog.summary.setText(f"The history could not be read: {message}")

    def stop(self) -> None:
        """Stop a summary still running (the project is closing)."""
        job = self.job
        if job is not None and job.running:
            job.cancel()
            job.wait()
        self.job = None

    def clear(self) -> None:
        """No project: no figures."""
        self.stop()
        self._idle.stop()
        self.tally = None
        self._path = None
        self.status_label.setText("")
        if self.dialog is not None:
            self.dialog.close()

    def _catch_up(self) -> bool:
        """Feed the summary the events written since it was last fed; False if it cannot be."""
        session = self.workspace.session
        if self.tally is None or session is None:
            return False
        try:
            for batch in activity_batches(session.file.conn, self.tally.seq):
                self.tally.feed(batch)
        except ProjectFileError as exc:
            logger.warning("The writing statistics could not read the history: %s", exc)
            return False
        return True

    def days(self) -> list[DayFigures]:
        return by_day(self.tally) if self.tally is not None else []

    def refresh(self, book_words: int) -> None:
        """Bring the goal figure (and the Statistics window, if open) up to date."""
        self._book_words = book_words
        session = self.workspace.session
        if session is None or not self._catch_up():
            return
        days = self.days()
        today = self.today()
        goals = self.workspace.settings.goals(session.path)
        progress = goal_progress(goals, days, book_words, today)
        self.status_label.setText(progress.status_text())
        self.status_label.setToolTip(progress.details())
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.set_days(days, today, streak(days, today, goals.daily_words))

    # -- the views --------------------------------------------------------------------------

    def show_statistics(self) -> None:
        session = self.workspace.session
        if session is None:
            return
        if self.dialog is None:
            self.dialog = StatisticsDialog(
                palette_for(self.workspace.window.palette()), self.workspace.window
            )
            self.dialog.export_button.clicked.connect(self.export_csv)
        session.flush()  # the last second of typing counts too
        self.dialog.show()
        self.dialog.raise_()
        if self.tally is None:
            self.dialog.summary.setText(
                f"The history could not be read: {self.failure}"
                if self.failure
                else "Counting the history…"
            )
        self.refresh(self._book_words)

    def export_csv(self) -> None:
        session = self.workspace.session
        if session is None or self.dialog is None:
            return
        suggested = session.path.with_name(f"{session.path.stem}-statistics.csv")
        target, _ = QFileDialog.getSaveFileName(
            self.dialog, "Export Statistics", str(suggested), "CSV files (*.csv)"
        )
        if not target:
            return
        try:
            written = write_csv(Path(target), self.days())
        except OSError as exc:
            self.workspace.show_error("Cannot export the statistics", f"{target}: {exc}")
            return
        self.workspace.show_message(f"Statistics exported to {written}", 5000)

    def edit_goals(self) -> None:
        session = self.workspace.session
        if session is None:
            return
        settings = self.workspace.settings
        dialog = GoalsDialog(settings.goals(session.path), self.today(), self.workspace.window)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            settings.set_goals(session.path, dialog.goals())
            self.refresh(self._book_words)
