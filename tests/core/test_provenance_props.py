"""Property tests: ``ProvenanceText`` against a naive model, one entry per code point.

The chunked structure (chunks split above 4096 code points, merged below 512, a cached cursor) is
only worth anything if no sequence of edits can tell it apart from the naive model. The texts
drawn here are therefore both tiny and large (up to 6,000 code points per insert, so documents of
many chunks), positions are biased towards chunk boundaries, and the alphabet mixes ASCII,
emoji (including ZWJ sequences and flags), combining marks, CJK, right-to-left scripts and
newlines, so that a code point position may fall inside a grapheme.
"""

from __future__ import annotations

from itertools import groupby, pairwise
from operator import itemgetter

import pytest
from hypothesis import event, given, note, settings, target
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from coauthor.core import Fragment, Origin, ProvenanceText

# -- strategies ------------------------------------------------------------------------------

ATOMS = [
    "a",
    "Z",
    "0",
    " ",
    "!",
    "\n",
    "\r\n",
    "\t",
    "😀",
    "👩\u200d👩\u200d👧",  # family: a ZWJ sequence of five code points
    "🇫🇷",  # a flag: two regional indicators
    "🇯🇵",
    "e\u0301",  # e + combining acute accent
    "\u0651",  # a lone Arabic combining mark (shadda)
    "漢字",
    "かな",
    "שלום",
    "مرحبا",
    "\u200f",  # right-to-left mark
    "\U0001d11e",  # musical G clef, outside the BMP
]

REFS = [None, "g1", "g2", "i1"]
origins = st.sampled_from(list(Origin))
# ``insert`` also takes the plain string value of an origin.
origins_or_values = st.one_of(origins, origins.map(lambda o: o.value))
refs = st.sampled_from(REFS)

small_texts = st.lists(st.sampled_from(ATOMS), min_size=1, max_size=12).map("".join)

# Sizes around the chunk thresholds (512, 2048, 4096) and up to 6000.
EDGE_SIZES = [1, 2, 511, 512, 513, 2047, 2048, 2049, 4095, 4096, 4097, 6000]
big_sizes = st.one_of(st.integers(1, 6000), st.integers(2049, 6000), st.sampled_from(EDGE_SIZES))


