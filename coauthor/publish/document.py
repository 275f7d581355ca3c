"""The book as exporters see it: built once, rendered per format.

``build_document`` turns a project into a tree of chapters, paragraphs and provenance spans,
with the foreword and the measured roles. Every exporter first passes the gate
(``prepare_export``): nothing pending review, no flagged passage without an override, and a
foreword that still states the measured facts.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from coauthor.core.book import BookMeta, ImportRecord
from coauthor.core.declarations import Declaration
from coauthor.core.generation import Generation
from coauthor.core.origin import Origin
from coauthor.core.policy import Flag, GateResult, Scope, check_gate
from coauthor.core.project import Project, Report
from coauthor.core.provenance import Run
from coauthor.publish.foreword import check_foreword, foreword_facts, paragraphs, render_foreword
from coauthor.publish.foreword_source import foreword_template_sha256
from coauthor.publish.markup import Block, chapter_blocks
from coauthor.publish.roles import ROLE_HEADERS, Roles, measure_roles, role_cells

if TYPE_CHECKING:
    from coauthor.publish.signing import AuthorKey

__all__ = [
    "annotated_text",
    "chapter_label",
    "roles_table",
    "BookDocument",
    "ChapterDoc",
    "ExportRefused",
    "ExportWriteError",
    "Paragraph",
    "Span",
    "atomic_write",
    "book_language",
    "export_time",
    "atomic_write_all",
    "check_target",
    "build_document",
    "clean_markdown_text",
    "clean_xml_text",
    "is_export_part",
    "remove_stale_parts",
    "write_error_sentence",
    "prepare_export",
]

FOREWORD_TITLE = "How this book was written"

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

Progress = Callable[[int, int, str], None]
"""Called as (done, total, what) by long exports."""


_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def book_language(meta_language: str) -> str:
    """The book's language as a BCP 47 tag for the exports: ``en`` when none is given, ``und``
    (undetermined) when what is given is not a tag."""
    language = meta_language.strip().replace("_", "-")
    if not language:
        return "en"
    return language if _LANGUAGE.match(language) else "und"


def export_time(modified: datetime | None) -> datetime:
    """When an export says it was made: ``modified``, else ``SOURCE_DATE_EPOCH`` (reproducible
    builds), else now; always in UTC, without microseconds when it is now."""
    if modified is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if epoch.isdigit():
            return datetime.fromtimestamp(int(epoch), UTC)
        return datetime.now(UTC).replace(microsecond=0)
    if modified.tzinfo is None:
        return modified.replace(tzinfo=UTC)
    return modified.astimezone(UTC)


def clean_xml_text(text: str) -> str:
    """Text safe for XML 1.0: characters XML forbids become U+FFFD (never silently dropped)."""
    return _NOT_XML.sub("\ufffd", text)


def clean_markdown_text(text: str) -> str:
    """Text a Markdown file carries: NUL, the other C0 controls but tab, line feed and
    carriage return, U+FFFE, U+FFFF and lone surrogates (which Markdown readers, XML and UTF-8
    cannot carry) become U+FFFD, one for one, never dropped."""
    return _NOT_XML.sub("\ufffd", text)


@dataclass(frozen=True)
class Span:
    text: str
    origin: Origin
    ref: str | None


@dataclass
class Paragraph:
    spans: list[Span]
    start: int  # position of the paragraph in its chapter

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)

    @property
    def ai_share(self) -> float:
        total = sum(len(s.text) for s in self.spans)
        return (
            sum(len(s.text) for s in self.spans if s.origin is Origin.AI) / total if total else 0.0
        )


@dataclass
class ChapterDoc:
    id: int
    number: int
    title: str
    text: str
    paragraphs: list[Paragraph]
    roles: Roles
    runs: list[Run] = field(default_factory=list)  # the chapter's origin runs, as recorded
    markup: str = "markdown"  # how the text is read (Chapter.markup)
    blocks: list[Block] = field(default_factory=list)  # the text as a reader sees it


@dataclass
class BookDocument:
    meta: BookMeta
    foreword_title: str
    foreword: list[str]
    foreword_is_custom: bool
    roles: Roles
    chapters: list[ChapterDoc]
    generations: list[Generation]
    imports: list[ImportRecord]
    flags: list[Flag] = field(default_factory=list)
    reviews: list[tuple[int, str, str, str]] = field(default_factory=list)  # time, gen, state, who
    reports: list[Report] = field(default_factory=list)
    """The generations the author reported to their provider (``Project.reports``)."""
    with_chapter_table: bool = True
    head: tuple[int, str] = (0, "")
    """The history's last event when the document was built: (sequence, hash in hex)."""
    foreword_template: str = ""
    """SHA-256 of the template the foreword was rendered from ("" for a reworded foreword)."""
    signer: AuthorKey | None = None
    """The key that signs the export's provenance manifest; None for an unsigned export."""
    unsigned_reason: str = ""
    """Why the export is not signed (no keyring...), stated in its manifest."""
    declarations: list[Declaration] = field(default_factory=list)
    """Pasted text the author declared their own writing (``Project.declarations``)."""

    @property
    def disclosure(self) -> str:
        """A one-paragraph disclosure for metadata and front matter."""
        roles = self.roles
        if not roles.chars[Origin.AI]:
            parts = [
                f"{roles.percent(origin)}% {label}"
                for origin, label in (
                    (Origin.HUMAN, "written by the author directly"),
                    (Origin.IMPORTED, "imported from the author's files"),
                    (Origin.PASTED, "quoted or pasted from other sources"),
                )
                if roles.chars[origin] and (origin is not Origin.PASTED or not roles.declared)
            ]
            if roles.declared:  # the pasted share, split (``Roles.pasted_split``)
                elsewhere, declared = roles.pasted_split
                parts += [f"{elsewhere}% quoted or pasted from other sources"] * bool(elsewhere)
                parts += [
                    f"{declared}% pasted and declared by the author as their own writing"
                ] * bool(declared)
            return "No text generated by a language model remains in this book" + (
                ": of the characters, " + ", ".join(parts) + "." if parts else "."
            )
        models = ", ".join(dict.fromkeys(name for name, _ in roles.models))
        return (
            f"Written by {self.meta.author or self.meta.company} with a language model ({models}): "
            f"{roles.percent(Origin.AI)}% of the characters were drafted by the model and "
            f"reviewed by the author, {roles.percent(Origin.HUMAN)}% written by the author directly. "
            f"{roles.category.label}. The author takes final responsibility for the content."
        )


