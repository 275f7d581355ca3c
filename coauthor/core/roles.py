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

_WORD = re.compile(r"\S+")
_CODE_TO_ORIGIN = {origin.code: origin for origin in Origin}


def _by_origin(counts: dict[Origin, int]) -> dict[str, int]:
    return {origin.value: int(counts.get(origin, 0)) for origin in Origin}


def words_by_origin(text: ProvenanceText) -> dict[Origin, int]:
    """Words of the text by origin."""
    result = dict.fromkeys(Origin, 0)
    runs = list(text.runs())
    if len(runs) == 1:
        result[runs[0][1]] = len(_WORD.findall(text.text))
        return result
    codes = text.origin_codes()
    plain = text.text
    for match in _WORD.finditer(plain):
        start, end = match.span()
        span = codes[start:end]
        first = span[0]
        if span.count(first) == len(span):
            result[_CODE_TO_ORIGIN[first]] += 1
        else:
            tally = Counter(span)
            best = max(tally.values())
            winner = first if tally[first] == best else next(c for c in span if tally[c] == best)
            result[_CODE_TO_ORIGIN[winner]] += 1
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
