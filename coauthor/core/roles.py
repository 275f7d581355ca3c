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

Every view takes its figures from here, so they agree:

- ``shares`` turns counts into whole percentages that add up to exactly 100 (largest remainder);
  ``percent`` is one part against the rest. Every share printed anywhere is one of these, and
  says what it counts (``CHARACTERS`` or ``WORDS``).
- ``generation_counts`` says what became of the generations of a scope (requested, never
  inserted, inserted, approved, rejected, pending, deleted before review) and how many
  passages of the model remain; ``generation_status`` is the same for one generation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, TypeVar

from coauthor.core.book import Chapter
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.models import models_used
from coauthor.core.origin import Origin
from coauthor.core.provenance import ProvenanceText

__all__ = [
    "CHARACTERS",
    "UNKNOWN_REF",
    "WORDS",
    "GenerationCounts",
    "GenerationMeasure",
    "GenerationStatus",
    "book_stats",
    "chapter_stats",
    "generation_counts",
    "generation_measures",
    "generation_status",
    "in_scope",
    "inserted_generations",
    "percent",
    "shares",
    "surviving_chars",
    "words_by_origin",
]

CHARACTERS = "characters"
"""The unit of every share of the text unless a view says ``WORDS``: the foreword, the tables,
the report's figures and the status bar all give shares of the characters."""
WORDS = "words"
"""The unit of the report's and ``coauthor stats``' second column of shares."""

K = TypeVar("K", bound=Hashable)


# -- shares ----------------------------------------------------------------------------------


