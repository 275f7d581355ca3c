"""The one error the store raises: a sentence an author can act on."""

from __future__ import annotations


class ProjectFileError(Exception):
    """A project file cannot be opened, read or written; ``str(error)`` is one clear sentence."""


class LogLeftBeside(ProjectFileError):
    """The project was closed with every change written, but in its ``-wal`` file: the project
    file alone is not the whole project until it is opened again (or the log is kept beside it).
    """
