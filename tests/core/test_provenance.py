"""Examples of what an author relies on: every character keeps the origin it was written with."""

from __future__ import annotations

import pytest

from coauthor.core import Fragment, Origin, ProvenanceText

HUMAN, AI, PASTED, IMPORTED = Origin.HUMAN, Origin.AI, Origin.PASTED, Origin.IMPORTED


def build(*pieces: tuple[str, Origin, str | None]) -> ProvenanceText:
    """A text made of pieces ``(text, origin, ref)``, as if loaded from disk."""
    text = "".join(piece for piece, _, _ in pieces)
    return ProvenanceText.from_runs(text, [(len(piece), o, r) for piece, o, r in pieces])


# -- origins ---------------------------------------------------------------------------------


def test_origin_from_its_value_is_the_member_itself() -> None:
    assert Origin("ai") is Origin.AI
    for origin in Origin:
        assert Origin(origin.value) is origin
        assert Origin.from_code(origin.code) is origin


def test_origin_values_are_lowercase_strings() -> None:
    assert [o.value for o in Origin] == ["human", "ai", "pasted", "imported"]
    for origin in Origin:
        assert isinstance(origin, str)
        assert origin == origin.value == origin.value.lower()
        assert str(origin) == f"{origin}" == origin.value


def test_unknown_origin_is_refused() -> None:
    with pytest.raises(ValueError):
        Origin("robot")
    with pytest.raises(ValueError):
        Origin("AI")


# -- typing and deleting ---------------------------------------------------------------------


def test_typing_inside_an_ai_passage_splits_it_and_makes_the_typed_characters_human() -> None:
    t = ProvenanceText("The model wrote this.", AI, "g1")

    t.insert(10, "kindly ", HUMAN)

    assert t.text == "The model kindly wrote this."
    assert list(t.runs()) == [(10, AI, "g1"), (7, HUMAN, None), (11, AI, "g1")]
    assert t.origin_at(9) == (AI, "g1")
    assert t.origin_at(10) == (HUMAN, None)
    assert t.origin_at(16) == (HUMAN, None)
    assert t.origin_at(17) == (AI, "g1")
    assert t.counts() == {HUMAN: 7, AI: 21, PASTED: 0, IMPORTED: 0}
    t.check_invariants()


def test_keystrokes_inside_an_ai_passage_make_one_human_run() -> None:
    t = ProvenanceText("Once upon a time.", AI, "g1")
    for i, ch in enumerate("long "):
        t.insert(5 + i, ch, HUMAN)

    assert t.text == "Once long upon a time."
    assert list(t.runs()) == [(5, AI, "g1"), (5, HUMAN, None), (12, AI, "g1")]
    assert t.origin_codes() == "a" * 5 + "h" * 5 + "a" * 12


def test_deleting_across_origins_merges_equal_neighbours() -> None:
    t = build(
        ("I wrote this. ", HUMAN, None),
        ("The model wrote this. ", AI, "g1"),
        ("Me again.", HUMAN, None),
    )

    t.delete(14, len("The model wrote this. "))

    assert t.text == "I wrote this. Me again."
    assert list(t.runs()) == [(23, HUMAN, None)]
    t.check_invariants()


def test_deleting_part_of_two_passages_keeps_the_rest_of_each() -> None:
    t = build(("Hello ", HUMAN, None), ("world", AI, "g1"), ("!", HUMAN, None))

    t.delete(3, 5)  # "lo wo"

    assert t.text == "Helrld!"
    assert list(t.runs()) == [(3, HUMAN, None), (3, AI, "g1"), (1, HUMAN, None)]


def test_neighbours_from_different_generations_stay_apart() -> None:
    t = build(("first", AI, "g1"), (" and ", HUMAN, None), ("second", AI, "g2"))

    t.delete(5, 5)

    assert t.text == "firstsecond"
    assert list(t.runs()) == [(5, AI, "g1"), (6, AI, "g2")]


def test_replacing_a_selection_gives_it_the_new_origin() -> None:
    t = ProvenanceText("a draft sentence", HUMAN)

    t.replace(2, 5, "generated", AI, "g2")

    assert t.text == "a generated sentence"
    assert list(t.runs()) == [(2, HUMAN, None), (9, AI, "g2"), (9, HUMAN, None)]


