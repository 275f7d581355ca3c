"""Positions in UTF-16 code units (Qt, JavaScript, Quill) versus Python code points.

Every position that crosses such a boundary goes through these helpers, so an emoji or any
other character outside the Basic Multilingual Plane never shifts provenance by one.
"""

from __future__ import annotations

from bisect import bisect_left

__all__ = ["Utf16Map"]


class Utf16Map:
    """Converts positions in one string between code points and UTF-16 code units.

    Building it costs one scan of the string; each conversion is then a binary search over
    the positions of astral characters (none at all for most prose).
    """

    __slots__ = ("_astral", "_length")

    def __init__(self, text: str) -> None:
        self._length = len(text)
        if text.isascii() or max(text) <= "\uffff":
            self._astral: list[int] = []
        else:
            self._astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]

    @property
    def is_identity(self) -> bool:
        return not self._astral

    def to_utf16(self, pos: int) -> int:
        """UTF-16 offset of code point position ``pos``."""
        if not 0 <= pos <= self._length:
            raise IndexError(f"position {pos} is outside the text (length {self._length})")
        return pos + bisect_left(self._astral, pos)

    def to_code_point(self, unit: int) -> int:
        """Code point position of UTF-16 offset ``unit``.

        An offset that falls between the two halves of a surrogate pair maps to the start of
        that character, so a selection can never split an emoji.
        """
        if unit < 0:
            raise IndexError(f"UTF-16 offset {unit} is negative")
        astral = self._astral
        if not astral:
            pos = unit
        else:
            # Find the number k of astral characters before the result: the largest k with
            # astral[k-1] + (k-1) + 2 <= unit, i.e. astral[k-1] + k + 1 <= unit.
            lo, hi = 0, len(astral)
            while lo < hi:
                mid = (lo + hi) // 2
                if astral[mid] + mid + 2 <= unit:
                    lo = mid + 1
                else:
                    hi = mid
            pos = unit - lo
            if lo < len(astral) and astral[lo] < pos:
                pos = astral[lo]  # inside a surrogate pair
        if pos > self._length:
            raise IndexError(f"UTF-16 offset {unit} is past the end of the text")
        return pos
