"""The status bar and the foreword give the same figures, in the same unit (issue 9, section 4)."""

from __future__ import annotations

import re

from coauthor.core.generation import Generation
from coauthor.core.origin import Origin
from coauthor.core.roles import generation_counts, in_scope, surviving_chars
from coauthor.publish.foreword import render_foreword
from coauthor.publish.roles import measure_roles
from coauthor.ui.mainwindow import MainWindow

LABELS = {
    "you": Origin.HUMAN,
    "AI": Origin.AI,
    "pasted": Origin.PASTED,
    "imported": Origin.IMPORTED,
}


def _shares(status: str) -> dict[Origin, int]:
    assert "of the characters: " in status, status
    return {
        LABELS[label]: int(n) for label, n in re.findall(r"(you|AI|pasted|imported) (\d+)%", status)
    }


def test_the_status_bar_shows_the_forewords_shares_of_the_characters(window: MainWindow) -> None:
    project = window.project
    assert project is not None
    window.update_status()
    roles = measure_roles(project.chapters, project.generations)
    book = _shares(window.book_status.text())
    assert book == {origin: roles.percent(origin) for origin in Origin if roles.chars[origin]}
    assert sum(book.values()) == 100
    foreword = render_foreword(project.meta, roles)
    assert f"Of the characters of the final text, {book[Origin.AI]}% were first drafted" in foreword
    assert f"{book[Origin.HUMAN]}% were typed by the author directly" in foreword

    chapter = window.chapter
    assert chapter is not None
    chapter_roles = measure_roles([chapter], project.generations)
    assert _shares(window.chapter_status.text()) == {
        origin: chapter_roles.percent(origin) for origin in Origin if chapter_roles.chars[origin]
    }


def test_the_status_bar_counts_pending_passages_as_the_report_does(window: MainWindow) -> None:
    project = window.project
    assert project is not None
    # Asked for and only previewed: it waits for nobody.
    gid = project.new_generation_id()
    project.add_generation(
        Generation(gid, "embedded", "m", output="x", chapter_id=project.chapters[0].id)
    )
    window.update_status()
    surviving = surviving_chars(project.chapters)
    counts = generation_counts(
        in_scope(project.chapters, project.generations, surviving), surviving
    )
    assert counts.pending == 1
    assert counts.never_inserted == 1
    assert window.pending_status.text() == "⚠ 1 passage pending review"
    assert measure_roles(project.chapters, project.generations).pending == 1


def test_model_text_without_a_recorded_generation_is_counted_pending(window: MainWindow) -> None:
    chapter = window.chapter
    assert chapter is not None
    chapter.text.insert(0, "Unrecorded. ", Origin.AI, "g99")  # as a damaged file might hold
    window.update_status()
    assert window.pending_status.text() == "⚠ 2 passages pending review"
    chapter.text.delete(0, len("Unrecorded. "))