def test_positions_are_code_points_even_inside_emoji_and_combining_marks() -> None:
    family = "👩\u200d👩\u200d👧"  # five code points, one grapheme
    t = ProvenanceText(f"e\u0301{family}שלום", PASTED)
    assert len(t) == 2 + 5 + 4

    t.insert(1, "X", HUMAN)  # between the e and its accent
    t.insert(5, "Y", HUMAN)  # inside the family emoji

    assert t.text == f"eX\u0301{family[:2]}Y{family[2:]}שלום"
    assert t.origin_codes() == "php" + "pph" + "ppp" + "pppp"


def test_empty_edits_change_nothing() -> None:
    t = ProvenanceText("abc", AI, "g1")
    t.insert(1, "", HUMAN)
    t.delete(1, 0)
    assert list(t.runs()) == [(3, AI, "g1")]
    assert list(ProvenanceText().runs()) == []
    assert ProvenanceText().counts() == dict.fromkeys(Origin, 0)


# -- refusals --------------------------------------------------------------------------------


def test_out_of_range_edits_are_refused_and_change_nothing() -> None:
    t = build(("abc", HUMAN, None), ("def", AI, "g1"))
    before = (t.text, list(t.runs()))

    with pytest.raises(IndexError):
        t.insert(7, "x", HUMAN)
    with pytest.raises(IndexError):
        t.insert(-1, "x", HUMAN)
    with pytest.raises(IndexError):
        t.delete(4, 3)
    with pytest.raises(ValueError):
        t.delete(0, -1)
    with pytest.raises(IndexError):
        t.origin_at(6)
    with pytest.raises(IndexError):
        t.cut(5, 2)

    assert (t.text, list(t.runs())) == before


def test_replace_with_an_unknown_origin_changes_nothing() -> None:
    # Regression: ``replace`` used to delete before the insert refused the origin.
    t = ProvenanceText("keep me", HUMAN)
    with pytest.raises(ValueError):
        t.replace(0, 4, "lost", "robot")
    assert t.text == "keep me"
    t.check_invariants()


def test_a_fragment_with_an_unknown_origin_changes_nothing() -> None:
    # Regression: ``insert_fragment`` used to insert the runs before the bad one.
    t = ProvenanceText("keep me", HUMAN)
    bad = Fragment("ab", ((1, AI, "g1"), (1, "robot", None)))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        t.insert_fragment(0, bad)
    assert t.text == "keep me"
    assert list(t.runs()) == [(7, HUMAN, None)]


def test_an_empty_range_has_no_runs() -> None:
    # Regression: ``runs_in`` used to yield a run of length 0 inside a run.
    t = ProvenanceText("abcdef", AI, "g1")
    assert list(t.runs_in(3, 3)) == []
    assert list(t.runs_in(4, 1)) == []
    assert t.slice(3, 3) == Fragment("", ())


def test_from_runs_refuses_runs_that_do_not_cover_the_text() -> None:
    with pytest.raises(ValueError):
        ProvenanceText.from_runs("abc", [(2, HUMAN, None)])
    with pytest.raises(ValueError):
        ProvenanceText.from_runs("abc", [(4, HUMAN, None)])
    with pytest.raises(ValueError):
        ProvenanceText.from_runs("abc", [(3, HUMAN, None), (0, AI, "g1")])


# -- moving with origins kept ----------------------------------------------------------------


def test_moving_a_fragment_keeps_its_origins() -> None:
    t = build(("Mine. ", HUMAN, None), ("Generated. ", AI, "g1"), ("Pasted.", PASTED, None))

    fragment = t.cut(6, 11)
    assert fragment == Fragment("Generated. ", ((11, AI, "g1"),))
    t.insert_fragment(0, fragment)

    assert t.text == "Generated. Mine. Pasted."
    assert list(t.runs()) == [(11, AI, "g1"), (6, HUMAN, None), (7, PASTED, None)]


