"""Pasted text the author declared their own writing, as the foreword, the disclosure and the
provenance report state it: apart from text pasted from elsewhere, as a declaration, and only in
a book that has some (the goldens of every other book are unchanged)."""

from __future__ import annotations

import re

from coauthor.core.book import BookMeta
from coauthor.core.generation import Generation, Outcome, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.publish.document import prepare_export
from coauthor.publish.foreword import check_foreword, foreword_facts, template_context
from coauthor.publish.report import render_report, report_context
from coauthor.publish.roles import measure_roles
from coauthor.publish.verify_export import _figures_line

T0 = 1_767_225_600_000
TYPED = "I typed these words in the editor myself. " * 5  # 210
DRAFT = "An earlier draft of mine, kept in another program. " * 4  # 204
QUOTE = "A quotation from a website. " * 3  # 84


def _book(*, with_ai: bool = False) -> Project:
    project = Project(BookMeta(title="Declared", author="Ann Author"), clock=lambda: T0)
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, TYPED, Origin.HUMAN)
    project.paste_own_writing(chapter, len(chapter.text), 0, DRAFT, by="Ann Author")
    project.insert(chapter, len(chapter.text), QUOTE, Origin.PASTED)
    if with_ai:
        output = "The model wrote this sentence. " * 2
        project.add_generation(
            Generation(
                "g1", "embedded", "SmolLM2-135M-Instruct", {}, [], output, Outcome.COMPLETE,
                T0, T0 + 1000, chapter.id,
            )
        )  # fmt: skip
        project.insert(chapter, len(chapter.text), output, Origin.AI, "g1")
        project.review("g1", ReviewState.APPROVED, "Ann Author", shown_ms=4000)
    return project


def test_the_pasted_share_is_split_and_everything_adds_up_to_100() -> None:
    roles = measure_roles(_book().chapters, {})
    assert roles.declared == len(DRAFT)
    elsewhere, declared = roles.pasted_split
    assert elsewhere + declared == roles.percents[Origin.PASTED]
    assert (roles.percents[Origin.HUMAN], elsewhere, declared) == (42, 17, 41)
    figures = template_context(BookMeta(), roles)
    assert figures["declared_percent"] == 41
    assert figures["pasted_elsewhere_percent"] == 17
    # A book without declared text has the figures it always had.
    plain = Project()
    chapter = plain.add_chapter("One")
    plain.insert(chapter, 0, "Pasted.", Origin.PASTED)
    assert "declared_percent" not in template_context(BookMeta(), measure_roles([chapter], {}))


def test_the_foreword_states_the_declared_text_apart_as_a_declaration() -> None:
    for with_ai in (False, True):
        project = _book(with_ai=with_ai)
        document = prepare_export(project)
        text = " ".join(document.foreword)
        roles = document.roles
        elsewhere, declared = roles.pasted_split
        assert f"{elsewhere}% were quoted or pasted from other sources" in text
        assert (
            f"{declared}% were pasted in by the author, who declared that text their own "
            "writing (a declaration recorded in the book's history, not a proof)"
        ) in text
        assert check_foreword(text, foreword_facts(roles)) == []
        stated = sorted(
            int(p) for p in re.findall(r"(\d+)%", text.split("Of the characters the")[0])
        )
        assert sum(stated) == 100, stated


def test_the_disclosure_and_the_verify_line_name_the_declared_share() -> None:
    document = prepare_export(_book())
    assert "41% pasted and declared by the author as their own writing" in document.disclosure
    assert "17% quoted or pasted from other sources" in document.disclosure
    line = _figures_line(template_context(document.meta, document.roles))
    assert "41% pasted and declared the author's own writing" in line
    assert "declared percent" not in line  # not mistaken for a generation count


def test_the_report_counts_declared_text_apart_and_lists_the_declaration() -> None:
    document = prepare_export(_book())
    context = report_context(document, generated_at="2026-01-01T00:00:00Z")
    rows = {row["key"]: row for row in context["origins"]}  # type: ignore[union-attr]
    assert rows["declared"]["chars"] == len(DRAFT)
    assert rows["pasted"]["chars"] == len(QUOTE)
    assert rows["declared"]["label"] == "Pasted, declared the author's own writing"
    assert rows["declared"]["words"] == len(DRAFT.split())
    assert rows["pasted"]["words"] == len(QUOTE.split())
    (declaration,) = context["declarations"]  # type: ignore[misc]
    assert declaration["id"] == "d1"
    assert declaration["surviving"] == declaration["length"] == len(DRAFT)
    page = render_report(document, generated_at="2026-01-01T00:00:00Z")
    assert 'id="declarations"' in page
    assert "it is not a proof of who wrote the text" in page
    assert "Pasted; the author declared it their own writing (d1)" in page
    assert 'fill="url(#pattern-declared)"' in page
    assert 'id="pattern-declared"' in page


def test_a_book_without_declarations_has_no_such_section() -> None:
    project = Project(BookMeta(title="Plain", author="Ann"), clock=lambda: T0)
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "Typed.", Origin.HUMAN)
    project.insert(chapter, 6, " Pasted.", Origin.PASTED)
    document = prepare_export(project)
    page = render_report(document, generated_at="2026-01-01T00:00:00Z")
    assert "declarations" not in page.lower()
    assert "declared" not in " ".join(document.foreword)
