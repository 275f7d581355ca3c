"""The export operation, written once: every export of the app and of ``coauthor export``.

``export_book`` runs the whole sequence on a project file: the chain check
(``store.verify.checked_project``, on the file as written, so the caller flushes first; in the
app, on a read-only connection of its own beside the app's writer, and the replayed book must
equal the one on screen, ``core.chain.first_difference``) → content screening
(``coauthor.screening``) → the review gate → the foreword check (``publish.document
.prepare_export``) → the format → the manifest, signed with the author's key. It is plain
synchronous code: the CLI calls it directly, the app runs it in a worker ``Job``, so screening
(with OpenAI's moderation endpoint, up to three tries of 30 s) and the chain check never freeze
the window. Refusals are exceptions (``ExportRefused``, ``ChainMismatch``, ``ExportDiffers``)
the caller shows its own way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from coauthor.core.book import Chapter
from coauthor.core.chain import first_difference
from coauthor.core.policy import Flag
from coauthor.core.project import Project
from coauthor.publish.document import BookDocument, Progress, check_target, prepare_export
from coauthor.publish.signing import AuthorKey, KeyringUnavailable
from coauthor.screening.overrides import apply_overrides
from coauthor.screening.passages import passages_from_chapters
from coauthor.screening.screen import screen
from coauthor.store import ProjectFile
from coauthor.store.verify import checked_project

if TYPE_CHECKING:
    from coauthor.ai.moderation import OpenAIModerator
    from coauthor.core.chain import ShownState
    from coauthor.publish.report import ScreeningNote

__all__ = [
    "ExportDiffers",
    "ExportFormat",
    "ExportResult",
    "ExportOptions",
    "ScreeningSummary",
    "check_export_target",
    "export_book",
    "export_project",
    "read_checked",
    "record_signing_key",
    "screen_project",
    "screening_of",
    "signing_key",
]


class ExportFormat(StrEnum):
    EPUB = "epub"
    MARKDOWN = "markdown"
    HTML = "html"
    REPORT = "report"
    DOCX = "docx"
    PDF = "pdf"


SUFFIXES = {
    ExportFormat.EPUB: ".epub",
    ExportFormat.MARKDOWN: ".md",
    ExportFormat.HTML: ".html",
    ExportFormat.REPORT: ".html",
    ExportFormat.DOCX: ".docx",
    ExportFormat.PDF: ".pdf",
}


@dataclass(frozen=True)
class ExportOptions:
    provenance_styling: bool = False
    markdown_folder: bool = False
    annotate: bool = False
    docx_style: str = "manuscript"
    """The DOCX export's style: ``manuscript`` (standard manuscript format) or ``book``."""
    trim: str = "5.5x8.5"
    """The print PDF's trim size: ``5x8``, ``5.5x8.5``, ``6x9`` or ``a5``."""


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


def screen_project(project: Project, moderator: OpenAIModerator | None = None) -> ScreeningSummary:
    """Screen every paragraph; overrides the author recorded are applied by text hash."""
    return screening_of(project)(moderator)