def _repeat_to(seed: str, size: int) -> str:
    """``seed`` repeated and cut to exactly ``size`` code points (may cut a grapheme)."""
    return (seed * (size // len(seed) + 1))[:size]


big_texts = st.builds(_repeat_to, small_texts, big_sizes)
texts = st.one_of(small_texts, big_texts)
texts_or_empty = st.one_of(st.just(""), texts)

segments = st.lists(st.tuples(texts, origins, refs), max_size=8)
"""A document as a list of (text, origin, ref) pieces; neighbours may be equal."""

big_segments = st.lists(
    st.tuples(st.one_of(big_texts, big_texts, small_texts), origins, refs), max_size=8
)
"""Like ``segments`` but mostly large pieces: documents of several chunks from the start."""

MAX_GROWTH = 40_000
"""Inserts stop once a document is this long, to bound the cost of each step."""


# -- the naive model -------------------------------------------------------------------------


class Model:
    """The reference: a plain list of ``(char, origin, ref)``, one entry per code point."""

    def __init__(self, cells: list[tuple[str, Origin, str | None]] | None = None) -> None:
        self.cells = cells if cells is not None else []

    @classmethod
    def from_segments(cls, pieces: list[tuple[str, Origin, str | None]]) -> Model:
        return cls([(ch, Origin(o), r) for text, o, r in pieces for ch in text])

    def __len__(self) -> int:
        return len(self.cells)

    @property
    def text(self) -> str:
        return "".join(map(itemgetter(0), self.cells))

    def clamp(self, start: int, end: int) -> tuple[int, int]:
        start = max(0, min(start, len(self)))
        return start, max(start, min(end, len(self)))

    def runs(self, start: int = 0, end: int | None = None) -> list[tuple[int, Origin, str | None]]:
        cells = self.cells[start:end]
        return [(len(list(g)), o, r) for (o, r), g in groupby(cells, key=itemgetter(1, 2))]

    def text_in(self, start: int, end: int) -> str:
        return "".join(map(itemgetter(0), self.cells[start:end]))

    def insert(self, pos: int, text: str, origin: Origin | str, ref: str | None) -> None:
        origin = Origin(origin)
        self.cells[pos:pos] = [(ch, origin, ref) for ch in text]

    def delete(self, pos: int, length: int) -> list[tuple[str, Origin, str | None]]:
        removed = self.cells[pos : pos + length]
        del self.cells[pos : pos + length]
        return removed


def assert_same(t: ProvenanceText, model: Model) -> None:
    """Everything observable about the whole text agrees with the model."""
    t.check_invariants()
    assert len(t) == len(model)
    assert t.text == model.text
    runs = list(t.runs())
    assert_normalised(runs, len(model))
    expected = model.runs()
    assert runs == expected
    counts = dict.fromkeys(Origin, 0)
    for length, origin, _ in expected:
        counts[origin] += length
    assert t.counts() == counts


def assert_normalised(runs: list[tuple[int, Origin, str | None]], total: int) -> None:
    assert all(length > 0 for length, _, _ in runs), f"empty run in {runs}"
    for (_, o1, r1), (_, o2, r2) in pairwise(runs):
        assert (o1, r1) != (o2, r2), f"unmerged neighbours in {runs}"
    assert sum(length for length, _, _ in runs) == total
    assert all(type(origin) is Origin for _, origin, _ in runs)


def boundaries(t: ProvenanceText) -> list[int]:
    """Positions next to the internal chunk boundaries, where off-by-one bugs live."""
    n = len(t)
    found = {0, 1, n - 1, n}
    acc = 0
    for chunk in t._chunks:
        acc += len(chunk.text)
        found.update((acc - 1, acc, acc + 1))
    return sorted(p for p in found if 0 <= p <= n)


def draw_pos(data: st.DataObject, t: ProvenanceText, hi: int, label: str = "pos") -> int:
    """A position in ``[0, hi]``, often next to a chunk boundary."""
    near_boundary = [p for p in boundaries(t) if p <= hi]
    return data.draw(st.one_of(st.integers(0, hi), st.sampled_from(near_boundary)), label=label)


def draw_length(data: st.DataObject, available: int, label: str = "length") -> int:
    """A length in ``[0, available]``: short, anything, or everything that is left."""
    return data.draw(
        st.one_of(
            st.integers(0, min(available, 40)),
            st.integers(0, available),
            st.just(available),
        ),
        label=label,
    )


# -- the state machine -----------------------------------------------------------------------


class ProvenanceMachine(RuleBasedStateMachine):
    """Random edits applied to a ``ProvenanceText`` and to the model must never disagree."""

    def __init__(self) -> None:
        super().__init__()
        self.t = ProvenanceText()
        self.model = Model()
        self.max_chunks = 1

    @initialize(pieces=big_segments, via_constructor=st.booleans())
    def start(self, pieces: list[tuple[str, Origin, str | None]], via_constructor: bool) -> None:
        if via_constructor and pieces:
            text, origin, ref = pieces[0]
            self.t = ProvenanceText(text, origin, ref)
            self.model = Model.from_segments(pieces[:1])
        else:
            text = "".join(p[0] for p in pieces)
            self.t = ProvenanceText.from_runs(text, [(len(s), o, r) for s, o, r in pieces])
            self.model = Model.from_segments(pieces)

    # -- edits -----------------------------------------------------------------------------

    @rule(data=st.data(), text=small_texts, origin=origins_or_values, ref=refs)
    def insert_small(
        self, data: st.DataObject, text: str, origin: Origin | str, ref: str | None
    ) -> None:
        pos = draw_pos(data, self.t, len(self.t))
        self.t.insert(pos, text, origin, ref)
        self.model.insert(pos, text, origin, ref)

    @precondition(lambda self: len(self.model) < MAX_GROWTH)
    @rule(data=st.data(), text=big_texts, origin=origins, ref=refs)
    def insert_big(self, data: st.DataObject, text: str, origin: Origin, ref: str | None) -> None:
        pos = draw_pos(data, self.t, len(self.t))
        self.t.insert(pos, text, origin, ref)
        self.model.insert(pos, text, origin, ref)

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        n = len(self.t)
        pos = draw_pos(data, self.t, n)
        length = draw_length(data, n - pos)
        self.t.delete(pos, length)
        self.model.delete(pos, length)

    @precondition(lambda self: len(self.model) > 0)
    @rule()
    def delete_everything(self) -> None:
        self.t.delete(0, len(self.t))
        self.model.delete(0, len(self.model))

    @rule(data=st.data(), text=texts_or_empty, origin=origins_or_values, ref=refs)
    def replace(
        self, data: st.DataObject, text: str, origin: Origin | str, ref: str | None
    ) -> None:
        n = len(self.t)
        if len(text) > 100 and n > MAX_GROWTH:
            text = text[:100]
        pos = draw_pos(data, self.t, n)
        length = draw_length(data, n - pos)
        self.t.replace(pos, length, text, origin, ref)
        self.model.delete(pos, length)
        self.model.insert(pos, text, origin, ref)

    @rule(data=st.data())
    def move(self, data: st.DataObject) -> None:
        """Cut a range and insert it elsewhere: the moved characters keep their origins."""
        n = len(self.t)
        pos = draw_pos(data, self.t, n)
        length = draw_length(data, n - pos)
        expected = Fragment(
            self.model.text_in(pos, pos + length), tuple(self.model.runs(pos, pos + length))
        )
        fragment = self.t.cut(pos, length)
        assert fragment == expected
        removed = self.model.delete(pos, length)
        self.t.check_invariants()
        dest = draw_pos(data, self.t, len(self.t), label="dest")
        self.t.insert_fragment(dest, fragment)
        self.model.cells[dest:dest] = removed

    @precondition(lambda self: len(self.model) < MAX_GROWTH)
    @rule(data=st.data())
    def copy_paste(self, data: st.DataObject) -> None:
        n = len(self.t)
        start = draw_pos(data, self.t, n, label="start")
        end = draw_pos(data, self.t, n, label="end")
        start, end = min(start, end), max(start, end)
        fragment = self.t.slice(start, end)
        copied = self.model.cells[start:end]
        dest = draw_pos(data, self.t, n, label="dest")
        self.t.insert_fragment(dest, fragment)
        self.model.cells[dest:dest] = copied

    @rule(use_copy=st.booleans())
    def round_trip(self, use_copy: bool) -> None:
        """Saving (text + runs) and loading gives an equal text with a fresh structure."""
        if use_copy:
            again = self.t.copy()
        else:
            again = ProvenanceText.from_runs(self.t.text, list(self.t.runs()))
        assert again == self.t
        again.check_invariants()
        self.t = again

    # -- reads -----------------------------------------------------------------------------

    @rule(data=st.data())
    def read_range(self, data: st.DataObject) -> None:
        """Ranges are clamped to the text; reversed ranges are empty."""
        n = len(self.t)
        start = data.draw(st.one_of(st.integers(-3, n + 3), st.sampled_from(boundaries(self.t))))
        end = data.draw(st.one_of(st.integers(-3, n + 3), st.sampled_from(boundaries(self.t))))
        lo, hi = self.model.clamp(start, end)
        expected_runs = self.model.runs(lo, hi)
        runs = list(self.t.runs_in(start, end))
        assert runs == expected_runs
        assert_normalised(runs, hi - lo)
        assert self.t.text_in(start, end) == self.model.text_in(lo, hi)
        assert self.t.slice(start, end) == Fragment(
            self.model.text_in(lo, hi), tuple(expected_runs)
        )

    @precondition(lambda self: len(self.model) > 0)
    @rule(data=st.data())
    def read_origin_at(self, data: st.DataObject) -> None:
        pos = draw_pos(data, self.t, len(self.t) - 1)
        _, origin, ref = self.model.cells[pos]
        assert self.t.origin_at(pos) == (origin, ref)

    @rule()
    def read_origin_codes(self) -> None:
        assert self.t.origin_codes() == "".join(o.code for _, o, _ in self.model.cells)

    # -- errors ----------------------------------------------------------------------------

    @rule(data=st.data())
    def invalid_operation(self, data: st.DataObject) -> None:
        """A refused operation raises and leaves the text exactly as it was."""
        before_text = self.t.text
        before_runs = list(self.t.runs())
        n = len(self.t)
        k = data.draw(st.integers(1, 5000), label="overshoot")
        call, error = data.draw(st.sampled_from(invalid_calls(n, k)), label="call")
        note(f"calling {call.__name__} on a text of {n}")
        with pytest.raises(error):
            call(self.t)
        assert self.t.text == before_text
        assert list(self.t.runs()) == before_runs

    @invariant()
    def agrees_with_model(self) -> None:
        assert_same(self.t, self.model)
        self.max_chunks = max(self.max_chunks, len(self.t._chunks))

    def teardown(self) -> None:
        # Steer generation towards documents of many chunks, where the cursor and the
        # split/merge logic are exercised (see ``--hypothesis-show-statistics``).
        event(f"at most {min(self.max_chunks, 10)}{'+' if self.max_chunks > 10 else ''} chunks")


def invalid_calls(n: int, k: int) -> list:
    """Out-of-range or malformed calls on a text of length ``n``, with the error each raises.

    ``k >= 1`` is how far out of range the call goes.
    """
    h = Origin.HUMAN
    bad_fragment = Fragment("ab", ((1, Origin.AI, "g1"), (1, "robot", None)))  # type: ignore[arg-type]

    def insert_before_start(t):
        t.insert(-k, "x", h)

    def insert_after_end(t):
        t.insert(n + k, "x", h)

    def insert_unknown_origin(t):
        t.insert(n // 2, "x", "robot")

    def delete_before_start(t):
        t.delete(-k, 1)

    def delete_past_end(t):
        t.delete(max(0, n - k + 1), k)

    def delete_negative_length(t):
        t.delete(0, -k)

    def replace_past_end(t):
        t.replace(n // 2, n - n // 2 + k, "x", h)

    def replace_before_start(t):
        t.replace(-k, 1, "x", h)

    def replace_unknown_origin(t):
        t.replace(0, n, "x", "robot")

    def cut_past_end(t):
        t.cut(n // 3, n + k)

    def cut_negative_length(t):
        t.cut(0, -k)

    def origin_at_before_start(t):
        t.origin_at(-k)

    def origin_at_end(t):
        t.origin_at(n + k - 1)

    def insert_fragment_after_end(t):
        t.insert_fragment(n + k, Fragment.single("xyz", Origin.AI, "g1"))

    def insert_fragment_unknown_origin(t):
        t.insert_fragment(n, bad_fragment)

    return [
        (insert_before_start, IndexError),
        (insert_after_end, IndexError),
        (insert_unknown_origin, ValueError),
        (delete_before_start, IndexError),
        (delete_past_end, IndexError),
        (delete_negative_length, ValueError),
        (replace_past_end, IndexError),
        (replace_before_start, IndexError),
        (replace_unknown_origin, ValueError),
        (cut_past_end, IndexError),
        (cut_negative_length, ValueError),
        (origin_at_before_start, IndexError),
        (origin_at_end, IndexError),
        (insert_fragment_after_end, IndexError),
        (insert_fragment_unknown_origin, ValueError),
    ]


ProvenanceMachine.TestCase.settings = settings(
    max_examples=max(10, settings().max_examples),
    stateful_step_count=50,
)
TestProvenanceMachine = ProvenanceMachine.TestCase


# -- @given tests ----------------------------------------------------------------------------

fractions = st.integers(0, 1000)
"""A position as thousandths of the current length, so every drawn operation is valid."""

operations = st.one_of(
    st.tuples(st.just("insert"), fractions, texts, origins, refs),
    st.tuples(st.just("delete"), fractions, fractions),
    st.tuples(st.just("replace"), fractions, fractions, texts_or_empty, origins, refs),
    st.tuples(st.just("move"), fractions, fractions, fractions),
    st.tuples(st.just("round_trip")),
)


def _at(fraction: int, n: int) -> int:
    return n * fraction // 1000


@given(start=segments, ops=st.lists(operations, max_size=25))
def test_operation_sequences_match_model(start, ops) -> None:
    text = "".join(s for s, _, _ in start)
    t = ProvenanceText.from_runs(text, [(len(s), o, r) for s, o, r in start])
    model = Model.from_segments(start)
    assert_same(t, model)
    for op in ops:
        kind, *args = op
        n = len(t)
        if kind == "insert":
            f, new, origin, ref = args
            pos = _at(f, n)
            t.insert(pos, new, origin, ref)
            model.insert(pos, new, origin, ref)
        elif kind == "delete":
            f, g = args
            pos = _at(f, n)
            length = _at(g, n - pos)
            t.delete(pos, length)
            model.delete(pos, length)
        elif kind == "replace":
            f, g, new, origin, ref = args
            pos = _at(f, n)
            length = _at(g, n - pos)
            t.replace(pos, length, new, origin, ref)
            model.delete(pos, length)
            model.insert(pos, new, origin, ref)
        elif kind == "move":
            f, g, d = args
            pos = _at(f, n)
            length = _at(g, n - pos)
            fragment = t.cut(pos, length)
            removed = model.delete(pos, length)
            dest = _at(d, n - length)
            t.insert_fragment(dest, fragment)
            model.cells[dest:dest] = removed
        else:
            t = ProvenanceText.from_runs(t.text, t.runs())
        assert_same(t, model)


@given(pieces=segments)
def test_from_runs_round_trips_and_normalises(pieces) -> None:
    text = "".join(s for s, _, _ in pieces)
    # Runs as stored on disk may repeat an origin; they may also give origins as strings.
    raw_runs = [(len(s), o.value if i % 2 else o, r) for i, (s, o, r) in enumerate(pieces)]
    t = ProvenanceText.from_runs(text, raw_runs)
    model = Model.from_segments(pieces)
    assert_same(t, model)
    again = ProvenanceText.from_runs(t.text, t.runs())
    assert again == t
    assert_same(again, model)
    assert t.slice(0, len(t)) == Fragment(model.text, tuple(model.runs()))


@given(pieces=segments, extra=st.integers(1, 3), where=st.integers(0, 1000))
def test_from_runs_refuses_runs_that_do_not_cover_the_text(pieces, extra, where) -> None:
    text = "".join(s for s, _, _ in pieces)
    runs = [(len(s), o, r) for s, o, r in pieces]
    with pytest.raises(ValueError):
        ProvenanceText.from_runs(text, [*runs, (extra, Origin.HUMAN, None)])
    with pytest.raises(ValueError):
        ProvenanceText.from_runs(text + "x" * extra, runs)
    i = _at(where, len(runs))
    with pytest.raises(ValueError):
        ProvenanceText.from_runs(text, [*runs[:i], (0, Origin.AI, "g1"), *runs[i:]])
    with pytest.raises(ValueError):
        ProvenanceText.from_runs(text, [*runs[:i], (-extra, Origin.AI, None), *runs[i:]])


@given(pieces=segments.filter(bool), data=st.data())
def test_reads_match_model_on_random_ranges(pieces, data) -> None:
    text = "".join(s for s, _, _ in pieces)
    t = ProvenanceText.from_runs(text, [(len(s), o, r) for s, o, r in pieces])
    model = Model.from_segments(pieces)
    n = len(t)
    for _ in range(5):
        start = draw_pos(data, t, n, "start")
        end = data.draw(st.integers(start, n), label="end")
        assert list(t.runs_in(start, end)) == model.runs(start, end)
        assert t.text_in(start, end) == model.text_in(start, end)
        assert t.slice(start, end) == Fragment(
            model.text_in(start, end), tuple(model.runs(start, end))
        )
        if start < n:
            assert t.origin_at(start) == model.cells[start][1:]


@given(pieces=segments, data=st.data())
def test_out_of_range_operations_raise_and_leave_text_unchanged(pieces, data) -> None:
    text = "".join(s for s, _, _ in pieces)
    t = ProvenanceText.from_runs(text, [(len(s), o, r) for s, o, r in pieces])
    model = Model.from_segments(pieces)
    k = data.draw(st.integers(1, 10_000), label="overshoot")
    for call, error in invalid_calls(len(t), k):
        with pytest.raises(error):
            call(t)
        assert_same(t, model)