def test_moving_a_mixed_fragment_across_a_long_document() -> None:
    t = build(
        ("h" * 5000, HUMAN, None),
        ("a" * 3000, AI, "g1"),
        ("p" * 3000, PASTED, None),
        ("i" * 5000, IMPORTED, "i1"),
    )
    counts = t.counts()

    fragment = t.cut(4000, 6000)  # 1000 human, 3000 AI, 2000 pasted
    assert fragment.runs == ((1000, HUMAN, None), (3000, AI, "g1"), (2000, PASTED, None))
    t.insert_fragment(len(t), fragment)

    assert t.counts() == counts
    assert list(t.runs()) == [
        (4000, HUMAN, None),
        (1000, PASTED, None),
        (5000, IMPORTED, "i1"),
        (1000, HUMAN, None),
        (3000, AI, "g1"),
        (2000, PASTED, None),
    ]
    assert t.text == "h" * 4000 + "p" * 1000 + "i" * 5000 + "h" * 1000 + "a" * 3000 + "p" * 2000
    t.check_invariants()


def test_copy_is_independent_and_equal() -> None:
    t = build(("abc", HUMAN, None), ("def", AI, "g1"))
    c = t.copy()
    assert c == t
    c.insert(3, "X", PASTED)
    assert c != t
    assert t.text == "abcdef"


# -- large documents -------------------------------------------------------------------------


def test_a_10_mb_single_line_insert_works_and_round_trips() -> None:
    size = 10 * 1024 * 1024
    line = ("All work and no play makes Jack a dull boy. " * (size // 44 + 1))[:size]
    assert "\n" not in line

    t = ProvenanceText()
    t.insert(0, line, PASTED)

    assert len(t) == size
    assert t.text == line
    assert list(t.runs()) == [(size, PASTED, None)]
    assert t.counts()[PASTED] == size
    t.check_invariants()

    loaded = ProvenanceText.from_runs(t.text, t.runs())
    assert loaded == t
    loaded.check_invariants()

    loaded.insert(size // 2, "typed", HUMAN)
    assert list(loaded.runs()) == [
        (size // 2, PASTED, None),
        (5, HUMAN, None),
        (size - size // 2, PASTED, None),
    ]
    assert (
        loaded.text_in(size // 2 - 2, size // 2 + 7)
        == line[size // 2 - 2 : size // 2] + "typed" + line[size // 2 : size // 2 + 2]
    )


def test_an_edit_in_the_middle_of_a_million_characters_keeps_correct_runs() -> None:
    # 100 passages of 10,000 characters: imported ones (even) and generated ones (odd).
    passages = [(f"p{k:02d} " * 2500)[:10_000] for k in range(100)]
    origin_of = [(IMPORTED, "i1") if k % 2 == 0 else (AI, "g1") for k in range(100)]
    t = build(*((p, *origin_of[k]) for k, p in enumerate(passages)))
    assert len(t) == 1_000_000
    assert t.run_count() == 100

    # The author types a word inside passage 50 (imported).
    t.insert(500_123, "Hello", HUMAN)
    runs = list(t.runs())
    assert len(runs) == 102
    assert runs[49] == (10_000, AI, "g1")
    assert runs[50:53] == [(123, IMPORTED, "i1"), (5, HUMAN, None), (9_877, IMPORTED, "i1")]
    assert runs[53] == (10_000, AI, "g1")
    assert t.origin_at(500_122) == (IMPORTED, "i1")
    assert t.origin_at(500_123) == (HUMAN, None)
    assert t.origin_at(500_128) == (IMPORTED, "i1")
    t.check_invariants()

    # Then deletes all of passage 49 (generated), over several internal chunks:
    # passages 48 and 50, both imported, become one run.
    t.delete(490_000, 10_000)
    runs = list(t.runs())
    assert len(t) == 1_000_000 + 5 - 10_000
    assert len(runs) == 100
    assert runs[47] == (10_000, AI, "g1")
    assert runs[48:51] == [(10_123, IMPORTED, "i1"), (5, HUMAN, None), (9_877, IMPORTED, "i1")]
    assert list(t.runs_in(489_990, 490_140)) == [
        (133, IMPORTED, "i1"),
        (5, HUMAN, None),
        (12, IMPORTED, "i1"),
    ]
    assert t.counts() == {HUMAN: 5, AI: 490_000, PASTED: 0, IMPORTED: 500_000}

    expected = (
        "".join(passages[:49])
        + passages[50][:123]
        + "Hello"
        + passages[50][123:]
        + "".join(passages[51:])
    )
    assert t.text == expected
    t.check_invariants()

    loaded = ProvenanceText.from_runs(t.text, t.runs())
    assert loaded == t
