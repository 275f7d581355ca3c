"""The provenance report: one self-contained HTML file that shows who wrote what.

``export_report`` renders a ``BookDocument`` through the Jinja2 template ``report.html.j2``
(autoescaped; a file of that name in a user templates folder overrides it). The file loads
nothing: its CSS is inline, its charts are inline SVG, it needs no script, and a
Content-Security-Policy ``<meta>`` forbids scripts and network loads anyway. It prints well
(print rules, each chapter on a new page, no dark backgrounds).

It holds, in order:

- the figures: characters and words by origin for the book (words as
  ``coauthor.core.roles.words_by_origin`` counts them), a stacked bar of the shares (in the
  Okabe-Ito palette, each origin with its own pattern and a text label, so colour is never the
  only signal), the share of the model's drafts the author changed, the models and their
  providers, the generations requested, inserted, approved and rejected, the category and the
  thresholds that decide it (``coauthor.publish.roles``), and a table per chapter;
- the foreword, as the book prints it (with its table when the book asks for it);
- the heatmap: one row per chapter, 20 equal segments of its text, each coloured by the
  model's share of it, with the percentage written in it, a legend and the chapter labels;
- each chapter's text, the stretches not typed by the author marked by class (``o-ai``,
  ``o-pasted``, ``o-imported``) with a tooltip naming the generation or import;
- the generation log: per generation its id, chapter, times (UTC, ISO 8601), provider, model,
  parameters, the prompt messages and the output (escaped, in ``<details>``), output length
  and surviving characters, outcome, timing, review state with reviewer and time, note and
  error;
- the review log (``BookDocument.reviews``, or the generations' own review fields);
- the content screening: which screening actually ran for this export (``ScreeningNote``,
  given by the export; when the moderation service failed, that the offline checker screened
  the text instead), and the overrides (each flagged passage published anyway: the passage,
  the categories, the author's reason, who and when);
- the reported generations: each generation the author reported to its provider as
  problematic (time, generation, category, the author's reason, who, whether the surrounding
  text went with it, and the SHA-256 of the file written for the provider);
- the imports (source, kind, declared own writing, SHA-256, time);
- in a book with text pasted as the author's own writing: that text as its own origin in the
  figures, and the declarations (id, time, who, characters declared and still in the book,
  SHA-256), worded as what they are: the author's statements, recorded, not proof.

All text from the book, the models and the records is escaped, after characters HTML and XML
forbid become U+FFFD, so raw HTML, scripts and links in it are inert. The report's one volatile
line is its "generated" time: pass ``generated_at`` (or set ``SOURCE_DATE_EPOCH``) for a
reproducible file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from coauthor import __version__
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.models import model_identity
from coauthor.core.origin import Origin
from coauthor.core.provenance import ProvenanceText
from coauthor.core.roles import generation_status, percent, shares, words_by_origin
from coauthor.publish.document import (
    BookDocument,
    ChapterDoc,
    Progress,
    chapter_label,
    roles_table,
)
from coauthor.publish.html_export import (
    CONTENT_SECURITY_POLICY,
    blocks_html,
    environment,
    iso_time,
    origin_marking,
    write_page,
)
from coauthor.publish.labels import COLOURS, LABELS, PROVIDER_NAMES
from coauthor.publish.manifest import build_manifest, embed_html
from coauthor.publish.roles import ENTIRE_CHAPTERS, ENTIRE_SHARE, EXTENSIVE_EDIT

__all__ = [
    "COLOURS",
    "HEATMAP_SEGMENTS",
    "REPORT_TEMPLATE",
    "ScreeningNote",
    "export_report",
    "render_report",
    "report_context",
]

REPORT_TEMPLATE = "report.html.j2"
HEATMAP_SEGMENTS = 20

_ORDER: tuple[str, ...] = ("human", "ai", "pending", "pasted", "declared", "imported")
"""The origins as the report shows them; ``declared`` (pasted text the author declared their
own writing) only in a book that has some."""
_EMPTY_CELL = "#ffffff"
_LOW = (0xF2, 0xF2, 0xF2)  # a segment without model text
_HIGH = (0x00, 0x48, 0x7A)  # a segment all model text (a darker shade of #0072B2)


class ScreeningNote(NamedTuple):
    """Which content screening ran for the export the report belongs to."""

    statement: str
    """One sentence: the screener, or "OpenAI moderation failed (…); the offline checker
    screened the text instead."."""
    fell_back: bool = False
    """Whether the chosen moderation service failed and the offline checker took over."""


