"""The figures every view shares: one model identity, one set of counts, shares that add to 100.

These are the facts a reader of the foreword, the report, the status bar or ``coauthor stats``
compares with each other; each test states one of them as the user would notice it failing.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coauthor.core.book import Chapter
from coauthor.core.generation import Generation, Outcome, ReviewState
from coauthor.core.models import UNNAMED_MODEL, model_identity, models_used
from coauthor.core.origin import Origin
from coauthor.core.policy import pending_passages
from coauthor.core.provenance import ProvenanceText
from coauthor.core.roles import (
    GenerationCounts,
    GenerationStatus,
    book_stats,
    generation_counts,
    generation_status,
    percent,
    shares,
    surviving_chars,
)

# -- one model identity ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recorded", "identity"),
    [
        ("SmolLM2-135M-Instruct (Q4_1)", "SmolLM2-135M-Instruct"),
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct"),
        ("/home/ada/models/SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct"),
        ("C:\\models\\SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct"),
        ("  SmolLM2-135M-Instruct [Q4_1] ", "SmolLM2-135M-Instruct"),
        ("Meta-Llama-3-8B-Instruct.Q5_K_M.gguf", "Meta-Llama-3-8B-Instruct"),
        ("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "Llama-3.2-1B-Instruct"),
        ("qwen2.5:7b-instruct-q4_K_M", "qwen2.5:7b-instruct"),
        ("llama3.2:latest", "llama3.2"),
        ("phi-3-mini-f16.gguf", "phi-3-mini"),
        ("meta-llama/Llama-3.1-8B-Instruct", "Llama-3.1-8B-Instruct"),
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("Mistral-7B-Instruct-v0.3", "Mistral-7B-Instruct-v0.3"),
        ("", UNNAMED_MODEL),
        ("   ", UNNAMED_MODEL),
    ],
)
def test_a_model_has_one_identity_whatever_string_recorded_it(recorded: str, identity: str) -> None:
    assert model_identity(recorded, "embedded") == identity
    assert model_identity(identity) == identity  # an identity is its own identity


def test_the_same_model_recorded_two_ways_is_used_once() -> None:
    generations = [
        Generation("g1", "embedded", "SmolLM2-135M-Instruct (Q4_1)"),
        Generation("g2", "embedded", "SmolLM2-135M-Instruct.Q4_1.gguf"),
        Generation("g3", "openai", "gpt-4o-mini"),
    ]
    assert models_used(generations) == [
        ("SmolLM2-135M-Instruct", "embedded"),
        ("gpt-4o-mini", "openai"),
    ]


# -- shares that add to 100 ------------------------------------------------------------------


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8))
def test_shares_add_up_to_100_and_stay_within_one_point(counts: list[int]) -> None:
    result = shares(dict(enumerate(counts)))
    total = sum(counts)
    if not total:
        assert set(result.values()) == {0}
        return
    assert sum(result.values()) == 100
    for key, count in enumerate(counts):
        exact = Fraction(100 * count, total)
        assert abs(result[key] - exact) < 1
        if count == total:
            assert result[key] == 100
        elif count:
            assert result[key] < 100  # a part is never all of it


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=10**9))
def test_one_part_never_reads_0_or_100_when_it_is_neither(part: int, rest: int) -> None:
    value = percent(part, part + rest)
    assert 0 <= value < 100
    assert (value == 0) == (part == 0)
    assert abs(value - Fraction(100 * part, part + rest)) < 1


def test_rounding_each_share_alone_would_add_to_101_but_shares_do_not() -> None:
    counts = {"human": 155, "ai": 155, "pasted": 690}
    assert sum(round(100 * n / 1000 + 0.0001) for n in counts.values()) == 101
    assert shares(counts) == {"human": 16, "ai": 15, "pasted": 69}
    assert sum(shares({"a": 1, "b": 1, "c": 1}).values()) == 100


def test_a_tiny_share_is_not_rounded_away_when_a_point_is_left_for_it() -> None:
    assert shares({"human": 9_970, "ai": 30}) == {"human": 99, "ai": 1}
    assert shares({"human": 9_950, "ai": 25, "pasted": 25}) in (
        {"human": 99, "ai": 1, "pasted": 0},
        {"human": 99, "ai": 0, "pasted": 1},
    )


# -- every count defined once ----------------------------------------------------------------


def _book() -> tuple[list[Chapter], dict[str, Generation]]:
    """A chapter with the model's text of g1 (approved) and g4 (pending); g2 was rejected
    (its text removed), g3 only previewed, g5 inserted then deleted before review, g6 failed."""
    text = ProvenanceText.from_runs(
        "Typed. Approved text. More typing. Pending text.",
        [
            (7, Origin.HUMAN, None),
            (15, Origin.AI, "g1"),
            (13, Origin.HUMAN, None),
            (13, Origin.AI, "g4"),
        ],
    )
    chapter = Chapter(1, "One", text)

    def generation(gid: str, state: ReviewState, inserted: bool, **kw: object) -> Generation:
        return Generation(
            gid, "embedded", "SmolLM2-135M-Instruct.Q4_1.gguf", output="x" * 20, chapter_id=1,
            review_state=state, reviewer="Ann" if state is not ReviewState.PENDING else "",
            inserted_at=1 if inserted else None, **kw,  # type: ignore[arg-type]
        )  # fmt: skip

    generations = {
        "g1": generation("g1", ReviewState.APPROVED, True),
        "g2": generation("g2", ReviewState.REJECTED, True),
        "g3": generation("g3", ReviewState.PENDING, False),
        "g4": generation("g4", ReviewState.PENDING, True),
        "g5": generation("g5", ReviewState.PENDING, True),
        "g6": generation("g6", ReviewState.PENDING, False, outcome=Outcome.FAILED),
    }
    return [chapter], generations


def test_what_became_of_each_generation() -> None:
    chapters, generations = _book()
    surviving = surviving_chars(chapters)
    assert {gid: generation_status(g, surviving[gid]) for gid, g in generations.items()} == {
        "g1": GenerationStatus.APPROVED,
        "g2": GenerationStatus.REJECTED,
        "g3": GenerationStatus.NEVER_INSERTED,
        "g4": GenerationStatus.PENDING,
        "g5": GenerationStatus.DELETED,
        "g6": GenerationStatus.NEVER_INSERTED,
    }
    assert str(GenerationStatus.NEVER_INSERTED) == "never inserted"


def test_counts_a_rejected_or_never_inserted_generation_is_no_passage() -> None:
    chapters, generations = _book()
    counts = generation_counts(generations.values(), surviving_chars(chapters))
    assert counts == GenerationCounts(
        requested=6,
        never_inserted=2,
        inserted=4,
        approved=1,
        rejected=1,
        pending=1,
        deleted=1,
        passages=2,
    )
    assert counts.requested == counts.never_inserted + counts.inserted
    assert counts.inserted == counts.approved + counts.rejected + counts.pending + counts.deleted


def test_a_generation_with_text_in_the_book_counts_as_inserted_without_its_time() -> None:
    text = ProvenanceText.from_runs("abc", [(3, Origin.AI, "g1")])
    old = Generation("g1", "embedded", "m")  # a record from before inserted_at was kept
    assert generation_status(old, 3) is GenerationStatus.PENDING
    assert generation_counts([old], surviving_chars([Chapter(1, "c", text)])).passages == 1


def test_model_text_the_record_does_not_hold_awaits_review_as_the_gate_says() -> None:
    chapters, generations = _book()
    chapters[0].text.insert(0, "Orphan. ", Origin.AI, "g99")
    chapters[0].text.insert(0, "No id. ", Origin.AI, None)
    counts = generation_counts(generations.values(), surviving_chars(chapters))
    assert (counts.pending, counts.unrecorded, counts.awaiting_review) == (1, 2, 3)
    assert counts.passages == 4
    gate = {ref for *_, ref in pending_passages(chapters, generations)}
    assert len(gate) == counts.awaiting_review


def test_stats_use_the_same_counts_and_shares() -> None:
    chapters, generations = _book()
    stats = book_stats(chapters, generations)
    book = stats["book"]
    counts = generation_counts(generations.values(), surviving_chars(chapters))
    assert book["generations"] == counts.as_dict()  # type: ignore[index]
    assert stats["chapters"][0]["generations"] == counts.as_dict()  # type: ignore[index]
    assert sum(book["shares"].values()) == 100  # type: ignore[index, union-attr]
    assert book["shares"] == shares(book["chars"])  # type: ignore[index, arg-type]
    assert sum(book["word_shares"].values()) == 100  # type: ignore[index, union-attr]
    assert book["models"] == ["SmolLM2-135M-Instruct"]  # type: ignore[index]


# -- Copy for Sharing names only who approved what is copied --------------------------------
