"""The review gate: may this scope of the book be exported or shared?

One function, ``check_gate``, decides for every export and share path, in the app and on the
command line. A scope may leave the app only when no generation in it is pending review and no
passage in it is flagged by content screening without a recorded override.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from coauthor.core.book import Chapter
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.origin import Origin

__all__ = [
    "CATEGORIES",
    "Flag",
    "Hit",
    "GateResult",
    "Passage",
    "PendingGeneration",
    "Scope",
    "check_gate",
    "generation_ranges",
    "pending_generations",
    "pending_passages",
]


@dataclass(frozen=True)
class Scope:
    """The book (``chapter_id`` None), one chapter, or a range of one chapter."""

    chapter_id: int | None = None
    start: int | None = None
    end: int | None = None

    @classmethod
    def book(cls) -> Scope:
        return cls()

    @classmethod
    def chapter(cls, chapter_id: int) -> Scope:
        return cls(chapter_id)

    @classmethod
    def selection(cls, chapter_id: int, start: int, end: int) -> Scope:
        return cls(chapter_id, start, end)

    def covers(self, chapter_id: int, start: int, end: int) -> bool:
        if self.chapter_id is None:
            return True
        if chapter_id != self.chapter_id:
            return False
        lo = 0 if self.start is None else self.start
        hi = end if self.end is None else self.end
        return start < hi and end > lo


CATEGORIES: dict[str, str] = {
    "political-campaigning": "Political campaigning",
    "sexual": "Sexual content",
    "spam": "Spam",
    "hate": "Hate",
    "harassment": "Harassment",
    "violence": "Violence or incitement",
    "self-harm": "Self-harm",
    "other-harm": "Other social harm",
}


@dataclass(frozen=True)
class Hit:
    """Why a passage is flagged: the category and what matched, or what the service said."""

    category: str
    phrase: str
    source: str = "offline"

    @property
    def reason(self) -> str:
        label = CATEGORIES.get(self.category, self.category)
        if self.source == "offline":
            return f"{label}: “{self.phrase}” (offline phrase list)"
        return f"{label}: {self.phrase}"


@dataclass(frozen=True)
class Flag:
    """A passage flagged by content screening; ``override`` is the author's recorded reason."""

    chapter_id: int
    start: int
    end: int
    categories: tuple[str, ...]
    override: str = ""
    source: str = ""  # "offline" or "openai"
    text_hash: str = ""  # of the passage's text, so an override follows the text, not positions
    override_by: str = ""
    override_at: int = 0


@dataclass(frozen=True)
class Passage:
    chapter_id: int
    chapter_number: int
    chapter_title: str
    start: int
    end: int
    reason: str  # "pending" or "flagged"
    detail: str
    excerpt: str

    def line(self) -> str:
        """One line for the CLI and the exports' refusal: where the passage is, in characters."""
        return (
            f"chapter {self.chapter_number} ({self.chapter_title}), characters "
            f"{self.start}-{self.end}: {self.detail}: “{self.excerpt}”"
        )

    def summary(self) -> str:
        """The passage as an author finds it (the refusal dialog): its chapter and its first
        words, then why it is in the way; ``line`` gives its place in characters."""
        words = self.excerpt.removesuffix("…").split()
        first = " ".join(words[:8]) + ("…" if len(words) > 8 or self.excerpt.endswith("…") else "")
        return f"{self.chapter_title} (chapter {self.chapter_number}): “{first}” — {self.detail}"


@dataclass(frozen=True)
class GateResult:
    passages: list[Passage] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.passages

    def message(self) -> str:
        if self.allowed:
            return "Nothing in this scope is pending review or flagged."
        count = len(self.passages)
        return (
            f"{count} passage{'s' if count != 1 else ''} must be reviewed before this can leave "
            "Coauthor:\n" + "\n".join(p.line() for p in self.passages)
        )


def _excerpt(chapter: Chapter, start: int, end: int) -> str:
    text = chapter.text.text_in(start, min(end, start + 60)).replace("\n", " ")
    return text + ("…" if end - start > 60 else "")