@dataclass(frozen=True)
class _Figures:
    chars: dict[str, int]
    words: dict[str, int]


def _pending_ids(document: BookDocument) -> set[str]:
    return {g.id for g in document.generations if g.review_state is ReviewState.PENDING}


def _chapter_text(chapter: ChapterDoc) -> ProvenanceText:
    """The chapter's provenance text again, from its paragraphs (space between them human)."""
    runs: list[tuple[int, Origin, str | None]] = []
    pos = 0
    for paragraph in chapter.paragraphs:
        if paragraph.start > pos:
            runs.append((paragraph.start - pos, Origin.HUMAN, None))
        runs.extend(
            (len(span.text), span.origin, span.ref) for span in paragraph.spans if span.text
        )
        pos = paragraph.start + sum(len(span.text) for span in paragraph.spans)
    if len(chapter.text) > pos:
        runs.append((len(chapter.text) - pos, Origin.HUMAN, None))
    return ProvenanceText.from_runs(chapter.text, runs)


def _figures(document: BookDocument) -> _Figures:
    """Characters (from the measured roles) and words by origin; model text still pending
    review is counted apart in characters, and with the model's words."""
    pending = _pending_ids(document)
    waiting = 0
    roles = document.roles
    declared = roles.declared
    words = {key: 0 for key in _ORDER if key != "declared" or declared}
    for chapter in document.chapters:
        if pending:
            waiting += sum(
                len(span.text)
                for paragraph in chapter.paragraphs
                for span in paragraph.spans
                if span.origin is Origin.AI and span.ref in pending
            )
        for key, n in words_by_origin(
            _chapter_text(chapter), _word_key if declared else None
        ).items():
            words[str(key)] += n
    chars = {
        "human": roles.chars[Origin.HUMAN],
        "ai": roles.chars[Origin.AI] - waiting,
        "pending": waiting,
        "pasted": roles.chars[Origin.PASTED] - declared,
        "declared": declared,
        "imported": roles.chars[Origin.IMPORTED],
    }
    return _Figures({key: chars[key] for key in words}, words)


def _word_key(origin: Origin, ref: str | None) -> str:
    """The report's origin of a run: pasted text naming a declaration counts apart."""
    return "declared" if origin is Origin.PASTED and ref is not None else origin.value


def _origin_rows(figures: _Figures) -> list[dict[str, object]]:
    """Characters and words by origin, each with its ``shares`` (whole, adding up to 100)."""
    char_shares = shares(figures.chars)
    word_shares = shares(figures.words)
    return [
        {
            "key": key,
            "label": LABELS[key],
            "colour": COLOURS[key],
            "chars": figures.chars[key],
            "chars_percent": f"{char_shares[key]}%",
            "words": figures.words[key] if key != "pending" else None,
            "words_percent": f"{word_shares[key]}%",
        }
        for key in _ORDER
        if key in figures.chars and (key != "pending" or figures.chars[key])
    ]


def _bar(figures: _Figures) -> dict[str, object]:
    """The stacked bar: one segment per origin present, with its share written in it."""
    width = 640.0
    total = sum(figures.chars.values())
    char_shares = shares(figures.chars)
    segments = []
    x = 0.0
    for key in _ORDER:
        count = figures.chars.get(key, 0)
        if not count or not total:
            continue
        w = width * count / total
        segments.append(
            {
                "key": key,
                "x": round(x, 2),
                "width": round(w, 2),
                "label": f"{char_shares[key]}%",
                "show_label": w >= 44,
                "text_x": round(x + w / 2, 2),
                "title": f"{LABELS[key]}: {count:,} characters "
                f"({char_shares[key]}% of the characters)",
            }
        )
        x += w
    legend = [
        {
            "key": key,
            "label": LABELS[key],
            "share": f"{char_shares[key]}% of the characters",
            "y": 64 + 22 * index,
        }
        for index, key in enumerate(
            k for k in _ORDER if k in figures.chars and (k != "pending" or figures.chars[k])
        )
    ]
    return {
        "width": width,
        "height": 64 + 22 * len(legend) + 4,
        "segments": segments,
        "legend": legend,
        "empty": not total,
    }


