"""Property tests: ``ProvenanceText`` against a naive model, one entry per code point.

The chunked structure (chunks split above 4096 code points, merged below 512, a cached cursor) is
only worth anything if no sequence of edits can tell it apart from the naive model. The texts
drawn here are therefore both tiny and large (up to 6,000 code points per insert, so documents of
many chunks), positions are biased towards chunk and run boundaries, and the alphabet mixes ASCII,
emoji (including ZWJ sequences and flags), combining marks, CJK, right-to-left scripts and
newlines, so that a code point position may fall inside a grapheme.

Positions and lengths are drawn as raw numbers, reduced modulo the current length inside each
rule, rather than with ``st.data()`` and strategies built per call: Hypothesis replays thousands
of examples while shrinking a failure, and per-call strategies made that several times slower.
The positions and lengths actually used are printed as notes with a failing example.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby, pairwise
from operator import itemgetter

import pytest
from hypothesis import Phase, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import coauthor.core.provenance as provenance_impl
from coauthor.core import Fragment, Origin, ProvenanceText

Prov = tuple[Origin, "str | None"]
Segment = tuple[str, Origin, "str | None"]
Cell = tuple[str, Origin, "str | None"]
RunT = tuple[int, Origin, "str | None"]

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
refs = st.sampled_from(REFS)
# Mostly the pairs the app produces, so that equal runs meet often and must merge; sometimes
# any pair at all.
USUAL: list[Prov] = [
    (Origin.HUMAN, None),
    (Origin.AI, "g1"),
    (Origin.AI, "g2"),
    (Origin.PASTED, None),
    (Origin.IMPORTED, "i1"),
]
provenances = st.one_of(st.sampled_from(USUAL), st.tuples(origins, refs))

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


def _segment(text: str, prov: Prov) -> Segment:
    return (text, *prov)


segments = st.lists(st.builds(_segment, texts, provenances), max_size=8)
"""A document as a list of (text, origin, ref) pieces; neighbours may be equal."""

_RAW = st.integers(0, 2**24)
raw_positions = st.integers(0, 2**25)
"""Raw numbers for ``pick_pos``; the lowest bit chooses 'next to a boundary'."""
raw_lengths = st.integers(0, 3 * 2**24)
"""Raw numbers for ``pick_length``; the value modulo 3 chooses short, any or the rest."""
overshoots = st.integers(1, 10_000)


# -- chunk scales ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """Chunk thresholds, and how large a "large" text is relative to them."""

    max: int
    split: int
    min: int
    largest: int
    max_growth: int  # large inserts stop once a document is this long (bounds each step)

    def size(self, spec: tuple[bool, int]) -> int:
        """A text size from a drawn spec: a threshold +/- 1, or anything up to ``largest``."""
        at_edge, raw = spec
        if at_edge:
            edges = [1, 2, self.min - 1, self.min, self.min + 1, self.split - 1, self.split]
            edges += [self.split + 1, self.max - 1, self.max, self.max + 1, self.largest]
            return max(1, edges[raw % len(edges)])
        return 1 + raw % self.largest


REAL = Scale(
    max=provenance_impl._CHUNK_MAX,
    split=provenance_impl._CHUNK_SPLIT,
    min=provenance_impl._CHUNK_MIN,
    largest=6000,
    max_growth=30_000,
)
TINY = Scale(max=16, split=8, min=2, largest=24, max_growth=500)
"""Patched into ``provenance`` for ``TinyChunkMachine``: many chunks in a few characters."""

size_specs = st.tuples(st.booleans(), _RAW)
# A piece of a document: a small text, or a seed to repeat to a drawn (scale-relative) size.
pieces = st.tuples(small_texts, st.one_of(st.none(), size_specs, size_specs), provenances)
first_pieces = st.tuples(small_texts, size_specs, provenances)


def document_from(pieces: list[Segment]) -> tuple[ProvenanceText, Model]:
    """The same document as a ``ProvenanceText`` (loaded with ``from_runs``) and as a model."""
    text = "".join(s for s, _, _ in pieces)
    t = ProvenanceText.from_runs(text, [(len(s), o, r) for s, o, r in pieces])
    return t, Model.from_segments(pieces)


# -- the naive model -------------------------------------------------------------------------


class Model:
    """The reference: a plain list of ``(char, origin, ref)``, one entry per code point."""

    def __init__(self, cells: list[Cell] | None = None) -> None:
        self.cells = cells if cells is not None else []

    @classmethod
    def from_segments(cls, pieces: list[Segment]) -> Model:
        return cls([(ch, Origin(o), r) for text, o, r in pieces for ch in text])

    def __len__(self) -> int:
        return len(self.cells)

    @property
    def text(self) -> str:
        return "".join(map(itemgetter(0), self.cells))

    def clamp(self, start: int, end: int) -> tuple[int, int]:
        start = max(0, min(start, len(self)))
        return start, max(start, min(end, len(self)))

    def runs(self, start: int = 0, end: int | None = None) -> list[RunT]:
        cells = self.cells[start:end]
        return [(len(list(g)), o, r) for (o, r), g in groupby(cells, key=itemgetter(1, 2))]

    def text_in(self, start: int, end: int) -> str:
        return "".join(map(itemgetter(0), self.cells[start:end]))

    def insert(self, pos: int, text: str, origin: Origin | str, ref: str | None) -> None:
        origin = Origin(origin)
        self.cells[pos:pos] = [(ch, origin, ref) for ch in text]

    def delete(self, pos: int, length: int) -> list[Cell]:
        removed = self.cells[pos : pos + length]
        del self.cells[pos : pos + length]
        return removed


def assert_same(t: ProvenanceText, model: Model) -> None:
    """Everything observable about the whole text agrees with the model."""
    t.check_invariants()
    # Chunks stay bounded, or an edit would no longer cost O(chunk).
    assert max(len(c.text) for c in t._chunks) <= provenance_impl._CHUNK_MAX
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


def assert_normalised(runs: list[RunT], total: int) -> None:
    """Runs are non-empty, adjacent runs differ, and the lengths add up."""
    assert all(length > 0 for length, _, _ in runs), f"empty run in {runs}"
    for (_, o1, r1), (_, o2, r2) in pairwise(runs):
        assert (o1, r1) != (o2, r2), f"unmerged neighbours in {runs}"
    assert sum(length for length, _, _ in runs) == total
    assert all(type(origin) is Origin for _, origin, _ in runs)


# -- drawing positions -----------------------------------------------------------------------


def boundaries(t: ProvenanceText) -> list[int]:
    """Positions next to internal chunk and run boundaries, where off-by-one bugs live."""
    n = len(t)
    found = {0, 1, n - 1, n}
    acc = 0
    for chunk in t._chunks:
        for length, _, _ in chunk.runs:
            acc += length
            found.update((acc - 1, acc, acc + 1))
    return sorted(p for p in found if 0 <= p <= n)


def pick_pos(t: ProvenanceText, raw: int, hi: int, label: str = "pos", lo: int = 0) -> int:
    """A position in ``[lo, hi]`` from a raw number, half the time next to a boundary."""
    near, raw = raw & 1, raw >> 1
    candidates = [p for p in boundaries(t) if lo <= p <= hi] if near else []
    if candidates:
        pos = candidates[raw % len(candidates)]
    else:
        pos = lo + raw % (hi - lo + 1)
    note(f"{label} = {pos}")
    return pos


def pick_length(raw: int, available: int, label: str = "length") -> int:
    """A length in ``[0, available]`` from a raw number: short, any, or all that is left."""
    kind, raw = raw % 3, raw // 3
    if kind == 0:
        length = raw % (min(available, 40) + 1)
    elif kind == 1:
        length = raw % (available + 1)
    else:
        length = available
    note(f"{label} = {length}")
    return length


# -- the state machine -----------------------------------------------------------------------


class ProvenanceMachine(RuleBasedStateMachine):
    """Random edits applied to a ``ProvenanceText`` and to the model must never disagree.

    Sizes of large texts are relative to ``scale``, the chunk thresholds in force.
    """

    scale = REAL

    def __init__(self) -> None:
        super().__init__()
        self.t = ProvenanceText()
        self.model = Model()
        self.max_chunks = 1

    def big_text(self, seed: str, spec: tuple[bool, int] | None) -> str:
        return seed if spec is None else _repeat_to(seed, self.scale.size(spec))

    @initialize(
        first=first_pieces,
        rest=st.lists(pieces, max_size=8),
        via_constructor=st.booleans(),
    )
    def start(self, first: tuple, rest: list[tuple], via_constructor: bool) -> None:
        document = [(self.big_text(seed, spec), *prov) for seed, spec, prov in [first, *rest]]
        note(f"document of {[len(s) for s, _, _ in document]} code points")
        if via_constructor:
            self.t = ProvenanceText(*document[0])
            self.model = Model.from_segments(document[:1])
        else:
            self.t, self.model = document_from(document)

    # -- edits -----------------------------------------------------------------------------

    @rule(at=raw_positions, text=small_texts, prov=provenances, as_value=st.booleans())
    def insert_small(self, at: int, text: str, prov: Prov, as_value: bool) -> None:
        origin, ref = prov
        pos = pick_pos(self.t, at, len(self.t))
        # ``insert`` also takes the plain string value of an origin.
        self.t.insert(pos, text, origin.value if as_value else origin, ref)
        self.model.insert(pos, text, origin, ref)

    @precondition(lambda self: len(self.model) < self.scale.max_growth)
    @rule(at=raw_positions, seed=small_texts, spec=size_specs, prov=provenances)
    def insert_big(self, at: int, seed: str, spec: tuple, prov: Prov) -> None:
        text = self.big_text(seed, spec)
        note(f"large insert of {len(text)} code points")
        pos = pick_pos(self.t, at, len(self.t))
        self.t.insert(pos, text, *prov)
        self.model.insert(pos, text, *prov)

    @rule(at=raw_positions, text=small_texts, prov=provenances, backspaces=st.integers(0, 30))
    def type_and_backspace(self, at: int, text: str, prov: Prov, backspaces: int) -> None:
        """Keystrokes one character at a time, then a few backspaces: the cursor's hot path."""
        pos = pick_pos(self.t, at, len(self.t))
        for i, ch in enumerate(text):
            self.t.insert(pos + i, ch, *prov)
            self.model.insert(pos + i, ch, *prov)
        end = pos + len(text)
        for _ in range(min(backspaces, end)):
            end -= 1
            self.t.delete(end, 1)
            self.model.delete(end, 1)

    @rule(at=raw_positions, span=raw_lengths)
    def delete(self, at: int, span: int) -> None:
        n = len(self.t)
        pos = pick_pos(self.t, at, n)
        length = pick_length(span, n - pos)
        self.t.delete(pos, length)
        self.model.delete(pos, length)

    @precondition(lambda self: len(self.model) > 0)
    @rule()
    def delete_everything(self) -> None:
        self.t.delete(0, len(self.t))
        self.model.delete(0, len(self.model))

    @rule(
        at=raw_positions,
        span=raw_lengths,
        piece=st.one_of(
            st.just(("", None)),
            st.tuples(small_texts, st.none()),
            st.tuples(small_texts, size_specs),
        ),
        prov=provenances,
        as_value=st.booleans(),
    )
    def replace(self, at: int, span: int, piece: tuple, prov: Prov, as_value: bool) -> None:
        origin, ref = prov
        n = len(self.t)
        text = self.big_text(*piece) if n < self.scale.max_growth else piece[0]
        pos = pick_pos(self.t, at, n)
        length = pick_length(span, n - pos)
        self.t.replace(pos, length, text, origin.value if as_value else origin, ref)
        self.model.delete(pos, length)
        self.model.insert(pos, text, origin, ref)

    @rule(at=raw_positions, span=raw_lengths, to=raw_positions)
    def move(self, at: int, span: int, to: int) -> None:
        """Cut a range and insert it elsewhere: the moved characters keep their origins."""
        n = len(self.t)
        pos = pick_pos(self.t, at, n)
        length = pick_length(span, n - pos)
        expected = Fragment(
            self.model.text_in(pos, pos + length), tuple(self.model.runs(pos, pos + length))
        )
        fragment = self.t.cut(pos, length)
        assert fragment == expected
        removed = self.model.delete(pos, length)
        self.t.check_invariants()
        dest = pick_pos(self.t, to, len(self.t), label="dest")
        self.t.insert_fragment(dest, fragment)
        self.model.cells[dest:dest] = removed

    @precondition(lambda self: len(self.model) < self.scale.max_growth)
    @rule(a=raw_positions, b=raw_positions, to=raw_positions)
    def copy_paste(self, a: int, b: int, to: int) -> None:
        n = len(self.t)
        start = pick_pos(self.t, a, n, label="start")
        end = pick_pos(self.t, b, n, label="end", lo=start)
        fragment = self.t.slice(start, end)
        copied = self.model.cells[start:end]
        dest = pick_pos(self.t, to, n, label="dest")
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

    @rule(
        a=raw_positions, b=raw_positions, outside=st.tuples(st.integers(-3, 3), st.integers(-3, 3))
    )
    def read_range(self, a: int, b: int, outside: tuple[int, int]) -> None:
        """Ranges are clamped to the text; reversed ranges are empty."""
        n = len(self.t)
        start = pick_pos(self.t, a, n, label="start")
        end = pick_pos(self.t, b, n, label="end")
        # Sometimes push the ends out of the text, to check the clamping.
        if start in (0, n):
            start += outside[0]
        if end in (0, n):
            end += outside[1]
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
    @rule(at=raw_positions)
    def read_origin_at(self, at: int) -> None:
        pos = pick_pos(self.t, at, len(self.t) - 1)
        _, origin, ref = self.model.cells[pos]
        assert self.t.origin_at(pos) == (origin, ref)

    @rule()
    def read_origin_codes(self) -> None:
        assert self.t.origin_codes() == "".join(o.code for _, o, _ in self.model.cells)

    # -- errors ----------------------------------------------------------------------------

    @rule(k=overshoots, which=st.integers(0, 100))
    def invalid_operation(self, k: int, which: int) -> None:
        """A refused operation raises and leaves the text exactly as it was."""
        before_text = self.t.text
        before_runs = list(self.t.runs())
        calls = invalid_calls(len(self.t), k)
        call, error = calls[which % len(calls)]
        note(f"calling {call.__name__} on a text of {len(self.t)}")
        with pytest.raises(error):
            call(self.t)
        assert self.t.text == before_text
        assert list(self.t.runs()) == before_runs

    @invariant()
    def agrees_with_model(self) -> None:
        assert_same(self.t, self.model)
        self.max_chunks = max(self.max_chunks, len(self.t._chunks))

    def teardown(self) -> None:
        # How many examples reached documents of many chunks: see --hypothesis-show-statistics.
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


