"""Measured roles for publishing, and the category publishers ask about.

Figures come from the provenance record only, through ``coauthor.core.roles``:

- the share of the final text by origin, in whole percentages of the characters that add up to
  100 (``coauthor.core.roles.shares``, largest remainder);
- how much of the model's drafts the author changed: for the generations whose text is in the
  book, (characters of the draft deleted + characters typed inside it) / draft length;
- the models used, with their providers, each model named by ``model_identity``;
- the generation counts of ``coauthor.core.roles.generation_counts`` (requested, inserted,
  approved, rejected, pending, deleted before review, never inserted, and the passages: the
  generations with text in the scope).

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
from coauthor.core.declarations import declared_chars
from coauthor.core.generation import Generation
from coauthor.core.models import models_used
from coauthor.core.origin import Origin
from coauthor.core.roles import (
    CHARACTERS,
    GenerationCounts,
    GenerationMeasure,
    generation_counts,
    generation_measures,
    in_scope,
    inserted_generations,
    percent,
    shares,
    surviving_chars,
)

__all__ = [
    "ENTIRE_CHAPTERS",
    "ENTIRE_SHARE",
    "EXTENSIVE_EDIT",
    "ROLE_CAPTION",
    "ROLE_HEADERS",
    "CHARACTERS",
    "Category",
    "Roles",
    "classify",
    "measure_roles",
    "percent",
    "role_cells",
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


@dataclass
class Roles:
    """The measured roles of a scope (the book or one chapter).

    The generation counts are those of ``GenerationCounts`` (see there what each counts).
    """

    chars: dict[Origin, int]
    drafted: int  # characters of model drafts inserted (original lengths)
    surviving: int  # of which still in the text
    typed_inside: int  # characters the author typed inside model passages
    models: list[tuple[str, str]]  # (model identity, provider)
    requested: int
    inserted: int
    approved: int
    rejected: int
    pending: int
    chapters_with_ai: int = 0
    chapters: int = 1
    per_generation: list[GenerationMeasure] = field(default_factory=list)
    deleted: int = 0
    never_inserted: int = 0
    passages: int = 0
    unrecorded: int = 0
    declared: int = 0
    """Characters of ``chars[PASTED]`` the author pasted and declared their own writing
    (``core.declarations``): a declaration recorded in the chain, not a proof."""

    unit = CHARACTERS
    """What the shares are shares of."""

    @property
    def total(self) -> int:
        return sum(self.chars.values())

    def share(self, origin: Origin) -> float:
        return self.chars[origin] / self.total if self.total else 0.0

    @property
    def percents(self) -> dict[Origin, int]:
        """Whole percentages of the characters by origin, adding up to 100 (``shares``)."""
        return shares({origin: self.chars.get(origin, 0) for origin in Origin})

    def percent(self, origin: Origin) -> int:
        """The origin's whole percentage of the characters, as ``percents`` gives it."""
        return self.percents[origin]

    @property
    def elsewhere_percent(self) -> int:
        """Pasted and imported text together, as the tables show them: the sum of their
        ``percents``, so that a row still adds up to 100."""
        percents = self.percents
        return percents[Origin.PASTED] + percents[Origin.IMPORTED]

    @property
    def pasted_split(self) -> tuple[int, int]:
        """The pasted share (``percents[PASTED]``) split into (pasted from elsewhere, declared
        the author's own writing), whole percentages adding up to it (``shares`` of its
        points), so every share of the text still adds up to 100."""
        points = self.percents[Origin.PASTED]
        pasted = self.chars[Origin.PASTED]
        declared = min(self.declared, pasted)
        split = shares({"elsewhere": pasted - declared, "declared": declared}, points)
        return split["elsewhere"], split["declared"]

    @property
    def changed(self) -> int:
        """Characters of the model's drafts the author changed (deleted, or typed inside)."""
        return min(self.drafted, self.drafted - self.surviving + self.typed_inside)

    @property
    def edited_share(self) -> float:
        if not self.drafted:
            return 0.0
        return self.changed / self.drafted

    @property
    def edited_percent(self) -> int:
        """The share of the drafts the author changed as a whole percentage (``percent``)."""
        return percent(self.changed, self.drafted)

    @property
    def counts(self) -> GenerationCounts:
        return GenerationCounts(
            requested=self.requested,
            never_inserted=self.never_inserted,
            inserted=self.inserted,
            approved=self.approved,
            rejected=self.rejected,
            pending=self.pending,
            deleted=self.deleted,
            passages=self.passages,
            unrecorded=self.unrecorded,
        )

    @property
    def reviewed(self) -> int:
        return self.approved + self.rejected

    @property
    def category(self) -> Category:
        return classify(self)


ROLE_HEADERS = ("Chapter", "By the author", "By the model", "Pasted or imported", "Passages")
"""The columns of the foreword's table of roles, in every format: shares of the characters
(``Roles.percents``, the row adds up to 100 %) and the model's passages that remain."""


ROLE_CAPTION = (
    "Who wrote each chapter, as a share of its characters, and how many of the model's "
    "passages remain in it"
)
"""The caption of the foreword's table of roles: it names the unit of its shares."""


def role_cells(roles: Roles) -> list[str]:
    """One row of the foreword's table after its label: ``ROLE_HEADERS[1:]``."""
    return [
        f"{roles.percent(Origin.HUMAN)}%",
        f"{roles.percent(Origin.AI)}%",
        f"{roles.elsewhere_percent}%",
        str(roles.passages),
    ]


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
    for chapter in chapters:
        counts = chapter.text.counts()
        for origin, n in counts.items():
            chars[origin] += n
        if counts[Origin.AI]:
            with_ai += 1
    surviving = surviving_chars(chapters)
    scope = in_scope(chapters, generations, surviving)
    measures = generation_measures(chapters, {g.id: g for g in scope if surviving.get(g.id, 0) > 0})
    counts = generation_counts(scope, surviving)
    declared = declared_chars(chapters) if chars[Origin.PASTED] else 0
    return Roles(
        chars=chars,
        drafted=sum(m.original for m in measures.values()),
        surviving=sum(m.surviving for m in measures.values()),
        typed_inside=sum(m.human_inserted for m in measures.values()),
        models=models_used(inserted_generations(scope, surviving)),
        requested=counts.requested,
        inserted=counts.inserted,
        approved=counts.approved,
        rejected=counts.rejected,
        pending=counts.pending,
        chapters_with_ai=with_ai,
        chapters=len(chapters),
        per_generation=list(measures.values()),
        deleted=counts.deleted,
        never_inserted=counts.never_inserted,
        passages=counts.passages,
        unrecorded=counts.unrecorded,
        declared=declared,
    )
