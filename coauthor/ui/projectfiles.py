"""The open project's files: a copy saved elsewhere, a backup now, files imported into it.

Opening, creating and closing projects stay with the main window (they swap what it shows);
this controller works on the session the workspace holds.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from coauthor.app.projects import import_into, parse_sources
from coauthor.importers import ImportFailed
from coauthor.store import ProjectFileError
from coauthor.ui.workspace import Workspace

__all__ = ["ProjectFiles"]


class ProjectFiles(QObject):
    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.workspace = workspace

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
            "Text, Markdown and CoAuthor logs (*.md *.markdown *.txt *.jsonl *.jsonl.gz);;All files (*)",
        )
        if paths:
            self.import_paths([Path(p) for p in paths])

    def import_paths(self, paths: list[Path], *, own_writing: bool = False) -> bool:
        """Import the files as new chapters (after a backup); the first of them is shown."""
        session = self.workspace.session
        if session is None:
            return False
        try:
            parsed = parse_sources(paths)
            # The backup before an import (``app.projects.import_into``) holds what is open.
            if not session.flush():
                raise ProjectFileError(
                    f"{session.failing}; nothing was imported until the work is saved"
                )
            summaries = import_into(session.file, session.project, parsed, own_writing=own_writing)
        except (ImportFailed, ProjectFileError, OSError) as exc:
            self.workspace.show_error("Cannot import", str(exc))
            return False
        session.flush()
        first = next((s.chapters[0] for s in summaries if s.chapters), None)
        self.workspace.chapters_imported.emit(first)
        return True
