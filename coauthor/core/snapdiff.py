"""The differences between two versions of a chapter, with the origin of every changed character.

``diff_fragments`` compares two ``Fragment``s (text and runs): paragraphs first, then the words
inside paragraphs that changed (``difflib``), so a chapter of a million characters compares in
well under a second. Text that is the same in both but changed origin (an AI passage the
author later retyped word for word) is a change too. ``describe_changes`` writes them out for
the terminal, each side split by origin.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from coauthor.core.origin import Origin
from coauthor.core.provenance import EMPTY_FRAGMENT, Fragment

__all__ = [
    "Change",
    "ChangeKind",
    "ORIGIN_WORDS",
    "common_ends",
    "describe_changes",
    "diff_fragments",
    "origin_label",
]

ORIGIN_WORDS = {
    Origin.HUMAN: "typed",
    Origin.AI: "generated",
    Origin.PASTED: "pasted",
    Origin.IMPORTED: "imported",
}

_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")
_REFINE_MAX_TOKENS = 20_000
"""Past this many words either side, a changed block is shown whole (difflib is quadratic)."""


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    REPLACED = "replaced"
    RELABELLED = "relabelled"
    """The same text, with other origins."""


@dataclass(frozen=True)
class Change:
    """``old[old_start:old_end]`` became ``new[new_start:new_end]`` (code points)."""

    old_start: int
    old_end: int
    new_start: int
    new_end: int
    old: Fragment
    new: Fragment

    @property
    def kind(self) -> ChangeKind:
        if not self.old.text:
            return ChangeKind.ADDED
        if not self.new.text:
            return ChangeKind.REMOVED
        if self.old.text == self.new.text:
            return ChangeKind.RELABELLED
        return ChangeKind.REPLACED


class _Side:
    """A fragment with its run starts and one label character per character, for fast slices
    and comparisons of origins."""

    def __init__(self, fragment: Fragment, labels: dict[tuple[Origin, str | None], str]) -> None:
        self.fragment = fragment
        self.starts: list[int] = []
        parts: list[str] = []
        pos = 0
        for length, origin, ref in fragment.runs:
            self.starts.append(pos)
            label = labels.setdefault((origin, ref), chr(0xE000 + len(labels)))
            parts.append(label * length)
            pos += length
        self.labels = "".join(parts)

    def sub(self, start: int, end: int) -> Fragment:
        if end <= start:
            return EMPTY_FRAGMENT
        runs = self.fragment.runs
        first = max(0, bisect.bisect_right(self.starts, start) - 1)
        last = bisect.bisect_left(self.starts, end)
        picked: list[tuple[int, Origin, str | None]] = []
        for index in range(first, last):
            length, origin, ref = runs[index]
            lo, hi = max(self.starts[index], start), min(self.starts[index] + length, end)
            if hi > lo:
                picked.append((hi - lo, origin, ref))
        return Fragment(self.fragment.text[start:end], tuple(picked))

    def boundaries(self, start: int, end: int) -> list[int]:
        """Run starts strictly inside ``start``..``end``, relative to ``start``."""
        lo = bisect.bisect_right(self.starts, start)
        hi = bisect.bisect_left(self.starts, end)
        return [s - start for s in self.starts[lo:hi]]


def diff_fragments(old: Fragment, new: Fragment) -> list[Change]:
    """What changed from ``old`` to ``new``, in order: text added, removed or replaced, and text
    kept whose origins changed."""
    labels: dict[tuple[Origin, str | None], str] = {}
    a, b = _Side(old, labels), _Side(new, labels)
    spans: list[tuple[int, int, int, int]] = []
    for tag, a0, a1, b0, b1 in _opcodes(old.text, new.text):
        found = _relabelled(a, b, a0, b0, a1 - a0) if tag == "equal" else [(a0, a1, b0, b1)]
        for span in found:
            if spans and spans[-1][1] == span[0] and spans[-1][3] == span[2]:
                spans[-1] = (spans[-1][0], span[1], spans[-1][2], span[3])  # one change
            else:
                spans.append(span)
    return [Change(a0, a1, b0, b1, a.sub(a0, a1), b.sub(b0, b1)) for a0, a1, b0, b1 in spans]


def _opcodes(old: str, new: str) -> Iterator[tuple[str, int, int, int, int]]:
    """``difflib`` opcodes in character offsets: by paragraph, then by word inside changes."""
    a_lines, b_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    a_at, b_at = _offsets(a_lines), _offsets(b_lines)
    matcher = difflib.SequenceMatcher(None, a_lines, b_lines, autojunk=False)
    for tag, i0, i1, j0, j1 in matcher.get_opcodes():
        a0, a1, b0, b1 = a_at[i0], a_at[i1], b_at[j0], b_at[j1]
        if tag != "replace":
            yield tag, a0, a1, b0, b1
            continue
        yield from _word_opcodes(old[a0:a1], new[b0:b1], a0, b0)


def _word_opcodes(
    old: str, new: str, a_base: int, b_base: int
) -> Iterator[tuple[str, int, int, int, int]]:
    a_words, b_words = _TOKENS.findall(old), _TOKENS.findall(new)
    if max(len(a_words), len(b_words)) > _REFINE_MAX_TOKENS:
        yield "replace", a_base, a_base + len(old), b_base, b_base + len(new)
        return
    a_at, b_at = _offsets(a_words), _offsets(b_words)
    matcher = difflib.SequenceMatcher(None, a_words, b_words, autojunk=False)
    pending: tuple[int, int, int, int] | None = None
    for tag, i0, i1, j0, j1 in matcher.get_opcodes():
        a0, a1 = a_base + a_at[i0], a_base + a_at[i1]
        b0, b1 = b_base + b_at[j0], b_base + b_at[j1]
        if tag == "equal":
            if pending is not None:
                yield "replace", *pending
                pending = None
            yield tag, a0, a1, b0, b1
        elif pending is None:
            pending = (a0, a1, b0, b1)
        else:  # neighbouring changes read as one
            pending = (pending[0], a1, pending[2], b1)
    if pending is not None:
        yield "replace", *pending


def _offsets(parts: list[str]) -> list[int]:
    offsets = [0]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return offsets


def _relabelled(a: _Side, b: _Side, a0: int, b0: int, n: int) -> list[tuple[int, int, int, int]]:
    """The parts of equal text ``a[a0:a0+n]`` / ``b[b0:b0+n]`` whose origins differ."""
    if n <= 0 or a.labels[a0 : a0 + n] == b.labels[b0 : b0 + n]:
        return []
    cuts = sorted({0, n, *a.boundaries(a0, a0 + n), *b.boundaries(b0, b0 + n)})
    found: list[tuple[int, int, int, int]] = []
    for lo, hi in itertools.pairwise(cuts):
        if a.labels[a0 + lo] == b.labels[b0 + lo]:
            continue
        if found and found[-1][1] == a0 + lo:
            last = found[-1]
            found[-1] = (last[0], a0 + hi, last[2], b0 + hi)
        else:
            found.append((a0 + lo, a0 + hi, b0 + lo, b0 + hi))
    return found


def common_ends(old: Fragment, new: Fragment) -> tuple[int, int]:
    """How many characters ``old`` and ``new`` share at their start and at their end, with the
    same origins (so putting ``new`` in place of ``old`` needs only the part between)."""
    labels: dict[tuple[Origin, str | None], str] = {}
    a, b = _Side(old, labels), _Side(new, labels)
    limit = min(len(old.text), len(new.text))
    prefix = _shared_prefix(old.text, new.text, limit)
    prefix = _shared_prefix(a.labels, b.labels, prefix)
    rest = limit - prefix
    suffix = _shared_prefix(old.text[::-1], new.text[::-1], rest)
    suffix = _shared_prefix(a.labels[::-1], b.labels[::-1], suffix)
    return prefix, suffix


def _shared_prefix(a: str, b: str, limit: int) -> int:
    """The length of the longest common prefix of ``a`` and ``b``, at most ``limit`` (binary
    search over slice comparisons: C speed, not a Python loop per character)."""
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def origin_label(origin: Origin, ref: str | None) -> str:
    word = ORIGIN_WORDS[origin]
    return f"{word} ({ref})" if ref and origin in (Origin.AI, Origin.IMPORTED) else word


def _quote(text: str, limit: int = 200) -> str:
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return json.dumps(text, ensure_ascii=False)


def describe_changes(changes: list[Change]) -> list[str]:
    """Lines for the terminal: each change's place, then each side by origin (``-`` old, ``+``
    new, ``~`` for text whose origin changed)."""
    lines: list[str] = []
    for change in changes:
        kind = change.kind
        lines.append(
            f"@ {kind} at {change.old_start}-{change.old_end} -> "
            f"{change.new_start}-{change.new_end}"
        )
        marks = ("~", "~") if kind is ChangeKind.RELABELLED else ("-", "+")
        for mark, fragment in zip(marks, (change.old, change.new), strict=True):
            pos = 0
            for length, origin, ref in fragment.runs:
                piece = fragment.text[pos : pos + length]
                lines.append(f"  {mark} {origin_label(origin, ref)}: {_quote(piece)}")
                pos += length
    return lines
