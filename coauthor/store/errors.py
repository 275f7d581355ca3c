"""The one error the store raises: a sentence an author can act on."""

from __future__ import annotations


class ProjectFileError(Exception):
    """A project file cannot be opened, read or written; ``str(error)`` is one clear sentence."""
