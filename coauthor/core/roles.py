"""Measured roles: who wrote how much of the book, and how the model's drafts were treated.

Three kinds of figure, all computed from the provenance record, never estimated:

- the final text by origin, in characters and words, per chapter and for the book;
- the process measure: characters freshly inserted over the whole history, by origin
  (typing, accepted model text, pastes, imports), including what was later deleted;
- per generation: its original length, how many of its characters survive, and how many
  characters the author typed inside its passage (between its first and last surviving
  character).

A word belongs to the origin of most of its characters (ties go to the origin of its first
character); a word is a maximal run of non-space characters.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from coauthor.core.book import Chapter
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.provenance import ProvenanceText

__all__ = [
    "GenerationMeasure",
    "book_stats",
    "chapter_stats",
    "generation_measures",
    "words_by_origin",
]

_WIDE_SPACE = re.compile(r"[^\S\x00-\xff]")  # whitespace above U+00FF
_SPACE_MASK = bytes(0x20 if chr(i).isspace() else 0x78 for i in range(256))
_X = 0x78  # b"x": not whitespace


def _by_origin(counts: dict[Origin, int]) -> dict[str, int]:
    return {origin.value: int(counts.get(origin, 0)) for origin in Origin}


def _space_mask(text: str) -> bytes:
    """One byte per code point of ``text``: ``b" "`` where it is whitespace, ``b"x"`` elsewhere.

    Whitespace is what ``\\s`` matches (``str.isspace``), so the words are those of ``\\S+``.
    """
    if text.isascii():
        data = text.encode("ascii")
    else:
        # Whitespace above U+00FF becomes a space; any other character above it becomes "?".
        data = _WIDE_SPACE.sub(" ", text).encode("latin-1", "replace")
    return data.translate(_SPACE_MASK)


def words_by_origin(text: ProvenanceText) -> dict[Origin, int]:
    """Words of the text by origin.

    One pass in C over a one-byte-per-character mask of the text: each stretch of one origin
    counts the words that start in it, then each word that runs across a change of origin
    (rare) is moved to the origin of most of its characters.
    """
    result = dict.fromkeys(Origin, 0)
    spans: list[list] = []  # [start, end, origin], runs of one origin whatever their refs
    pos = 0
    for length, origin, _ in text.runs():
        if spans and spans[-1][2] is origin:
            spans[-1][1] += length
        else:
            spans.append([pos, pos + length, origin])
        pos += length
    if not spans:
        return result
    mask = _space_mask(text.text)
    for start, end, origin in spans:
        if start:
            result[origin] += mask.count(b" x", start - 1, end)
        else:
            result[origin] += mask.count(b" x", 0, end) + (mask[0] == _X)
    word_end = 0
    for i in range(1, len(spans)):
        boundary = spans[i][0]
        if boundary < word_end or mask[boundary - 1] != _X or mask[boundary] != _X:
            continue  # not inside a word, or inside the word just settled
        word_start = mask.rfind(b" ", 0, boundary) + 1
        word_end = mask.find(b" ", boundary)
        if word_end < 0:
            word_end = len(mask)
        first = i - 1
        while spans[first][0] > word_start:
            first -= 1
        tally: dict[Origin, int] = {}  # in order of first appearance in the word
        k = first
        while k < len(spans) and spans[k][0] < word_end:
            start, end, origin = spans[k]
            tally[origin] = tally.get(origin, 0) + min(end, word_end) - max(start, word_start)
            k += 1
        best = max(tally.values())
        result[spans[first][2]] -= 1  # counted above where it starts
        result[next(origin for origin, n in tally.items() if n == best)] += 1
    return result


@dataclass(frozen=True)
class GenerationMeasure:
    id: str
    original: int
    surviving: int
    human_inserted: int

    @property
    def edited_share(self) -> float:
        """Share of the draft the author changed: deleted model text plus typed text."""
        if not self.original:
            return 0.0
        changed = (self.original - self.surviving) + self.human_inserted
        return min(1.0, changed / self.original)


def generation_measures(
    chapters: list[Chapter], generations: dict[str, Generation]
) -> dict[str, GenerationMeasure]:
    """Original, surviving and author-inserted characters for every generation."""
    surviving: Counter[str] = Counter()
    spans: dict[str, tuple[int, int, int]] = {}  # ref -> (chapter id, first, last)
    for chapter in chapters:
        pos = 0
        for length, origin, ref in chapter.text.runs():
            if origin is Origin.AI and ref is not None:
                surviving[ref] += length
                known = spans.get(ref)
                if known is None or known[0] != chapter.id:
                    spans[ref] = (chapter.id, pos, pos + length)
                else:
                    spans[ref] = (chapter.id, known[1], pos + length)
            pos += length
    human_inside: Counter[str] = Counter()
    by_id = {chapter.id: chapter for chapter in chapters}
    for ref, (chapter_id, first, last) in spans.items():
        for length, origin, _ in by_id[chapter_id].text.runs_in(first, last):
            if origin is Origin.HUMAN:
                human_inside[ref] += length
    return {
        gen_id: GenerationMeasure(
            gen_id, len(generation.output), surviving[gen_id], human_inside[gen_id]
        )
        for gen_id, generation in generations.items()
    }


def _review_counts(generations: list[Generation]) -> dict[str, int]:
    counts = dict.fromkeys((state.value for state in ReviewState), 0)
    for generation in generations:
        counts[generation.review_state.value] += 1
    return counts


def chapter_stats(chapter: Chapter, generations: list[Generation]) -> dict[str, object]:
    """The figures of one chapter, with origin keys as lowercase strings."""
    text = chapter.text
    chars = text.counts()
    total = len(text)
    return {
        "id": chapter.id,
        "title": chapter.title,
        "chars": _by_origin(chars),
        "words": _by_origin(words_by_origin(text)),
        "process": {"inserted": _by_origin(chapter.process)},
        "generations": _review_counts(generations),
        "total_chars": total,
        "ai_share": round(chars[Origin.AI] / total, 4) if total else 0.0,
    }


def _sum_maps(maps: list[dict[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for mapping in maps:
        total.update(mapping)
    return {key: int(total[key]) for key in maps[0]} if maps else {}


def book_stats(chapters: list[Chapter], generations: dict[str, Generation]) -> dict[str, object]:
    """The figures of the book and of each chapter, as ``coauthor stats --json`` prints them."""
    by_chapter: dict[int | None, list[Generation]] = {}
    for generation in generations.values():
        by_chapter.setdefault(generation.chapter_id, []).append(generation)
    per_chapter = [chapter_stats(c, by_chapter.get(c.id, [])) for c in chapters]
    empty = _by_origin({})
    chars = _sum_maps([c["chars"] for c in per_chapter]) or empty  # type: ignore[misc]
    words = _sum_maps([c["words"] for c in per_chapter]) or empty  # type: ignore[misc]
    inserted = _sum_maps([c["process"]["inserted"] for c in per_chapter]) or empty  # type: ignore[index]
    total = sum(chars.values())
    measures = generation_measures(chapters, generations)
    book = {
        "chars": chars,
        "words": words,
        "process": {"inserted": inserted},
        "generations": _review_counts(list(generations.values())),
        "total_chars": total,
        "ai_share": round(chars["ai"] / total, 4) if total else 0.0,
        "models": sorted({g.model for g in generations.values()}),
        "generation_measures": [
            {
                "id": m.id,
                "original": m.original,
                "surviving": m.surviving,
                "human_inserted": m.human_inserted,
            }
            for m in measures.values()
        ],
    }
    return {"book": book, "chapters": per_chapter}
