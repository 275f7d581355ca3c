"""The passages screening works on: the paragraphs of each chapter, and the hash an override
is recorded against."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from coauthor.core.book import Chapter

__all__ = ["Passage", "passages_from_chapters", "split_passages", "text_hash"]


class Passage(NamedTuple):
    """One paragraph of a chapter: ``text`` is ``chapter text[start:end]`` (code points)."""

    chapter_id: int
    start: int
    end: int
    text: str


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")  # as the exporters split paragraphs


def split_passages(chapter_id: int, text: str) -> list[Passage]:
    """The paragraphs of one chapter's text (blank-line separated), trimmed of outer spaces."""
    passages: list[Passage] = []
    pos = 0
    for bound in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = bound.start() if bound is not None else len(text)
        piece = text[pos:end]
        stripped = piece.strip()
        if stripped:
            start = pos + (len(piece) - len(piece.lstrip()))
            passages.append(Passage(chapter_id, start, start + len(stripped), stripped))
        if bound is not None:
            pos = bound.end()
    return passages


def passages_from_chapters(chapters: Iterable[Chapter]) -> list[Passage]:
    """Every paragraph of every chapter, in order, with positions in its chapter."""
    return [p for chapter in chapters for p in split_passages(chapter.id, chapter.text.text)]


def text_hash(text: str) -> str:
    """The hash an override is recorded against: the first 16 hex digits of SHA-256."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
