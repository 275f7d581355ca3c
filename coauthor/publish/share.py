"""A passage shared outside Coauthor, labelled so that no reader could miss the model's part.

``shared_text`` builds the text form of Share Passage (``coauthor share``): the label first
("Contains AI-generated text: …", naming each model and, as reviewers, only the people who
approved the generations in the passage), then the passage with each stretch of model text
between ``[AI]`` and ``[/AI]``, then the attribution (the author, or the company, from Book
Details). A passage without model text has no label and no marks, only the attribution.

The caller passes the review gate first (nothing pending, nothing flagged by screening without
an override): this module never decides whether a passage may leave the app. The one exception
is the editor's plain copy (Ctrl+C) of text still pending review: ``shared_text`` then labels it
with ``pending=True``, saying that no person has reviewed it yet.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from coauthor.core.book import Chapter
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.models import model_identity
from coauthor.core.origin import Origin
from coauthor.core.project import Project

__all__ = ["AI_CLOSE", "AI_OPEN", "SharedText", "shared_text"]

AI_OPEN = "[AI]"
AI_CLOSE = "[/AI]"


@dataclass(frozen=True)
class SharedText:
    """What Share Passage hands out, and the facts it states."""

    text: str
    label: str | None
    attribution: str
    models: tuple[str, ...]
    reviewers: tuple[str, ...]
    segments: tuple[tuple[str, bool], ...] = ()
    """The passage (as in ``text``, without label, marks or attribution) in stretches, each
    with whether a language model drafted it: what the PNG card draws."""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()


def _names(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _label(used: list[Generation], pending: bool) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    models = tuple(sorted({model_identity(g.model, g.provider) for g in used}))
    reviewers = tuple(
        sorted(
            {
                g.reviewer.strip()
                for g in used
                if g.review_state is ReviewState.APPROVED and g.reviewer.strip()
            }
        )
    )
    if pending:
        reviewed = "pending review, not yet reviewed by a person"
        if reviewers:
            reviewed = (
                "some of it pending review, not yet reviewed by a person "
                f"(the rest reviewed by {_names(reviewers)})"
            )
    elif reviewers:
        reviewed = f"reviewed before sharing by {_names(reviewers)}"
    else:
        reviewed = "reviewed before sharing (no reviewer's name recorded)"
    label = (
        f"Contains AI-generated text: the parts between {AI_OPEN} and {AI_CLOSE} were drafted "
        f"by a language model ({_names(models) if models else 'model not recorded'}); "
        f"{reviewed}."
    )
    return label, models, reviewers


def shared_text(
    project: Project, chapter: Chapter, start: int, end: int, *, pending: bool = False
) -> SharedText:
    """The labelled text form of ``chapter[start:end]`` (see the module docstring); with
    ``pending``, the label says the model's text is pending review (the editor's plain copy)."""
    pieces: list[str] = []
    segments: list[tuple[str, bool]] = []
    used: dict[str, Generation] = {}
    in_ai = False
    pos = start
    for length, origin, ref in chapter.text.runs_in(start, end):
        piece = chapter.text.text_in(pos, pos + length)
        pos += length
        is_ai = origin is Origin.AI
        if is_ai and ref is not None and ref in project.generations:
            used[ref] = project.generations[ref]
        if is_ai and not in_ai:
            pieces.append(AI_OPEN)
        elif not is_ai and in_ai:
            pieces.append(AI_CLOSE)
        in_ai = is_ai
        pieces.append(piece)
        if segments and segments[-1][1] == is_ai:
            segments[-1] = (segments[-1][0] + piece, is_ai)
        elif piece:
            segments.append((piece, is_ai))
    if in_ai:
        pieces.append(AI_CLOSE)
    body = "".join(pieces).strip("\n")
    if segments:
        segments[0] = (segments[0][0].lstrip("\n"), segments[0][1])
        segments[-1] = (segments[-1][0].rstrip("\n"), segments[-1][1])
    parts = tuple(seg for seg in segments if seg[0])
    meta = project.meta
    who = meta.author.strip() or meta.company.strip() or "the author"
    attribution = f"— {who}, {meta.title.strip() or 'Untitled'}"
    if used or any(p == AI_OPEN for p in pieces):
        label, models, reviewers = _label(list(used.values()), pending)
        text = f"{label}\n\n{body}\n\n{attribution}"
        return SharedText(text, label, attribution, models, reviewers, parts)
    return SharedText(f"{body}\n\n{attribution}", None, attribution, (), (), parts)
