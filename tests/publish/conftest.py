"""Fixtures for the publishing tests: the sample book and Pride and Prejudice, ready to export.

Both are built through the real API: the sample is replayed from its script into a project
file and loaded back (its pending generation approved, as an author would before exporting);
Pride and Prejudice is imported from ``data/`` as 61 chapters.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coauthor.app.sample import build_sample
from coauthor.core.book import BookMeta
from coauthor.core.generation import ReviewState
from coauthor.core.project import Project
from coauthor.importers import apply, parse_source
from coauthor.publish.document import BookDocument, prepare_export
from coauthor.store import ProjectFile

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def publish_data_dir() -> Path:
    return REPO / "data"


def _load_sample(path: Path) -> Project:
    build_sample(path)
    project_file = ProjectFile.open(path)
    try:
        project = project_file.load()
    finally:
        project_file.close()
    for generation in project.generations.values():
        if generation.review_state is ReviewState.PENDING:
            project.review(generation.id, ReviewState.APPROVED, project.meta.author, shown_ms=1000)
    return project


@pytest.fixture
def sample_project(tmp_path: Path) -> Project:
    """The sample book, every generation reviewed: a fresh project each test may change."""
    return _load_sample(tmp_path / "sample.coauthor")


@pytest.fixture(scope="session")
def sample_document(tmp_path_factory: pytest.TempPathFactory) -> BookDocument:
    """The sample book through the gate (shared: do not change it)."""
    return prepare_export(_load_sample(tmp_path_factory.mktemp("sample") / "sample.coauthor"))


@pytest.fixture(scope="session")
def pride_project(publish_data_dir: Path) -> Project:
    """Pride and Prejudice imported as 61 chapters (shared: do not change it), read as
    Markdown: Project Gutenberg's ``_italics_`` are CommonMark emphasis."""
    project = Project(BookMeta(title="Pride and Prejudice", author="Jane Austen"))
    apply(project, parse_source(publish_data_dir / "pride_and_prejudice.txt"), markup="markdown")
    assert len(project.chapters) == 61
    return project


@pytest.fixture(scope="session")
def pride_document(pride_project: Project) -> BookDocument:
    return prepare_export(pride_project)