def _cell_colour(share: float) -> str:
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(_LOW, _HIGH, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _heatmap(document: BookDocument) -> dict[str, object]:
    """Chapters by ``HEATMAP_SEGMENTS`` equal segments, each with the model's share of it."""
    pending = _pending_ids(document)
    label_width, cell_w, cell_h, gap, top = 230, 26, 18, 2, 22
    rows = []
    for index, chapter in enumerate(document.chapters):
        ai: list[tuple[int, int, bool]] = []  # model text: start, end, pending
        for paragraph in chapter.paragraphs:
            pos = paragraph.start
            for span in paragraph.spans:
                end = pos + len(span.text)
                if span.origin is Origin.AI:
                    ai.append((pos, end, span.ref in pending))
                pos = end
        total = len(chapter.text)
        y = top + index * (cell_h + gap)
        cells = []
        for segment in range(HEATMAP_SEGMENTS):
            start = total * segment // HEATMAP_SEGMENTS
            end = total * (segment + 1) // HEATMAP_SEGMENTS
            length = end - start
            model = sum(max(0, min(e, end) - max(s, start)) for s, e, _ in ai)
            waiting = sum(max(0, min(e, end) - max(s, start)) for s, e, p in ai if p)
            share = model / length if length else 0.0
            model_percent = percent(model, length)
            cells.append(
                {
                    "x": label_width + segment * (cell_w + gap),
                    "fill": _cell_colour(share) if length else _EMPTY_CELL,
                    "label": str(model_percent) if length and model else "",
                    "dark": share >= 0.5,
                    "pending": waiting > 0,
                    "title": (
                        f"{chapter_label(chapter)}, part {segment + 1} of {HEATMAP_SEGMENTS} "
                        f"(characters {start}-{end}): "
                        + (
                            f"{model_percent}% of its characters drafted by the model"
                            if length
                            else "no text"
                        )
                        + (", pending review" if waiting else "")
                    ),
                }
            )
        rows.append(
            {
                "y": y,
                "text_y": y + cell_h - 5,
                "label": _shorten(chapter_label(chapter), 34),
                "title": chapter_label(chapter),
                "cells": cells,
            }
        )
    grid_width = HEATMAP_SEGMENTS * (cell_w + gap)
    legend_y = top + len(rows) * (cell_h + gap) + 16
    legend = [
        {
            "x": label_width + i * 64,
            "fill": _cell_colour(share),
            "label": f"{round(100 * share)}%",
            "dark": share >= 0.5,
        }
        for i, share in enumerate((0.0, 0.25, 0.5, 0.75, 1.0))
    ]
    return {
        "width": label_width + grid_width,
        "height": legend_y + cell_h + 10,
        "cell_w": cell_w,
        "cell_h": cell_h,
        "label_x": label_width - 8,
        "grid_x": label_width,
        "grid_end": label_width + grid_width - gap,
        "rows": rows,
        "legend": legend,
        "legend_y": legend_y,
        "legend_end": label_width + len(legend) * 64 + 8,
    }


def _message_content(content: object) -> str:
    if isinstance(content, str):
        return content
    return json.dumps(content, ensure_ascii=False, indent=2, sort_keys=True)


def _duration(generation: Generation) -> str:
    if generation.finished is None or not generation.created:
        return ""
    return f"{(generation.finished - generation.created) / 1000:.1f} s"


def _timing_value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _generation(
    generation: Generation, chapters: dict[int, str], surviving: dict[str, int]
) -> dict[str, object]:
    status = generation_status(generation, surviving.get(generation.id, 0))
    return {
        "id": generation.id,
        "chapter": chapters.get(generation.chapter_id or -1, ""),
        "created": iso_time(generation.created),
        "finished": iso_time(generation.finished),
        "duration": _duration(generation),
        "inserted": iso_time(generation.inserted_at),
        "provider": generation.provider,
        "provider_label": PROVIDER_NAMES.get(generation.provider, ""),
        "model": model_identity(generation.model, generation.provider),
        "recorded_model": generation.model,
        "parameters": json.dumps(
            generation.parameters, ensure_ascii=False, sort_keys=True, default=str
        ),
        "messages": [
            {
                "role": str(message.get("role", "")),
                "content": _message_content(message.get("content", "")),
            }
            for message in generation.messages
        ],
        "output": generation.output,
        "output_chars": len(generation.output),
        "surviving": surviving.get(generation.id),
        "outcome": str(generation.outcome),
        "timing": [(str(k), _timing_value(v)) for k, v in sorted(generation.timing.items())],
        "state": status.css,
        "state_label": str(status),
        "reviewer": generation.reviewer,
        "reviewed_at": iso_time(generation.reviewed_at),
        "note": generation.note,
        "error": generation.error,
    }


def _generations(document: BookDocument) -> list[dict[str, object]]:
    chapters = {c.id: chapter_label(c) for c in document.chapters}
    surviving = {m.id: m.surviving for m in document.roles.per_generation}
    return [_generation(g, chapters, surviving) for g in document.generations]


def _reviews(document: BookDocument) -> tuple[list[dict[str, str]], bool]:
    """The review log, and whether it came from the generations' own fields."""
    if document.reviews:
        entries = sorted(document.reviews, key=lambda r: r[0])
        from_generations = False
    else:
        entries = sorted(
            (
                (g.reviewed_at or 0, g.id, str(g.review_state), g.reviewer)
                for g in document.generations
                if g.reviewed_at is not None or g.review_state is not ReviewState.PENDING
            ),
            key=lambda r: (r[0], r[1]),
        )
        from_generations = True
    return [
        {"time": iso_time(t), "generation": str(g), "state": str(s), "reviewer": str(who)}
        for t, g, s, who in entries
    ], from_generations


def _overrides(document: BookDocument) -> list[dict[str, str]]:
    chapters = {c.id: c for c in document.chapters}
    rows = []
    for flag in document.flags:
        if not flag.override:
            continue
        chapter = chapters.get(flag.chapter_id)
        passage = chapter.text[flag.start : flag.end] if chapter else ""
        rows.append(
            {
                "chapter": chapter_label(chapter) if chapter else f"chapter id {flag.chapter_id}",
                "range": f"{flag.start}-{flag.end}",
                "passage": _shorten(passage, 400),
                "categories": ", ".join(flag.categories),
                "reason": flag.override,
                "by": flag.override_by,
                "at": iso_time(flag.override_at),
                "source": flag.source,
                "hash": flag.text_hash,
            }
        )
    return rows


def _reports(document: BookDocument) -> list[dict[str, str]]:
    return [
        {
            "time": iso_time(r.time),
            "generation": r.generation,
            "category": r.category,
            "reason": r.reason,
            "by": r.by,
            "context": "yes" if r.context else "no",
            "sha256": r.bundle_sha256,
        }
        for r in sorted(document.reports, key=lambda r: r.seq)
    ]


def _imports(document: BookDocument) -> list[dict[str, str]]:
    return [
        {
            "id": record.id,
            "source": record.source,
            "kind": record.kind,
            "own": "yes" if record.own_writing else "no",
            "encoding": record.encoding,
            "sha256": record.sha256,
            "time": iso_time(record.time),
        }
        for record in document.imports
    ]


def _declarations(document: BookDocument) -> list[dict[str, object]]:
    """Each declaration of own writing, with how many of its characters are in the book now."""
    surviving: dict[str, int] = {}
    for chapter in document.chapters:
        for length, origin, ref in chapter.runs:
            if origin is Origin.PASTED and ref is not None:
                surviving[ref] = surviving.get(ref, 0) + length
    return [
        {
            "id": d.id,
            "time": iso_time(d.time),
            "by": d.by,
            "length": d.length,
            "surviving": surviving.get(d.id, 0),
            "sha256": d.sha256,
        }
        for d in sorted(document.declarations, key=lambda d: d.seq)
    ]


def _chapter_rows(document: BookDocument) -> list[dict[str, object]]:
    rows = []
    for chapter in document.chapters:
        roles = chapter.roles
        rows.append(
            {
                "label": chapter_label(chapter),
                "chars": roles.total,
                "shares": [
                    f"{roles.percent(origin)}%"
                    for origin in (Origin.HUMAN, Origin.AI, Origin.PASTED, Origin.IMPORTED)
                ],
                "passages": roles.passages,
            }
        )
    return rows


def _generated_at(value: datetime | str | None) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        value = datetime.fromtimestamp(int(epoch), UTC) if epoch.isdigit() else datetime.now(UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_context(
    document: BookDocument,
    *,
    generated_at: datetime | str | None = None,
    screening: ScreeningNote | None = None,
) -> dict[str, object]:
    """What ``report.html.j2`` is rendered with (``screening`` None: the report does not say
    how the text was screened, as when it is rendered outside an export)."""
    roles = document.roles
    figures = _figures(document)
    marking = origin_marking(
        {g.id: g for g in document.generations}, {i.id: i.source for i in document.imports}
    )
    pending = _pending_ids(document)

    def mark(origin: Origin, ref: str | None) -> tuple[str, str] | None:
        found = marking(origin, ref)
        if found is not None and origin is Origin.AI and ref in pending:
            return "o-ai o-pending", found[1] + ", pending review"
        return found

    chapters = [
        {
            "number": chapter.number,
            "id": f"chapter-{chapter.number}",
            "label": chapter_label(chapter),
            "title": " ".join(chapter.title.split()) or f"Chapter {chapter.number}",
            "summary": ", ".join(
                f"{chapter.roles.percent(origin)}% {LABELS[origin.value].lower()}"
                for origin in Origin
                if chapter.roles.chars[origin]
            )
            or "empty",
            "chars": chapter.roles.total,
            "body": blocks_html(chapter.blocks, mark, heading_offset=3),
        }
        for chapter in document.chapters
    ]
    headers, rows, total = roles_table(document)
    reviews, reviews_from_generations = _reviews(document)
    meta = document.meta
    return {
        "meta": meta,
        "title": meta.title or "Untitled",
        "csp": CONTENT_SECURITY_POLICY,
        "generated_at": _generated_at(generated_at),
        "version": __version__,
        "disclosure": document.disclosure,
        "category": roles.category.label,
        "origins": _origin_rows(figures),
        "total_chars": sum(figures.chars.values()),
        "total_words": sum(figures.words.values()),
        "bar": _bar(figures),
        "colours": COLOURS,
        "edited_percent": f"{roles.edited_percent}%",
        "drafted": roles.drafted,
        "surviving": roles.surviving,
        "typed_inside": roles.typed_inside,
        "models": [
            {
                "name": name,
                "provider": provider,
                "provider_label": PROVIDER_NAMES.get(provider, ""),
            }
            for name, provider in roles.models
        ],
        "counts": roles.counts.as_dict(),
        "thresholds": {
            "entire_share": f"{ENTIRE_SHARE:.0%}",
            "entire_chapters": f"{ENTIRE_CHAPTERS:.0%}",
            "extensive_edit": f"{EXTENSIVE_EDIT:.0%}",
        },
        "measured": {
            "ai_share": f"{roles.percent(Origin.AI)}%",
            "chapters_with_ai": roles.chapters_with_ai,
            "chapters": roles.chapters,
        },
        "chapter_rows": _chapter_rows(document),
        "foreword_title": document.foreword_title,
        "foreword": document.foreword,
        "foreword_is_custom": document.foreword_is_custom,
        "table": (
            {"headers": headers, "rows": rows, "total": total}
            if document.with_chapter_table and document.chapters
            else None
        ),
        "heatmap": _heatmap(document),
        "chapters": chapters,
        "generations": _generations(document),
        "reviews": reviews,
        "reviews_from_generations": reviews_from_generations,
        "overrides": _overrides(document),
        "screening": screening,
        "reports": _reports(document),
        "imports": _imports(document),
        "declarations": _declarations(document),
        "declared_chars": figures.chars.get("declared", 0),
        "signing": _signing(document),
    }


def _signing(document: BookDocument) -> dict[str, object]:
    """What the report says about its manifest: who signed it, or why it is not signed."""
    key = document.signer
    return {
        "signed": key is not None,
        "name": key.name if key is not None else "",
        "fingerprint": key.fingerprint if key is not None else "",
        "reason": document.unsigned_reason or "no signing key was given",
    }


def render_report(
    document: BookDocument,
    *,
    template_dirs: list[Path] | None = None,
    generated_at: datetime | str | None = None,
    screening: ScreeningNote | None = None,
) -> str:
    template = environment(template_dirs).get_template(REPORT_TEMPLATE)
    page = template.render(
        **report_context(document, generated_at=generated_at, screening=screening)
    )
    return embed_html(
        page, lambda digest: build_manifest(document, "report", {"file_sha256": digest})
    )


def export_report(
    document: BookDocument,
    target: Path,
    *,
    progress: Progress | None = None,
    template_dirs: list[Path] | None = None,
    generated_at: datetime | str | None = None,
    screening: ScreeningNote | None = None,
) -> Path:
    """Write the provenance report (atomically) and return its path."""
    return write_page(
        target,
        lambda: render_report(
            document, template_dirs=template_dirs, generated_at=generated_at, screening=screening
        ),
        "the provenance report",
        progress,
    )
