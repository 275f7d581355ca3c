"""The one UTF-16 <-> code point path (Qt positions), against Python's own UTF-16 encoder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coauthor.core import Origin, ProvenanceText

PIECES = [
    "a",
    " ",
    "\n",
    "é",
    "e\u0301",
    "😀",
    "👩\u200d👩\u200d👧",
    "🇫🇷",
    "漢",
    "שלום",
    "مرحبا",
    "𝔘",
]


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@given(st.lists(st.sampled_from(PIECES), max_size=400), st.sampled_from([1, 7, 5000]))
def test_every_position_round_trips(pieces: list[str], split: int) -> None:
    text = "".join(pieces)
    provenance = ProvenanceText()
    # Several inserts (and chunks, for long texts) with mixed origins.
    for start in range(0, len(text), split):
        provenance.insert(start, text[start : start + split], Origin.HUMAN)
    assert provenance.utf16_length() == units(text)
    for pos in range(len(text) + 1):
        unit = provenance.to_utf16(pos)
        assert unit == units(text[:pos])
        assert provenance.from_utf16(unit) == pos


def test_an_offset_inside_a_surrogate_pair_maps_to_the_start_of_its_character() -> None:
    provenance = ProvenanceText("a😀b", Origin.HUMAN)
    assert [provenance.from_utf16(u) for u in range(5)] == [0, 1, 1, 2, 3]


def test_deleting_astral_characters_keeps_the_count_right() -> None:
    provenance = ProvenanceText("😀x😀y", Origin.AI, "g1")
    provenance.delete(0, 2)
    assert provenance.utf16_length() == units("😀y")
    assert provenance.to_utf16(1) == 2


def test_positions_outside_the_text_are_refused() -> None:
    provenance = ProvenanceText("ab😀", Origin.HUMAN)
    with pytest.raises(IndexError):
        provenance.to_utf16(4)
    with pytest.raises(IndexError):
        provenance.from_utf16(5)
