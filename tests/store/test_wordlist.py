"""A book's word list: kept in its project file, outside the chain, and it survives a flush,
a close, a verification and a copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from coauthor.core.book import BookMeta
from coauthor.core.project import Project
from coauthor.store import ProjectFile, ProjectFileError
from coauthor.store.verify import verify
from coauthor.store.wordlist import read_book_words, write_book_words

pytestmark = pytest.mark.core


def test_words_round_trip_and_stay_outside_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "book.coauthor"
    project_file = ProjectFile.create(path, BookMeta(title="Tide"))
    project = Project(BookMeta(title="Tide"))  # as a new book's session starts
    events = len(list(project_file.events()))
    assert read_book_words(project_file) == set()
    write_book_words(project_file, ["Maraq", "Ölfjord", "Maraq"])
    assert len(list(project_file.events())) == events  # nothing in the chain
    project_file.flush(project, snapshot=True)
    copy = project_file.backup_to(tmp_path / "copy.coauthor")
    project_file.close(project)

    reopened = ProjectFile.open(path, readonly=True)
    try:
        assert read_book_words(reopened) == {"Maraq", "Ölfjord"}
        with pytest.raises(ProjectFileError, match="read-only"):
            write_book_words(reopened, ["more"])
        assert verify(reopened).ok
    finally:
        reopened.close()
    copied = ProjectFile.open(copy, readonly=True)
    try:
        assert read_book_words(copied) == {"Maraq", "Ölfjord"}
    finally:
        copied.close()
