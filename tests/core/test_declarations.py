"""Paste as My Own Writing in the core: a declaration in the chain, the pasted run naming it,
and a strict replay that checks the claim against the declaration."""

from __future__ import annotations

import pytest

from coauthor.core.book import BookMeta, Chapter
from coauthor.core.chain import ChainReplayer, first_difference, restore_source
from coauthor.core.declarations import (
    OWN_WRITING,
    declared_chars,
    text_sha256,
    undeclared_pasted_text,
)
from coauthor.core.history import GENESIS, EditEvent, event_hash
from coauthor.core.origin import Origin
from coauthor.core.project import Project, ProjectError

DRAFT = "My own draft, from last winter.\nSecond line."


def _project() -> tuple[Project, Chapter]:
    project = Project(
        BookMeta(title="T", author="Ann"), clock=iter(range(1000, 10**6, 500)).__next__
    )
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "Typed. ", Origin.HUMAN)
    return project, chapter


def _replay(events: list[EditEvent]) -> ChainReplayer:
    wanted = [piece for e in events for piece in (restore_source(e) or ())]
    replayer = ChainReplayer(strict=True, wanted=wanted)
    for event in events:
        replayer.feed(event)
    return replayer


def _rehashed(events: list[EditEvent]) -> list[EditEvent]:
    """The events with every hash recomputed, as a forger with this source code could."""
    prev = GENESIS
    for event in events:
        event.hash = prev = event_hash(prev, event)
    return events


def test_a_declared_paste_is_pasted_text_naming_its_declaration() -> None:
    project, chapter = _project()
    declaration = project.paste_own_writing(chapter, 7, 0, DRAFT, by="Ann")
    assert declaration.id == "d1"
    assert declaration.kind == OWN_WRITING
    assert declaration.sha256 == text_sha256(DRAFT)
    assert declaration.length == len(DRAFT)
    assert declaration.by == "Ann"
    assert chapter.text.text == "Typed. " + DRAFT
    assert list(chapter.text.runs()) == [(7, Origin.HUMAN, None), (len(DRAFT), Origin.PASTED, "d1")]
    assert chapter.process[Origin.PASTED] == len(DRAFT)
    assert declared_chars([chapter]) == len(DRAFT)
    # Pasted from elsewhere: not declared, and a run of its own.
    project.insert(chapter, len(chapter.text), " Quoted.", Origin.PASTED)
    assert declared_chars([chapter]) == len(DRAFT)
    assert project.paste_own_writing(chapter, 0, 0, "Again.").id == "d2"


def test_the_chain_replays_the_declaration_and_the_claim() -> None:
    project, chapter = _project()
    project.paste_own_writing(chapter, 7, 0, DRAFT, by="Ann")
    project.insert(chapter, 0, "Q ", Origin.PASTED)
    events = project.history.seal()
    replayer = _replay(events)
    assert replayer.issues == []
    chained = replayer.finish()
    assert first_difference(chained, project) is None
    assert chained.declarations == project.declarations
    assert chained.declarations["d1"].seq == project.declarations["d1"].seq
    assert undeclared_pasted_text(chained.chapters, chained.declarations) == []


def test_the_api_refuses_a_claim_without_its_declaration() -> None:
    project, chapter = _project()
    with pytest.raises(ProjectError, match="declaration"):
        project.insert(chapter, 0, "Not declared.", Origin.PASTED, "d1")
    declaration = project.paste_own_writing(chapter, 0, 0, "Declared.")
    # A declaration names one text: another text cannot borrow it.
    with pytest.raises(ProjectError, match="declaration"):
        project.insert(chapter, 0, "Other text.", Origin.PASTED, declaration.id)
    assert chapter.text.text == "Declared.Typed. "


def test_a_forged_claim_in_the_chain_fails_the_strict_replay() -> None:
    project, chapter = _project()
    project.insert(chapter, 7, "Pasted from a website.", Origin.PASTED)
    events = project.history.seal()
    forged = events[-1]
    assert forged.origin is Origin.PASTED
    forged.ref = "d1"  # no declaration at all
    issues = _replay(_rehashed(events)).issues
    assert issues
    assert "declaration d1, which the history does not hold" in issues[0].message


def test_a_declaration_of_other_text_does_not_back_a_paste() -> None:
    project, chapter = _project()
    project.paste_own_writing(chapter, 7, 0, "Short.")
    project.insert(chapter, 0, "Pasted from a website.", Origin.PASTED)
    events = project.history.seal()
    events[-1].ref = "d1"
    issues = _replay(_rehashed(events)).issues
    assert issues
    assert "not the text declaration d1 names" in issues[0].message


def test_undo_and_redo_put_the_declared_text_back_with_its_claim() -> None:
    project, chapter = _project()
    project.paste_own_writing(chapter, 7, 0, DRAFT)
    removed = project.delete(chapter, 7, len(DRAFT))
    source = (project.last_removal,) if project.last_removal else ()
    assert source
    project.insert_fragment(chapter, 7, removed, source=source)
    assert list(chapter.text.runs())[-1] == (len(DRAFT), Origin.PASTED, "d1")
    replayer = _replay(project.history.seal())
    assert replayer.issues == []
    assert first_difference(replayer.finish(), project) is None