class TinyChunkMachine(ProvenanceMachine):
    """The same rules with chunks of at most 16 code points: dozens of chunks in a few
    hundred characters, so that splits, merges and the cursor are hit at every step, and a
    failure shrinks in seconds."""

    scale = TINY


# Hypothesis's "explain" phase costs as much as shrinking itself on a 50-step machine.
_MACHINE_PHASES = [phase for phase in Phase if phase is not Phase.explain]


# A failure on documents of tens of thousands of characters can take Hypothesis minutes to
# shrink; let it finish rather than have pytest-timeout cut the report off.
@pytest.mark.timeout(900)
def test_large_documents_match_model() -> None:
    run_state_machine_as_test(
        ProvenanceMachine,
        settings=settings(
            max_examples=max(10, 2 * settings().max_examples),
            stateful_step_count=50,
            phases=_MACHINE_PHASES,
        ),
    )


@pytest.mark.timeout(900)
def test_tiny_chunks_match_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provenance_impl, "_CHUNK_MAX", TINY.max)
    monkeypatch.setattr(provenance_impl, "_CHUNK_SPLIT", TINY.split)
    monkeypatch.setattr(provenance_impl, "_CHUNK_MIN", TINY.min)
    probe = ProvenanceText("x" * 40)
    assert len(probe._chunks) == 5, "the chunk thresholds could not be patched"
    run_state_machine_as_test(
        TinyChunkMachine,
        settings=settings(
            max_examples=max(10, 3 * settings().max_examples),
            stateful_step_count=50,
            phases=_MACHINE_PHASES,
        ),
    )


