"""The open project's files: a copy saved elsewhere, a backup now, files imported into it.

Opening, creating and closing projects stay with the main window (they swap what it shows);
this controller works on the session the workspace holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QProgressDialog

from coauthor.app.projects import import_into, parse_sources
from coauthor.importers import ImportFailed
from coauthor.store import ProjectFileError
from coauthor.ui.session import ProjectSession
from coauthor.ui.worker import Job, job_progress
from coauthor.ui.workspace import Workspace

if TYPE_CHECKING:
    from coauthor.importers import Parsed

__all__ = ["ProjectFiles"]


class ProjectFiles(QObject):
    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self.job: Job | None = None
        self.progress: QProgressDialog | None = None
        self.outcome: str | None = None
        """What the last import came to: "imported", "failed" (None: running)."""

    def save_copy(self) -> None:
        self.save_copy_dialog()

    def save_copy_dialog(self) -> bool:
        session = self.workspace.session
        if session is None:
            return False
        path, _ = QFileDialog.getSaveFileName(
            self.workspace.window,
            "Save a Copy",
            str(session.path.with_name(session.path.stem + " copy.coauthor")),
            "Coauthor projects (*.coauthor)",
        )
        if not path:
            return False
        try:
            session.save_copy(path)
        except (OSError, ProjectFileError) as exc:
            self.workspace.show_error("Cannot save a copy", str(exc))
            return False
        self.workspace.show_message(f"Saved a copy as {path}", 6000)
        return True

    def backup_now(self) -> None:
        session = self.workspace.session
        if session is None:
            return
        target = session.backup()
        if target is None:
            self.workspace.show_error(
                "Backup failed", session.failing or "The backup could not be written."
            )
        else:
            self.workspace.show_message(f"Backed up to {target}", 6000)

    def import_files(self) -> None:
        if self.workspace.session is None:
            return
        paths, _ = QFileDialog.getOpenFileNames(
            self.workspace.window,
            "Import",
            str(Path.home()),
            "Text, Markdown, Word, OpenDocument and CoAuthor logs"
            " (*.md *.markdown *.txt *.docx *.odt *.jsonl *.jsonl.gz);;All files (*)",
        )
        if paths:
            self.import_paths([Path(p) for p in paths])

    def import_paths(self, paths: list[Path], *, own_writing: bool = False) -> bool:
        """Import the files as new chapters (after a backup); the first of them is shown.

        The sources are read and split (the slow part) in a worker job, with a progress
        dialog; the chapters are added to the open project on the GUI thread once the job
        returns (the project is not thread-safe). False if the import cannot start; what it
        came to arrives later: ``outcome`` becomes "imported" or "failed"."""
        ws = self.workspace
        session = ws.session
        if session is None:
            return False
        if self.job is not None and self.job.running:
            ws.show_message("An import is still running.", 5000)
            return False
        sources = list(paths)
        self.outcome = None
        self.progress = job_progress(
            ws.window, "Reading the files to import…", len(sources), "importProgress"
        )

        def work(report: Callable[[object], None], _cancel: threading.Event) -> object:
            parsed = []
            for done, source in enumerate(sources):
                report((done, len(sources), f"Reading {source.name}…"))
                try:
                    parsed.extend(parse_sources([source]))
                except (ImportFailed, OSError) as exc:
                    return _Failed(str(exc))
            return parsed

        self.job = Job(work, self)
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(
            lambda result: self._on_parsed(session, result, own_writing=own_writing)
        )
        self.job.failed.connect(self._failed)
        self.job.start()
        return True

    def _on_progress(self, item: object) -> None:
        done, total, what = item  # type: ignore[misc]
        if self.progress is not None:
            self.progress.setMaximum(total)
            self.progress.setValue(done)
            self.progress.setLabelText(str(what))

    def _on_parsed(self, session: ProjectSession, result: object, *, own_writing: bool) -> None:
        if self.progress is not None:
            self.progress.close()
        if isinstance(result, _Failed):
            self._failed(result.message)
            return
        if self.workspace.session is not session:
            self.outcome = "failed"
            self.workspace.show_message("The project was closed; nothing was imported.", 8000)
            return
        parsed = cast("list[Parsed]", result)
        try:
            # The backup before an import (``app.projects.import_into``) holds what is open.
            if not session.flush():
                raise ProjectFileError(
                    f"{session.failing}; nothing was imported until the work is saved"
                )
            summaries = import_into(session.file, session.project, parsed, own_writing=own_writing)
        except (ImportFailed, ProjectFileError, OSError) as exc:
            self._failed(str(exc))
            return
        session.flush()
        self.outcome = "imported"
        first = next((s.chapters[0] for s in summaries if s.chapters), None)
        self.workspace.chapters_imported.emit(first)

    def _failed(self, message: str) -> None:
        if self.progress is not None:
            self.progress.close()
        self.outcome = "failed"
        self.workspace.show_error("Cannot import", message)

    def wait(self) -> None:
        """Block until the import's reading job ends (its result follows by signal)."""
        if self.job is not None:
            self.job.wait()


@dataclass(frozen=True)
class _Failed:
    """A source could not be read: shown on the GUI thread."""

    message: str
