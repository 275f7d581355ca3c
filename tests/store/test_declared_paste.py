"""Paste as My Own Writing in a project file: the declaration survives a save and a load, and a
claim the chain does not back (a forged ref in the stored runs, or in a rehashed chain) is named
by ``verify`` and refused by ``export``, as every other mismatch with the chain is."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from forge import rewrite_chain

from coauthor.core.book import BookMeta
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.store import ProjectFile
from coauthor.store.verify import verify

DRAFT = "My earlier draft, which I wrote by hand."


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "declared.coauthor"
    meta = BookMeta(title="Declared", author="Ann")
    project_file = ProjectFile.create(path, meta)
    project = Project(meta)
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "I typed this. ", Origin.HUMAN)
    project.paste_own_writing(chapter, len(chapter.text), 0, DRAFT, by="Ann")
    project.insert(chapter, len(chapter.text), " A quotation from a website.", Origin.PASTED)
    project_file.close(project)
    return path


def _fails(result, *words: str) -> str:
    stderr = result.stderr.decode()
    assert result.returncode == 1, (result.stdout, stderr)
    assert "Traceback" not in stderr
    for word in words:
        assert word in stderr, stderr
    return stderr


def _export_refused(cli, path: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    _fails(cli("export", path, "--format", "report", "--out", out), "does not check out", "verify")
    assert not out.exists()


def test_the_declaration_is_loaded_from_the_chain_and_verifies(book: Path) -> None:
    project_file = ProjectFile.open(book, readonly=True)
    try:
        result = verify(project_file)
        project = project_file.load()
    finally:
        project_file.close()
    assert result.ok, result.message
    declaration = project.declarations["d1"]
    assert (declaration.length, declaration.by) == (len(DRAFT), "Ann")
    runs = list(project.chapters[0].text.runs())
    assert (len(DRAFT), Origin.PASTED, "d1") in runs
    assert runs[-1][1:] == (Origin.PASTED, None)
    assert result.project is not None
    assert result.project.declarations == project.declarations


def test_a_ref_forged_into_the_stored_runs_is_caught(book: Path, cli, tmp_path: Path) -> None:
    conn = sqlite3.connect(book)
    try:
        (runs,) = conn.execute("SELECT runs FROM chapters").fetchone()
        assert '"p",null' in runs.replace(" ", "")
        conn.execute(
            "UPDATE chapters SET runs = ?", (runs.replace(" ", "").replace('"p",null', '"p","d1"'),)
        )
        conn.commit()
    finally:
        conn.close()
    _fails(cli("verify", book), "stored origins differ")
    _export_refused(cli, book, tmp_path)


def test_a_ref_forged_into_a_rehashed_chain_is_named(book: Path, cli, tmp_path: Path) -> None:
    def claim(event) -> None:
        if event.origin is Origin.PASTED and event.ref is None and event.inserted:
            event.ref = "d9"

    rewrite_chain(book, claim)
    _fails(cli("verify", book), "declaration d9, which the history does not hold")
    _export_refused(cli, book, tmp_path)


def test_a_declaration_cannot_back_other_text(book: Path, cli, tmp_path: Path) -> None:
    def borrow(event) -> None:
        if event.origin is Origin.PASTED and event.ref is None and event.inserted:
            event.ref = "d1"  # the declaration of another text

    rewrite_chain(book, borrow)
    _fails(cli("verify", book), "not the text declaration d1 names")
    _export_refused(cli, book, tmp_path)