def generation_ranges(chapter: Chapter, generation_id: str) -> list[tuple[int, int]]:
    """The ranges of a chapter that hold a generation's surviving characters."""
    ranges: list[tuple[int, int]] = []
    pos = 0
    for length, origin, ref in chapter.text.runs():
        if origin is Origin.AI and ref == generation_id:
            if ranges and ranges[-1][1] == pos:
                ranges[-1] = (ranges[-1][0], pos + length)
            else:
                ranges.append((pos, pos + length))
        pos += length
    return ranges


def pending_passages(
    chapters: Iterable[Chapter], generations: dict[str, Generation]
) -> list[tuple[int, Chapter, int, int, str]]:
    """(chapter number, chapter, start, end, generation id) for each stretch of pending text.

    AI text whose generation the record does not hold is pending too: nobody reviewed it.
    """
    found = []
    for number, chapter in enumerate(chapters, 1):
        pos = 0
        for length, origin, ref in chapter.text.runs():
            if origin is not Origin.AI:
                pos += length
                continue
            ref = ref or "?"
            generation = generations.get(ref)
            if generation is None or generation.review_state is ReviewState.PENDING:
                last = found[-1] if found else None
                if last and last[1] is chapter and last[3] == pos and last[4] == ref:
                    found[-1] = (number, chapter, last[2], pos + length, ref)
                else:
                    found.append((number, chapter, pos, pos + length, ref))
            pos += length
    return found


@dataclass(frozen=True)
class PendingGeneration:
    """A generation pending review whose text is in the book: the stretches of its text in
    the first chapter that holds any (in reading order)."""

    generation_id: str
    chapter_number: int
    chapter: Chapter
    stretches: tuple[tuple[int, int], ...]

    @property
    def start(self) -> int:
        return self.stretches[0][0]

    @property
    def end(self) -> int:
        return self.stretches[-1][1]


def pending_generations(
    chapters: Iterable[Chapter], generations: dict[str, Generation]
) -> list[PendingGeneration]:
    """``pending_passages`` grouped by generation, in reading order: what the review queue
    and ``coauthor review`` list, one entry per generation."""
    grouped: dict[str, tuple[int, Chapter, list[tuple[int, int]]]] = {}
    for number, chapter, start, end, ref in pending_passages(chapters, generations):
        entry = grouped.setdefault(ref, (number, chapter, []))
        if entry[1] is chapter:
            entry[2].append((start, end))
    return [
        PendingGeneration(ref, number, chapter, tuple(stretches))
        for ref, (number, chapter, stretches) in grouped.items()
    ]


def check_gate(
    chapters: list[Chapter],
    generations: dict[str, Generation],
    scope: Scope | None = None,
    flags: Iterable[Flag] = (),
) -> GateResult:
    """Whether ``scope`` may be exported or shared, and if not, every passage in the way."""
    scope = scope or Scope.book()
    passages: list[Passage] = []
    for number, chapter, start, end, ref in pending_passages(chapters, generations):
        if scope.covers(chapter.id, start, end):
            generation = generations.get(ref)
            passages.append(
                Passage(
                    chapter.id,
                    number,
                    chapter.title,
                    start,
                    end,
                    "pending",
                    f"generation {ref} ({generation.model}) is pending review"
                    if generation is not None
                    else f"AI text of generation {ref}, which the record does not hold, "
                    "counts as pending review",
                    _excerpt(chapter, start, end),
                )
            )
    numbers = {chapter.id: (n, chapter) for n, chapter in enumerate(chapters, 1)}
    for flag in flags:
        if flag.override or flag.chapter_id not in numbers:
            continue
        if scope.covers(flag.chapter_id, flag.start, flag.end):
            number, chapter = numbers[flag.chapter_id]
            passages.append(
                Passage(
                    chapter.id,
                    number,
                    chapter.title,
                    flag.start,
                    flag.end,
                    "flagged",
                    "flagged by content screening (" + ", ".join(flag.categories) + ")",
                    _excerpt(chapter, flag.start, flag.end),
                )
            )
    passages.sort(key=lambda p: (p.chapter_number, p.start))
    return GateResult(passages)
