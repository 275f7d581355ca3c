"""Opening and creating projects, and importing into them, written once for both front ends.

``coauthor new`` and ``coauthor import`` call these directly; the app's File ▸ Import calls
``import_into`` on the project it has open. Every import into an existing project takes a
rolling backup first (``NAME.coauthor.backups/``): a backup that does not fit or fails stops the
import with a sentence, before anything is changed. A new project made by an import is built as
``NAME.coauthor.importing`` and renamed into place when complete, so an interrupted import leaves
no project rather than half of one; the target's lock is taken first, so a second import of the
same new project is told who is making it, and an ``.importing`` file found while holding the
lock is a dead import's and is removed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from coauthor.core.book import BookMeta
from coauthor.core.project import Project
from coauthor.store import ProjectFile, ProjectFileError
from coauthor.store.lock import ProjectLock

if TYPE_CHECKING:
    from coauthor.importers import ImportSummary, Parsed

__all__ = [
    "ImportTargetAppeared",
    "create_project",
    "import_into",
    "import_sources",
    "opened",
    "parse_sources",
]


class ImportTargetAppeared(ProjectFileError):
    """The new project's file appeared while the import was building it."""


@contextlib.contextmanager
def opened(path: Path | str, *, readonly: bool) -> Iterator[tuple[ProjectFile, Project]]:
    """The project file and its book; on a clean exit a writable one is flushed and closed."""
    project_file = ProjectFile.open(path, readonly=readonly)
    try:
        project = project_file.load()
        yield project_file, project
    except BaseException:
        with contextlib.suppress(ProjectFileError):  # the first error is the one to tell
            project_file.close()
        raise
    else:
        project_file.close(None if readonly else project)


def create_project(path: Path | str, meta: BookMeta) -> None:
    """A new, empty project at ``path`` (refused if a file is there)."""
    project_file = ProjectFile.create(path, meta)
    project_file.close(Project(meta))


def parse_sources(
    sources: Sequence[Path | str], encoding: str | None = None, *, keep_line_breaks: bool = False
) -> list[Parsed]:
    """Every source read and split, before anything is written (``ImportFailed`` if one
    cannot be)."""
    from coauthor.importers import parse_source  # the importers load only for an import

    return [
        parse_source(Path(source), encoding, keep_line_breaks=keep_line_breaks)
        for source in sources
    ]


def import_into(
    project_file: ProjectFile,
    project: Project,
    parsed: Sequence[Parsed],
    *,
    own_writing: bool,
    markup: str | None = None,
) -> list[ImportSummary]:
    """Back the project up, then import ``parsed`` into ``project`` (in memory: the caller
    flushes). The backup holds what the file holds, so the caller flushes before too.
    ``markup`` reads every imported chapter as ``markdown`` or ``plain`` text (None: by the
    kind of file, ``importers.default_markup``)."""
    from coauthor.importers import apply

    project_file.backup_rolling(reason="before-import")
    return [apply(project, p, own_writing=own_writing, markup=markup) for p in parsed]


def import_sources(
    target: Path | str,
    parsed: Sequence[Parsed],
    *,
    own_writing: bool = False,
    title: str | None = None,
    author: str | None = None,
    markup: str | None = None,
) -> list[ImportSummary]:
    """Import into the project at ``target``, creating it if missing (with ``title`` and
    ``author``, else those the first source names, else the file's name)."""
    target = Path(target)
    if target.exists():
        with opened(target, readonly=False) as (project_file, project):
            summaries = import_into(
                project_file, project, parsed, own_writing=own_writing, markup=markup
            )
            project_file.flush(project)
        return summaries
    lock = ProjectLock(target)
    lock.acquire(creating=True)
    try:
        return _import_new(target, parsed, own_writing, title, author, markup)
    finally:
        lock.release()


def _import_new(
    target: Path,
    parsed: Sequence[Parsed],
    own_writing: bool,
    title: str | None,
    author: str | None,
    markup: str | None = None,
) -> list[ImportSummary]:
    from coauthor.importers import apply

    partial = target.with_name(target.name + ".importing")
    for sidecar in ("", "-wal", "-shm", "-journal", ".lock"):
        Path(f"{partial}{sidecar}").unlink(missing_ok=True)  # left by a killed import
    if target.exists():
        raise ImportTargetAppeared(f"{target} appeared while importing; nothing was changed")
    meta = BookMeta(
        title=title or _named(parsed, "title") or target.stem,
        author=author or _named(parsed, "author") or "",
    )
    project_file = ProjectFile.create(partial, meta)
    try:
        project = Project(meta)
        summaries = [apply(project, p, own_writing=own_writing, markup=markup) for p in parsed]
        project_file.flush(project)
        project_file.close(project)
    except BaseException:
        with contextlib.suppress(ProjectFileError):  # the first error is the one to tell
            project_file.close()
        partial.unlink(missing_ok=True)
        raise
    if target.exists():
        partial.unlink(missing_ok=True)
        raise ImportTargetAppeared(f"{target} appeared while importing; nothing was changed")
    partial.replace(target)
    return summaries


def _named(parsed: Sequence[Parsed], field: str) -> str:
    """The title or author a source names for itself: a Coauthor export's front matter, or
    Gutenberg's."""
    from coauthor.core.exportformat import export_title_author  # only for a new project

    details = getattr(parsed[0], "details", {}) if parsed else {}
    fields = details.get("gutenberg_fields", {})
    title, author = export_title_author(details)
    return (title if field == "title" else author) or str(fields.get(field, ""))
