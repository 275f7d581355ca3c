"""Small books the format tests share (imported by the test modules of tests/publish)."""

from __future__ import annotations

from coauthor.core.book import BookMeta
from coauthor.core.generation import Generation, Outcome, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.project import Project


def storm_book(storm: str, model: str, plain: str, *, language: str = "en-GB") -> Project:
    """A Markdown chapter ("The Storm": ``storm`` typed, then ``model`` from an approved
    generation) and a plain-text chapter ("Low Tide": ``plain``)."""
    project = Project(BookMeta(title="The Tide Clock", author="Ada Marlowe", language=language))
    chapter = project.add_chapter("The Storm")
    project.insert(chapter, 0, storm, Origin.HUMAN)
    generation = project.add_generation(
        Generation(
            project.new_generation_id(),
            "embedded",
            "tiny-model",
            {"temperature": 0.7},
            [{"role": "user", "content": "Continue."}],
            model,
            Outcome.COMPLETE,
            1,
            2,
            chapter.id,
        )
    )
    project.insert(chapter, len(storm), model, Origin.AI, generation.id)
    project.review(generation.id, ReviewState.APPROVED, "Ada", shown_ms=1000)
    low_tide = project.add_chapter("Low Tide", markup="plain")
    project.insert(low_tide, 0, plain, Origin.HUMAN)
    return project
