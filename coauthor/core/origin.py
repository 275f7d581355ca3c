"""Where a character came from: the four origins every character of a book carries."""

from __future__ import annotations

from enum import StrEnum


class Origin(StrEnum):
    """The origin of a character.

    ``HUMAN`` was typed in the editor, ``AI`` was inserted from a generation (its ref is the
    generation id), ``PASTED`` came from outside the app (author unknown) and ``IMPORTED`` came
    from an imported file (its ref is the import id).
    """

    HUMAN = "human"
    AI = "ai"
    PASTED = "pasted"
    IMPORTED = "imported"

    @property
    def code(self) -> str:
        """A one-letter code used where space matters (the edit log on disk)."""
        return _CODES[self]

    @classmethod
    def from_code(cls, code: str) -> Origin:
        return _FROM_CODE[code]


_CODES = {Origin.HUMAN: "h", Origin.AI: "a", Origin.PASTED: "p", Origin.IMPORTED: "i"}
_FROM_CODE = {code: origin for origin, code in _CODES.items()}

ORIGINS: tuple[Origin, ...] = tuple(Origin)
