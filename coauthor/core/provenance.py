"""Text that knows, for every character, where it came from.

``ProvenanceText`` keeps the text in chunks of at most a few thousand code points; each chunk
carries its own runs ``[length, origin, ref]``. A cached cursor remembers the chunk of the last
edit, so typing at one place costs the same in a 1,000-character chapter as in a 1,000,000-character
one: only one short string and one short run list are touched per keystroke.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from coauthor.core.origin import Origin
from coauthor.core.textpos import Utf16Map

__all__ = ["Fragment", "ProvenanceText", "Run"]

Run = tuple[int, Origin, "str | None"]
"""One run of equal provenance: ``(length, origin, ref)``."""

_CHUNK_MAX = 4096
_CHUNK_SPLIT = 2048
_CHUNK_MIN = 512
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _count_astral(text: str) -> int:
    """Characters outside the Basic Multilingual Plane (two UTF-16 code units each)."""
    return 0 if text.isascii() else len(_ASTRAL.findall(text))


@dataclass(frozen=True, slots=True)
class Fragment:
    """A piece of text with its runs, as cut, copied or deleted from a ``ProvenanceText``."""

    text: str
    runs: tuple[Run, ...]

    def __post_init__(self) -> None:
        if sum(r[0] for r in self.runs) != len(self.text):
            raise ValueError("fragment runs do not cover its text")

    @classmethod
    def single(cls, text: str, origin: Origin, ref: str | None = None) -> Fragment:
        return cls(text, ((len(text), origin, ref),) if text else ())

    def sub(self, start: int, end: int) -> Fragment:
        """The part from ``start`` to ``end`` (code points), with its runs."""
        start, end = max(0, start), min(len(self.text), end)
        if end <= start:
            return EMPTY_FRAGMENT
        runs: list[Run] = []
        pos = 0
        for length, origin, ref in self.runs:
            lo, hi = max(pos, start), min(pos + length, end)
            if hi > lo:
                runs.append((hi - lo, origin, ref))
            pos += length
            if pos >= end:
                break
        return Fragment(self.text[start:end], tuple(runs))

    def join(self, other: Fragment) -> Fragment:
        """This fragment followed by ``other``, equal neighbouring runs merged."""
        runs = list(self.runs)
        for run in other.runs:
            if runs and runs[-1][1] is run[1] and runs[-1][2] == run[2]:
                runs[-1] = (runs[-1][0] + run[0], run[1], run[2])
            else:
                runs.append(run)
        return Fragment(self.text + other.text, tuple(runs))


EMPTY_FRAGMENT = Fragment("", ())


class _Chunk:
    __slots__ = ("runs", "text")

    def __init__(self, text: str, runs: list[list]) -> None:
        self.text = text
        self.runs = runs  # each run is a mutable [length, origin, ref]


def _as_origin(origin: Origin | str) -> Origin:
    if origin.__class__ is Origin:
        return origin  # type: ignore[return-value]
    return Origin(origin)


class ProvenanceText:
    """A text whose every code point has an origin and an optional ref.

    Positions are Python code points. Runs are normalised: adjacent equal runs are merged,
    no run is empty and the lengths sum to ``len(self)``.
    """

    __slots__ = ("_astral", "_chunks", "_counts", "_cur_idx", "_cur_start", "_len")

    def __init__(
        self, text: str = "", origin: Origin | str = Origin.HUMAN, ref: str | None = None
    ) -> None:
        self._chunks: list[_Chunk] = [_Chunk("", [])]
        self._len = 0
        self._counts: dict[Origin, int] = dict.fromkeys(Origin, 0)
        self._cur_idx = 0
        self._cur_start = 0
        self._astral = 0
        if text:
            self.insert(0, text, origin, ref)

    @classmethod
    def from_runs(
        cls, text: str, runs: Iterable[tuple[int, Origin | str, str | None]]
    ) -> ProvenanceText:
        """Build from a text and runs that cover it (as loaded from disk)."""
        result = cls()
        try:
            chunks = _build_chunks(text, runs)
        except StopIteration:
            raise ValueError("runs are shorter than the text") from None
        if chunks:
            result._chunks = chunks
            result._len = len(text)
            result._astral = _count_astral(text)
            for chunk in chunks:
                for length, origin, _ in chunk.runs:
                    result._counts[origin] += length
        return result

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._len

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProvenanceText):
            return NotImplemented
        return self.text == other.text and list(self.runs()) == list(other.runs())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        preview = self.text[:40]
        return (
            f"ProvenanceText({preview!r}{'…' if self._len > 40 else ''}, runs={self.run_count()})"
        )

    @property
    def text(self) -> str:
        return "".join(chunk.text for chunk in self._chunks)

    def text_in(self, start: int, end: int) -> str:
        """The text between two positions."""
        start, end = self._clamp(start, end)
        if start == end:
            return ""
        idx, cstart = self._locate_after(start)
        parts = []
        chunks = self._chunks
        while cstart < end:
            chunk = chunks[idx]
            parts.append(chunk.text[max(0, start - cstart) : end - cstart])
            cstart += len(chunk.text)
            idx += 1
        return "".join(parts)

    def holds(self, pos: int, text: str) -> bool:
        """Whether ``text`` is what the text holds from ``pos`` (a check cheaper than
        ``text_in(...) == text``: no slice is made when it lies within one chunk)."""
        end = pos + len(text)
        if pos < 0 or end > self._len:
            return False
        idx, start = self._locate_after(pos)
        chunk_text = self._chunks[idx].text
        if end - start <= len(chunk_text):
            return chunk_text.startswith(text, pos - start)
        return self.text_in(pos, end) == text

    def runs(self) -> Iterator[Run]:
        """All runs, merged across chunk boundaries."""
        pending: list | None = None
        for chunk in self._chunks:
            for length, origin, ref in chunk.runs:
                if pending is not None and pending[1] is origin and pending[2] == ref:
                    pending[0] += length
                else:
                    if pending is not None:
                        yield (pending[0], pending[1], pending[2])
                    pending = [length, origin, ref]
        if pending is not None:
            yield (pending[0], pending[1], pending[2])

    def run_count(self) -> int:
        return sum(1 for _ in self.runs())

    def runs_in(self, start: int, end: int) -> Iterator[Run]:
        """The runs of the range ``[start, end)``, clipped to it and merged."""
        return iter(self.runs_list(start, end))

    def runs_list(self, start: int, end: int) -> list[Run]:
        """``runs_in`` as a list (built in one go: the editor's paint calls this per keystroke,
        and a generator's resumptions cost more than the list)."""
        start, end = self._clamp(start, end)
        result: list[Run] = []
        if start == end:
            return result
        idx, pos = self._locate_after(start)
        chunks = self._chunks
        pending: list | None = None
        while pos < end:
            for length, origin, ref in chunks[idx].runs:
                run_end = pos + length
                if run_end > start and pos < end:
                    piece = min(run_end, end) - max(pos, start)
                    if pending is not None and pending[1] is origin and pending[2] == ref:
                        pending[0] += piece
                    else:
                        if pending is not None:
                            result.append((pending[0], pending[1], pending[2]))
                        pending = [piece, origin, ref]
                pos = run_end
                if pos >= end:
                    break
            idx += 1
        if pending is not None:
            result.append((pending[0], pending[1], pending[2]))
        return result

    def slice(self, start: int, end: int) -> Fragment:
        """The text and runs of ``[start, end)``, for copying or moving with origins kept."""
        if start >= end:
            return EMPTY_FRAGMENT  # what a keystroke removes, most of the time
        return Fragment(self.text_in(start, end), tuple(self.runs_list(start, end)))

    def origin_at(self, pos: int) -> tuple[Origin, str | None]:
        """The origin and ref of the character at ``pos``."""
        if not 0 <= pos < self._len:
            raise IndexError(f"position {pos} is outside the text (length {self._len})")
        idx, cstart = self._locate_after(pos)
        off = pos - cstart
        for length, origin, ref in self._chunks[idx].runs:
            if off < length:
                return origin, ref
            off -= length
        raise AssertionError("runs do not cover their chunk")  # pragma: no cover

    def counts(self) -> dict[Origin, int]:
        """Characters by origin."""
        return dict(self._counts)

    def origin_codes(self) -> str:
        """One origin code letter per character (see ``Origin.code``), for fast scans."""
        return "".join(origin.code * length for length, origin, _ in self.runs())

    # -- UTF-16 positions (Qt, JavaScript) --------------------------------------------------

    def utf16_length(self) -> int:
        return self._len + self._astral

    @property
    def utf16_is_identity(self) -> bool:
        """No character outside the Basic Multilingual Plane: UTF-16 offsets are positions."""
        return not self._astral

    def to_utf16(self, pos: int) -> int:
        """The UTF-16 offset of code point position ``pos``."""
        if not 0 <= pos <= self._len:
            raise IndexError(f"position {pos} is outside the text (length {self._len})")
        if not self._astral:
            return pos
        units = 0
        start = 0
        for chunk in self._chunks:
            end = start + len(chunk.text)
            if pos <= end:
                return units + Utf16Map(chunk.text).to_utf16(pos - start)
            units += len(chunk.text) + _count_astral(chunk.text)
            start = end
        return units  # pragma: no cover - pos <= len guarantees a return above

    def from_utf16(self, unit: int) -> int:
        """The code point position of UTF-16 offset ``unit`` (never inside a surrogate pair)."""
        total = self._len + self._astral
        if not 0 <= unit <= total:
            raise IndexError(f"UTF-16 offset {unit} is outside the text (length {total})")
        if not self._astral:
            return unit
        units = 0
        start = 0
        for chunk in self._chunks:
            chunk_units = len(chunk.text) + _count_astral(chunk.text)
            if unit <= units + chunk_units:
                return start + Utf16Map(chunk.text).to_code_point(unit - units)
            units += chunk_units
            start += len(chunk.text)
        return self._len  # pragma: no cover

    # -- editing ---------------------------------------------------------------------------

    def insert(self, pos: int, text: str, origin: Origin | str, ref: str | None = None) -> None:
        """Insert ``text`` at ``pos`` with one origin and ref."""
        n = len(text)
        if not n:
            return
        if not 0 <= pos <= self._len:
            raise IndexError(f"cannot insert at {pos}: the text has {self._len} characters")
        origin = _as_origin(origin)
        idx, start = self._locate(pos)
        chunk = self._chunks[idx]
        off = pos - start
        old = chunk.text
        chunk.text = old[:off] + text + old[off:]
        _runs_insert(chunk.runs, off, n, origin, ref)
        self._len += n
        self._counts[origin] += n
        if not text.isascii():
            self._astral += _count_astral(text)
        if len(chunk.text) > _CHUNK_MAX:
            self._split(idx)

    def insert_fragment(self, pos: int, fragment: Fragment) -> None:
        """Insert a fragment keeping the origin of each of its runs (moves, undo)."""
        text = fragment.text
        if not text:
            return
        if not 0 <= pos <= self._len:
            raise IndexError(f"cannot insert at {pos}: the text has {self._len} characters")
        # Check every origin first, so that a bad fragment changes nothing.
        runs = [(length, _as_origin(origin), ref) for length, origin, ref in fragment.runs]
        offset = 0
        for length, origin, ref in runs:
            self.insert(pos + offset, text[offset : offset + length], origin, ref)
            offset += length

    def delete(self, pos: int, length: int) -> None:
        """Delete ``length`` characters from ``pos``."""
        if length < 0:
            raise ValueError("cannot delete a negative length")
        if not length:
            return
        if pos < 0 or pos + length > self._len:
            raise IndexError(
                f"cannot delete {length} characters at {pos}: the text has {self._len}"
            )
        chunks = self._chunks
        idx, start = self._locate(pos)
        if pos - start == len(chunks[idx].text):  # at the very end of a chunk: begin in the next
            start += len(chunks[idx].text)
            idx += 1
        first_idx, first_start = idx, start
        counts = self._counts
        remaining = length
        off = pos - start
        while remaining:
            chunk = chunks[idx]
            old = chunk.text
            take = min(remaining, len(old) - off)
            if self._astral:
                self._astral -= _count_astral(old[off : off + take])
            chunk.text = old[:off] + old[off + take :]
            _runs_delete(chunk.runs, off, take, counts)
            remaining -= take
            if chunk.text or len(chunks) == 1:
                idx += 1
            else:
                del chunks[idx]
            off = 0
        self._len -= length
        if first_idx >= len(chunks):
            first_idx = len(chunks) - 1
            first_start -= len(chunks[first_idx].text)
        self._cur_idx, self._cur_start = first_idx, first_start
        if len(chunks[first_idx].text) < _CHUNK_MIN and len(chunks) > 1:
            self._merge_small(first_idx)

    def replace(
        self, pos: int, length: int, text: str, origin: Origin | str, ref: str | None = None
    ) -> None:
        """Replace ``length`` characters at ``pos`` with ``text``."""
        origin = _as_origin(origin)  # before deleting, so that a bad origin changes nothing
        self.delete(pos, length)
        self.insert(pos, text, origin, ref)

    def cut(self, pos: int, length: int) -> Fragment:
        """Delete a range and return what was there, with its runs."""
        fragment = self.slice(pos, pos + length)
        self.delete(pos, length)
        return fragment

    def copy(self) -> ProvenanceText:
        return ProvenanceText.from_runs(self.text, self.runs())

    # -- internals -------------------------------------------------------------------------

    def _clamp(self, start: int, end: int) -> tuple[int, int]:
        start = max(0, min(start, self._len))
        return start, max(start, min(end, self._len))

    def _locate(self, pos: int) -> tuple[int, int]:
        """Chunk index and start with ``start <= pos <= start + len(chunk)``; moves the cursor."""
        idx = self._cur_idx
        start = self._cur_start
        chunks = self._chunks
        if pos < start:
            while pos < start:
                idx -= 1
                start -= len(chunks[idx].text)
        else:
            clen = len(chunks[idx].text)
            while pos > start + clen:
                start += clen
                idx += 1
                clen = len(chunks[idx].text)
        self._cur_idx = idx
        self._cur_start = start
        return idx, start

    def _locate_after(self, pos: int) -> tuple[int, int]:
        """Like ``_locate`` but with ``pos`` strictly inside the chunk when ``pos < len``."""
        idx, start = self._locate(pos)
        chunks = self._chunks
        while idx + 1 < len(chunks) and pos >= start + len(chunks[idx].text):
            start += len(chunks[idx].text)
            idx += 1
        return idx, start

    def _split(self, idx: int) -> None:
        chunk = self._chunks[idx]
        pieces = _build_chunks(chunk.text, chunk.runs)
        self._chunks[idx : idx + 1] = pieces
        # The cursor chunk keeps its start; a cursor after it shifts by the new pieces.
        if self._cur_idx > idx:
            self._cur_idx += len(pieces) - 1

    def _merge_small(self, idx: int) -> None:
        chunks = self._chunks
        # Merge with the right neighbour when possible, else with the left one.
        if (
            idx + 1 < len(chunks)
            and len(chunks[idx].text) + len(chunks[idx + 1].text) <= _CHUNK_MAX
        ):
            left, right = idx, idx + 1
        elif idx > 0 and len(chunks[idx - 1].text) + len(chunks[idx].text) <= _CHUNK_MAX:
            left, right = idx - 1, idx
        else:
            return
        a, b = chunks[left], chunks[right]
        if a.runs and b.runs and a.runs[-1][1] is b.runs[0][1] and a.runs[-1][2] == b.runs[0][2]:
            joined = [a.runs[-1][0] + b.runs[0][0], b.runs[0][1], b.runs[0][2]]
            merged_runs = [*a.runs[:-1], joined, *b.runs[1:]]
        else:
            merged_runs = a.runs + b.runs
        merged = _Chunk(a.text + b.text, merged_runs)
        chunks[left : right + 1] = [merged]
        # Keep the cursor valid: point it at the merged chunk.
        if self._cur_idx == right:
            self._cur_idx = left
            self._cur_start -= len(a.text)
        elif self._cur_idx > right:
            self._cur_idx -= 1

    def check_invariants(self) -> None:
        """Raise ``AssertionError`` if the internal structure is inconsistent (for tests)."""
        total = 0
        counts = dict.fromkeys(Origin, 0)
        for chunk in self._chunks:
            assert chunk.text or len(self._chunks) == 1, "empty chunk"
            assert sum(r[0] for r in chunk.runs) == len(chunk.text), "runs do not cover chunk"
            for i, (length, origin, ref) in enumerate(chunk.runs):
                assert length > 0, "empty run"
                assert origin.__class__ is Origin
                counts[origin] += length
                if i:
                    prev = chunk.runs[i - 1]
                    assert not (prev[1] is origin and prev[2] == ref), "unmerged runs"
            total += len(chunk.text)
        assert total == self._len, "length out of step"
        assert counts == self._counts, "counts out of step"
        assert self._astral == _count_astral(self.text), "astral count out of step"
        start = sum(len(c.text) for c in self._chunks[: self._cur_idx])
        assert start == self._cur_start, "cursor out of step"


def _runs_insert(runs: list[list], off: int, n: int, origin: Origin, ref: str | None) -> None:
    count = len(runs)
    if not count:
        runs.append([n, origin, ref])
        return
    i = 0
    acc = 0
    end = runs[0][0]
    while off > end:
        acc = end
        i += 1
        end += runs[i][0]
    run = runs[i]
    if run[1] is origin and run[2] == ref:
        run[0] += n
    elif off == end:
        nxt = runs[i + 1] if i + 1 < count else None
        if nxt is not None and nxt[1] is origin and nxt[2] == ref:
            nxt[0] += n
        else:
            runs.insert(i + 1, [n, origin, ref])
    elif off == acc:
        runs.insert(i, [n, origin, ref])
    else:
        left = off - acc
        runs[i : i + 1] = [
            [left, run[1], run[2]],
            [n, origin, ref],
            [run[0] - left, run[1], run[2]],
        ]


def _runs_delete(runs: list[list], off: int, n: int, counts: dict[Origin, int]) -> None:
    i = 0
    acc = 0
    while acc + runs[i][0] <= off:
        acc += runs[i][0]
        i += 1
    run = runs[i]
    rel = off - acc
    if rel + n < run[0]:
        run[0] -= n
        counts[run[1]] -= n
        return
    removed = run[0] - rel
    counts[run[1]] -= removed
    n -= removed
    run[0] = rel
    j = i + 1
    while n and n >= runs[j][0]:
        counts[runs[j][1]] -= runs[j][0]
        n -= runs[j][0]
        j += 1
    if n:
        runs[j][0] -= n
        counts[runs[j][1]] -= n
    del runs[i + 1 : j]
    if run[0] == 0:
        del runs[i]
        k = i - 1
    else:
        k = i
    if 0 <= k < len(runs) - 1:
        a, b = runs[k], runs[k + 1]
        if a[1] is b[1] and a[2] == b[2]:
            a[0] += b[0]
            del runs[k + 1]


def _build_chunks(text: str, runs: Iterable[Sequence]) -> list[_Chunk]:
    """Cut a text and the runs covering it into chunks of ``_CHUNK_SPLIT`` characters."""
    pieces: list[_Chunk] = []
    run_iter = iter(runs)
    current: list | None = None
    for begin in range(0, len(text), _CHUNK_SPLIT):
        piece_text = text[begin : begin + _CHUNK_SPLIT]
        need = len(piece_text)
        piece_runs: list[list] = []
        while need:
            if current is None:
                length, origin, ref = next(run_iter)
                current = [length, _as_origin(origin), ref]
                if length <= 0:
                    raise ValueError("runs must not be empty")
            take = min(need, current[0])
            if piece_runs and piece_runs[-1][1] is current[1] and piece_runs[-1][2] == current[2]:
                piece_runs[-1][0] += take
            else:
                piece_runs.append([take, current[1], current[2]])
            current[0] -= take
            need -= take
            if not current[0]:
                current = None
        pieces.append(_Chunk(piece_text, piece_runs))
    if current is not None or next(run_iter, None) is not None:
        raise ValueError("runs are longer than the text")
    return pieces
