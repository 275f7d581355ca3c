"""The ``.coauthor`` project file: a SQLite database with the book, its history and its records."""

from __future__ import annotations

from coauthor.store.errors import ProjectFileError
from coauthor.store.projectfile import ProjectFile, check_file
from coauthor.store.schema import APPLICATION_ID, SCHEMA_VERSION

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "ProjectFile", "ProjectFileError", "check_file"]
