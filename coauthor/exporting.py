"""Every export goes through here: screening, the gate, the foreword check, then the format.

The app and ``coauthor export`` call ``export_project`` with the same arguments, so there is
one path out of Coauthor and it always passes the gate. This module joins two layers
(``ai`` for content screening, ``publish`` for the formats), like the CLI and the UI do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from coauthor.ai.moderation import apply_overrides, passages_from_chapters, screen
from coauthor.core.policy import Flag
from coauthor.core.project import Project
from coauthor.publish.document import BookDocument, Progress, prepare_export
from coauthor.publish.signing import AuthorKey, KeyringUnavailable

if TYPE_CHECKING:
    from coauthor.publish.report import ScreeningNote

__all__ = [
    "ExportFormat",
    "ExportOptions",
    "ScreeningSummary",
    "export_project",
    "screen_project",
    "signing_key",
]


class ExportFormat(StrEnum):
    EPUB = "epub"
    MARKDOWN = "markdown"
    HTML = "html"
    REPORT = "report"


SUFFIXES = {
    ExportFormat.EPUB: ".epub",
    ExportFormat.MARKDOWN: ".md",
    ExportFormat.HTML: ".html",
    ExportFormat.REPORT: ".html",
}


@dataclass(frozen=True)
class ExportOptions:
    provenance_styling: bool = False
    markdown_folder: bool = False
    annotate: bool = False


@dataclass(frozen=True)
class ScreeningSummary:
    flags: list[Flag]
    note: str
    """Which screening ran, with the number of passages checked."""
    error: str | None
    """Set when the moderation service failed: what happened, and that the offline checker
    screened the text instead."""
    statement: str = ""
    """Which screening actually ran, in one sentence (the provenance report states it)."""

    @property
    def fell_back(self) -> bool:
        """Whether the chosen moderation service failed and the offline checker screened the
        text instead (the export says so; it never goes out unscreened)."""
        return self.error is not None

    def report_note(self) -> ScreeningNote:
        """What the provenance report says about this screening."""
        from coauthor.publish.report import ScreeningNote  # with Jinja2, only when reporting

        return ScreeningNote(self.statement or self.note, self.fell_back)


def screen_project(project: Project, moderator: object | None = None) -> ScreeningSummary:
    """Screen every paragraph; overrides the author recorded are applied by text hash."""
    result = screen(passages_from_chapters(project.chapters), moderator)  # type: ignore[arg-type]
    overrides = {key: (o.reason, o.reviewer, o.time) for key, o in project.overrides.items()}
    flags = apply_overrides(result.flags, overrides)
    return ScreeningSummary(flags, result.source_note, result.error, result.statement)


def signing_key(author: str) -> tuple[AuthorKey | None, str]:
    """The author's signing key from the system keyring (made on first use), or None and a
    sentence saying why there is none; the export is then hash-checked but unsigned."""
    try:
        return AuthorKey.load_or_create(author), ""
    except KeyringUnavailable as exc:
        return None, str(exc)


def render(
    document: BookDocument,
    fmt: ExportFormat,
    target: Path,
    options: ExportOptions,
    progress: Progress | None = None,
    template_dirs: list[Path] | None = None,
    screening: ScreeningSummary | None = None,
) -> Path:
    """Write ``document`` in one format (the gate has already been passed); the provenance
    report states which ``screening`` ran."""
    # Formats are imported on use: each pulls in its own libraries (ebooklib, Jinja2).
    if fmt is ExportFormat.EPUB:
        from coauthor.publish.epub import export_epub

        return export_epub(
            document, target, provenance_styling=options.provenance_styling, progress=progress
        )
    if fmt is ExportFormat.MARKDOWN:
        from coauthor.publish.markdown_export import export_markdown

        return export_markdown(
            document,
            target,
            folder=options.markdown_folder,
            annotate=options.annotate,
            progress=progress,
        )
    if fmt is ExportFormat.HTML:
        from coauthor.publish.html_export import export_html

        return export_html(
            document,
            target,
            provenance_styling=options.provenance_styling,
            progress=progress,
            template_dirs=template_dirs,
        )
    from coauthor.publish.report import export_report

    return export_report(
        document,
        target,
        progress=progress,
        template_dirs=template_dirs,
        screening=screening.report_note() if screening is not None else None,
    )


def export_project(
    project: Project,
    fmt: ExportFormat,
    target: Path,
    *,
    options: ExportOptions | None = None,
    moderator: object | None = None,
    template_dirs: list[Path] | None = None,
    reviews: list[tuple[int, str, str, str]] | None = None,
    progress: Progress | None = None,
    on_screening: Callable[[ScreeningSummary], None] | None = None,
    key: AuthorKey | None = None,
    unsigned_reason: str = "",
) -> Path:
    """Screen, pass the gate (raises ``ExportRefused``), check the foreword, then write.

    Every export carries a provenance manifest (``publish/manifest.py``), signed with ``key``
    when one is given (``AuthorKey.load_or_create``; without one it says ``unsigned_reason``).
    The key's public half is recorded in the project's chain first if it is not there yet:
    that adds an event, which the caller must flush, since the manifest names it as its head.
    """
    if key is not None:
        project.record_signing_key(key.fingerprint, key.public_key_b64, key.name)
    if progress:
        progress(0, 3, "Screening the text")
    screening = screen_project(project, moderator)
    if on_screening:
        on_screening(screening)
    if progress:
        progress(1, 3, "Checking the review gate")
    document = prepare_export(
        project, flags=screening.flags, template_dirs=template_dirs, reviews=reviews
    )
    document.signer = key
    document.unsigned_reason = "" if key is not None else unsigned_reason
    if progress:
        progress(2, 3, f"Writing {fmt.value}")
    path = render(
        document,
        fmt,
        Path(target),
        options or ExportOptions(),
        progress,
        template_dirs,
        screening=screening,
    )
    if progress:
        progress(3, 3, "Done")
    return path