def _paragraphs(
    project_chapter_text: str, runs: list[tuple[int, Origin, str | None]]
) -> list[Paragraph]:
    """Split on blank lines; each paragraph keeps its spans (single newlines stay inside)."""
    result: list[Paragraph] = []
    text = project_chapter_text
    bounds = [(m.start(), m.end()) for m in re.finditer(r"\n[ \t]*\n\s*", text)]
    starts = [0] + [end for _, end in bounds]
    ends = [start for start, _ in bounds] + [len(text)]
    run_iter = iter(runs)
    current = next(run_iter, None)
    run_start = 0
    for p_start, p_end in zip(starts, ends, strict=True):
        spans: list[Span] = []
        pos = p_start
        while current is not None and pos < p_end:
            length, origin, ref = current
            run_end = run_start + length
            if run_end <= pos:
                run_start = run_end
                current = next(run_iter, None)
                continue
            piece_end = min(run_end, p_end)
            spans.append(Span(text[pos:piece_end], origin, ref))
            pos = piece_end
        if any(s.text.strip() for s in spans):
            result.append(Paragraph(spans, p_start))
    return result


def build_document(
    project: Project,
    *,
    template_dirs: list[Path] | None = None,
    flags: list[Flag] | None = None,
    reviews: list[tuple[int, str, str, str]] | None = None,
) -> BookDocument:
    roles = measure_roles(project.chapters, project.generations)
    custom = project.meta.foreword.strip()
    template = "" if custom else foreword_template_sha256(template_dirs)
    foreword = (
        paragraphs(custom)
        if custom
        else paragraphs(render_foreword(project.meta, roles, template_dirs))
    )
    chapters = [
        ChapterDoc(
            chapter.id,
            number,
            chapter.title,
            chapter.text.text,
            _paragraphs(chapter.text.text, list(chapter.text.runs())),
            measure_roles([chapter], project.generations),
            list(chapter.text.runs()),
            chapter.markup,
            chapter_blocks(chapter.text.text, list(chapter.text.runs()), chapter.markup),
        )
        for number, chapter in enumerate(project.chapters, 1)
    ]
    return BookDocument(
        meta=project.meta,
        foreword_title=FOREWORD_TITLE,
        foreword=foreword,
        foreword_is_custom=bool(custom),
        roles=roles,
        chapters=chapters,
        generations=list(project.generations.values()),
        imports=list(project.imports.values()),
        declarations=list(project.declarations.values()),
        flags=list(flags or []),
        reviews=list(reviews or []),
        reports=list(project.reports),
        with_chapter_table=project.meta.foreword_table.lower() in ("yes", "true", "1"),
        head=(project.history.last_seq, project.history.last_hash.hex()),
        foreword_template=template,
    )


