"""The comparison of two versions of a chapter (``core.snapdiff``): every change is found with
the origins of its characters on both sides, and applying the changes to the old text and runs
gives the new ones.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from coauthor.core.origin import Origin
from coauthor.core.provenance import EMPTY_FRAGMENT, Fragment
from coauthor.core.snapdiff import ChangeKind, common_ends, describe_changes, diff_fragments

H, A, P = Origin.HUMAN, Origin.AI, Origin.PASTED


def _fragment(*pieces: tuple[str, Origin, str | None]) -> Fragment:
    result = EMPTY_FRAGMENT
    for text, origin, ref in pieces:
        result = result.join(Fragment.single(text, origin, ref))
    return result


def test_a_changed_word_is_reported_with_the_origins_on_each_side() -> None:
    old = _fragment(("The ", H, None), ("cat", A, "g1"), (" sat.\nOn the mat.\n", H, None))
    new = _fragment(("The dog sat.\nOn the mat.\n", H, None))
    [change] = diff_fragments(old, new)
    assert change.kind is ChangeKind.REPLACED
    assert (change.old_start, change.old_end, change.new_start, change.new_end) == (4, 7, 4, 7)
    assert change.old == Fragment.single("cat", A, "g1")
    assert change.new == Fragment.single("dog", H)
    assert describe_changes([change]) == [
        "@ replaced at 4-7 -> 4-7",
        '  - generated (g1): "cat"',
        '  + typed: "dog"',
    ]


def test_the_same_text_with_another_origin_is_a_change() -> None:
    old = _fragment(("Same words here.", A, "g2"))
    new = _fragment(("Same ", A, "g2"), ("words", H, None), (" here.", A, "g2"))
    [change] = diff_fragments(old, new)
    assert change.kind is ChangeKind.RELABELLED
    assert (change.old_start, change.old_end) == (5, 10)
    assert change.old == Fragment.single("words", A, "g2")
    assert change.new == Fragment.single("words", H)


def test_paragraphs_added_and_removed() -> None:
    old = _fragment(("One.\nTwo.\nThree.\n", H, None))
    new = _fragment(("One.\n", H, None), ("Inserted.\n", P, None), ("Three.\n", H, None))
    kinds = [c.kind for c in diff_fragments(old, new)]
    assert kinds == [ChangeKind.REPLACED]
    assert diff_fragments(EMPTY_FRAGMENT, new)[0].kind is ChangeKind.ADDED
    assert diff_fragments(old, EMPTY_FRAGMENT)[0].kind is ChangeKind.REMOVED
    assert diff_fragments(old, old) == []


_ORIGINS = st.sampled_from([(H, None), (A, "g1"), (A, "g2"), (P, None)])
_PIECES = st.lists(
    st.tuples(st.text(alphabet="ab \n.é😀", min_size=1, max_size=8), _ORIGINS), max_size=12
)


def _build(pieces: list[tuple[str, tuple[Origin, str | None]]]) -> Fragment:
    return _fragment(*((text, origin, ref) for text, (origin, ref) in pieces))


@settings(max_examples=200, deadline=None)
@given(_PIECES, _PIECES)
def test_applying_the_changes_to_the_old_text_gives_the_new(old_pieces, new_pieces) -> None:
    old, new = _build(old_pieces), _build(new_pieces)
    changes = diff_fragments(old, new)
    result = EMPTY_FRAGMENT
    at = 0
    for change in changes:
        assert change.old == old.sub(change.old_start, change.old_end)
        assert change.new == new.sub(change.new_start, change.new_end)
        assert change.old.text or change.new.text
        result = result.join(old.sub(at, change.old_start)).join(change.new)
        at = change.old_end
    result = result.join(old.sub(at, len(old.text)))
    assert result == new
    prefix, suffix = common_ends(old, new)
    assert prefix + suffix <= min(len(old.text), len(new.text))
    assert old.sub(0, prefix) == new.sub(0, prefix)
    assert old.sub(len(old.text) - suffix, len(old.text)) == new.sub(
        len(new.text) - suffix, len(new.text)
    )
