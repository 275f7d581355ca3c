"""Declarations: text the author pastes and declares their own writing (Paste as My Own Writing).

Pasted text is of unknown authorship. An author who pastes their own earlier draft, or
dictation from another program, may declare it their own writing. The declaration is a fact in
the chain (``op: declare``: its id, time, the SHA-256 and length of the text declared, who
declared it), and the pasted run's ref names it, so the text stays ``pasted`` while its claim
is backed by the record: the strict replay checks that a pasted insertion naming a declaration
inserts exactly the text that declaration names, and ``verify`` that every pasted run with a
ref names one the chain holds.

A declaration is the author's statement, recorded; it is not proof of who wrote the text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from coauthor.core.book import Chapter
from coauthor.core.origin import Origin

__all__ = [
    "DECLARATION_KINDS",
    "OWN_WRITING",
    "Declaration",
    "declaration_payload",
    "declared_chars",
    "text_sha256",
    "undeclared_pasted_text",
]

OWN_WRITING = "own-writing"
"""The one kind of declaration: the author declares the pasted text their own writing."""
DECLARATION_KINDS = (OWN_WRITING,)


@dataclass(frozen=True)
class Declaration:
    """One declaration as the chain records it (``seq``: its event)."""

    id: str
    time: int
    sha256: str
    length: int
    kind: str = OWN_WRITING
    by: str = ""
    seq: int = 0

    def matches(self, text: str) -> bool:
        """Whether ``text`` is the text this declaration names."""
        return len(text) == self.length and text_sha256(text) == self.sha256


def text_sha256(text: str) -> str:
    """SHA-256 (hex) of a text's UTF-8 bytes (lone surrogates kept as they are)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def declaration_payload(declaration: Declaration) -> dict[str, object]:
    """The chain event's payload for ``declaration``."""
    return {
        "op": "declare",
        "id": declaration.id,
        "kind": declaration.kind,
        "sha256": declaration.sha256,
        "length": declaration.length,
        "by": declaration.by,
    }


def declared_chars(chapters: Iterable[Chapter]) -> int:
    """Characters of ``chapters`` pasted under a declaration of the author's own writing."""
    return sum(
        length
        for chapter in chapters
        for length, origin, ref in chapter.text.runs()
        if origin is Origin.PASTED and ref is not None
    )


def undeclared_pasted_text(
    chapters: Iterable[Chapter], declarations: Mapping[str, Declaration]
) -> list[tuple[Chapter, int, int, str]]:
    """Pasted text naming a declaration the chain does not hold: (chapter, start, end, ref)."""
    found = []
    for chapter in chapters:
        pos = 0
        for length, origin, ref in chapter.text.runs():
            if origin is Origin.PASTED and ref is not None and ref not in declarations:
                found.append((chapter, pos, pos + length, ref))
            pos += length
    return found
