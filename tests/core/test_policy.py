"""The review gate: nothing pending review or flagged may leave Coauthor, whatever the scope."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from coauthor.core.book import Chapter
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.policy import (
    Flag,
    GateResult,
    Scope,
    check_gate,
    generation_ranges,
    pending_passages,
)
from coauthor.core.project import Project

OPENING = "The author wrote this opening. "
MODEL_TEXT = "The model wrote this sentence about the harbour."
CLOSING = " Then the author again."
LONG_MODEL_TEXT = (
    "Waves broke over the breakwater all night, and by morning the lighthouse keeper had "
    "counted every one of them."
)
CHAPTER_TWO = "Chapter two is written by hand. "


class Book:
    """Two chapters: chapter 1 holds a pending generation between human text; chapter 2 is
    human text followed by a long pending generation."""

    def __init__(self) -> None:
        self.project = Project(clock=lambda: 1_700_000_000_000)
        self.one = self.project.add_chapter("Harbour")
        self.two = self.project.add_chapter("Lighthouse")
        self.three = self.project.add_chapter("Epilogue")
        self.g1 = self.generation(self.one, "SmolLM2")
        self.g2 = self.generation(self.two, "gpt-4o-mini")
        self.project.insert(self.one, 0, OPENING, Origin.HUMAN)
        self.project.insert(self.one, len(OPENING), MODEL_TEXT, Origin.AI, self.g1.id)
        self.project.insert(self.one, len(self.one.text), CLOSING, Origin.HUMAN)
        self.project.insert(self.two, 0, CHAPTER_TWO, Origin.HUMAN)
        self.project.insert(self.two, len(CHAPTER_TWO), LONG_MODEL_TEXT, Origin.AI, self.g2.id)
        self.project.insert(self.three, 0, "The end, all human.", Origin.HUMAN)

    def generation(self, chapter: Chapter, model: str) -> Generation:
        project = self.project
        return project.add_generation(
            Generation(
                project.new_generation_id(),
                "embedded",
                model,
                {"mode": "continue", "temperature": 0.7, "max_tokens": 200},
                [{"role": "user", "content": "Continue."}],
                "",
                chapter_id=chapter.id,
            )
        )

    def gate(self, scope: Scope | None = None, flags: tuple[Flag, ...] = ()) -> GateResult:
        return check_gate(self.project.chapters, self.project.generations, scope, flags)

    def approve(self, generation: Generation) -> None:
        self.project.review(generation.id, ReviewState.APPROVED, "Ann Author", shown_ms=1000)


ONE_START = len(OPENING)
ONE_END = ONE_START + len(MODEL_TEXT)
TWO_START = len(CHAPTER_TWO)
TWO_END = TWO_START + len(LONG_MODEL_TEXT)


def test_pending_text_anywhere_blocks_the_book() -> None:
    book = Book()
    result = book.gate(Scope.book())
    assert not result.allowed
    assert [(p.chapter_number, p.start, p.end, p.reason) for p in result.passages] == [
        (1, ONE_START, ONE_END, "pending"),
        (2, TWO_START, TWO_END, "pending"),
    ]
    assert book.gate().passages == result.passages  # no scope means the book


def test_one_pending_generation_in_one_chapter_blocks_the_book() -> None:
    book = Book()
    book.approve(book.g1)
    result = book.gate(Scope.book())
    assert not result.allowed
    [passage] = result.passages
    assert passage.chapter_id == book.two.id
    assert passage.chapter_number == 2
    assert passage.chapter_title == "Lighthouse"


def test_passages_name_chapter_positions_and_an_excerpt() -> None:
    book = Book()
    first, second = book.gate().passages
    assert first.chapter_id == book.one.id
    assert first.chapter_title == "Harbour"
    assert book.one.text.text_in(first.start, first.end) == MODEL_TEXT
    assert first.excerpt == MODEL_TEXT  # short: whole
    assert book.g1.id in first.detail
    assert "SmolLM2" in first.detail
    assert "pending review" in first.detail
    assert second.excerpt == LONG_MODEL_TEXT[:60] + "…"  # long: the start, marked as cut
    assert "gpt-4o-mini" in second.detail


def test_chapter_scope() -> None:
    book = Book()
    assert book.gate(Scope.chapter(book.three.id)).allowed
    [passage] = book.gate(Scope.chapter(book.one.id)).passages
    assert passage.chapter_id == book.one.id
    [passage] = book.gate(Scope.chapter(book.two.id)).passages
    assert passage.chapter_id == book.two.id
    book.approve(book.g1)
    assert book.gate(Scope.chapter(book.one.id)).allowed


def test_selection_scope_overlapping_pending_text_blocks() -> None:
    book = Book()
    one = book.one.id
    for start, end in [
        (0, len(book.one.text)),  # all of it
        (ONE_START, ONE_END),  # exactly the passage
        (ONE_START - 5, ONE_START + 1),  # its first character
        (ONE_END - 1, ONE_END + 5),  # its last character
        (ONE_START + 3, ONE_START + 8),  # inside it
    ]:
        result = book.gate(Scope.selection(one, start, end))
        assert not result.allowed, (start, end)
        [passage] = result.passages
        assert (passage.start, passage.end) == (ONE_START, ONE_END)


def test_selection_scope_not_overlapping_passes() -> None:
    book = Book()
    one = book.one.id
    for start, end in [
        (0, ONE_START),  # the opening, up to the passage
        (ONE_END, len(book.one.text)),  # the closing, from just after it
        (0, 5),
    ]:
        assert book.gate(Scope.selection(one, start, end)).allowed, (start, end)
    # The same positions in another chapter hold nothing pending.
    assert book.gate(Scope.selection(book.three.id, 0, 10)).allowed


def test_after_approval_the_gate_passes() -> None:
    book = Book()
    book.approve(book.g1)
    book.approve(book.g2)
    result = book.gate(Scope.book())
    assert result.allowed
    assert result.passages == []
    assert result.message() == "Nothing in this scope is pending review or flagged."
    assert book.g1.reviewer == "Ann Author"
    assert book.g1.review_state is ReviewState.APPROVED


def test_text_typed_inside_a_pending_passage_splits_it() -> None:
    book = Book()
    book.project.insert(book.one, ONE_START + 9, "[typed]", Origin.HUMAN)
    result = book.gate(Scope.chapter(book.one.id))
    assert [(p.start, p.end) for p in result.passages] == [
        (ONE_START, ONE_START + 9),
        (ONE_START + 16, ONE_END + 7),
    ]
    # A selection of just the typed words passes.
    typed = Scope.selection(book.one.id, ONE_START + 9, ONE_START + 16)
    assert book.gate(typed).allowed


def test_a_generation_inserted_in_two_steps_is_one_passage() -> None:
    book = Book()
    book.project.insert(book.one, ONE_END, " More of it.", Origin.AI, book.g1.id)
    [passage] = book.gate(Scope.chapter(book.one.id)).passages
    assert (passage.start, passage.end) == (ONE_START, ONE_END + len(" More of it."))
    assert generation_ranges(book.one, book.g1.id) == [(passage.start, passage.end)]


def test_deleted_pending_text_no_longer_blocks() -> None:
    book = Book()
    book.project.delete(book.one, ONE_START, len(MODEL_TEXT))
    assert book.gate(Scope.chapter(book.one.id)).allowed


def test_pending_passages_lists_each_stretch() -> None:
    book = Book()
    found = pending_passages(book.project.chapters, book.project.generations)
    assert [(n, chapter.id, s, e, ref) for n, chapter, s, e, ref in found] == [
        (1, book.one.id, ONE_START, ONE_END, book.g1.id),
        (2, book.two.id, TWO_START, TWO_END, book.g2.id),
    ]


def test_a_flag_without_override_blocks_and_with_override_passes() -> None:
    book = Book()
    book.approve(book.g1)
    book.approve(book.g2)
    flag = Flag(book.three.id, 4, 7, ("violence", "self-harm"))
    result = book.gate(Scope.book(), (flag,))
    assert not result.allowed
    [passage] = result.passages
    assert passage.reason == "flagged"
    assert (passage.chapter_number, passage.start, passage.end) == (3, 4, 7)
    assert "violence, self-harm" in passage.detail
    assert passage.excerpt == "end"
    assert not book.gate(Scope.chapter(book.three.id), (flag,)).allowed
    assert not book.gate(Scope.selection(book.three.id, 0, 5), (flag,)).allowed
    # Elsewhere, the flag is not in the way.
    assert book.gate(Scope.chapter(book.one.id), (flag,)).allowed
    assert book.gate(Scope.selection(book.three.id, 7, 12), (flag,)).allowed
    overridden = Flag(book.three.id, 4, 7, ("violence",), override="A quoted news report.")
    assert book.gate(Scope.book(), (overridden,)).allowed


def test_a_flag_for_a_chapter_not_in_the_book_is_ignored() -> None:
    book = Book()
    book.approve(book.g1)
    book.approve(book.g2)
    assert book.gate(Scope.book(), (Flag(99, 0, 3, ("hate",)),)).allowed


def test_pending_and_flagged_passages_are_listed_in_book_order() -> None:
    book = Book()
    flags = (Flag(book.three.id, 0, 3, ("violence",)), Flag(book.one.id, 0, 3, ("hate",)))
    result = book.gate(Scope.book(), flags)
    assert [(p.chapter_number, p.start, p.reason) for p in result.passages] == [
        (1, 0, "flagged"),
        (1, ONE_START, "pending"),
        (2, TWO_START, "pending"),
        (3, 0, "flagged"),
    ]


def test_message_lists_each_passage_line() -> None:
    book = Book()
    flag = Flag(book.three.id, 4, 7, ("violence",))
    result = book.gate(Scope.book(), (flag,))
    message = result.message()
    lines = message.splitlines()
    assert lines[0] == "3 passages must be reviewed before this can leave Coauthor:"
    assert lines[1:] == [p.line() for p in result.passages]
    assert lines[1] == (
        f"chapter 1 (Harbour), characters {ONE_START}-{ONE_END}: generation {book.g1.id} "
        f"(SmolLM2) is pending review: “{MODEL_TEXT}”"
    )
    assert lines[3].startswith("chapter 3 (Epilogue), characters 4-7: flagged by content")
    book.approve(book.g1)
    book.approve(book.g2)
    one = book.gate(Scope.book(), (flag,)).message()
    assert one.startswith("1 passage must be reviewed")


def test_moving_a_chapter_renumbers_its_passages() -> None:
    book = Book()
    book.project.move_chapter(book.two, 0)
    first, second = book.gate().passages
    assert (first.chapter_id, first.chapter_number) == (book.two.id, 1)
    assert (second.chapter_id, second.chapter_number) == (book.one.id, 2)


# -- a property: the gate blocks exactly where pending text is ---------------------------------

_pieces = st.lists(
    st.tuples(st.sampled_from(["h", "g1", "g2", "p"]), st.text(alphabet="ab .", min_size=1)),
    min_size=1,
    max_size=12,
)


@given(_pieces, st.integers(0, 200), st.integers(0, 200), st.booleans())
def test_gate_blocks_exactly_the_selections_touching_pending_text(
    pieces: list[tuple[str, str]], a: int, b: int, approve_g2: bool
) -> None:
    project = Project(clock=lambda: 0)
    chapter = project.add_chapter("Only")
    for gen_id in ("g1", "g2"):
        project.add_generation(Generation(gen_id, "embedded", "m"))
    for who, text in pieces:
        origin = {"h": Origin.HUMAN, "p": Origin.PASTED}.get(who, Origin.AI)
        project.insert(chapter, len(chapter.text), text, origin, who if who[0] == "g" else None)
    if approve_g2 and project.has_text_in_book("g2"):
        project.review("g2", ReviewState.APPROVED, "Ann", shown_ms=1000)
    pending = set()
    pos = 0
    for who, text in pieces:
        if who == "g1" or (who == "g2" and not approve_g2):
            pending.update(range(pos, pos + len(text)))
        pos += len(text)

    passages = check_gate(project.chapters, project.generations).passages
    covered = {i for p in passages for i in range(p.start, p.end)}
    assert covered == pending
    assert all(p.start < p.end for p in passages)

    start, end = sorted((a % (pos + 1), b % (pos + 1)))
    if start < end:  # a selection to share is never empty
        scope = Scope.selection(chapter.id, start, end)
        blocked = not check_gate(project.chapters, project.generations, scope).allowed
        assert blocked == bool(pending & set(range(start, end)))