class ExportRefused(Exception):
    """The gate or the foreword check refused; ``lines`` has one entry per problem."""

    def __init__(self, message: str, lines: list[str], gate: GateResult | None = None) -> None:
        super().__init__(message)
        self.lines = lines
        self.gate = gate


def prepare_export(
    project: Project,
    *,
    flags: list[Flag] | None = None,
    template_dirs: list[Path] | None = None,
    reviews: list[tuple[int, str, str, str]] | None = None,
) -> BookDocument:
    """The gate and the foreword check, then the document. Every export path calls this."""
    gate = check_gate(project.chapters, project.generations, Scope.book(), flags or [])
    if not gate.allowed:
        raise ExportRefused(gate.message(), [p.line() for p in gate.passages], gate)
    document = build_document(project, template_dirs=template_dirs, flags=flags, reviews=reviews)
    if document.foreword_is_custom:
        problems = check_foreword("\n\n".join(document.foreword), foreword_facts(document.roles))
        if problems:
            lines = [f"the reworded foreword: {p}" for p in problems]
            raise ExportRefused(
                "The reworded foreword no longer states the measured facts: "
                + "; ".join(problems)
                + ".",
                lines,
            )
    return document


class ExportWriteError(OSError):
    """An export could not be written (a folder in the way, a read-only or full disk...);
    ``str(error)`` is one sentence, and nothing at the target was changed. An ``OSError``,
    as the failure it reports, so callers catching those still catch it."""


_WRITE_PROBLEMS = {
    errno.EROFS: "the disk is read-only",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EIO: "the disk reported an input/output error",
}


def write_error_sentence(target: Path, exc: OSError) -> str:
    """One sentence for an export that could not be written to ``target``."""
    if isinstance(exc, IsADirectoryError) or (exc.errno == errno.EISDIR):
        return (
            f"{target} is a folder, not a file: choose a file name for the export; "
            "nothing was changed."
        )
    if isinstance(exc, NotADirectoryError | FileExistsError) or exc.errno == errno.ENOTDIR:
        return f"Cannot write {target}: a file is in the way of its folder; nothing was changed."
    reason = _WRITE_PROBLEMS.get(exc.errno or 0) or (exc.strerror or str(exc)).rstrip(".")
    return f"Cannot write {target}: {reason}; nothing was changed."


_PART_SUFFIX = ".part"
_PART_RANDOM = re.compile(r"[A-Za-z0-9_]{6,16}")


def _part_of(name: str, target_name: str | None, suffix: str) -> bool:
    """Whether ``name`` is a temporary file ``atomic_write`` makes, ``.{target}.{random}.part``,
    for ``target_name`` (or, when it is None, for any target whose name ends with ``suffix``)."""
    if not (name.startswith(".") and name.endswith(_PART_SUFFIX)):
        return False
    target, dot, random = name[1 : -len(_PART_SUFFIX)].rpartition(".")
    if not dot or not target or not _PART_RANDOM.fullmatch(random):
        return False
    return target == target_name if target_name is not None else target.endswith(suffix)