# -- @given tests ----------------------------------------------------------------------------

fractions = st.integers(0, 1000)
"""A position as thousandths of the current length, so every drawn operation is valid."""

operations = st.one_of(
    st.tuples(st.just("insert"), fractions, texts, provenances),
    st.tuples(st.just("delete"), fractions, fractions),
    st.tuples(st.just("replace"), fractions, fractions, texts_or_empty, provenances),
    st.tuples(st.just("move"), fractions, fractions, fractions),
    st.tuples(st.just("round_trip")),
)


def _at(fraction: int, n: int) -> int:
    return n * fraction // 1000


@given(start=segments, ops=st.lists(operations, max_size=25))
def test_operation_sequences_match_model(start: list[Segment], ops: list[tuple]) -> None:
    t, model = document_from(start)
    assert_same(t, model)
    for kind, *args in ops:
        n = len(t)
        if kind == "insert":
            f, new, (origin, ref) = args
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
            f, g, new, (origin, ref) = args
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
def test_from_runs_round_trips_and_normalises(pieces: list[Segment]) -> None:
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


@given(pieces=segments, extra=st.integers(1, 3), where=fractions)
def test_from_runs_refuses_runs_that_do_not_cover_the_text(
    pieces: list[Segment], extra: int, where: int
) -> None:
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
    if runs:
        j = min(i, len(runs) - 1)
        with pytest.raises(ValueError):
            ProvenanceText.from_runs(text, [*runs[:j], (runs[j][0], "robot", None), *runs[j + 1 :]])


@given(
    pieces=segments.filter(bool),
    ranges=st.lists(st.tuples(raw_positions, raw_positions), min_size=1, max_size=5),
)
def test_reads_match_model_on_random_ranges(
    pieces: list[Segment], ranges: list[tuple[int, int]]
) -> None:
    t, model = document_from(pieces)
    n = len(t)
    for a, b in ranges:
        start = pick_pos(t, a, n, "start")
        end = pick_pos(t, b, n, "end", lo=start)
        assert list(t.runs_in(start, end)) == model.runs(start, end)
        assert t.text_in(start, end) == model.text_in(start, end)
        assert t.slice(start, end) == Fragment(
            model.text_in(start, end), tuple(model.runs(start, end))
        )
        if start < n:
            assert t.origin_at(start) == model.cells[start][1:]


@given(pieces=segments, k=overshoots)
def test_out_of_range_operations_raise_and_leave_text_unchanged(
    pieces: list[Segment], k: int
) -> None:
    t, model = document_from(pieces)
    for call, error in invalid_calls(len(t), k):
        with pytest.raises(error):
            call(t)
        assert_same(t, model)