def shares(counts: Mapping[K, int], points: int = 100) -> dict[K, int]:
    """Whole percentages of ``counts`` that add up to exactly 100 (all 0 when the total is 0).

    With ``points``, the same rounding hands out that many points instead of 100 (a share
    already rounded, split between its parts so that they add up to it).

    Largest-remainder rounding: each part first gets the whole part of its exact share
    (``100 * count / total``), then the percentage points still missing go one each to the parts
    with the largest remainders. Among them, a non-zero part that would otherwise read 0 comes
    first, so a non-zero share reads 0 % only when more parts are that small than there are
    points to hand out, and a share below 100 % never reads 100 %. Remaining ties go to the part
    listed first. Every result differs from its exact share by less than 1.
    """
    total = sum(counts.values())
    if total <= 0:
        return dict.fromkeys(counts, 0)
    floors = {key: points * n // total for key, n in counts.items()}
    remainders = {key: points * n % total for key, n in counts.items()}  # in units of 1/total
    missing = points - sum(floors.values())
    order = sorted(
        (key for key in counts if remainders[key]),
        key=lambda key: (floors[key] != 0, -remainders[key]),
    )  # stable: ties keep the order of ``counts``
    result = dict(floors)
    for key in order[:missing]:
        result[key] += 1
    return result


def percent(part: int, total: int) -> int:
    """``part`` of ``total`` as a whole percentage: ``shares`` of the part and the rest.

    Never 0 for a non-zero part, never 100 for a part smaller than the total.
    """
    if total <= 0:
        return 0
    return shares({"part": part, "rest": max(0, total - part)})["part"]


# -- generations -----------------------------------------------------------------------------


class GenerationStatus(StrEnum):
    """What became of one generation; each generation has exactly one."""

    NEVER_INSERTED = "never inserted"
    """Only previewed (or failed, or cancelled): none of its text was ever put into the book."""
    PENDING = "pending review"
    """Inserted, not reviewed, and some of its text is in the book: the review gate stops it."""
    APPROVED = "approved"
    """Inserted, and a person approved it (its text may since have been edited or deleted)."""
    REJECTED = "rejected"
    """Inserted, and a person rejected it (which removed its text)."""
    DELETED = "deleted before review"
    """Inserted, not reviewed, and none of its text is left in the book."""

    @property
    def css(self) -> str:
        """A class-name-safe key: ``never-inserted``, ``pending``, ``approved``, ..."""
        return {"pending review": "pending", "deleted before review": "deleted"}.get(
            self.value, self.value.replace(" ", "-")
        )


UNKNOWN_REF = "?"
"""The key ``surviving_chars`` gives model text that names no generation (the review gate's)."""


def surviving_chars(chapters: Iterable[Chapter]) -> Counter[str]:
    """Characters of each generation still in ``chapters`` (by generation id; model text that
    names no generation under ``UNKNOWN_REF``)."""
    surviving: Counter[str] = Counter()
    for chapter in chapters:
        for length, origin, ref in chapter.text.runs():
            if origin is Origin.AI:
                surviving[ref or UNKNOWN_REF] += length
    return surviving


def generation_status(generation: Generation, surviving: int) -> GenerationStatus:
    """What became of ``generation``, ``surviving`` of whose characters are in the book.

    A generation with text in the book was inserted even when its record lacks the time.
    """
    if generation.inserted_at is None and not surviving:
        return GenerationStatus.NEVER_INSERTED
    if generation.review_state is ReviewState.APPROVED:
        return GenerationStatus.APPROVED
    if generation.review_state is ReviewState.REJECTED:
        return GenerationStatus.REJECTED
    return GenerationStatus.PENDING if surviving else GenerationStatus.DELETED


@dataclass(frozen=True)
class GenerationCounts:
    """What became of the generations of a scope: the one definition every view uses.

    ``requested = never_inserted + inserted`` and
    ``inserted = approved + rejected + pending + deleted``; ``awaiting_review`` is what the
    review gate stops and the status bar counts.
    """

    requested: int
    """Every generation asked of a model for the scope, whatever became of it."""
    never_inserted: int
    """Generations only previewed, failed or cancelled: none of their text entered the book."""
    inserted: int
    """Generations whose text was put into the book at least once."""
    approved: int
    """Inserted generations a person approved."""
    rejected: int
    """Inserted generations a person rejected (rejecting removes their text)."""
    pending: int
    """Inserted generations not yet reviewed with text in the book (what the gate stops)."""
    deleted: int
    """Inserted generations not reviewed whose text the author deleted entirely."""
    passages: int
    """The model's passages: generations with at least one character still in the scope's
    text, whatever their review (a rejected or never-inserted generation has none), and the
    ``unrecorded`` ones."""
    unrecorded: int = 0
    """Model text in the scope whose generation the record does not hold, one per generation id
    it names (all such text without an id counting as one): nobody reviewed it, so the gate
    stops it as it stops pending text."""

    @property
    def awaiting_review(self) -> int:
        """The passages the review gate stops: ``pending`` plus ``unrecorded``."""
        return self.pending + self.unrecorded

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def in_scope(
    chapters: Iterable[Chapter], generations: Mapping[str, Generation], surviving: Mapping[str, int]
) -> list[Generation]:
    """The generations of a scope (``chapters``, ``surviving`` counted in them): those asked for
    in one of its chapters, and those with text in it wherever they were asked for."""
    ids = {chapter.id for chapter in chapters}
    return [g for gid, g in generations.items() if surviving.get(gid, 0) > 0 or g.chapter_id in ids]


def inserted_generations(
    generations: Iterable[Generation], surviving: Mapping[str, int]
) -> list[Generation]:
    """The generations of ``generations`` whose text was put into the book (the ones whose
    models the foreword and the tables name)."""
    return [
        g
        for g in generations
        if generation_status(g, surviving.get(g.id, 0)) is not GenerationStatus.NEVER_INSERTED
    ]


def generation_counts(
    generations: Iterable[Generation], surviving: Mapping[str, int]
) -> GenerationCounts:
    """The counts of ``generations``, ``surviving[id]`` of whose characters are in the text.

    ``generations`` must hold every recorded generation with text in ``surviving`` (as
    ``in_scope`` gives them): model text of any other id counts as ``unrecorded``.
    """
    tally: Counter[GenerationStatus] = Counter()
    passages = 0
    known: set[str] = set()
    for generation in generations:
        known.add(generation.id)
        left = surviving.get(generation.id, 0)
        tally[generation_status(generation, left)] += 1
        passages += left > 0
    unrecorded = sum(1 for ref, n in surviving.items() if n > 0 and ref not in known)
    never = tally[GenerationStatus.NEVER_INSERTED]
    return GenerationCounts(
        requested=sum(tally.values()),
        never_inserted=never,
        inserted=sum(tally.values()) - never,
        approved=tally[GenerationStatus.APPROVED],
        rejected=tally[GenerationStatus.REJECTED],
        pending=tally[GenerationStatus.PENDING],
        deleted=tally[GenerationStatus.DELETED],
        passages=passages + unrecorded,
        unrecorded=unrecorded,
    )


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


def words_by_origin(
    text: ProvenanceText, key: Callable[[Origin, str | None], Hashable] | None = None
) -> dict[Any, int]:
    """Words of the text by origin (or by ``key(origin, ref)`` of each run, when given: the
    report counts declared own writing apart from other pasted text).

    One pass in C over a one-byte-per-character mask of the text: each stretch of one origin
    counts the words that start in it, then each word that runs across a change of origin
    (rare) is moved to the origin of most of its characters.
    """
    result: dict[Any, int] = dict.fromkeys(Origin, 0)
    spans: list[list] = []  # [start, end, origin], runs of one origin whatever their refs
    pos = 0
    for length, origin, ref in text.runs():
        part = origin if key is None else key(origin, ref)
        if spans and spans[-1][2] == part:
            spans[-1][1] += length
        else:
            spans.append([pos, pos + length, part])
        pos += length
    if key is not None:
        result = dict.fromkeys((span[2] for span in spans), 0)
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
        tally: dict[Any, int] = {}  # in order of first appearance in the word
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


def chapter_stats(chapter: Chapter, generations: Mapping[str, Generation]) -> dict[str, object]:
    """The figures of one chapter, with origin keys as lowercase strings.

    ``shares`` and ``word_shares`` are ``shares`` of the characters and of the words;
    ``generations`` is ``generation_counts`` of the chapter's generations (``in_scope``).
    """
    text = chapter.text
    chars = text.counts()
    words = words_by_origin(text)
    total = len(text)
    surviving = surviving_chars([chapter])
    return {
        "id": chapter.id,
        "title": chapter.title,
        "chars": _by_origin(chars),
        "words": _by_origin(words),
        "shares": _by_origin(shares(chars)),
        "word_shares": _by_origin(shares(words)),
        "process": {"inserted": _by_origin(chapter.process)},
        "generations": generation_counts(
            in_scope([chapter], generations, surviving), surviving
        ).as_dict(),
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
    per_chapter = [chapter_stats(c, generations) for c in chapters]
    empty = _by_origin({})
    chars = _sum_maps([c["chars"] for c in per_chapter]) or empty  # type: ignore[misc]
    words = _sum_maps([c["words"] for c in per_chapter]) or empty  # type: ignore[misc]
    inserted = _sum_maps([c["process"]["inserted"] for c in per_chapter]) or empty  # type: ignore[index]
    total = sum(chars.values())
    measures = generation_measures(chapters, generations)
    surviving = surviving_chars(chapters)
    scope = in_scope(chapters, generations, surviving)
    book = {
        "chars": chars,
        "words": words,
        "shares": shares(chars),
        "word_shares": shares(words),
        "process": {"inserted": inserted},
        "generations": generation_counts(scope, surviving).as_dict(),
        "total_chars": total,
        "ai_share": round(chars["ai"] / total, 4) if total else 0.0,
        "models": sorted({name for name, _ in models_used(inserted_generations(scope, surviving))}),
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
