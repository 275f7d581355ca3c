"""A book's own word list for spell checking, kept in its project file beside the chain.

The words (characters' names, invented places, the book's jargon) belong to the book: they go
with it when it is copied, backed up or sent to an editor, which a setting on the author's
computer would not. They are not in the hash chain: they change neither the text nor who wrote
it, and the chain records authorship, so a word added there would be an event that every
verification replays and every report must explain without telling anything about the text.
They sit in the ``meta`` table under their own key, written in a transaction of their own.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from coauthor.store.errors import ProjectFileError
from coauthor.store.projectfile import ProjectFile

__all__ = ["BOOK_WORDS_KEY", "read_book_words", "write_book_words"]

BOOK_WORDS_KEY = "spelling-words"


def read_book_words(project_file: ProjectFile) -> set[str]:
    """The book's word list (empty if it has none, or the entry is unreadable)."""
    try:
        row = project_file.conn.execute(
            "SELECT value FROM meta WHERE key = ?", (BOOK_WORDS_KEY,)
        ).fetchone()
    except sqlite3.Error:
        return set()
    if row is None:
        return set()
    try:
        value = json.loads(row[0])
    except (TypeError, ValueError):
        return set()
    return {str(w) for w in value} if isinstance(value, list) else set()


def write_book_words(project_file: ProjectFile, words: Iterable[str]) -> None:
    """Store the book's word list; a sentence for the author if the file cannot take it."""
    if project_file.readonly:
        raise ProjectFileError(
            f"{project_file.path.name} is open read-only: the word is ignored until it is closed."
        )
    value = json.dumps(sorted(set(words)), ensure_ascii=False)
    conn = project_file.conn
    try:
        with conn:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (BOOK_WORDS_KEY, value)
            )
    except sqlite3.Error as exc:
        raise ProjectFileError(
            f"The book's word list could not be saved in {project_file.path.name} ({exc})."
        ) from exc
