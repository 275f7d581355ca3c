"""Measured roles for publishing, and the category publishers ask about.

Figures come from the provenance record only:

- the share of the final text by origin (characters);
- how much of the model's drafts the author changed: for the generations whose text is in the
  book, (characters of the draft deleted + characters typed inside it) / draft length;
- the models used, with their providers;
- generations requested, inserted, approved, rejected and pending.

Classification (documented in ``docs/publishing.md``):

- **no AI-generated text**: no character of the final text is ``ai``;
- **entire work** when AI text is at least ``ENTIRE_SHARE`` (50 %) of the final text, or
  appears in at least ``ENTIRE_CHAPTERS`` (80 %) of the chapters; otherwise **some sections**;
- **extensive editing** when the author changed at least ``EXTENSIVE_EDIT`` (25 %) of the
  model's drafts; otherwise **minimal editing**.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from coauthor.core.book import Chapter
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.roles import GenerationMeasure, generation_measures

__all__ = [
    "ENTIRE_CHAPTERS",
    "ENTIRE_SHARE",
    "EXTENSIVE_EDIT",
    "Category",
    "Roles",
    "classify",
    "measure_roles",
    "percent",
]

ENTIRE_SHARE = 0.5
ENTIRE_CHAPTERS = 0.8
EXTENSIVE_EDIT = 0.25


class Category(StrEnum):
    NONE = "none"
    SOME_MINIMAL = "some-minimal"
    SOME_EXTENSIVE = "some-extensive"
    ENTIRE_MINIMAL = "entire-minimal"
    ENTIRE_EXTENSIVE = "entire-extensive"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Category.NONE: "No AI-generated text",
    Category.SOME_MINIMAL: "Some sections AI-generated, with minimal editing",
    Category.SOME_EXTENSIVE: "Some sections AI-generated, with extensive editing",
    Category.ENTIRE_MINIMAL: "The entire work AI-generated, with minimal editing",
    Category.ENTIRE_EXTENSIVE: "The entire work AI-generated, with extensive editing",
}


def percent(part: int, total: int) -> int:
    """``part`` of ``total`` as a whole percentage that never reads 0 for some or 100 for part."""
    if not total:
        return 0
    share = part / total
    value = round(100 * share)
    if share > 0 and value == 0:
        return 1
    if share < 1 and value == 100:
        return 99
    return value


@dataclass
class Roles:
    """The measured roles of a scope (the book or one chapter)."""

    chars: dict[Origin, int]
    drafted: int  # characters of model drafts inserted (original lengths)
    surviving: int  # of which still in the text
    typed_inside: int  # characters the author typed inside model passages
    models: list[tuple[str, str]]  # (model, provider)
    requested: int
    inserted: int
    approved: int
    rejected: int
    pending: int
    chapters_with_ai: int = 0
    chapters: int = 1
    per_generation: list[GenerationMeasure] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.chars.values())

    def share(self, origin: Origin) -> float:
        return self.chars[origin] / self.total if self.total else 0.0

    def percent(self, origin: Origin) -> int:
        """A whole percentage, never rounding a non-zero share down to 0 or a partial one to 100."""
        return percent(self.chars[origin], self.total)

    @property
    def edited_share(self) -> float:
        if not self.drafted:
            return 0.0
        return min(1.0, (self.drafted - self.surviving + self.typed_inside) / self.drafted)

    @property
    def reviewed(self) -> int:
        return self.approved + self.rejected

    @property
    def category(self) -> Category:
        return classify(self)


def classify(roles: Roles) -> Category:
    if not roles.chars.get(Origin.AI):
        return Category.NONE
    entire = roles.share(Origin.AI) >= ENTIRE_SHARE or (
        roles.chapters > 1 and roles.chapters_with_ai / roles.chapters >= ENTIRE_CHAPTERS
    )
    extensive = roles.edited_share >= EXTENSIVE_EDIT
    if entire:
        return Category.ENTIRE_EXTENSIVE if extensive else Category.ENTIRE_MINIMAL
    return Category.SOME_EXTENSIVE if extensive else Category.SOME_MINIMAL


def measure_roles(chapters: list[Chapter], generations: dict[str, Generation]) -> Roles:
    """Roles of the given chapters (the whole book, or one chapter in a list of one)."""
    chars = dict.fromkeys(Origin, 0)
    with_ai = 0
    present: set[str] = set()
    for chapter in chapters:
        counts = chapter.text.counts()
        for origin, n in counts.items():
            chars[origin] += n
        if counts[Origin.AI]:
            with_ai += 1
        for _, origin, ref in chapter.text.runs():
            if origin is Origin.AI and ref:
                present.add(ref)
    ids = {c.id for c in chapters}
    in_scope = {gid: g for gid, g in generations.items() if gid in present or g.chapter_id in ids}
    measures = generation_measures(
        chapters, {gid: g for gid, g in in_scope.items() if gid in present}
    )
    drafted = sum(m.original for m in measures.values())
    surviving = sum(m.surviving for m in measures.values())
    typed = sum(m.human_inserted for m in measures.values())
    used = sorted(
        {(g.model, g.provider) for gid, g in in_scope.items() if gid in present or g.inserted_at}
    )
    states = [g.review_state for g in in_scope.values() if g.inserted_at is not None]
    return Roles(
        chars=chars,
        drafted=drafted,
        surviving=surviving,
        typed_inside=typed,
        models=used,
        requested=len(in_scope),
        inserted=len(states),
        approved=states.count(ReviewState.APPROVED),
        rejected=states.count(ReviewState.REJECTED),
        pending=states.count(ReviewState.PENDING),
        chapters_with_ai=with_ai,
        chapters=len(chapters),
        per_generation=list(measures.values()),
    )
