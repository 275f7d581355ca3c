"""An open project in the app: the file, the book in memory, autosave and backups.

Every change marks the session dirty; a single-shot timer writes it within half a second,
so there is no Save command and closing never asks about work that is already safe. When a
write fails (disk full, file made read-only) the work stays in memory, a persistent warning
is shown and the write is retried until it succeeds.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from coauthor.core.book import BookMeta
from coauthor.core.project import Project
from coauthor.store import ProjectFile, ProjectFileError
from coauthor.store.errors import LogLeftBeside

logger = logging.getLogger(__name__)

__all__ = ["ProjectSession"]

AUTOSAVE_MS = 500
RETRY_MS = 3000
BACKUP_EVERY_MS = 10 * 60 * 1000


class ProjectSession(QObject):
    saved = Signal()
    save_failed = Signal(str)
    save_recovered = Signal()

    def __init__(
        self, project_file: ProjectFile, project: Project, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.file = project_file
        self.project = project
        self.failing: str | None = None
        self._held = 0
        self._dirty_while_held = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(AUTOSAVE_MS)
        self._timer.timeout.connect(self.flush)
        self._backup_timer = QTimer(self)
        self._backup_timer.setInterval(BACKUP_EVERY_MS)
        self._backup_timer.timeout.connect(self.backup)
        self._backup_timer.start()

    @classmethod
    def open(cls, path: Path | str, parent: QObject | None = None) -> ProjectSession:
        project_file = ProjectFile.open(path)
        try:
            project = project_file.load()
        except BaseException:
            project_file.close()
            raise
        return cls(project_file, project, parent)

    @classmethod
    def create(
        cls, path: Path | str, meta: BookMeta, parent: QObject | None = None
    ) -> ProjectSession:
        project_file = ProjectFile.create(path, meta, overwrite=True)
        return cls(project_file, Project(meta), parent)

    @property
    def path(self) -> Path:
        return self.file.path

    def hold_writes(self) -> None:
        """Keep changes in memory until ``release_writes``: an export's worker is reading the
        file as the last flush left it, and compares it with what was on screen then."""
        self._held += 1
        if self._timer.isActive():
            self._timer.stop()
            self._dirty_while_held = True

    def release_writes(self) -> None:
        if self._held == 0:
            return
        self._held -= 1
        if self._held == 0 and self._dirty_while_held:
            self._dirty_while_held = False
            self.mark_dirty()

    def mark_dirty(self) -> None:
        """Called on every change: schedule a write unless one is already scheduled."""
        if self._held:
            self._dirty_while_held = True
            return
        if not self._timer.isActive():
            self._timer.start(RETRY_MS if self.failing else AUTOSAVE_MS)

    def flush(self) -> bool:
        """Write pending changes now; return whether everything is safely on disk."""
        self._timer.stop()
        try:
            self.file.flush(self.project)
        except ProjectFileError as exc:
            message = str(exc)
            logger.warning("Autosave failed: %s", message)
            if self.failing != message:
                self.failing = message
                self.save_failed.emit(message)
            self._timer.start(RETRY_MS)
            return False
        if self.failing:
            self.failing = None
            self.save_recovered.emit()
        self.saved.emit()
        return True

    def backup(self) -> Path | None:
        if self._held:  # an export is reading the file; the next backup comes in ten minutes
            return None
        if not self.flush():
            return None
        try:
            return self.file.backup_rolling()
        except (OSError, ProjectFileError) as exc:
            logger.warning("Backup failed: %s", exc)
            return None

    def save_copy(self, target: Path | str) -> Path:
        self.flush()
        return self.file.backup_to(target)

    def close(self) -> bool:
        """Write everything and close; return False (and stay open) if it cannot be written."""
        if not self.flush():
            return False
        self._timer.stop()
        self._backup_timer.stop()
        try:
            self.file.close(self.project)
        except LogLeftBeside as exc:
            # Everything is written (in the log beside the file); the next open folds it in.
            logger.warning("%s", exc)
        except ProjectFileError as exc:
            self.save_failed.emit(str(exc))
            return False
        return True

    def abandon(self) -> None:
        """Close without writing (the author chose to discard unsaved work)."""
        self._timer.stop()
        self._backup_timer.stop()
        self.file.close()