def remove_stale_parts(
    directory: Path, target_name: str | None = None, *, suffix: str = ""
) -> list[Path]:
    """Remove the temporary files a killed export left in ``directory`` for ``target_name``
    (or, when it is None, for every target whose name ends with ``suffix``); return them.
    A writer holds a lock on its temporary file while it writes, so a file another export is
    still writing is left alone."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not _part_of(entry.name, target_name, suffix):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass  # another export is writing it, or it is gone already
        finally:
            os.close(fd)
    return removed


def is_export_part(name: str, suffix: str = "") -> bool:
    """Whether ``name`` is a temporary file of an export (of a target ending with ``suffix``)."""
    return _part_of(name, None, suffix)


def check_target(target: Path) -> None:
    """Raise ``ExportWriteError`` if ``target`` cannot take a one-file export (it is a
    folder, or a file is in the way of its folder), before any work is done."""
    target = Path(target)
    if target.is_dir():
        raise ExportWriteError(write_error_sentence(target, IsADirectoryError(errno.EISDIR, "")))
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ExportWriteError(
                    write_error_sentence(target, NotADirectoryError(errno.ENOTDIR, ""))
                )
            break


class _Staged:
    """A temporary file beside its target, locked while it is written."""

    def __init__(self, target: Path) -> None:
        self.target = target
        handle, name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=_PART_SUFFIX, dir=target.parent
        )
        self.fd = handle
        self.path = Path(name)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(handle, 0o666 & ~umask)  # mkstemp makes it private; an export is not
        except BaseException:
            self.discard()
            raise

    def finish(self, write: Callable[[Path], None]) -> None:
        write(self.path)
        with self.path.open("rb+") as stream:
            os.fsync(stream.fileno())

    def commit(self) -> None:
        os.replace(self.path, self.target)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)
        self.release()

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_all(files: list[tuple[Path, Callable[[Path], None]]]) -> list[Path]:
    """Write every file through ``write(temp_path)`` beside its target and fsync it, then
    rename them all over their targets: a failure before the renames changes nothing.

    Temporary files are ``.{name}.{random}.part``; ones a killed export left for the same
    targets are removed first. An ``OSError`` becomes ``ExportWriteError`` (one sentence).
    """
    staged: list[_Staged] = []
    current = Path(files[0][0]) if files else Path()
    try:
        for target, _ in files:
            current = Path(target)
            if current.is_dir():
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(current))
            current.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_parts(current.parent, current.name)
        for target, write in files:
            current = Path(target)
            item = _Staged(current)
            staged.append(item)
            item.finish(write)
        for item in staged:
            current = item.target
            item.commit()
        for directory in dict.fromkeys(item.target.parent for item in staged):
            current = directory
            _fsync_directory(directory)
    except OSError as exc:
        for item in staged:
            item.discard()
        if isinstance(exc, ExportWriteError):
            raise
        raise ExportWriteError(write_error_sentence(current, exc)) from exc
    except BaseException:
        for item in staged:
            item.discard()
        raise
    for item in staged:
        item.release()
    return [Path(target) for target, _ in files]


def atomic_write(target: Path, write: Callable[[Path], None]) -> Path:
    """Write through ``write(temp_path)`` beside ``target``, fsync, then rename over it (see
    ``atomic_write_all``)."""
    return atomic_write_all([(Path(target), write)])[0]


# -- shared by the formats ------------------------------------------------------------------


def chapter_label(chapter: ChapterDoc) -> str:
    title = " ".join(chapter.title.split())
    return f"{chapter.number}. {title or f'Chapter {chapter.number}'}"


def roles_table(document: BookDocument) -> tuple[list[str], list[list[str]], list[str]]:
    """The foreword's table of roles per chapter: headers, one row per chapter, the book row.

    The same columns as the EPUB's table: the author's and the model's shares of the
    characters, the pasted and imported share, and the model's passages that remain.
    """
    rows = [[chapter_label(c), *role_cells(c.roles)] for c in document.chapters]
    return list(ROLE_HEADERS), rows, ["Whole book", *role_cells(document.roles)]


def _attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _open_tag(origin: Origin, ref: str | None) -> str:
    if origin is Origin.AI:
        extra = f' data-generation="{_attribute(ref)}"' if ref else ""
    elif origin is Origin.IMPORTED:
        extra = f' data-import="{_attribute(ref)}"' if ref else ""
    else:
        extra = ""
    return f'<span data-origin="{origin.value}"{extra}>'


def annotated_text(chapter: ChapterDoc) -> str:
    """The chapter's text with every stretch not typed by the author wrapped in a span."""
    text = chapter.text
    out: list[str] = []
    pos = 0
    for paragraph in chapter.paragraphs:
        out.append(text[pos : paragraph.start])
        pos = paragraph.start
        for span in paragraph.spans:
            pos += len(span.text)
            if span.origin is Origin.HUMAN:
                out.append(span.text)
                continue
            tag = _open_tag(span.origin, span.ref)
            out.append(
                "\n".join(
                    f"{tag}{piece}</span>" if piece else "" for piece in span.text.split("\n")
                )
            )
    out.append(text[pos:])
    return "".join(out)