def screening_of(
    project: Project, chapters: Iterable[Chapter] | None = None
) -> Callable[[OpenAIModerator | None], ScreeningSummary]:
    """What to screen (every chapter, or only ``chapters``), copied from ``project`` now (on
    the thread that owns it); the returned call screens the copy and may run on any thread (the
    app runs it in a worker ``Job``)."""
    passages = passages_from_chapters(project.chapters if chapters is None else chapters)
    overrides = {key: (o.reason, o.reviewer, o.time) for key, o in project.overrides.items()}

    def run(moderator: OpenAIModerator | None) -> ScreeningSummary:
        result = screen(passages, moderator)
        flags = apply_overrides(result.flags, overrides)
        return ScreeningSummary(flags, result.source_note, result.error, result.statement)

    return run


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
    # Formats are imported on use: each pulls in its own libraries (ebooklib, Jinja2,
    # python-docx).
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
    if fmt is ExportFormat.DOCX:
        from coauthor.publish.docx_export import export_docx

        return export_docx(
            document,
            target,
            style=options.docx_style,
            provenance_styling=options.provenance_styling,
            progress=progress,
        )
    if fmt is ExportFormat.PDF:
        from coauthor.publish.pdf_export import export_pdf

        return export_pdf(
            document,
            target,
            trim=options.trim,
            provenance_styling=options.provenance_styling,
            progress=progress,
            template_dirs=template_dirs,
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
    moderator: OpenAIModerator | None = None,
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


class ExportDiffers(Exception):
    """The book on screen differs from the one its record describes; nothing was exported."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    screening: ScreeningSummary
    key: AuthorKey | None
    unsigned_reason: str


def check_export_target(
    fmt: ExportFormat, target: Path, options: ExportOptions, *, force: bool = False
) -> None:
    """Raise ``ExportWriteError`` (one sentence) when ``target`` cannot take this export, or
    (``PdfEngineMissing``) when the PDF export's libraries cannot be loaded."""
    if fmt is ExportFormat.PDF:
        from coauthor.publish.pdf_export import check_engine

        check_engine()
    if options.markdown_folder:
        from coauthor.publish.markdown_export import check_folder

        check_folder(Path(target), force=force)
    else:
        check_target(Path(target))


def read_checked(path: Path | str) -> Project:
    """The book as the chain in the file at ``path`` says it is (``ChainMismatch`` if the record
    does not check out), read through a read-only connection of its own: beside the app's
    writer that is a reader of the write-ahead log, and sees what the last flush wrote."""
    project_file = ProjectFile.open(path, readonly=True)
    try:
        return checked_project(project_file)
    finally:
        project_file.close()


def record_signing_key(path: Path | str, key: AuthorKey) -> None:
    """Put the key's public half into the chain of the (closed) project at ``path``; the
    export's manifest names the chain's head, so the key event must be in the file."""
    project_file = ProjectFile.open(path)
    project: Project | None = None
    try:
        project = project_file.load()
        project.record_signing_key(key.fingerprint, key.public_key_b64, key.name)
        project_file.flush(project)
    finally:
        project_file.close(project)


def export_book(
    path: Path | str,
    fmt: ExportFormat,
    target: Path,
    *,
    options: ExportOptions | None = None,
    moderator: OpenAIModerator | None = None,
    template_dirs: list[Path] | None = None,
    key: AuthorKey | None = None,
    unsigned_reason: str = "",
    force: bool = False,
    shown: ShownState | None = None,
    progress: Progress | None = None,
    on_checked: Callable[[], None] | None = None,
    on_screening: Callable[[ScreeningSummary], None] | None = None,
) -> ExportResult:
    """Export the project file at ``path``: target check, chain check, then ``export_project``.

    ``key`` must already be in the file's chain (the app records it and flushes; the CLI calls
    ``record_signing_key``). With ``shown`` (the book on screen, ``core.chain.shown_state``), the
    replayed book must equal it, else ``ExportDiffers``. ``on_checked`` is called once the file
    has been read (the app holds its autosave until then). Raises ``ExportWriteError``,
    ``ChainMismatch``, ``ExportDiffers`` or ``ExportRefused``; writes nothing then.
    """
    options = options or ExportOptions()
    check_export_target(fmt, target, options, force=force)
    if progress:
        progress(0, 4, "Checking the record")
    try:
        project = read_checked(path)
    finally:
        if on_checked:
            on_checked()
    if shown is not None:
        difference = first_difference(project, shown)
        if difference is not None:
            raise ExportDiffers(
                f"What is open differs from the book's record in {difference}; nothing was "
                f"exported. Run `coauthor verify {path}` for details."
            )
    if key is not None and key.fingerprint not in project.signing_keys:
        raise ExportDiffers(f"the signing key {key.fingerprint} is not in the book's record yet")
    reviews = [(r.time, r.generation, str(r.state), r.reviewer) for r in project.review_log]
    screenings: list[ScreeningSummary] = []

    def screened(summary: ScreeningSummary) -> None:
        screenings.append(summary)
        if on_screening:
            on_screening(summary)

    written = export_project(
        project,
        fmt,
        Path(target),
        options=options,
        moderator=moderator,
        template_dirs=template_dirs,
        reviews=reviews,
        progress=progress,
        on_screening=screened,
        key=key,
        unsigned_reason=unsigned_reason,
    )
    return ExportResult(written, screenings[0], key, "" if key is not None else unsigned_reason)
