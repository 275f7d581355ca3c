"""The foreword states facts exactly (issue 9, section 4).

A book like the one the issue found: one model recorded under two names, a rejected generation
and one only previewed. Its foreword, its table, its report and its disclosure must name the
model once, give the same counts, give shares that add up to 100 % and say they are shares of
the characters; the foreword check must accept the generated text and a faithful rewording and
refuse a rewording with wrong figures.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coauthor.core.book import BookMeta, ImportRecord
from coauthor.core.generation import Generation, Outcome, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.core.roles import book_stats, shares
from coauthor.publish.document import BookDocument, ExportRefused, prepare_export
from coauthor.publish.foreword import check_foreword, foreword_facts
from coauthor.publish.markdown_export import roles_table
from coauthor.publish.report import render_report, report_context

MODEL = "SmolLM2-135M-Instruct"
T0 = 1_767_225_600_000


def _generate(
    project: Project, chapter_index: int, model: str, output: str, *, insert: bool = True
) -> Generation:
    chapter = project.chapters[chapter_index]
    generation = project.add_generation(
        Generation(
            project.new_generation_id(), "embedded", model, {}, [], output, Outcome.COMPLETE,
            T0, T0 + 1000, chapter.id,
        )
    )  # fmt: skip
    if insert:
        project.insert(chapter, len(chapter.text), output, Origin.AI, generation.id)
    return generation


def _decide(generation: Generation, state: ReviewState, reviewer: str = "Ada") -> None:
    generation.review_state = state
    generation.reviewer = reviewer
    generation.reviewed_at = T0 + 5000


def _issue_book() -> Project:
    """Three passages of the model that remain (one model, named two ways), one rejected and
    removed, one only previewed; typed, pasted and imported text whose shares, each rounded
    alone, would not add up to 100."""
    project = Project(BookMeta(title="The Lighthouse", author="Ada"), clock=lambda: T0)
    one = project.add_chapter("One")
    two = project.add_chapter("Two")
    project.insert(one, 0, "h" * 405, Origin.HUMAN)
    g1 = _generate(project, 0, f"{MODEL} (Q4_1)", " first passage " * 11)
    g2 = _generate(project, 0, f"{MODEL}.Q4_1.gguf", " second passage " * 10)
    rejected = _generate(project, 0, f"{MODEL}.Q4_1.gguf", " a rejected passage " * 4)
    start = one.text.text.index(" a rejected passage ")
    project.delete(one, start, len(rejected.output))  # rejecting removes the text
    _generate(project, 1, f"{MODEL}.Q4_1.gguf", "only previewed", insert=False)
    project.insert(two, 0, "t" * 81, Origin.HUMAN)
    g3 = _generate(project, 1, f"{MODEL} (Q4_1)", " third " * 5)
    project.insert(two, len(two.text), "p" * 77, Origin.PASTED)
    notes = project.add_import(ImportRecord(project.new_import_id(), "notes.md", "markdown", True))
    project.insert(two, len(two.text), "i" * 77, Origin.IMPORTED, notes.id)
    for generation in (g1, g2, g3):
        _decide(generation, ReviewState.APPROVED)
    _decide(rejected, ReviewState.REJECTED)
    return project


@pytest.fixture(scope="module")
def issue_document() -> BookDocument:
    return prepare_export(_issue_book())


def _foreword(document: BookDocument) -> str:
    return "\n\n".join(document.foreword)


def _percents(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"(\d+)%", text)]


def test_one_model_is_named_once_everywhere(issue_document: BookDocument) -> None:
    foreword = _foreword(issue_document)
    assert foreword.count(MODEL) == 1
    assert "Q4_1" not in foreword
    assert "gguf" not in foreword
    assert issue_document.roles.models == [(MODEL, "embedded")]
    assert f"language model ({MODEL})" in issue_document.disclosure
    report = render_report(issue_document, generated_at="x")
    models = report_context(issue_document, generated_at="x")["models"]
    assert [m["name"] for m in models] == [MODEL]  # type: ignore[index, union-attr]
    assert report.count(f"<dt>Model</dt><dd>{MODEL} (recorded as") == 5  # every generation


def test_the_foreword_counts_the_passages_the_table_counts(issue_document: BookDocument) -> None:
    roles = issue_document.roles
    assert (roles.passages, roles.inserted, roles.approved, roles.rejected) == (3, 4, 3, 1)
    assert roles.requested == 5
    foreword = _foreword(issue_document)
    assert "in 3 passages that remain in the book" in foreword
    assert "of the 4 drafts put into the book, the author approved 3 and rejected 1" in foreword
    _, rows, total = roles_table(issue_document)
    assert total[-1] == "3"
    assert sum(int(row[-1]) for row in rows) == 3


def test_the_shares_add_up_to_100_and_name_their_unit(issue_document: BookDocument) -> None:
    roles = issue_document.roles
    exact = {origin: 100 * n / roles.total for origin, n in roles.chars.items()}
    # Rounded one by one, these shares would add up to 101.
    assert sum(round(share) for share in exact.values()) == 101
    foreword = _foreword(issue_document)
    shares_paragraph = next(p for p in issue_document.foreword if "drafted by" in p)
    assert shares_paragraph.startswith("Of the characters of the final text, ")
    assert sum(_percents(shares_paragraph)) == 100
    assert _percents(shares_paragraph) == [
        roles.percent(Origin.AI),
        roles.percent(Origin.HUMAN),
        roles.percent(Origin.PASTED),
        roles.percent(Origin.IMPORTED),
    ]
    assert "the author changed" in foreword
    _, rows, total = roles_table(issue_document)
    for row in [*rows, total]:
        assert sum(int(cell.rstrip("%")) for cell in row[1:4]) == 100
    assert "of the characters were drafted by the model" in issue_document.disclosure


def test_the_report_gives_the_same_figures(issue_document: BookDocument) -> None:
    context = report_context(issue_document, generated_at="x")
    roles = issue_document.roles
    origins = {row["key"]: row for row in context["origins"]}  # type: ignore[union-attr, index]
    for origin in Origin:
        assert origins[origin.value]["chars_percent"] == f"{roles.percent(origin)}%"
    assert sum(int(str(r["words_percent"]).rstrip("%")) for r in origins.values()) == 100
    assert context["counts"] == roles.counts.as_dict()
    assert context["counts"]["never_inserted"] == 1  # type: ignore[index]
    stats = book_stats(_issue_book().chapters, _issue_book().generations)["book"]
    assert stats["generations"] == roles.counts.as_dict()  # type: ignore[index]
    assert stats["shares"] == {o.value: p for o, p in roles.percents.items()}  # type: ignore[index]


def test_the_report_log_says_never_inserted_not_pending(issue_document: BookDocument) -> None:
    report = render_report(issue_document, generated_at="x")
    states = re.findall(r'<dt>Review</dt><dd class="state-([\w-]+)">([^<]*)</dd>', report)
    assert ("never-inserted", "never inserted") in states
    assert not any(label.startswith("pending") for _, label in states)
    assert re.search(r"<th scope=\"row\">Pending review</th><td class=\"num\">0</td>", report)


# -- the foreword check --------------------------------------------------------------------


FAITHFUL = (
    "I wrote The Lighthouse with {model}, a small language model running on my laptop. "
    "By character count, the model drafted {ai}% of the final text, in {passages} passages, "
    "and I typed {human}% myself; {pasted}% is quoted and {imported}% imported from my notes. "
    "Of {inserted} drafts I inserted I kept {approved} and rejected {rejected}, and I changed "
    "{edited} percent of what it wrote. I take 100% responsibility for every word."
)


def _faithful(document: BookDocument, **wrong: int) -> str:
    roles = document.roles
    figures = {
        "model": MODEL,
        "ai": roles.percent(Origin.AI),
        "human": roles.percent(Origin.HUMAN),
        "pasted": roles.percent(Origin.PASTED),
        "imported": roles.percent(Origin.IMPORTED),
        "passages": roles.passages,
        "inserted": roles.inserted,
        "approved": roles.approved,
        "rejected": roles.rejected,
        "edited": roles.edited_percent,
    }
    return FAITHFUL.format(**{**figures, **wrong})


def test_the_check_accepts_the_generated_foreword_and_a_faithful_rewording(
    issue_document: BookDocument,
) -> None:
    facts = foreword_facts(issue_document.roles)
    assert check_foreword(_foreword(issue_document), facts) == []
    assert check_foreword(_faithful(issue_document), facts) == []


@pytest.mark.parametrize(
    ("wrong", "why"),
    [
        ({"ai": 0}, "does not state the model's share"),
        ("ai+1", "which is none of the measured figures"),
        ("human+1", "does not state the author's share"),
        ({"passages": 4}, "the model's text is in 3 passages"),
        ({"inserted": 9}, "none of the measured generation counts"),
        ({"model": "a language model"}, f"does not name the model {MODEL}"),
    ],
)
def test_the_check_refuses_a_rewording_with_wrong_figures(
    issue_document: BookDocument, wrong: dict[str, int] | str, why: str
) -> None:
    roles = issue_document.roles
    if wrong == "ai+1":
        wrong = {"ai": roles.percent(Origin.AI) + 1}
    elif wrong == "human+1":
        wrong = {"human": roles.percent(Origin.HUMAN) + 1}
    assert isinstance(wrong, dict)
    if wrong.get("ai") == 0:
        wrong = {"ai": roles.percent(Origin.HUMAN)}  # the author's figure given twice
    problems = check_foreword(_faithful(issue_document, **wrong), foreword_facts(roles))
    assert any(why in problem for problem in problems), problems


def test_the_check_refuses_shares_of_the_words(issue_document: BookDocument) -> None:
    text = _faithful(issue_document).replace("By character count, the model", "The model")
    text = text.replace("of the final text", "of the words")
    problems = check_foreword(text, foreword_facts(issue_document.roles))
    assert any("shares of the words" in p for p in problems), problems


def test_export_refuses_a_reworded_foreword_with_the_rejected_passage_counted(
    tmp_path: Path,
) -> None:
    project = _issue_book()
    project.meta.foreword = _faithful(prepare_export(project), passages=4)
    with pytest.raises(ExportRefused, match="the model's text is in 3 passages"):
        prepare_export(project)


def test_shares_of_the_sample_book_add_up(sample_document: BookDocument) -> None:
    roles = sample_document.roles
    assert sum(roles.percents.values()) == 100
    assert roles.percents == shares(roles.chars)
